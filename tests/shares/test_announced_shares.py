"""Announced shares (announced in the group's record, not given there) where admins and members
look for them: on the schedule page and in the calendar feed, marked "announced — not given
here" or "given in GROUP"; corrected (start, topic, speaker) and deleted by the group's admins
after a confirmation page, with a revision, the sign-ins going with the share and the messages
staying; and a later import of the day does not bring a deleted announced share back."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Membership, Message, Visibility
from importer.services import Source, transcripts_import
from shares import services
from shares.models import Origin, Share, ShareRevision, ShareStatus, SignIn
from shares.selectors import week_schedule_text
from tests.factories import (
    ROLES,
    SHANGHAI,
    at,
    client_for,
    make_cast,
    make_message,
    make_share,
    make_sign_in,
)

from ..importer.test_services import ANNOUNCE, talk_day, transcript

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
NOT_GIVEN = "announced — not given here"
NO_TIME = "time not announced"


def today() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


def start_today(time: str = "19:30") -> dt.datetime:
    return at(today().isoformat(), time)


@pytest.fixture
def world():
    """The cast; an announced share of the speaker today (members only, imported), with two
    sign-ins (the member and the admin) and a message of the day in the record."""
    world = make_cast()
    world.announced = make_share(world.group, world.speaker.member, topic="跨境收单的清结算", status=ShareStatus.ANNOUNCED,
                                 start=start_today(), origin=Origin.IMPORT)
    for person in (world.member, world.admin):
        make_sign_in(world.announced, person.member)
    Share.objects.filter(pk=world.announced.pk).update(sign_in_count=2)
    world.announced.refresh_from_db()
    make_message(world.group, world.admin.member, start_today("15:00"), "今晚的分享预告")
    return world


def share_url(name: str, share: Share, group_slug: str = "prodarch") -> str:
    return reverse(name, kwargs={"group_slug": group_slug, "pk": share.pk})


def schedule_url(group_slug: str = "prodarch") -> str:
    return reverse("shares:schedule", kwargs={"group_slug": group_slug})


def calendar_url(group_slug: str = "prodarch") -> str:
    return reverse("shares:calendar", kwargs={"group_slug": group_slug})


def outcome(response):
    location = response.url if response.status_code == 302 and response.url.startswith(LOGIN) else None
    return response.status_code, location


def snapshot(share: Share) -> tuple:
    """Everything a refused deletion must leave alone."""
    share = Share.objects.get(pk=share.pk)
    return (share.version, share.status, sorted(share.edited_fields), share.sign_in_count,
            sorted(SignIn.objects.filter(share=share).values_list("member_id", flat=True)),
            ShareRevision.objects.filter(share=share).count(), Message.objects.count())


def flat(html: str) -> str:
    """The page with every run of whitespace as one space."""
    return re.sub(r"\s+", " ", html)


# --- deleting: who may, the confirmation step, what it writes ---

EXPECTED = {  # role: (status of the confirmation page, of the deletion)
    "anonymous": ("login", "login"), "member": (403, 403), "outsider": (404, 404), "speaker": (403, 403),
    "admin": (200, 302), "other_admin": (404, 404), "staff": (200, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_groups_admins_may_ask_and_delete(world, role):
    address = share_url("talk_delete", world.announced)
    before = snapshot(world.announced)
    page_status, delete_status = EXPECTED[role]

    page = client_for(world, role).get(address)
    after_page = snapshot(world.announced)
    deleted = client_for(world, role).post(address, {"reason": "公告有误"})

    login = (302, LOGIN + address)
    assert outcome(page) == (login if page_status == "login" else (page_status, None))
    assert after_page == before  # asking deletes nothing
    assert outcome(deleted) == (login if delete_status == "login" else (delete_status, None))
    share = Share.objects.get(pk=world.announced.pk)
    if role in ("admin", "staff"):
        assert (share.status, share.edited_fields) == (ShareStatus.CANCELLED, ["deleted"])
    else:
        assert snapshot(world.announced) == before


def test_another_groups_admin_cannot_delete_even_a_public_announced_share(world):
    Share.objects.filter(pk=world.announced.pk).update(visibility=Visibility.PUBLIC)
    address = share_url("talk_delete", world.announced)
    before = snapshot(world.announced)

    responses = [client_for(world, "other_admin").get(address), client_for(world, "other_admin").post(address, {"reason": "x"})]

    assert [r.status_code for r in responses] == [403, 403]
    assert snapshot(world.announced) == before


def test_the_confirmation_page_says_what_goes_and_what_stays(world):
    html = client_for(world, "admin").get(share_url("talk_delete", world.announced),
                                          HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "<h1>Delete this announced share</h1>" in html
    assert "It leaves the schedule and the calendar, with its 2 sign-ins; the announcement and the day's messages stay" in html
    assert f'href="{share_url("shares:share_detail", world.announced)}">← 跨境收单的清结算</a>' in html
    assert '<label for="id_reason">why this share is deleted:</label>' in html
    assert '<button type="submit" class="button danger">Delete the announced share</button>' in html


@pytest.mark.parametrize(("role", "shown"), [("member", False), ("speaker", False), ("admin", True), ("staff", True)])
def test_the_share_page_offers_the_delete_button_to_admins_only(world, role, shown):
    html = client_for(world, role).get(share_url("shares:share_detail", world.announced)).content.decode()

    button = f'<a class="button danger delete-announced" href="{share_url("talk_delete", world.announced)}">'
    assert (button in html) == shown


def test_deleting_records_who_why_and_what_went_and_leaves_the_messages(world):
    Share.objects.filter(pk=world.announced.pk).update(host=world.admin.member)
    services.membership_share_facts_refresh(group_id=world.group.pk)
    assert Membership.objects.get(pk=world.admin.membership.pk).talks_hosted == 1
    assert Membership.objects.get(pk=world.member.membership.pk).sign_in_count == 1
    messages_before = list(Message.objects.values_list("pk", "text"))

    response = client_for(world, "admin").post(share_url("talk_delete", world.announced), {"reason": "  公告有误  "})

    assert (response.status_code, response.url) == (302, share_url("talk_delete", world.announced))
    share = Share.objects.get(pk=world.announced.pk)
    assert (share.status, share.edited_fields, share.sign_in_count, share.version) == (
        ShareStatus.CANCELLED, ["deleted"], 0, 2)
    revision = ShareRevision.objects.get(share=share, version=2)
    assert (revision.action, revision.author, revision.note) == ("announced share deleted", world.admin.user, "公告有误")
    removed = revision.snapshot["removed"]
    assert (removed["status"], removed["talk_messages"], sorted(row[0] for row in removed["sign_ins"])) == (
        "announced", [], sorted([world.member.member.pk, world.admin.member.pk]))
    # The sign-ins belong to the share and go with it; the record's messages stay.
    assert not SignIn.objects.filter(share=share).exists()
    assert list(Message.objects.values_list("pk", "text")) == messages_before
    # The members' facts follow: the admin hosted nothing that stands, nobody signed in.
    assert Membership.objects.get(pk=world.admin.membership.pk).talks_hosted == 0
    assert Membership.objects.get(pk=world.member.membership.pk).sign_in_count == 0
    # The history says so, in the page's words.
    page = client_for(world, "admin").get(share_url("shares:share_detail", share), HTTP_ACCEPT_LANGUAGE="en")
    assert [str(r.action_label) for r in page.context["revisions"]][:1] == ["announced share deleted"]


def test_deleting_needs_a_reason_and_writes_nothing_without_one(world):
    before = snapshot(world.announced)

    response = client_for(world, "admin").post(share_url("talk_delete", world.announced), {"reason": "   "},
                                               HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Say why the share is deleted." in response.content.decode()
    assert snapshot(world.announced) == before


def test_deleting_needs_the_csrf_token(world):
    client = client_for(world, "admin", enforce_csrf_checks=True)
    before = snapshot(world.announced)

    response = client.post(share_url("talk_delete", world.announced), {"reason": "公告有误"})

    assert response.status_code == 403
    assert snapshot(world.announced) == before


def test_undoing_the_deletion_puts_the_share_and_its_sign_ins_back_on_the_schedule(world):
    services.talk_delete(share=world.announced, by=world.admin.user, reason="公告有误")
    client = client_for(world, "admin")

    page = client.get(share_url("talk_delete", world.announced), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    response = client.post(share_url("talk_restore", world.announced), {"note": "其实有"})

    assert "<h1>This announced share is deleted</h1>" in page
    assert (response.status_code, response.url) == (302, share_url("shares:share_detail", world.announced))
    share = Share.objects.get(pk=world.announced.pk)
    assert (share.status, share.edited_fields, share.sign_in_count) == (ShareStatus.ANNOUNCED, [], 2)
    assert list(ShareRevision.objects.filter(share=share).order_by("version").values_list("action", flat=True)) == [
        "announced share deleted", "announced share restored"]
    assert world.announced.topic in client.get(schedule_url()).content.decode()


def test_a_delivered_talk_is_still_deleted_from_its_talk_page_and_a_scheduled_share_is_not_deletable(world):
    scheduled = make_share(world.group, world.member.member, topic="下周的分享", status=ShareStatus.SCHEDULED,
                           start=start_today("20:30"))
    client = client_for(world, "admin")

    assert client.get(share_url("talk_delete", scheduled)).status_code == 404
    html = client.get(share_url("shares:share_detail", scheduled)).content.decode()
    assert "delete-announced" not in html


# --- correcting: start, topic, speaker ---

def test_an_admin_corrects_the_start(world):
    client = client_for(world, "admin")

    response = client.post(share_url("shares:share_start", world.announced), {"time": "20:00"})

    assert (response.status_code, response.url) == (302, share_url("shares:share_detail", world.announced))
    share = Share.objects.get(pk=world.announced.pk)
    assert (share.scheduled_for, share.edited_fields, share.version) == (start_today("20:00"), ["scheduled_for"], 2)
    revision = ShareRevision.objects.get(share=share, version=2)
    assert (revision.action, revision.author) == ("start corrected", world.admin.user)


def test_an_admin_clears_a_start_the_announcement_did_not_give(world):
    client = client_for(world, "admin")

    client.post(share_url("shares:share_start", world.announced), {"time": ""})
    html = client.get(share_url("shares:share_detail", world.announced), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert Share.objects.get(pk=world.announced.pk).scheduled_for is None
    assert f'<span class="no-start">{NO_TIME}</span>' in html


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", 302), ("member", 403), ("speaker", 403), ("outsider", 403), ("other_admin", 403), ("admin", 302),
])
def test_only_the_groups_admins_correct_the_start(world, role, expected):
    response = client_for(world, role).post(share_url("shares:share_start", world.announced), {"time": "20:00"})

    assert response.status_code == expected
    moved = Share.objects.get(pk=world.announced.pk).scheduled_for == start_today("20:00")
    assert moved == (role == "admin")


def test_the_start_of_a_share_that_is_not_announced_is_not_corrected_here(world):
    delivered = make_share(world.group, world.member.member, start=start_today("21:00"))

    with pytest.raises(ValidationError) as error:
        services.share_start_correct(share=delivered, time=dt.time(20, 0), by=world.admin.user)

    assert error.value.code == "not_announced"


def test_an_admin_corrects_topic_and_speaker_of_an_announced_share_on_its_page(world):
    client = client_for(world, "admin")
    html = client.get(share_url("shares:share_detail", world.announced)).content.decode()

    edited = client.post(share_url("shares:share_edit", world.announced), {
        "topic": "跨境收单", "abstract": "", "visibility": "members", "version": world.announced.version})
    reassigned = client.post(share_url("shares:share_reassign", world.announced), {"speaker": world.member.member.pk})

    assert all(f'action="{share_url(name, world.announced)}"' in html
               for name in ("shares:share_start", "shares:share_edit", "shares:share_reassign"))
    assert (edited.status_code, reassigned.status_code) == (302, 302)
    share = Share.objects.get(pk=world.announced.pk)
    assert (share.topic, share.speaker_id, share.status, sorted(share.edited_fields)) == (
        "跨境收单", world.member.member.pk, ShareStatus.ANNOUNCED, ["speaker", "topic"])


# --- a later import of the day does not bring a deleted announced share back ---

DAY = "2024-03-06"
SPEAKER = "周明远-云汇支付-产品-杭州"


def announced_not_given(*extra) -> bytes:
    return transcript(DAY, [
        ("15:00:00", "管理员甲", ANNOUNCE.format(nick=SPEAKER, topic="跨境收单的清结算", start="19:30")),
        ("19:10:00", "听众一", "签到"), ("19:40:00", "管理员甲", "嘉宾今晚临时有事，改天再讲"), *extra])


def run(data: bytes, **options):
    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(f"{DAY}.md", data)], **options)
    assert result.ok, result.errors
    return result


@pytest.fixture
def imported():
    """The cast's group with an announced talk not given imported: one announced share."""
    world = make_cast()
    run(announced_not_given())
    world.share = Share.objects.get()
    assert (world.share.status, world.share.speaker.display_name) == (ShareStatus.ANNOUNCED, SPEAKER)
    return world


@pytest.mark.parametrize("replace", [False, True])
def test_a_deleted_announced_share_stays_deleted_when_the_day_is_imported_again(imported, replace):
    services.talk_delete(share=imported.share, by=imported.admin.user, reason="不是今晚的分享")

    result = run(announced_not_given(("22:00:00", "闲聊者", "晚安")),
                 **({"replace_days": [dt.date(2024, 3, 6)]} if replace else {}))

    assert [(t["share"], t["status"]) for t in result.files[0]["talks"]] == [(imported.share.pk, "deleted")]
    assert list(Share.objects.values_list("pk", "status")) == [(imported.share.pk, ShareStatus.CANCELLED)]
    assert not SignIn.objects.exists()


def test_a_deleted_announced_share_whose_speaker_an_admin_changed_stays_deleted(imported):
    # The importer names the member bearing the announced name; the admin named someone else,
    # then deleted the share: the announcement found again is the same one (its start).
    services.share_reassign(share=imported.share, speaker=imported.member.member, by=imported.admin.user)
    services.talk_delete(share=imported.share, by=imported.admin.user, reason="不是今晚的分享")

    result = run(announced_not_given(("22:00:00", "闲聊者", "晚安")))

    assert [t["status"] for t in result.files[0]["talks"]] == ["deleted"]
    assert list(Share.objects.values_list("pk", "status")) == [(imported.share.pk, ShareStatus.CANCELLED)]


@pytest.mark.parametrize("time", [dt.time(20, 0), None])
def test_the_start_an_admin_corrected_is_kept_when_the_day_is_imported_again(imported, time):
    # None: the admin cleared a start the importer read; the import does not put it back.
    services.share_start_correct(share=imported.share, time=time, by=imported.admin.user)

    run(announced_not_given(("22:00:00", "闲聊者", "晚安")))

    share = Share.objects.get()
    assert (share.pk, share.status, share.scheduled_for) == (
        imported.share.pk, ShareStatus.ANNOUNCED, at(DAY, "20:00") if time else None)


def test_a_deleted_announced_share_given_after_all_in_a_fuller_record_stays_deleted(imported):
    # As for a deleted talk: the admin's deletion stands; the talk page of the day can be undone by hand.
    services.talk_delete(share=imported.share, by=imported.admin.user, reason="不是今晚的分享")

    result = run(talk_day(day=DAY, speaker=SPEAKER), replace_days=[dt.date(2024, 3, 6)])

    assert [t["status"] for t in result.files[0]["talks"]] == ["deleted"]
    assert list(Share.objects.values_list("status", flat=True)) == [ShareStatus.CANCELLED]


def test_another_announcement_that_day_is_still_imported(imported):
    services.talk_delete(share=imported.share, by=imported.admin.user, reason="不是今晚的分享")
    other = "吴凌-化交-开发-上海"

    run(announced_not_given(("20:00:00", "管理员甲", ANNOUNCE.format(nick=other, topic="风控模型", start="21:00"))))

    assert sorted(Share.objects.values_list("speaker__display_name", "status")) == [
        (other, ShareStatus.ANNOUNCED), (SPEAKER, ShareStatus.CANCELLED)]


# --- the schedule page ---

@pytest.fixture
def linked(world):
    """The announced share given in the other group that evening (``given_in``)."""
    world.given = make_share(world.other_group, world.speaker.member, topic="跨境收单的清结算（在开发群）",
                             start=start_today("19:35"))
    Share.objects.filter(pk=world.announced.pk).update(given_in=world.given)
    return world


@pytest.mark.parametrize("role", ["member", "speaker", "admin", "staff"])
def test_the_schedule_shows_an_announced_share_to_the_groups_members_and_admins(world, role):
    html = client_for(world, role).get(schedule_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    detail = share_url("shares:share_detail", world.announced)
    assert (
        f'<span><time datetime="{today().isoformat()}T19:30:00+08:00">19:30</time> '
        f'<a href="{detail}"><strong>跨境收单的清结算</strong></a> '
        f'<span class="muted">李东衡-关天数据-产品-上海</span> <span class="announced-mark">{NOT_GIVEN}</span> </span>'
    ) in flat(html)


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("outsider", 403), ("other_admin", 403)])
def test_the_schedule_stays_closed_to_everyone_else(world, role, expected):
    Share.objects.filter(pk=world.announced.pk).update(visibility=Visibility.PUBLIC)

    response = client_for(world, role).get(schedule_url())

    assert response.status_code == expected


def test_a_hidden_announced_share_is_on_the_schedule_of_admins_and_its_speaker_only(world):
    Share.objects.filter(pk=world.announced.pk).update(visibility=Visibility.HIDDEN)

    seen = {role: "跨境收单的清结算" in client_for(world, role).get(schedule_url()).content.decode()
            for role in ("member", "speaker", "admin")}

    assert seen == {"member": False, "speaker": True, "admin": True}


def test_the_schedule_says_when_the_announcement_gave_no_time(world):
    Share.objects.filter(pk=world.announced.pk).update(scheduled_for=None)

    html = client_for(world, "member").get(schedule_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    detail = share_url("shares:share_detail", world.announced)
    assert f'<span><span class="muted no-start">{NO_TIME}</span> <a href="{detail}">' in flat(html)


@pytest.mark.parametrize("role", ["member", "admin"])
def test_the_schedule_links_the_talk_given_in_another_group(linked, role):
    html = client_for(linked, role).get(schedule_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    talk = share_url("shares:talk", linked.given, "devarch")
    assert (f'<span class="muted">李东衡-关天数据-产品-上海</span> <span class="announced-mark">given in '
            f'<a class="given-in" href="{talk}">支付开发群</a></span> </span>') in flat(html)


def test_the_schedule_names_no_talk_the_member_may_not_read(linked):
    Share.objects.filter(pk=linked.given.pk).update(visibility=Visibility.HIDDEN)

    html = client_for(linked, "member").get(schedule_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (f'<span class="muted">李东衡-关天数据-产品-上海</span> <span class="announced-mark">{NOT_GIVEN}</span> '
            '</span>') in flat(html)
    assert "devarch" not in html


def test_the_schedule_in_chinese(linked):
    Share.objects.filter(pk=linked.announced.pk).update(given_in=None, scheduled_for=None)

    html = client_for(linked, "member").get(schedule_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert '<span class="announced-mark">已预告，未在本群分享</span>' in html
    assert '<span class="muted no-start">未公布时间</span>' in html


def test_the_weeks_text_to_paste_still_lists_what_is_planned_only(world):
    make_share(world.group, world.member.member, topic="已排期", status=ShareStatus.SCHEDULED, start=start_today("20:30"))

    text = week_schedule_text(group=world.group, week_start=today())

    assert "已排期" in text and "跨境收单的清结算" not in text


@pytest.mark.parametrize("linked_shares", [1, 3])
def test_schedule_page_query_count_with_announced_shares(world, django_assert_num_queries, linked_shares):
    for n in range(linked_shares):
        given = make_share(world.other_group, world.speaker.member, topic=f"在开发群{n}", start=start_today(f"2{n}:00"))
        announced = world.announced if n == 0 else make_share(
            world.group, world.speaker.member, topic=f"预告{n}", status=ShareStatus.ANNOUNCED,
            start=start_today(f"2{n}:00"), origin=Origin.IMPORT)
        Share.objects.filter(pk=announced.pk).update(given_in=given)
    client = client_for(world, "member")

    # session, user, the group with the user's member and role (the access object, one query),
    # groups of the user, groups the user runs, the shares, the user's roles and the talks given
    # elsewhere they may read, own shares
    with django_assert_num_queries(10):
        response = client.get(schedule_url())

    assert response.content.decode().count('class="given-in"') == linked_shares


# --- the calendar feed ---

def feed_events(client) -> dict[str, list[str]]:
    response = client.get(calendar_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return events_of(response.content.decode())


def events_of(text: str) -> dict[str, list[str]]:
    """The feed's events by summary: their lines (unfolded), without UID and DTSTAMP."""
    lines = text.replace("\r\n ", "").split("\r\n")
    events, current = {}, None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT":
            summary = next(item for item in current if item.startswith("SUMMARY:"))
            events[summary.removeprefix("SUMMARY:")] = [item for item in current if not item.startswith(("UID", "DTSTAMP"))]
            current = None
        elif current is not None:
            current.append(line)
    return events


def anonymous_or(world, role) -> Client:
    return Client() if role == "anonymous" else client_for(world, role)


@pytest.mark.parametrize(("role", "seen"), [
    ("anonymous", False), ("outsider", False), ("member", True), ("speaker", True), ("admin", True)])
def test_the_calendar_has_the_announced_share_for_the_groups_members_only(world, role, seen):
    # Even public: the public's feed is what it was, the planned shares.
    Share.objects.filter(pk=world.announced.pk).update(visibility=Visibility.PUBLIC)

    events = feed_events(anonymous_or(world, role))

    summary = f"跨境收单的清结算 — 李东衡-关天数据-产品-上海 ({NOT_GIVEN})"
    assert list(events) == ([summary] if seen else [])
    if seen:
        detail = "http://testserver" + share_url("shares:share_detail", world.announced)
        start = world.announced.scheduled_for.astimezone(dt.UTC)
        assert events[summary] == [
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{start + dt.timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{summary}", f"DESCRIPTION:支付产品群\\n{NOT_GIVEN}\\n{detail}", f"URL:{detail}"]


def test_the_calendar_names_the_group_and_links_the_talk_given_there(linked):
    events = feed_events(client_for(linked, "member"))

    summary = "跨境收单的清结算 — 李东衡-关天数据-产品-上海 (given in 支付开发群)"
    talk = "http://testserver" + share_url("shares:talk", linked.given, "devarch")
    detail = "http://testserver" + share_url("shares:share_detail", linked.announced)
    assert f"DESCRIPTION:支付产品群\\ngiven in 支付开发群\\n{talk}\\n{detail}" in events[summary]


def test_the_calendar_names_no_talk_the_member_may_not_read(linked):
    Share.objects.filter(pk=linked.given.pk).update(visibility=Visibility.HIDDEN)

    events = feed_events(client_for(linked, "member"))

    assert list(events) == [f"跨境收单的清结算 — 李东衡-关天数据-产品-上海 ({NOT_GIVEN})"]


def test_the_calendar_gives_an_announced_share_without_a_time_its_day(world):
    Share.objects.filter(pk=world.announced.pk).update(scheduled_for=None)

    events = feed_events(client_for(world, "member"))

    [lines] = events.values()
    day = today()
    assert lines[:2] == [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}"]
    assert lines[3].startswith(f"DESCRIPTION:支付产品群\\n{NOT_GIVEN}\\n{NO_TIME}\\n")
    assert not any(line.startswith("STATUS:") for line in lines)


@pytest.mark.parametrize("linked_shares", [1, 3])
def test_calendar_query_count_with_announced_shares(world, django_assert_num_queries, linked_shares):
    for n in range(linked_shares):
        given = make_share(world.other_group, world.speaker.member, topic=f"在开发群{n}", start=start_today(f"2{n}:00"))
        announced = world.announced if n == 0 else make_share(
            world.group, world.speaker.member, topic=f"预告{n}", status=ShareStatus.ANNOUNCED,
            start=start_today(f"2{n}:00"), origin=Origin.IMPORT)
        Share.objects.filter(pk=announced.pk).update(given_in=given)
    client = client_for(world, "member")

    # session, user, the group, the user's member and role (the access object), the shares,
    # the user's roles and the talks given elsewhere they may read
    with django_assert_num_queries(6):
        response = client.get(calendar_url(), HTTP_ACCEPT_LANGUAGE="en")

    # one event each, naming the group in its summary
    summaries = list(events_of(response.content.decode()))
    assert [summary.endswith("(given in 支付开发群)") for summary in summaries] == [True] * linked_shares


@pytest.mark.parametrize("revisions", [1, 3])
def test_announced_share_page_query_count(linked, django_assert_num_queries, revisions):
    for n in range(1, revisions):
        services.share_edit(share=linked.announced, topic=f"主题{n}", abstract="", expected_version=n,
                            by=linked.admin.user)
    client = client_for(linked, "admin")

    # session, user, the group with the user's member and role (the access object, one query),
    # groups of the user, groups the user runs, the share, its preferred days, its history,
    # the speakers to pick, the user's roles and the talk given elsewhere
    with django_assert_num_queries(12):
        response = client.get(share_url("shares:share_detail", linked.announced))

    assert response.context["given_in"] == linked.given
    assert len(response.context["revisions"]) == revisions - 1  # the factory records no revision


@pytest.mark.parametrize("sign_ins", [1, 3])
def test_the_confirmation_page_query_count(world, django_assert_num_queries, sign_ins):
    SignIn.objects.filter(share=world.announced).delete()
    for person in [world.member, world.admin, world.speaker][:sign_ins]:
        make_sign_in(world.announced, person.member)
    Share.objects.filter(pk=world.announced.pk).update(sign_in_count=sign_ins)
    client = client_for(world, "admin")

    # session, user, the group, the user's member and role (the access object), groups of the
    # user, groups the user runs, the share
    with django_assert_num_queries(7):
        response = client.get(share_url("talk_delete", world.announced), HTTP_ACCEPT_LANGUAGE="en")

    assert f"with its {sign_ins} sign-in" in response.content.decode()
