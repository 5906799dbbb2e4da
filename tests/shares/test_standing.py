"""Standing: a member whose membership is not active (removed, left, pending) edits nothing of the
group — not their own share's topic, abstract or visibility, not its cancellation, not a sign-in —
through the API, the pages or the services. Group admins (staff included) keep every write."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from community.models import MembershipStatus, Visibility
from shares.models import Share, ShareStatus, SignIn, TalkMessage, TalkPart
from shares.services import share_cancel, share_edit
from tests.factories import at, client_for, make_cast, make_message, make_share

pytestmark = pytest.mark.django_db

INACTIVE = [MembershipStatus.REMOVED, MembershipStatus.LEFT, MembershipStatus.PENDING]


@pytest.fixture
def world():
    """The cast; the speaker's members-only talk, with a question and an answer of others in its
    Q&A; the speaker's proposed share; the speaker's share starting in five minutes (sign-in open)."""
    world = make_cast()
    speaker = world.speaker.member
    world.talk = make_share(world.group, speaker, topic="支付清结算", start=at("2018-05-20"))
    for time, sender, text in (("19:30", speaker, "大家好"), ("20:30", world.member.member, "王芳的问题：对账怎么做？")):
        message = make_message(world.group, sender, at("2018-05-20", time), text)
        TalkMessage.objects.create(share=world.talk, message=message,
                                   part=TalkPart.TALK if sender == speaker else TalkPart.QA)
    world.proposed = Share.objects.create(group=world.group, speaker=speaker, topic="跨境收单",
                                          status=ShareStatus.PROPOSED)
    world.starting = make_share(world.group, speaker, topic="今晚的分享", status=ShareStatus.SCHEDULED,
                                start=timezone.now() + dt.timedelta(minutes=5))
    return world


def api(client, method, name, pk, body=None):
    return client.generic(method, reverse(name, args=[pk]), data=json.dumps(body or {}),
                          content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def leave(world, status):
    world.speaker.membership.status = status
    world.speaker.membership.save(update_fields=["status"])


def state(share):
    return Share.objects.filter(pk=share.pk).values_list("topic", "visibility", "status", "version").get()


def test_a_removed_speaker_cannot_make_their_talk_public_through_the_api(world):
    """The issue's attack: removed from the group, the speaker PATCHed the talk to public (200),
    exposing the others' Q&A to anyone."""
    leave(world, MembershipStatus.REMOVED)

    response = api(client_for(world, "speaker"), "PATCH", "api:share-detail", world.talk.pk,
                   {"visibility": "public", "version": 1})

    assert (response.status_code, response.json()) == (
        403, {"detail": "Only the speaker or a group admin may edit this share."})
    assert state(world.talk) == ("支付清结算", Visibility.MEMBERS, ShareStatus.DELIVERED, 1)
    assert client_for(world, "anonymous").get(reverse("api:share-detail", args=[world.talk.pk])).status_code == 404


@pytest.mark.parametrize("status", INACTIVE)
@pytest.mark.parametrize(("method", "name", "share", "body", "expected"), [
    # The talk (delivered) is still theirs to read: the write is refused.
    ("PATCH", "api:share-detail", "talk", {"topic": "改了", "version": 1}, 403),
    # A share not delivered is the group's members' to see: it is not even found.
    ("PATCH", "api:share-detail", "proposed", {"visibility": "hidden", "version": 1}, 404),
    ("POST", "api:share-cancel", "proposed", {"reason": "不讲了"}, 404),
    ("POST", "api:share-sign-in", "starting", None, 404),
])
def test_an_inactive_speaker_writes_nothing_through_the_api(world, status, method, name, share, body, expected):
    leave(world, status)
    share = getattr(world, share)
    before = state(share)

    response = api(client_for(world, "speaker"), method, name, share.pk, body)

    assert response.status_code == expected
    assert state(share) == before
    assert not SignIn.objects.filter(member=world.speaker.member).exists()


@pytest.mark.parametrize(("method", "name", "share", "body", "expected"), [
    ("PATCH", "api:share-detail", "talk", {"topic": "改了", "version": 1}, 200),
    ("POST", "api:share-cancel", "proposed", {"reason": "不讲了"}, 200),
    ("POST", "api:share-sign-in", "starting", None, 201),
])
def test_an_active_speaker_still_writes(world, method, name, share, body, expected):
    response = api(client_for(world, "speaker"), method, name, getattr(world, share).pk, body)

    assert response.status_code == expected


@pytest.mark.parametrize("status", INACTIVE)
def test_the_services_refuse_an_inactive_speaker(world, status):
    leave(world, status)

    with pytest.raises(PermissionDenied):
        share_edit(share=world.talk, topic="改了", abstract="", visibility="public", expected_version=1,
                   by=world.speaker.user)
    with pytest.raises(PermissionDenied):
        share_cancel(share=world.proposed, by=world.speaker.user, reason="不讲了")

    assert state(world.talk) == ("支付清结算", Visibility.MEMBERS, ShareStatus.DELIVERED, 1)
    assert state(world.proposed) == ("跨境收单", Visibility.MEMBERS, ShareStatus.PROPOSED, 1)


@pytest.mark.parametrize("status", INACTIVE)
@pytest.mark.parametrize(("name", "data"), [
    ("shares:share_edit", {"topic": "改了", "abstract": "", "visibility": "public", "version": "1"}),
    ("shares:share_cancel", {"reason": "不讲了"}),
])
def test_the_share_pages_refuse_an_inactive_speaker(world, status, name, data):
    leave(world, status)

    response = client_for(world, "speaker").post(
        reverse(name, kwargs={"group_slug": "prodarch", "pk": world.proposed.pk}), data)

    assert response.status_code == 403
    assert state(world.proposed) == ("跨境收单", Visibility.MEMBERS, ShareStatus.PROPOSED, 1)


def test_an_admin_still_edits_the_talk_of_a_removed_speaker(world):
    leave(world, MembershipStatus.REMOVED)

    response = api(client_for(world, "admin"), "PATCH", "api:share-detail", world.talk.pk,
                   {"visibility": "hidden", "version": 1})

    assert response.status_code == 200
    assert state(world.talk) == ("支付清结算", Visibility.HIDDEN, ShareStatus.DELIVERED, 2)
