"""The visibility an admin chose: kept on the share (``admin_visibility``); the speaker may choose
it or a more private one, never a more public one (public > members > hidden). An imported
talk's first visibility (the group's setting) is no admin's choice: its speaker may choose any
until an admin chooses one."""

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse

from community.models import Visibility
from shares.models import Origin, Share, ShareRevision, ShareStatus
from shares.services import TalkFound, share_edit, share_revision_record, talks_import_day, visibilities_for_speaker
from shares.wiki import share_restore
from tests.factories import at, client_for, make_cast, make_group, make_member, make_share

pytestmark = pytest.mark.django_db

PUBLIC, MEMBERS, HIDDEN = Visibility.PUBLIC, Visibility.MEMBERS, Visibility.HIDDEN


@pytest.fixture
def world():
    """The cast, and the speaker's proposed share, which the speaker made public (version 1)."""
    world = make_cast()
    world.share = Share.objects.create(group=world.group, speaker=world.speaker.member, topic="跨境收单",
                                       status=ShareStatus.PROPOSED, origin=Origin.WEB, visibility=PUBLIC)
    share_revision_record(share=world.share, action="registered", author=world.speaker.user)
    return world


def patch(world, role, body):
    return client_for(world, role).generic(
        "PATCH", reverse("api:share-detail", args=[world.share.pk]), data=json.dumps(body),
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def row(share):
    return Share.objects.filter(pk=share.pk).values_list("visibility", "admin_visibility", "version").get()


def test_a_speaker_cannot_override_an_admins_hidden(world):
    """The issue's attack: an admin hid the share; the speaker made it public again."""
    assert patch(world, "admin", {"visibility": "hidden", "version": 1}).status_code == 200

    response = patch(world, "speaker", {"visibility": "public", "version": 2})

    assert (response.status_code, response.json()) == (400, {"visibility": [
        "An admin chose “hidden” for this share: choose it or a more private one."]})
    assert row(world.share) == (HIDDEN, HIDDEN, 2)


@pytest.mark.parametrize(("chosen", "asked", "allowed"), [
    (HIDDEN, HIDDEN, True), (HIDDEN, MEMBERS, False), (HIDDEN, PUBLIC, False),
    (MEMBERS, HIDDEN, True), (MEMBERS, MEMBERS, True), (MEMBERS, PUBLIC, False),
    (PUBLIC, HIDDEN, True), (PUBLIC, MEMBERS, True), (PUBLIC, PUBLIC, True),
])
def test_the_speaker_chooses_the_admins_visibility_or_a_more_private_one(world, chosen, asked, allowed):
    Share.objects.filter(pk=world.share.pk).update(visibility=chosen, admin_visibility=chosen)

    response = patch(world, "speaker", {"visibility": asked, "topic": "新主题", "version": 1})

    assert response.status_code == (200 if allowed else 400)
    assert row(world.share) == ((asked, chosen, 2) if allowed else (chosen, chosen, 1))
    assert Share.objects.get(pk=world.share.pk).topic == ("新主题" if allowed else "跨境收单")


def test_after_going_more_private_the_speaker_may_come_back_up_to_the_admins_choice(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=MEMBERS, expected_version=1,
               by=world.admin.user)
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=HIDDEN, expected_version=2,
               by=world.speaker.user)

    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=MEMBERS, expected_version=3,
               by=world.speaker.user)

    assert row(world.share) == (MEMBERS, MEMBERS, 4)


def test_an_admin_may_choose_any_visibility_and_the_last_choice_counts(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=HIDDEN, expected_version=1,
               by=world.admin.user)
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=PUBLIC, expected_version=2,
               by=world.staff.user)

    assert row(world.share) == (PUBLIC, PUBLIC, 3)
    assert visibilities_for_speaker(Share.objects.get(pk=world.share.pk)) == [HIDDEN, MEMBERS, PUBLIC]


def test_an_admins_edit_that_keeps_the_visibility_is_no_choice_of_it(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=HIDDEN, expected_version=1,
               by=world.speaker.user)

    share_edit(share=world.share, topic="改正的主题", abstract="", visibility=HIDDEN, expected_version=2,
               by=world.admin.user)

    assert row(world.share) == (HIDDEN, "", 3)
    share_edit(share=world.share, topic="改正的主题", abstract="", visibility=PUBLIC, expected_version=3,
               by=world.speaker.user)
    assert row(world.share) == (PUBLIC, "", 4)


def test_the_service_refuses_a_visibility_above_the_admins_and_writes_nothing(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=MEMBERS, expected_version=1,
               by=world.admin.user)

    with pytest.raises(ValidationError) as error:
        share_edit(share=world.share, topic="讲者改的", abstract="", visibility=PUBLIC, expected_version=2,
                   by=world.speaker.user)

    assert error.value.message_dict == {"visibility": [
        "An admin chose “members only” for this share: choose it or a more private one."]}
    assert Share.objects.filter(pk=world.share.pk).values_list("topic", "visibility", "version").get() == (
        "跨境收单", MEMBERS, 2)


def test_an_admins_restore_of_a_visibility_is_their_choice(world):
    for version, visibility in ((1, MEMBERS), (2, HIDDEN)):
        share_edit(share=world.share, topic="跨境收单", abstract="", visibility=visibility, expected_version=version,
                   by=world.speaker.user)

    share_restore(share=world.share, version=2, expected_version=3, by=world.admin.user)

    assert row(world.share) == (MEMBERS, MEMBERS, 4)
    with pytest.raises(ValidationError):
        share_edit(share=world.share, topic="跨境收单", abstract="", visibility=PUBLIC, expected_version=4,
                   by=world.speaker.user)


def test_an_imported_talk_has_no_admins_choice_until_an_admin_makes_one():
    group = make_group(slug="prodarch", imported_share_visibility=HIDDEN)
    speaker = make_member("周明远")
    talk = TalkFound(speaker_id=speaker.pk, topic="清算", scheduled_for=None, started_at=at("2024-03-04", "19:30"),
                     ended_at=at("2024-03-04", "20:30"))

    talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=[talk], import_run=None)

    share = Share.objects.get()
    assert (share.visibility, share.admin_visibility) == (HIDDEN, "")
    assert visibilities_for_speaker(share) == [HIDDEN, MEMBERS, PUBLIC]


def test_the_share_page_offers_the_speaker_only_what_they_may_choose(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=MEMBERS, expected_version=1,
               by=world.admin.user)
    url = reverse("shares:share_detail", kwargs={"group_slug": "prodarch", "pk": world.share.pk})

    speaker_form = client_for(world, "speaker").get(url, HTTP_ACCEPT_LANGUAGE="en").context["edit_form"]
    admin_form = client_for(world, "admin").get(url, HTTP_ACCEPT_LANGUAGE="en").context["edit_form"]

    assert [value for value, _label in speaker_form.fields["visibility"].choices] == [MEMBERS, HIDDEN]
    assert str(speaker_form.fields["visibility"].help_text) == (
        "An admin chose “members only” for this share: you may keep it or choose a more private one.")
    assert [value for value, _label in admin_form.fields["visibility"].choices] == [PUBLIC, MEMBERS, HIDDEN]


def test_the_share_page_refuses_the_speaker_a_more_public_visibility(world):
    share_edit(share=world.share, topic="跨境收单", abstract="", visibility=HIDDEN, expected_version=1,
               by=world.admin.user)

    response = client_for(world, "speaker").post(
        reverse("shares:share_edit", kwargs={"group_slug": "prodarch", "pk": world.share.pk}),
        {"topic": "跨境收单", "abstract": "", "visibility": "public", "version": "2"})

    assert response.status_code == 200  # the page again, with the form's error
    assert row(world.share) == (HIDDEN, HIDDEN, 2)


# --- The migration: the admins' choices read from the history ---

def backfill():
    migration = importlib.import_module("shares.migrations.0003_share_admin_visibility")
    migration.admin_visibility_from_history(apps, None)


def revise(share, by, **changes):
    Share.objects.filter(pk=share.pk).update(version=share.version + 1, **changes)
    share.refresh_from_db()
    share_revision_record(share=share, action="edited", author=by)


def test_the_migration_takes_the_last_visibility_an_admin_set_and_undoes_a_speakers_override(world):
    talk = make_share(world.group, world.speaker.member, topic="支付清结算", start=at("2018-05-20"))
    share_revision_record(share=talk, action="imported")  # version 1: members (the group's setting)
    revise(talk, world.admin.user, visibility=HIDDEN)  # the admin hid it
    revise(talk, world.speaker.user, visibility=PUBLIC)  # the speaker made it public again
    revise(world.share, world.speaker.user, visibility=HIDDEN)  # only the speaker ever chose

    backfill()

    talk.refresh_from_db()
    assert (talk.visibility, talk.admin_visibility, talk.version) == (HIDDEN, HIDDEN, 4)
    assert "visibility" in talk.edited_fields
    latest = ShareRevision.objects.filter(share=talk).order_by("-version").first()
    assert (latest.version, latest.action, latest.author, latest.snapshot["visibility"]) == (4, "edited", None, HIDDEN)
    assert row(world.share) == (HIDDEN, "", 2)


def test_the_migration_keeps_a_visibility_at_or_below_the_admins_choice(world):
    talk = make_share(world.group, world.speaker.member, topic="支付清结算", start=at("2018-05-20"))
    share_revision_record(share=talk, action="imported")
    revise(talk, world.staff.user, visibility=PUBLIC)  # staff, who have no member, count as an admin
    revise(talk, world.speaker.user, visibility=HIDDEN)

    backfill()

    assert row(talk) == (HIDDEN, PUBLIC, 3)
    assert ShareRevision.objects.filter(share=talk).count() == 3
