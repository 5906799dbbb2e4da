"""The iCalendar feed: the exact text, escaping, folding, who sees which shares, and its cost."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import MembershipRole, Visibility
from shares.calendar import calendar_shares, escape_text, fold, group_calendar
from shares.models import ShareStatus
from tests.factories import at, make_group, make_person, make_share, make_user

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2030, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def world():
    group = make_group(slug="prodarch", name="支付群")
    other_group = make_group(slug="devarch", name="支付开发群")
    return SimpleNamespace(
        group=group,
        speaker=make_person(group, "李东衡-关天数据-产品-上海"),
        member=make_person(group, "王芳-云汇支付-架构"),
        admin=make_person(group, "周明远-群主", role=MembershipRole.OWNER),
        outsider=make_person(other_group, "孙七-别的群"),
    )


def feed(world, shares=None):
    shares = calendar_shares(group=world.group, members_only=True, today=NOW.date()) if shares is None else shares
    return group_calendar(group=world.group, shares=shares, base_url="https://ex.org/", now=NOW)


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


# --- the text ---

def test_calendar_exact_text_for_one_scheduled_share(world):
    share = make_share(world.group, world.speaker.member, topic="跨境支付的清算", status=ShareStatus.SCHEDULED,
                       start=at("2030-03-04", "19:30"))

    assert feed(world) == (
        "BEGIN:VCALENDAR\r\n"
        "PRODID:-//payment-community//shares//ZH\r\n"
        "VERSION:2.0\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "X-WR-CALNAME:支付群\r\n"
        "X-WR-TIMEZONE:Asia/Shanghai\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:share-{share.pk}@ex.org\r\n"
        "DTSTAMP:20300301T080000Z\r\n"
        "DTSTART:20300304T113000Z\r\n"
        "DTEND:20300304T123000Z\r\n"
        "SUMMARY:跨境支付的清算 — 李东衡-关天数据-产品-上海\r\n"
        f"DESCRIPTION:支付群\\nhttps://ex.org/g/prodarch/shares/{share.pk}/\r\n"
        f"URL:https://ex.org/g/prodarch/shares/{share.pk}/\r\n"
        "STATUS:CONFIRMED\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_calendar_without_a_base_url_has_the_default_host_and_no_url(world):
    share = make_share(world.group, world.speaker.member, status=ShareStatus.SCHEDULED, start=at("2030-03-04"))

    lines = group_calendar(group=world.group, shares=[share], now=NOW).split("\r\n")

    assert f"UID:share-{share.pk}@payment-community" in lines
    assert "DESCRIPTION:支付群" in lines
    assert [line for line in lines if line.startswith("URL:")] == []


def test_delivered_share_runs_from_its_recorded_start_to_its_end(world):
    make_share(world.group, world.speaker.member, start=at("2030-02-20", "19:30"),
               started_at=at("2030-02-20", "19:31:05"), ended_at=at("2030-02-20", "20:40"))

    lines = feed(world).split("\r\n")

    assert (lines[10], lines[11]) == ("DTSTART:20300220T113105Z", "DTEND:20300220T124000Z")


def test_calendar_escapes_commas_semicolons_backslashes_and_newlines(world):
    make_share(world.group, world.speaker.member, topic="清算,结算;对账\\差错\n处理\r\n复盘", status=ShareStatus.SCHEDULED,
               start=at("2030-03-04"))

    assert "SUMMARY:清算\\,结算\\;对账\\\\差错\\n处理\\n复盘 — 李东衡-关天数据-产品-上海" in unfolded(feed(world))
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_calendar_folds_a_long_chinese_topic_at_75_octets(world):
    topic = "跨境支付清算与结算的全链路设计" * 8
    make_share(world.group, world.speaker.member, topic=topic, status=ShareStatus.SCHEDULED, start=at("2030-03-04"))

    text = feed(world)

    physical = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in physical)
    assert len([line for line in physical if line.startswith(" ")]) == 5
    assert f"SUMMARY:{topic} — 李东衡-关天数据-产品-上海" in unfolded(text)
    summary = [line for line in physical if line.startswith("SUMMARY:")][0]
    assert len(summary.encode()) == 74  # "SUMMARY:" and 22 characters of three octets: one more would be 77


def test_fold_never_splits_a_character():
    assert fold("A" * 75) == "A" * 75
    assert fold("A" * 74 + "中") == "A" * 74 + "\r\n 中"
    assert fold("A" * 76) == "A" * 75 + "\r\n A"
    assert fold("中" * 50) == "中" * 25 + "\r\n " + "中" * 24 + "\r\n " + "中"


def test_calendar_lists_scheduled_and_delivered_shares_with_a_start_only(world):
    scheduled = make_share(world.group, world.speaker.member, topic="已排期", status=ShareStatus.SCHEDULED,
                           start=at("2030-03-04"))
    delivered = make_share(world.group, world.member.member, topic="已分享", start=at("2030-02-20"))
    make_share(world.group, world.admin.member, topic="已取消", status=ShareStatus.CANCELLED, start=at("2030-03-05"))
    make_share(world.group, world.admin.member, topic="待排期", status=ShareStatus.PROPOSED, start=at("2030-03-06"))
    make_share(world.group, world.admin.member, topic="一年多以前", start=at("2029-02-01"))

    uids = re.findall(r"UID:share-(\d+)@", feed(world))

    assert uids == [str(delivered.pk), str(scheduled.pk)]


# --- who sees what ---

def shares_for_visibility(world):
    soon = timezone.now() + dt.timedelta(days=2)
    return {
        visibility: make_share(world.group, world.speaker.member, topic=visibility, status=ShareStatus.SCHEDULED,
                               start=soon + dt.timedelta(days=n), visibility=visibility)
        for n, visibility in enumerate([Visibility.PUBLIC, Visibility.MEMBERS, Visibility.HIDDEN])
    }


def topics_seen(client) -> list[str]:
    response = client.get(reverse("shares:calendar", kwargs={"group_slug": "prodarch"}))
    assert (response.status_code, response["Content-Type"]) == (200, "text/calendar; charset=utf-8")
    return [line.removeprefix("SUMMARY:").split(" — ")[0] for line in unfolded(response.content.decode())
            if line.startswith("SUMMARY:")]


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", ["public"]),
    ("outsider", ["public"]),
    ("member", ["public", "members"]),
    ("speaker", ["public", "members"]),  # hidden never, not even for the speaker
    ("admin", ["public", "members"]),
    ("staff", ["public", "members"]),
])
def test_calendar_shows_public_shares_to_anyone_and_members_only_ones_to_members(world, role, expected):
    shares_for_visibility(world)
    client = Client()
    if role == "staff":
        client.force_login(make_user(staff=True))
    elif role != "anonymous":
        client.force_login(getattr(world, role).user)

    assert topics_seen(client) == expected


def test_calendar_of_an_unknown_group_is_404(client):
    assert client.get(reverse("shares:calendar", kwargs={"group_slug": "nope"})).status_code == 404


def test_calendar_page_links_the_feed(world):
    client = Client()
    client.force_login(world.member.user)

    page = client.get(reverse("shares:schedule", kwargs={"group_slug": "prodarch"})).content.decode()

    assert 'href="/g/prodarch/calendar.ics"' in page


@pytest.mark.parametrize("shares", [1, 3])
def test_calendar_query_count_anonymous(world, django_assert_num_queries, client, shares):
    for n in range(shares):
        make_share(world.group, world.speaker.member, topic=f"第{n}场", status=ShareStatus.SCHEDULED,
                   start=timezone.now() + dt.timedelta(days=n + 1), visibility=Visibility.PUBLIC)

    # the group, the shares (speaker and nickname joined in)
    with django_assert_num_queries(2):
        response = client.get(reverse("shares:calendar", kwargs={"group_slug": "prodarch"}))

    assert response.content.decode().count("BEGIN:VEVENT") == shares


@pytest.mark.parametrize("shares", [1, 3])
def test_calendar_query_count_member(world, django_assert_num_queries, shares):
    for n in range(shares):
        make_share(world.group, world.speaker.member, topic=f"第{n}场", status=ShareStatus.SCHEDULED,
                   start=timezone.now() + dt.timedelta(days=n + 1))
    client = Client()
    client.force_login(world.member.user)

    # session, user, the group with the user's member and role, the shares
    with django_assert_num_queries(4):
        response = client.get(reverse("shares:calendar", kwargs={"group_slug": "prodarch"}))

    assert response.content.decode().count("BEGIN:VEVENT") == shares
