""""Hidden" hides: the messages of a hidden talk (its talk, interruptions and Q&A) are not shown
outside its talk page to anyone who may not see that talk — not on the day page, in
/api/messages/, in another talk's day discussion or export, nor as a stored image. The group's
admins, staff and the talk's speaker may see it, and read them everywhere."""

import pytest
from django.urls import reverse

from community.models import MessageKind, StoredImage, Visibility
from shares.models import TalkMessage, TalkPart
from tests.factories import at, client_for, make_cast, make_message, make_person, make_share

pytestmark = pytest.mark.django_db

DAY = "2018-05-20"
# Who may read the hidden talk's messages (the member, the speaker of the other talk and an
# admin of another group may not); the hidden talk's speaker is "hidden_speaker".
ALLOWED = {"hidden_speaker": True, "admin": True, "staff": True, "member": False, "speaker": False}
HIDDEN_TEXTS = ["只给管理员看的内容", "插话", "问答里的秘密"]


@pytest.fixture
def world():
    """A members-only talk at 19:30 by the speaker, and a hidden one at 21:00 by another member
    of the group (talk, an interruption, a Q&A line and an image), the same day; a chat message."""
    world = make_cast()
    world.hidden_speaker = make_person(world.group, "吴远航-青松银行-开发")
    world.talk = make_share(world.group, world.speaker.member, topic="清算", start=at(DAY, "19:30"))
    world.hidden = make_share(world.group, world.hidden_speaker.member, topic="隐藏的分享", start=at(DAY, "21:00"),
                              visibility=Visibility.HIDDEN)
    make_message(world.group, world.member.member, at(DAY, "09:00"), "早上好")
    say(world.talk, world.speaker.member, "19:30", "公开的讲稿")
    world.hidden_ids = [
        say(world.hidden, world.hidden_speaker.member, "21:00", HIDDEN_TEXTS[0]).pk,
        say(world.hidden, world.member.member, "21:05", HIDDEN_TEXTS[1], TalkPart.INTERRUPTION).pk,
        say(world.hidden, world.admin.member, "21:30", HIDDEN_TEXTS[2], TalkPart.QA).pk,
    ]
    world.image = say(world.hidden, world.hidden_speaker.member, "21:10", "", kind=MessageKind.IMAGE)
    StoredImage.objects.create(message=world.image, file="images/2018/05/hidden.png")
    return world


def say(share, sender, time, text, part=TalkPart.TALK, **fields):
    message = make_message(share.group, sender, at(DAY, time), text, **fields)
    TalkMessage.objects.create(share=share, message=message, part=part)
    return message


def shown(html: str) -> list[str]:
    return [text for text in HIDDEN_TEXTS if text in html]


@pytest.mark.parametrize("role", list(ALLOWED))
def test_the_day_page_leaves_out_a_hidden_talk_for_whoever_may_not_see_it(world, role):
    """The issue's leak: the hidden talk's whole text stayed readable on the day page to every member."""
    response = client_for(world, role).get(reverse("shares:day", kwargs={"group_slug": "prodarch", "day": DAY}))

    assert response.status_code == 200
    texts = [line.piece.text for line in response.context["lines"]]
    assert shown(response.content.decode()) == (HIDDEN_TEXTS if ALLOWED[role] else [])
    assert texts[:2] == ["早上好", "公开的讲稿"]
    assert len(texts) == (6 if ALLOWED[role] else 2)


@pytest.mark.parametrize("role", list(ALLOWED))
def test_the_messages_api_leaves_out_a_hidden_talk_for_whoever_may_not_see_it(world, role):
    """The issue's leak, through /api/messages/."""
    response = client_for(world, role).get(reverse("api:message-list"), {"group": "prodarch"})

    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["results"]]
    hidden = [*world.hidden_ids, world.image.pk]
    assert sorted(set(ids) & set(hidden)) == (sorted(hidden) if ALLOWED[role] else [])
    assert response.json()["count"] == (6 if ALLOWED[role] else 2)


def test_the_messages_api_still_filters_a_member_who_spoke_in_a_hidden_talk(world):
    response = client_for(world, "member").get(reverse("api:message-list"),
                                               {"group": "prodarch", "member": world.member.member.pk})

    assert [item["text"] for item in response.json()["results"]] == ["早上好"]


@pytest.mark.parametrize("role", list(ALLOWED))
def test_another_talks_day_discussion_leaves_out_a_hidden_talk(world, role):
    url = reverse("shares:talk", kwargs={"group_slug": "prodarch", "pk": world.talk.pk})

    response = client_for(world, role).get(url)

    assert response.status_code == 200
    assert shown(str(response.context["discussion_html"])) == (HIDDEN_TEXTS if ALLOWED[role] else [])
    assert response.context["discussion_count"] == (5 if ALLOWED[role] else 1)


@pytest.mark.parametrize(("first", "then"), [("admin", "member"), ("member", "admin")])
def test_the_cached_day_discussion_is_never_served_across_what_one_may_see(world, first, then):
    url = reverse("shares:talk", kwargs={"group_slug": "prodarch", "pk": world.talk.pk})
    client_for(world, first).get(url)

    response = client_for(world, then).get(url)

    assert shown(str(response.context["discussion_html"])) == (HIDDEN_TEXTS if ALLOWED[then] else [])


@pytest.mark.parametrize("role", ["member", "admin"])
def test_another_talks_export_leaves_out_a_hidden_talk(world, role):
    url = reverse("talk_export", kwargs={"group_slug": "prodarch", "pk": world.talk.pk})

    response = client_for(world, role).get(url)

    assert response.status_code == 200
    text = response.content.decode()
    assert "早上好" in text
    assert shown(text) == (HIDDEN_TEXTS if ALLOWED[role] else [])


@pytest.mark.parametrize("role", list(ALLOWED))
def test_a_hidden_talks_stored_image_is_for_whoever_may_see_the_talk(world, role, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "images/2018/05").mkdir(parents=True)
    (tmp_path / "images/2018/05/hidden.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    response = client_for(world, role).get(reverse("stored_image", args=[world.image.pk]))

    assert response.status_code == (200 if ALLOWED[role] else 404)
