"""Admins correct what the importer got wrong — a talk's boundaries, its speaker and topic,
a false talk deleted (and the deletion undone) — each recorded in the share's history and
kept when the day is imported again."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from community.models import Member, Membership, Message, MessageKind, Visibility
from importer.services import Source, transcripts_import
from shares import services
from shares.models import Origin, Share, ShareRevision, ShareStatus, SignIn, TalkMessage, TalkPart
from shares.services import TalkFound, talk_boundaries_set, talk_delete, talk_restore, talks_import_day
from tests.factories import ROLES, at, client_for, make_cast, make_message, make_share, make_sign_in

from ..importer.test_services import ANNOUNCE, transcript

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
DAY = "2024-03-04"
SPEAKER = "周明远-云汇支付-产品-杭州"
TOPIC = "跨境收单的清结算"
PART = "第{}部分：跨境收单的清算链路和结算周期说明，包括汇率和手续费的处理"


@pytest.fixture
def world():
    return make_cast()


def record(*extra: tuple[str, str, str]) -> bytes:
    """The day's transcript: an announced talk with two sign-ins, twelve parts, an interruption,
    a question and its answer, then chat; plus ``extra`` messages."""
    messages = [
        ("09:01:00", "闲聊者", "早上好"),
        ("15:00:00", "管理员甲", ANNOUNCE.format(nick=SPEAKER, topic=TOPIC, start="19:30")),
        ("19:10:00", "听众一", "签到"),
        ("19:11:00", "听众二", "签到！"),
        ("19:30:05", SPEAKER, "大家好，我是周明远，今天和大家分享的主题是跨境收单的清结算"),
        *[(f"19:{31 + n}:00", SPEAKER, PART.format(n + 1)) for n in range(12)],
        ("19:36:30", "听众二", "能大声点吗"),
        ("19:44:00", SPEAKER, "以上是我的分享，谢谢大家"),
        ("19:46:00", "听众一", f"@{SPEAKER} 请问结算周期一般多长？"),
        ("19:47:00", SPEAKER, "一般是T+1，也有T+7的"),
        ("21:00:00", "闲聊者", "晚安"),
        *extra,
    ]
    return transcript(DAY, sorted(messages))


def import_day(data: bytes):
    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(f"{DAY}.md", data)])
    assert result.ok, result.errors
    return result


def reimport_changed():
    """The same day again, changed (one more message at night): the importer re-processes it."""
    return import_day(record(("23:00:00", "闲聊者", "明天见")))


def message(text: str) -> Message:
    return Message.objects.get(text=text)


def rows(share) -> list[tuple[str, str, str]]:
    """The share's talk rows: (time in the group's zone, sender, part), in the record's order."""
    parts = TalkMessage.objects.filter(share=share).select_related("message").order_by("message__sent_at", "message_id")
    return [(p.message.sent_at.astimezone(share.group.tz).strftime("%H:%M:%S"), p.message.sender_name, p.part)
            for p in parts]


def local(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%H:%M:%S")


def state(share) -> tuple:
    """Everything a refused correction must leave alone."""
    share = Share.objects.get(pk=share.pk)
    return (share.version, share.status, share.speaker_id, share.topic, share.started_at, share.ended_at,
            sorted(share.edited_fields), rows(share), sorted(SignIn.objects.filter(share=share).values_list("member_id", flat=True)),
            ShareRevision.objects.filter(share=share).count())


@pytest.fixture
def imported(world):
    """The cast's group with the day imported: its one talk."""
    import_day(record())
    return Share.objects.get()


IMPORTED_ROWS = [
    ("19:30:05", SPEAKER, "talk"), *[(f"19:{31 + n}:00", SPEAKER, "talk") for n in range(6)],
    ("19:36:30", "听众二", "interruption"), *[(f"19:{37 + n}:00", SPEAKER, "talk") for n in range(6)],
    ("19:44:00", SPEAKER, "talk"), ("19:46:00", "听众一", "qa"), ("19:47:00", SPEAKER, "qa"),
]


def test_the_import_finds_the_talk_this_file_tests_with(imported):
    assert rows(imported) == IMPORTED_ROWS
    assert (imported.topic, imported.speaker.display_name, imported.sign_in_count) == (TOPIC, SPEAKER, 2)


# --- boundaries ---

MOVED_ROWS = [
    *[(f"19:{31 + n}:00", SPEAKER, "talk") for n in range(6)], ("19:36:30", "听众二", "interruption"),
    *[(f"19:{37 + n}:00", SPEAKER, "talk") for n in range(5)],
    ("19:42:00", SPEAKER, "qa"), ("19:44:00", SPEAKER, "qa"), ("19:46:00", "听众一", "qa"), ("19:47:00", SPEAKER, "qa"),
]


def test_boundaries_move_rewrites_the_talk_rows_and_records_a_revision(world, imported):
    version = imported.version

    talk_boundaries_set(share=imported, start_message=message(PART.format(1)), qa_message=message(PART.format(12)),
                        end_message=message("一般是T+1，也有T+7的"), by=world.admin.user, note="开头是寒暄")

    share = Share.objects.get()
    assert rows(share) == MOVED_ROWS
    assert (local(share.started_at), local(share.ended_at)) == ("19:31:00", "19:41:00")
    assert share.edited_fields == ["boundaries", "ended_at", "started_at"]
    assert share.version == version + 1
    revision = share.revisions.get(version=share.version)
    assert (revision.action, revision.author, revision.note) == (
        "boundaries moved", world.admin.user, "19:31:00–19:41:00, Q&A 19:42:00–19:47:00 · 开头是寒暄")
    assert (revision.snapshot["started_at"], revision.snapshot["ended_at"]) == (
        share.started_at.isoformat(), share.ended_at.isoformat())
    # Sign-ins are found before the talk: a boundary move leaves them alone.
    assert sorted(SignIn.objects.filter(share=share).values_list("member__display_name", flat=True)) == ["听众一", "听众二"]


def test_boundaries_without_qa_make_the_whole_span_the_talk(world, imported):
    talk_boundaries_set(share=imported, start_message=message(imported_first_text()), qa_message=None,
                        end_message=message("以上是我的分享，谢谢大家"), by=world.staff.user)

    share = Share.objects.get()
    assert rows(share) == IMPORTED_ROWS[:-2]
    assert (local(share.started_at), local(share.ended_at)) == ("19:30:05", "19:44:00")


def imported_first_text():
    return "大家好，我是周明远，今天和大家分享的主题是跨境收单的清结算"


def test_saving_the_same_boundaries_again_records_nothing(world, imported):
    arguments = dict(share=imported, start_message=message(PART.format(1)), qa_message=None,
                     end_message=message(PART.format(3)))
    talk_boundaries_set(**arguments, by=world.admin.user)
    before = state(imported)

    talk_boundaries_set(**arguments, by=world.admin.user)

    assert state(imported) == before


def test_corrected_boundaries_are_kept_on_a_real_reimport(world, imported):
    talk_boundaries_set(share=imported, start_message=message(PART.format(1)), qa_message=message(PART.format(12)),
                        end_message=message("一般是T+1，也有T+7的"), by=world.admin.user)
    corrected = state(imported)

    result = reimport_changed()

    assert (result.counts.files_skipped, result.counts.messages_created, result.counts.shares_found) == (0, 1, 1)
    assert Share.objects.count() == 1
    assert state(imported) == corrected
    assert rows(imported) == MOVED_ROWS


def test_without_a_correction_a_reimport_puts_back_what_the_importer_found(world, imported):
    TalkMessage.objects.filter(share=imported, message__text=PART.format(1)).delete()

    reimport_changed()

    assert rows(imported) == IMPORTED_ROWS


@pytest.mark.parametrize(("case", "code"), [
    ("another day", "other_day"),
    ("another group", "other_day"),
    ("end before start", "order"),
    ("qa at the start", "order"),
    ("qa after the end", "order"),
    ("start by someone else", "not_speaker"),
    ("another talk in the span", "overlap"),
])
def test_bad_boundaries_are_refused_and_nothing_is_written(world, imported, case, code):
    start, qa, end = message(PART.format(1)), message(PART.format(12)), message("一般是T+1，也有T+7的")
    if case == "another day":
        end = make_message(imported.group, None, at("2024-03-05", "00:10"), "第二天")
    elif case == "another group":
        end = make_message(world.other_group, None, at(DAY, "19:50"), "别的群")
    elif case == "end before start":
        start, qa, end = message(PART.format(5)), None, message(PART.format(2))
    elif case == "qa at the start":
        qa = start
    elif case == "qa after the end":
        qa, end = message("一般是T+1，也有T+7的"), message(PART.format(12))
    elif case == "start by someone else":
        start = message("能大声点吗")
    elif case == "another talk in the span":
        other = make_share(imported.group, world.member.member, topic="加场", start=at(DAY, "21:00"), overlap_reason="加场")
        TalkMessage.objects.create(share=other, message=message("晚安"), part=TalkPart.TALK)
        end = message("晚安")
    before = state(imported)

    with pytest.raises(ValidationError) as error:
        talk_boundaries_set(share=imported, start_message=start, qa_message=qa, end_message=end, by=world.admin.user)

    assert error.value.code == code
    assert state(imported) == before


@pytest.mark.parametrize("role", ["member", "speaker", "other_admin"])
def test_boundaries_by_someone_who_is_not_an_admin_of_the_group_are_refused(world, imported, role):
    before = state(imported)

    with pytest.raises(PermissionDenied):
        talk_boundaries_set(share=imported, start_message=message(PART.format(1)), qa_message=None,
                            end_message=message(PART.format(2)), by=getattr(world, role).user)

    assert state(imported) == before


def test_boundaries_of_a_share_not_delivered_are_refused(world):
    share = make_share(world.group, world.speaker.member, status=ShareStatus.SCHEDULED, start=at(DAY, "19:30"))
    first = make_message(world.group, world.speaker.member, at(DAY, "19:30"), "开讲")

    with pytest.raises(ValidationError) as error:
        talk_boundaries_set(share=share, start_message=first, qa_message=None, end_message=first, by=world.admin.user)

    assert error.value.code == "not_delivered"


def test_correction_page_moves_the_boundaries(world, imported):
    client = client_for(world, "admin")
    url = reverse("talk_correct", kwargs={"group_slug": "prodarch", "pk": imported.pk})

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(url, {"start": message(PART.format(1)).pk, "qa": message(PART.format(12)).pk,
                                 "end": message("一般是T+1，也有T+7的").pk, "note": ""})

    html = page.content.decode()
    first, answer = message(imported_first_text()), message("一般是T+1，也有T+7的")
    assert f'<input type="radio" name="start" value="{first.pk}" checked>' in html
    assert f'<input type="radio" name="end" value="{answer.pk}" checked>' in html
    assert f'<li id="m{message("能大声点吗").pk}" class="part-interruption">' in html
    assert f'<li id="m{message("早上好").pk}">' in html
    assert response.status_code == 302
    assert response.url == reverse("shares:talk", kwargs={"group_slug": "prodarch", "pk": imported.pk})
    assert rows(imported) == MOVED_ROWS


def test_correction_page_refuses_messages_of_another_day_and_says_why(world, imported):
    client = client_for(world, "admin")
    other_day = make_message(imported.group, None, at("2024-03-05", "10:00"), "第二天")
    before = state(imported)

    response = client.post(reverse("talk_correct", kwargs={"group_slug": "prodarch", "pk": imported.pk}),
                           {"start": message(PART.format(1)).pk, "qa": "", "end": other_day.pk}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Pick messages of this talk&#x27;s day in the group&#x27;s record." in response.content.decode()
    assert state(imported) == before


def test_correction_page_refuses_an_unknown_message(world, imported):
    before = state(imported)

    response = client_for(world, "admin").post(
        reverse("talk_correct", kwargs={"group_slug": "prodarch", "pk": imported.pk}),
        {"start": "999999", "qa": "", "end": message(PART.format(2)).pk}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Pick a message of the list." in response.content.decode()
    assert state(imported) == before


# --- speaker and topic ---

def test_speaker_and_topic_changed_on_the_correction_page_are_kept_on_reimport(world, imported):
    listener = Member.objects.get(display_name="听众一")
    version = imported.version

    response = client_for(world, "admin").post(
        reverse("talk_details", kwargs={"group_slug": "prodarch", "pk": imported.pk}),
        {"speaker": listener.pk, "topic": "跨境收单：清算与结算", "version": version})

    share = Share.objects.get()
    assert response.status_code == 302
    assert (share.speaker, share.topic, share.version) == (listener, "跨境收单：清算与结算", version + 2)
    assert share.edited_fields == ["speaker", "topic"]
    assert list(share.revisions.filter(version__gt=version).values_list("action", "author")) == [
        ("reassigned", world.admin.user.pk), ("edited", world.admin.user.pk)]
    assert (Membership.objects.get(member=listener).shares_given,
            Membership.objects.get(member__display_name=SPEAKER).shares_given) == (1, 0)

    reimport_changed()

    share = Share.objects.get()
    assert (share.speaker, share.topic, share.status) == (listener, "跨境收单：清算与结算", ShareStatus.DELIVERED)
    assert Membership.objects.get(member=listener).shares_given == 1


def test_speaker_and_topic_form_refuses_a_stale_version_and_writes_nothing(world, imported):
    services.share_edit(share=imported, topic=TOPIC, abstract="另一位管理员刚写的简介", expected_version=imported.version,
                        by=world.staff.user)
    before = state(imported)

    response = client_for(world, "admin").post(
        reverse("talk_details", kwargs={"group_slug": "prodarch", "pk": imported.pk}),
        {"speaker": Member.objects.get(display_name="听众一").pk, "topic": "新", "version": before[0] - 1},
        HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 409
    assert "Someone changed this share while you were editing it" in response.content.decode()
    assert state(imported) == before


def test_speaker_form_refuses_someone_who_was_never_a_member_of_the_group(world, imported):
    before = state(imported)

    response = client_for(world, "admin").post(
        reverse("talk_details", kwargs={"group_slug": "prodarch", "pk": imported.pk}),
        {"speaker": world.outsider.member.pk, "topic": TOPIC, "version": imported.version}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.context["details_form"].errors == {
        "speaker": ["Select a valid choice. That choice is not one of the available choices."]}
    assert state(imported) == before


def test_after_a_new_speaker_the_boundaries_make_their_messages_the_talk(world, imported):
    listener = Member.objects.get(display_name="听众一")
    services.share_reassign(share=imported, speaker=listener, by=world.admin.user)

    talk_boundaries_set(share=imported, start_message=message(f"@{SPEAKER} 请问结算周期一般多长？"), qa_message=None,
                        end_message=message("一般是T+1，也有T+7的"), by=world.admin.user)

    assert rows(imported) == [("19:46:00", "听众一", "talk"), ("19:47:00", SPEAKER, "interruption")]


def test_reassigned_web_share_delivered_by_import_keeps_its_speaker_on_reimport(world):
    import_day(transcript("2024-03-01", [("10:00:00", SPEAKER, "早"), ("10:01:00", "听众一", "早")]))
    speaker, listener = Member.objects.get(display_name=SPEAKER), Member.objects.get(display_name="听众一")
    web = make_share(world.group, speaker, topic="网页上登记的主题", status=ShareStatus.SCHEDULED, start=at(DAY, "19:30"))
    import_day(record())
    services.share_reassign(share=Share.objects.get(pk=web.pk), speaker=listener, by=world.admin.user)

    reimport_changed()

    assert list(Share.objects.values_list("pk", "speaker", "origin", "status")) == [
        (web.pk, listener.pk, Origin.WEB, ShareStatus.DELIVERED)]


# --- deleting a false talk ---

def test_delete_removes_the_talk_everywhere_records_why_and_facts_follow(world, imported):
    speaker = Membership.objects.get(member__display_name=SPEAKER)
    assert (speaker.shares_given, Membership.objects.get(member__display_name="听众一").sign_in_count) == (1, 1)

    talk_delete(share=imported, by=world.admin.user, reason="  不是分享，是闲聊  ")

    share = Share.objects.get()
    assert (share.status, share.sign_in_count, share.edited_fields) == (ShareStatus.CANCELLED, 0, ["deleted"])
    assert (TalkMessage.objects.count(), SignIn.objects.count()) == (0, 0)
    assert Message.objects.count() == 22  # the record itself stays
    revision = share.revisions.get(version=share.version)
    assert (revision.action, revision.author, revision.note) == ("talk deleted", world.admin.user, "不是分享，是闲聊")
    assert len(revision.snapshot["removed"]["talk_messages"]) == len(IMPORTED_ROWS)
    assert [row[2] for row in revision.snapshot["removed"]["sign_ins"]] == ["import", "import"]
    assert (Membership.objects.get(pk=speaker.pk).shares_given,
            Membership.objects.get(member__display_name="听众一").sign_in_count) == (0, 0)


def test_a_deleted_talk_stays_deleted_on_a_real_reimport(world, imported):
    talk_delete(share=imported, by=world.admin.user, reason="误判")
    deleted = state(imported)

    result = reimport_changed()

    assert (result.counts.messages_created, result.counts.shares_found, result.counts.sign_ins_found) == (1, 0, 0)
    assert Share.objects.count() == 1
    assert state(imported) == deleted
    assert Membership.objects.get(member__display_name=SPEAKER).shares_given == 0


def test_a_deleted_talk_is_gone_from_the_talk_page_export_and_day_page(world, imported):
    talk_delete(share=imported, by=world.admin.user, reason="误判")
    staff = client_for(world, "staff")
    kwargs = {"group_slug": "prodarch", "pk": imported.pk}

    member_day = client_for(world, "member").get(reverse("shares:day", kwargs={"group_slug": "prodarch", "day": DAY}))
    admin_day = client_for(world, "admin").get(reverse("shares:day", kwargs={"group_slug": "prodarch", "day": DAY}))

    assert staff.get(reverse("shares:talk", kwargs=kwargs)).status_code == 404
    assert staff.get(reverse("talk_export", kwargs=kwargs)).status_code == 404
    assert staff.get(reverse("talk_correct", kwargs=kwargs)).status_code == 404
    assert {line.part for line in member_day.context["lines"]} == {""}
    assert member_day.context["deleted_talks"] == []
    assert admin_day.context["deleted_talks"] == [imported]
    assert f'<a href="{reverse("talk_delete", kwargs=kwargs)}">{TOPIC}</a>' in admin_day.content.decode()


def test_delete_needs_a_reason_and_a_delivered_talk(world, imported):
    before = state(imported)

    with pytest.raises(ValidationError) as no_reason:
        talk_delete(share=imported, by=world.admin.user, reason="   ")
    assert (no_reason.value.code, state(imported)) == ("reason_required", before)

    talk_delete(share=imported, by=world.admin.user, reason="误判")
    with pytest.raises(ValidationError) as twice:
        talk_delete(share=imported, by=world.admin.user, reason="再删")
    assert twice.value.code == "not_delivered"


def test_delete_by_a_member_is_refused(world, imported):
    before = state(imported)

    with pytest.raises(PermissionDenied):
        talk_delete(share=imported, by=world.member.user, reason="误判")

    assert state(imported) == before


def test_delete_page_then_undo_brings_the_talk_back(world, imported):
    original = state(imported)
    client = client_for(world, "admin")
    kwargs = {"group_slug": "prodarch", "pk": imported.pk}
    web_sign_in = make_sign_in(imported, world.member.member, origin=Origin.WEB, signed_at=at(DAY, "19:25"))

    deleted = client.post(reverse("talk_delete", kwargs=kwargs), {"reason": "误判"})
    page = client.get(reverse("talk_delete", kwargs=kwargs), HTTP_ACCEPT_LANGUAGE="en")
    restored = client.post(reverse("talk_restore", kwargs=kwargs), {"note": "其实是分享"})

    assert (deleted.status_code, deleted.url) == (302, reverse("talk_delete", kwargs=kwargs))
    html = page.content.decode()
    assert "This talk is deleted" in html
    assert '<span class="deletion-reason">误判</span>' in html
    assert (restored.status_code, restored.url) == (302, reverse("shares:talk", kwargs=kwargs))
    share = Share.objects.get()
    assert (share.status, share.edited_fields, share.sign_in_count) == (ShareStatus.DELIVERED, [], 3)
    assert rows(share) == IMPORTED_ROWS
    assert sorted(SignIn.objects.values_list("member__display_name", "origin", "signed_at")) == sorted([
        ("听众一", "import", at(DAY, "19:10")), ("听众二", "import", at(DAY, "19:11")),
        (world.member.member.display_name, "web", web_sign_in.signed_at)])
    assert share.version == original[0] + 2
    assert list(share.revisions.filter(version__gt=original[0]).values_list("action", "note")) == [
        ("talk restored", "其实是分享"), ("talk deleted", "误判")]
    assert Membership.objects.get(member__display_name=SPEAKER).shares_given == 1


def test_undo_keeps_only_what_still_exists(world, imported):
    talk_delete(share=imported, by=world.admin.user, reason="误判")
    Message.objects.filter(text=PART.format(1)).delete()
    Member.objects.filter(display_name="听众二").delete()

    talk_restore(share=imported, by=world.admin.user)

    share = Share.objects.get()
    assert rows(share) == [row for row in IMPORTED_ROWS if row[0] != "19:31:00"]
    assert (share.sign_in_count, list(SignIn.objects.values_list("member__display_name", flat=True))) == (1, ["听众一"])


def test_undo_is_refused_for_a_talk_that_is_not_deleted(world, imported):
    with pytest.raises(ValidationError) as error:
        talk_restore(share=imported, by=world.admin.user)

    assert error.value.code == "not_deleted"


def test_undo_is_refused_when_another_web_share_took_the_evening(world):
    share = make_share(world.group, world.speaker.member, origin=Origin.WEB, start=at(DAY, "19:30"))
    talk_delete(share=share, by=world.admin.user, reason="没讲")
    make_share(world.group, world.member.member, status=ShareStatus.SCHEDULED, start=at(DAY, "20:00"))
    before = state(share)

    with pytest.raises(ValidationError) as error:
        talk_restore(share=share, by=world.admin.user)

    assert error.value.code == "evening_taken"
    assert state(share) == before


# --- the tombstone: which talk found again is the deleted one ---

def found(group, speaker_id, start, end, message_ids=()):
    return TalkFound(speaker_id=speaker_id, topic="主题", scheduled_for=None, started_at=at(DAY, start),
                     ended_at=at(DAY, end), talk_ids=list(message_ids))


def two_talks_of_one_speaker(world):
    group, speaker = world.group, world.speaker.member
    talks = [found(group, speaker.pk, "19:30", "19:50"), found(group, speaker.pk, "20:00", "20:40")]
    talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=talks, import_run=None)
    first, second = Share.objects.order_by("started_at")
    return talks, first, second


@pytest.mark.parametrize("deleted", ["first", "second"])
def test_the_talk_found_again_over_the_deleted_talks_time_is_skipped(world, deleted):
    talks, first, second = two_talks_of_one_speaker(world)
    gone, kept = (first, second) if deleted == "first" else (second, first)
    talk_delete(share=gone, by=world.admin.user, reason="误判")

    result = talks_import_day(group=world.group, day=dt.date(2024, 3, 4), talks=talks, import_run=None)

    assert (result.shares_found, result.sign_ins_found) == (1, 0)
    assert list(Share.objects.order_by("pk").values_list("pk", "status")) == sorted([
        (gone.pk, ShareStatus.CANCELLED), (kept.pk, ShareStatus.DELIVERED)])
    assert local(Share.objects.get(pk=kept.pk).started_at) == local(kept.started_at)


def test_a_deleted_talk_found_again_at_another_time_stays_deleted(world):
    group, speaker = world.group, world.speaker.member
    talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=[found(group, speaker.pk, "19:30", "19:50")],
                     import_run=None)
    talk_delete(share=Share.objects.get(), by=world.admin.user, reason="误判")

    result = talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=[found(group, speaker.pk, "21:00", "21:30")],
                              import_run=None)

    assert (result.shares_found, result.sign_ins_found) == (0, 0)
    assert list(Share.objects.values_list("status", flat=True)) == [ShareStatus.CANCELLED]


def test_a_deleted_talk_whose_speaker_was_changed_stays_deleted(world):
    group = world.group
    talks = [found(group, world.speaker.member.pk, "19:30", "19:50")]
    talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=talks, import_run=None)
    share = Share.objects.get()
    services.share_reassign(share=share, speaker=world.member.member, by=world.admin.user)
    talk_delete(share=share, by=world.admin.user, reason="误判")

    result = talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=talks, import_run=None)
    assert (result.shares_found, result.sign_ins_found) == (0, 0)
    assert Share.objects.count() == 1


def test_a_talk_by_someone_else_that_day_is_still_imported(world):
    group = world.group
    talks_import_day(group=group, day=dt.date(2024, 3, 4), talks=[found(group, world.speaker.member.pk, "19:30", "19:50")],
                     import_run=None)
    talk_delete(share=Share.objects.get(), by=world.admin.user, reason="误判")

    result = talks_import_day(group=group, day=dt.date(2024, 3, 4),
                              talks=[found(group, world.member.member.pk, "19:30", "19:50")], import_run=None)

    assert (result.shares_found, result.sign_ins_found) == (1, 0)
    assert sorted(Share.objects.values_list("speaker", "status")) == sorted([
        (world.speaker.member.pk, ShareStatus.CANCELLED), (world.member.member.pk, ShareStatus.DELIVERED)])


# --- who may correct ---

@pytest.fixture
def talk(world):
    """A members-only talk of the cast's speaker: two messages of the talk and one of the Q&A."""
    share = make_share(world.group, world.speaker.member, visibility=Visibility.MEMBERS, start=at(DAY, "19:30"))
    for time, sender, part in [("19:30", world.speaker.member, TalkPart.TALK), ("19:31", world.speaker.member, TalkPart.TALK),
                               ("20:30", world.member.member, TalkPart.QA)]:
        TalkMessage.objects.create(share=share, part=part,
                                   message=make_message(world.group, sender, at(DAY, time), f"{time} 的消息"))
    make_sign_in(share, world.member.member)
    return share


def expected(role, allowed_status, address):
    return {
        "anonymous": (302, LOGIN + address), "member": (403, None), "outsider": (404, None), "speaker": (403, None),
        "admin": (allowed_status, None), "other_admin": (404, None), "staff": (allowed_status, None),
    }[role]


def outcome(response):
    location = response.url if response.status_code == 302 and response.url.startswith(LOGIN) else None
    return response.status_code, location


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", ["talk_correct", "talk_delete"])
def test_correction_pages_permissions(world, talk, role, view):
    address = reverse(view, kwargs={"group_slug": "prodarch", "pk": talk.pk})

    response = client_for(world, role).get(address)

    assert outcome(response) == expected(role, 200, address)


def post_data(view, talk):
    first, second, qa = (m.pk for m in Message.objects.order_by("sent_at"))
    return {
        "talk_correct": {"start": second, "qa": qa, "end": qa},
        "talk_details": {"speaker": talk.speaker_id, "topic": "改过的主题", "version": talk.version},
        "talk_delete": {"reason": "误判"},
        "talk_restore": {"note": ""},
    }[view]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", ["talk_correct", "talk_details", "talk_delete", "talk_restore"])
def test_correction_writes_permissions_and_a_refused_write_changes_nothing(world, talk, role, view):
    if view == "talk_restore":
        talk_delete(share=talk, by=world.admin.user, reason="误判")
    address = reverse(view, kwargs={"group_slug": "prodarch", "pk": talk.pk})
    before = state(talk)

    response = client_for(world, role).post(address, post_data(view, talk))

    assert outcome(response) == expected(role, 302, address)
    if role in ("admin", "staff"):
        assert Share.objects.get(pk=talk.pk).version == before[0] + 1
    else:
        assert state(talk) == before


@pytest.mark.parametrize("view", ["talk_correct", "talk_details", "talk_delete", "talk_restore"])
def test_correction_writes_need_the_csrf_token(world, talk, view):
    if view == "talk_restore":
        talk_delete(share=talk, by=world.admin.user, reason="误判")
    client = client_for(world, "admin", enforce_csrf_checks=True)
    address = reverse(view, kwargs={"group_slug": "prodarch", "pk": talk.pk})
    page = client.get(reverse("talk_delete", kwargs={"group_slug": "prodarch", "pk": talk.pk}))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    before = state(talk)

    refused = client.post(address, post_data(view, talk))
    after_refusal = state(talk)
    accepted = client.post(address, {**post_data(view, talk), "csrfmiddlewaretoken": token})

    assert (refused.status_code, after_refusal) == (403, before)
    assert accepted.status_code == 302
    assert Share.objects.get(pk=talk.pk).version == before[0] + 1


def test_a_hidden_talk_can_be_corrected_by_the_group_admin_only(world, talk):
    Share.objects.filter(pk=talk.pk).update(visibility=Visibility.HIDDEN)
    address = reverse("talk_correct", kwargs={"group_slug": "prodarch", "pk": talk.pk})

    assert [client_for(world, role).get(address).status_code for role in ("member", "speaker", "admin")] == [404, 403, 200]


def test_correction_pages_are_404_under_another_group(world, talk):
    response = client_for(world, "staff").get(reverse("talk_correct", kwargs={"group_slug": "devarch", "pk": talk.pk}))

    assert response.status_code == 404


# --- queries ---

@pytest.mark.parametrize("items", [1, 3])
def test_correction_page_query_count(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, start=at(DAY, "19:30"))
    for n in range(items):
        for time, part in ((f"19:3{n}", TalkPart.TALK), (f"20:3{n}", TalkPart.QA)):
            TalkMessage.objects.create(share=share, part=part,
                                       message=make_message(world.group, world.speaker.member, at(DAY, time), time))
        make_message(world.group, world.member.member, at(DAY, f"22:0{n}"), "闲聊", kind=MessageKind.TEXT)
        make_sign_in(share, [world.member.member, world.admin.member, world.outsider.member][n])
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role, the user's member, groups of the user,
    # groups the user runs, the talk, the day's messages, their talk parts, the speakers to choose from
    with django_assert_num_queries(10):
        response = client.get(reverse("talk_correct", kwargs={"group_slug": "prodarch", "pk": share.pk}))

    assert len(response.context["lines"]) == 3 * items
