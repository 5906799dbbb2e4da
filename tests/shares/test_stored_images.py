"""Image messages: the app's stored copy when one was uploaded, else a placeholder with the
original link; the copy served by the app to whoever may read the message."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from community.models import MessageKind, StoredImage, Visibility
from shares.models import TalkMessage, TalkPart
from tests.factories import ROLES, at, client_for, make_cast, make_message, make_share

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
ORIGINAL = "http://static.example.org/img/2018/20180520_193139.png"


def image_message(share, time="19:31", *, stored: bool):
    message = make_message(share.group, share.speaker, at("2018-05-20", time), "", kind=MessageKind.IMAGE,
                           url=ORIGINAL)
    TalkMessage.objects.create(share=share, message=message, part=TalkPart.TALK)
    if stored:
        StoredImage.objects.create(message=message, file=ContentFile(PNG, name="20180520_193139.png"),
                                   content_type="image/png")
    return message


@pytest.fixture
def cast():
    return make_cast()


def test_talk_page_shows_the_stored_copy_and_a_placeholder_for_the_others(cast):
    share = make_share(cast.group, cast.speaker.member, visibility=Visibility.PUBLIC)
    stored = image_message(share, "19:31", stored=True)
    image_message(share, "19:32", stored=False)

    html = client_for(cast, "anonymous").get(reverse("shares:talk", args=["prodarch", share.pk])).content.decode()

    assert f'<img class="stored-image" src="/images/{stored.pk}/" alt="[image]" loading="lazy">' in html
    assert f'[image <a href="{ORIGINAL}" rel="nofollow noopener">{ORIGINAL}</a>]' in html
    assert html.count("<img") == 1  # the original from elsewhere is never embedded
    assert reverse("stored_image", args=[stored.pk]) == f"/images/{stored.pk}/"


def test_day_page_shows_the_stored_copy(cast):
    share = make_share(cast.group, cast.speaker.member)
    stored = image_message(share, stored=True)
    html = client_for(cast, "member").get(reverse("shares:day", args=["prodarch", "2018-05-20"])).content.decode()
    assert f'src="/images/{stored.pk}/"' in html


# Who may fetch the copy: members of the group; others only through a talk they may see.
MEMBERS_ONLY = {"anonymous": 404, "member": 200, "outsider": 404, "speaker": 200, "admin": 200,
                "other_admin": 404, "staff": 200}


@pytest.mark.parametrize("role", ROLES)
def test_image_of_a_members_only_talk(cast, role):
    share = make_share(cast.group, cast.speaker.member, visibility=Visibility.MEMBERS)
    message = image_message(share, stored=True)
    response = client_for(cast, role).get(f"/images/{message.pk}/")
    assert response.status_code == MEMBERS_ONLY[role]
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == PNG
        assert (response["Content-Type"], response["X-Content-Type-Options"]) == ("image/png", "nosniff")


@pytest.mark.parametrize("role", ROLES)
def test_image_of_a_public_talk_is_for_anyone(cast, role):
    share = make_share(cast.group, cast.speaker.member, visibility=Visibility.PUBLIC)
    message = image_message(share, stored=True)
    assert client_for(cast, role).get(f"/images/{message.pk}/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_image_of_the_days_discussion_is_for_members_only(cast, role):
    message = make_message(cast.group, cast.member.member, at("2018-05-20", "10:00"), "", kind=MessageKind.IMAGE)
    StoredImage.objects.create(message=message, file=ContentFile(PNG, name="x.png"))
    assert client_for(cast, role).get(f"/images/{message.pk}/").status_code == MEMBERS_ONLY[role]


def test_image_without_a_stored_copy_is_404(cast):
    message = make_message(cast.group, cast.member.member, at("2018-05-20", "10:00"), "", kind=MessageKind.IMAGE)
    assert client_for(cast, "staff").get(f"/images/{message.pk}/").status_code == 404
