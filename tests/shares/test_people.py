"""A member's profile and a group's activity page: who may see them, what they show (and what
they must not leak from other groups or hidden talks), counts in the group's time zone, text
kept as text, and the number of queries they cost."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from community.models import Group, MembershipRole, MembershipStatus, Name, NameSource, RecordedDay, Visibility
from shares.people import activity_range, day_series, month_series, offset_stretches
from tests.factories import (
    ROLES,
    at,
    client_for,
    make_cast,
    make_member,
    make_membership,
    make_message,
    make_share,
    make_sign_in,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
SVG = "{http://www.w3.org/2000/svg}"
ACTIVITY = reverse("group_activity", kwargs={"group_slug": "prodarch"})


@pytest.fixture
def world():
    return make_cast()


def profile_url(member):
    return reverse("member_profile", kwargs={"pk": member.pk})


def talk_url(share):
    return reverse("shares:talk", kwargs={"group_slug": share.group.slug, "pk": share.pk})


def make_name(member, name, group, *, source=NameSource.HEADER, first="2018-01-01", last="2018-03-01"):
    return Name.objects.create(member=member, group=group, name=name, normalized=name.lower(), source=source,
                               first_seen=at(first, "12:00"), last_seen=at(last, "12:00"), times_seen=1)


def svg_titles(svg, kind):
    root = ET.fromstring(str(svg))
    return [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class", "").split()[0] == kind]


def get(client, url, **params):
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE="en")


# --- the profile: who may see it ---

@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 404), ("speaker", 200), ("admin", 200),
    ("other_admin", 404), ("staff", 200),
])
def test_profile_permissions(world, role, expected):
    address = profile_url(world.member.member)

    response = client_for(world, role).get(address)

    assert (response.status_code, getattr(response, "url", None)) == (
        (302, LOGIN + address) if expected == "login" else (expected, None)
    )


def test_profile_of_an_unknown_member_is_404(world):
    assert client_for(world, "staff").get(reverse("member_profile", kwargs={"pk": 999999})).status_code == 404


@pytest.mark.parametrize(("role", "expected"), [
    ("member", 404), ("speaker", 404), ("admin", 200), ("outsider", 404), ("other_admin", 404), ("staff", 200),
])
def test_profile_of_a_removed_member_is_for_the_groups_admins(world, role, expected):
    removed = make_membership(world.group, make_member("陈被移出"), status=MembershipStatus.REMOVED)

    assert client_for(world, role).get(profile_url(removed.member)).status_code == expected


def test_profile_of_a_member_without_a_group_is_for_themself_and_staff(world):
    world.member.membership.delete()

    assert [client_for(world, role).get(profile_url(world.member.member)).status_code
            for role in ROLES[1:]] == [200, 404, 404, 404, 404, 200]


def test_profile_viewer_who_left_the_group_no_longer_sees_its_members(world):
    world.speaker.membership.status = MembershipStatus.LEFT
    world.speaker.membership.save()

    assert client_for(world, "speaker").get(profile_url(world.member.member)).status_code == 404


# --- the profile: what it shows ---

@pytest.fixture
def two_groups(world):
    """The cast's member is also in the other group, with a name, a talk, a sign-in and messages there."""
    member = world.member.member
    member.name, member.company, member.position, member.city = "王芳", "云汇支付", "架构", "杭州"
    member.save()
    world.member.membership.joined_at = at("2017-12-01", "10:00")
    world.member.membership.save()
    make_membership(world.other_group, member, nickname="王芳-别的群", role=MembershipRole.ADMIN)
    make_name(member, "王芳-云汇支付-架构", world.group, first="2018-01-05", last="2018-05-20")
    make_name(member, "芳芳", world.group, source=NameSource.MENTION, first="2018-02-01", last="2018-02-02")
    make_name(member, "别的群里的名字", world.other_group, first="2017-06-01", last="2017-07-01")
    mine = make_share(world.group, member, topic="我讲的清算", start=at("2018-03-01"))
    theirs = make_share(world.other_group, member, topic="别的群的分享", start=at("2018-04-01"))
    attended = make_share(world.group, world.speaker.member, topic="李东衡的分享", start=at("2018-05-20"))
    elsewhere = make_share(world.other_group, world.outsider.member, topic="别的群听过的", start=at("2018-04-10"))
    make_sign_in(attended, member)
    make_sign_in(elsewhere, member)
    make_message(world.group, member, at("2018-01-10", "10:00"), "本群一月")
    make_message(world.other_group, member, at("2018-01-11", "10:00"), "别的群一月")
    return world, mine, theirs, attended, elsewhere


def test_profile_shows_only_what_the_shared_group_knows(two_groups):
    world, mine, theirs, attended, elsewhere = two_groups

    response = get(client_for(world, "speaker"), profile_url(world.member.member))

    assert [(n.name, n.group.slug) for n in response.context["names"]] == [
        ("王芳-云汇支付-架构", "prodarch"), ("芳芳", "prodarch")]
    assert [(m.group.slug, m.role, m.status) for m in response.context["memberships"]] == [
        ("prodarch", "member", "active")]
    assert response.context["talks_given"] == [mine]
    assert [s.share for s in response.context["sign_ins"]] == [attended]
    assert response.context["month_counts"] == [("2018-01", 1)]
    html = response.content.decode()
    for leak in ["别的群里的名字", "王芳-别的群", "别的群的分享", "别的群听过的", "支付开发群"]:
        assert leak not in html
    assert '<span class="member-name">王芳</span> · <span class="member-company">云汇支付</span>' in html
    assert "<li><time datetime=\"2018-03-01\">2018-03-01</time>\n" in html
    assert f'<a href="{talk_url(mine)}">我讲的清算</a>' in html
    assert f'<a href="{talk_url(attended)}">李东衡的分享</a>' in html
    assert "芳芳</strong>\n          <span class=\"muted\">支付产品群 · mention · 2018-02-01 – 2018-02-02</span>" in html
    assert "joined 2017-12-01" in html


def test_profile_shows_everything_to_the_member_themself_and_staff(two_groups):
    world, mine, theirs, attended, elsewhere = two_groups
    make_name(world.member.member, "手工名字", None, source=NameSource.MANUAL, first="2016-01-01", last="2016-01-01")

    for role in ["member", "staff"]:
        response = get(client_for(world, role), profile_url(world.member.member))

        assert [n.name for n in response.context["names"]] == ["手工名字", "别的群里的名字", "王芳-云汇支付-架构", "芳芳"]
        assert [(m.group.slug, m.role) for m in response.context["memberships"]] == [
            ("prodarch", "member"), ("devarch", "admin")]  # by group name: 支付产品群, 支付开发群
        assert response.context["talks_given"] == [theirs, mine]
        assert [s.share for s in response.context["sign_ins"]] == [attended, elsewhere]
        assert response.context["month_counts"] == [("2018-01", 2)]


def test_profile_lists_a_hidden_talk_only_to_who_may_see_it(world):
    speaker = world.speaker.member
    hidden = make_share(world.group, speaker, topic="隐藏的分享", visibility=Visibility.HIDDEN, start=at("2018-03-01"))
    public = make_share(world.group, speaker, topic="公开的分享", visibility=Visibility.PUBLIC, start=at("2018-02-01"))
    make_share(world.group, speaker, topic="还没讲", status="scheduled", start=at("2018-09-01"))
    hidden_attended = make_share(world.group, world.admin.member, topic="隐藏的另一场", visibility=Visibility.HIDDEN,
                                 start=at("2018-04-01"))
    make_sign_in(hidden_attended, speaker)

    member_view = get(client_for(world, "member"), profile_url(speaker))
    admin_view = get(client_for(world, "admin"), profile_url(speaker))
    own_view = get(client_for(world, "speaker"), profile_url(speaker))

    assert member_view.context["talks_given"] == [public]
    assert member_view.context["sign_ins"] == []
    assert "隐藏" not in member_view.content.decode()
    assert admin_view.context["talks_given"] == [hidden, public]
    assert [s.share for s in admin_view.context["sign_ins"]] == [hidden_attended]
    # The speaker sees their own hidden talk, not the hidden talk they only attended.
    assert own_view.context["talks_given"] == [hidden, public]
    assert own_view.context["sign_ins"] == []


def test_profile_counts_messages_per_month_in_the_groups_time_zone(world):
    member = world.member.member
    make_message(world.group, member, at("2018-01-31", "23:30"), "一月最后")   # 15:30 UTC, January 31st
    make_message(world.group, member, at("2018-02-01", "00:30"), "二月第一")   # 16:30 UTC, still January 31st
    make_message(world.group, member, at("2018-02-10", "12:00"), "二月")
    make_message(world.group, member, at("2018-04-01", "08:00"), "四月")     # 00:00 UTC
    make_message(world.group, world.admin.member, at("2018-03-01", "12:00"), "别人的")

    response = get(client_for(world, "member"), profile_url(member))

    assert response.context["month_counts"] == [("2018-01", 1), ("2018-02", 2), ("2018-03", 0), ("2018-04", 1)]
    svg = response.context["chart"]
    assert svg_titles(svg, "bar") == ["2018-01: 1", "2018-02: 2", "2018-03: 0", "2018-04: 1"]
    assert ('role="img" aria-label="Messages per month"' in str(svg)
            and "<desc>4 messages from 2018-01 to 2018-04; the busiest month: 2018-02 (2).</desc>" in str(svg))
    assert '<figure class="chart-box"><svg' in response.content.decode()


def test_profile_counts_each_groups_messages_in_its_own_time_zone(world):
    member = world.member.member
    utc_group = Group.objects.create(slug="london", name="伦敦支付群", time_zone="UTC")
    make_membership(utc_group, member)
    make_message(world.group, member, at("2018-02-01", "00:30"), "上海二月")   # January 31st 16:30 UTC
    # January 31st 23:30 UTC: February 1st in Shanghai, January in the UTC group.
    make_message(utc_group, member, dt.datetime(2018, 1, 31, 23, 30, tzinfo=dt.UTC), "伦敦一月")

    response = get(client_for(world, "member"), profile_url(member))

    assert response.context["month_counts"] == [("2018-01", 1), ("2018-02", 1)]


def test_profile_counts_months_across_daylight_saving_changes(world):
    member = world.member.member
    berlin = Group.objects.create(slug="berlin", name="柏林支付群", time_zone="Europe/Berlin")
    make_membership(berlin, member)
    utc = dt.UTC
    make_message(berlin, member, dt.datetime(2018, 1, 31, 22, 30, tzinfo=utc), "一月")   # 23:30 CET, January
    make_message(berlin, member, dt.datetime(2018, 1, 31, 23, 30, tzinfo=utc), "二月")   # 00:30 CET, February
    make_message(berlin, member, dt.datetime(2018, 3, 31, 21, 30, tzinfo=utc), "三月")   # 23:30 CEST, March
    make_message(berlin, member, dt.datetime(2018, 3, 31, 22, 30, tzinfo=utc), "四月")   # 00:30 CEST, April
    make_message(world.group, member, dt.datetime(2018, 3, 31, 15, 30, tzinfo=utc), "上海四月")  # 23:30 Shanghai

    response = get(client_for(world, "member"), profile_url(member))

    assert response.context["month_counts"] == [("2018-01", 1), ("2018-02", 1), ("2018-03", 2), ("2018-04", 1)]


def test_offset_stretches_find_the_changes_to_the_minute():
    since, until = dt.datetime(2018, 3, 20, tzinfo=dt.UTC), dt.datetime(2018, 11, 1, tzinfo=dt.UTC)

    assert offset_stretches("Europe/Berlin", since, until) == (
        (since, dt.timedelta(hours=1)),
        (dt.datetime(2018, 3, 25, 1, 0, tzinfo=dt.UTC), dt.timedelta(hours=2)),
        (dt.datetime(2018, 10, 28, 1, 0, tzinfo=dt.UTC), dt.timedelta(hours=1)),
    )
    assert offset_stretches("Asia/Shanghai", since, until) == ((since, dt.timedelta(hours=8)),)
    assert offset_stretches("Australia/Adelaide", dt.datetime(2018, 3, 20, tzinfo=dt.UTC), until) == (
        (dt.datetime(2018, 3, 20, tzinfo=dt.UTC), dt.timedelta(hours=10, minutes=30)),
        (dt.datetime(2018, 3, 31, 16, 30, tzinfo=dt.UTC), dt.timedelta(hours=9, minutes=30)),
        (dt.datetime(2018, 10, 6, 16, 30, tzinfo=dt.UTC), dt.timedelta(hours=10, minutes=30)),
    )


def test_profile_without_messages_has_no_chart(world):
    response = get(client_for(world, "member"), profile_url(world.member.member))

    assert (response.context["chart"], response.context["month_counts"]) == (None, [])
    assert "No message from this member in the record." in response.content.decode()


def test_month_series_fills_the_months_between_across_a_year():
    assert month_series({(2017, 11): 2, (2018, 2): 5}) == [
        ("2017-11", 2), ("2017-12", 0), ("2018-01", 0), ("2018-02", 5)]
    assert month_series({}) == []


def test_profile_renders_names_as_text(world):
    attacker = make_member("<script>alert(1)</script>", name="<img src=x onerror=alert(2)>", company="<b>c</b>")
    make_membership(world.group, attacker, nickname="<script>alert(3)</script>")
    make_name(attacker, "<svg onload=alert(4)>", world.group)
    share = make_share(world.group, attacker, topic="<script>alert(5)</script>", visibility=Visibility.PUBLIC)
    make_message(world.group, attacker, at("2018-05-20", "20:00"), "x")

    html = get(client_for(world, "member"), profile_url(attacker)).content.decode()

    assert re.search(r"<(script|img|b|svg onload)[ >]", html.replace('<svg xmlns="http://www.w3.org/2000/svg"', "")) is None
    for escaped in ["&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;",
                    "&lt;script&gt;alert(3)&lt;/script&gt;", "&lt;svg onload=alert(4)&gt;",
                    f'<a href="{talk_url(share)}">&lt;script&gt;alert(5)&lt;/script&gt;</a>']:
        assert escaped in html


@pytest.mark.parametrize("items", [1, 3])
def test_profile_query_count(world, django_assert_num_queries, items):
    member = world.member.member
    make_membership(world.other_group, member)
    for n in range(items):
        make_name(member, f"名字{n}", world.group)
        make_name(member, f"别处{n}", world.other_group)
        make_message(world.group, member, at(f"2018-0{n + 1}-15", "12:00"), f"消息{n}")
        talk = make_share(world.group, member, topic=f"分享{n}", start=at(f"2018-0{n + 1}-20"))
        heard = make_share(world.group, world.admin.member, topic=f"听了{n}", start=at(f"2018-0{n + 1}-21"))
        make_sign_in(heard, member)
        make_sign_in(talk, world.admin.member)
    client = client_for(world, "speaker")

    # session, user, the member, their memberships, the viewer's member, the viewer's memberships, names,
    # groups of the viewer, groups the viewer runs, talks given, sign-ins, messages per month
    with django_assert_num_queries(12):
        response = client.get(profile_url(member))

    assert (len(response.context["names"]), len(response.context["talks_given"]), len(response.context["sign_ins"]),
            len(response.context["month_counts"])) == (items, items, items, items)


# --- the group's activity ---

@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 403), ("speaker", 200), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_activity_permissions(world, role, expected):
    response = client_for(world, role).get(ACTIVITY)

    assert (response.status_code, getattr(response, "url", None)) == (
        (302, LOGIN + ACTIVITY) if expected == "login" else (expected, None)
    )


def test_activity_of_an_unknown_group_is_404(world):
    response = client_for(world, "staff").get(reverse("group_activity", kwargs={"group_slug": "nope"}))

    assert response.status_code == 404


def record(group, *days):
    for day, count in days:
        RecordedDay.objects.create(group=group, day=dt.date.fromisoformat(day), message_count=count)


def test_activity_shows_messages_per_day_with_gaps_not_zeros(world):
    record(world.group, ("2018-05-01", 10), ("2018-05-02", 0), ("2018-05-04", 5), ("2018-05-06", 99))
    record(world.other_group, ("2018-05-03", 7))

    response = get(client_for(world, "member"), ACTIVITY, **{"from": "2018-05-01", "to": "2018-05-05"})

    assert response.context["figures"] == {"total": 15, "recorded": 3, "missing": 2,
                                           "start": dt.date(2018, 5, 1), "end": dt.date(2018, 5, 5)}
    svg = response.context["day_chart"]
    assert svg_titles(svg, "bar") == ["2018-05-01: 10", "2018-05-02: 0", "2018-05-04: 5"]
    assert svg_titles(svg, "gap") == ["2018-05-03: not in the record", "2018-05-05: not in the record"]
    html = response.content.decode()
    assert '<strong class="total">15</strong>' in html
    assert '<strong class="missing">2</strong>' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2


def test_day_series_marks_missing_days_as_none():
    counts = {dt.date(2018, 5, 1): 3, dt.date(2018, 5, 3): 0}

    assert day_series(counts, start=dt.date(2018, 4, 30), end=dt.date(2018, 5, 3)) == [
        ("2018-04-30", None), ("2018-05-01", 3), ("2018-05-02", None), ("2018-05-03", 0)]


def test_activity_defaults_to_the_last_90_recorded_days(world):
    first = dt.date(2018, 1, 1)
    RecordedDay.objects.bulk_create([
        RecordedDay(group=world.group, day=first + dt.timedelta(days=2 * n), message_count=n) for n in range(95)
    ])

    response = get(client_for(world, "member"), ACTIVITY)

    # 95 days recorded every other day: the 90 latest start at the 6th.
    figures = response.context["figures"]
    assert (figures["start"], figures["end"]) == (first + dt.timedelta(days=10), first + dt.timedelta(days=188))
    assert (figures["recorded"], figures["missing"], figures["total"]) == (90, 89, sum(range(5, 95)))


def test_activity_range_with_one_end_or_no_record():
    group = Group.objects.create(slug="empty", name="空群")
    record(group, ("2018-03-01", 1), ("2018-03-05", 1), ("2018-03-09", 1))

    assert activity_range(group=group, start=dt.date(2018, 3, 2), end=None) == (dt.date(2018, 3, 2), dt.date(2018, 3, 9))
    assert activity_range(group=group, start=None, end=dt.date(2018, 3, 6)) == (dt.date(2018, 3, 1), dt.date(2018, 3, 6))
    assert activity_range(group=group, start=dt.date(2019, 1, 1), end=None) == (dt.date(2019, 1, 1), dt.date(2019, 1, 1))
    assert activity_range(group=group, start=None, end=None, days=2) == (dt.date(2018, 3, 5), dt.date(2018, 3, 9))


def test_activity_counts_messages_by_hour_in_the_groups_time_zone(world):
    record(world.group, ("2018-05-20", 3), ("2018-05-21", 1))
    make_message(world.group, world.member.member, at("2018-05-20", "23:30"), "深夜")      # 15:30 UTC
    make_message(world.group, world.admin.member, at("2018-05-20", "23:59"), "晚安")
    make_message(world.group, world.member.member, at("2018-05-21", "00:30"), "凌晨")      # 16:30 UTC the day before
    make_message(world.group, world.member.member, at("2018-05-20", "08:05"), "早")
    make_message(world.group, world.member.member, at("2018-05-22", "08:05"), "范围之外")
    make_message(world.other_group, world.outsider.member, at("2018-05-20", "08:10"), "别的群")

    response = get(client_for(world, "member"), ACTIVITY, **{"from": "2018-05-20", "to": "2018-05-21"})

    expected = [0] * 24
    expected[0], expected[8], expected[23] = 1, 1, 2
    assert response.context["hours"] == expected
    assert svg_titles(response.context["hour_chart"], "bar")[23] == "23: 2"


def test_activity_counts_hours_across_a_daylight_saving_change(world):
    berlin = Group.objects.create(slug="berlin", name="柏林支付群", time_zone="Europe/Berlin")
    admin = make_membership(berlin, world.admin.member, role=MembershipRole.ADMIN).member
    record(berlin, ("2018-03-24", 2), ("2018-03-25", 2))
    utc = dt.UTC
    make_message(berlin, admin, dt.datetime(2018, 3, 24, 22, 30, tzinfo=utc), "a")   # 23:30 CET
    make_message(berlin, admin, dt.datetime(2018, 3, 25, 0, 30, tzinfo=utc), "b")    # 01:30 CET
    make_message(berlin, admin, dt.datetime(2018, 3, 25, 1, 30, tzinfo=utc), "c")    # 03:30 CEST
    make_message(berlin, admin, dt.datetime(2018, 3, 23, 22, 59, tzinfo=utc), "d")   # 23:59 CET on the 23rd: outside

    response = get(client_for(world, "admin"), reverse("group_activity", kwargs={"group_slug": "berlin"}),
                   **{"from": "2018-03-24", "to": "2018-03-25"})

    assert [(hour, count) for hour, count in enumerate(response.context["hours"]) if count] == [(1, 1), (3, 1), (23, 1)]


def test_activity_lists_attendance_of_the_talks_the_viewer_may_see(world):
    record(world.group, ("2018-05-01", 1), ("2018-05-31", 1))
    old = make_share(world.group, world.speaker.member, topic="五月初", start=at("2018-05-02"))
    new = make_share(world.group, world.admin.member, topic="五月底", visibility=Visibility.PUBLIC, start=at("2018-05-30"))
    hidden = make_share(world.group, world.admin.member, topic="隐藏的", visibility=Visibility.HIDDEN, start=at("2018-05-15"))
    make_share(world.group, world.speaker.member, topic="四月的", start=at("2018-04-30"))
    make_share(world.group, world.speaker.member, topic="已排期", status="scheduled", start=at("2018-05-29"))
    make_share(world.other_group, world.outsider.member, topic="别的群", visibility=Visibility.PUBLIC, start=at("2018-05-10"))
    for member in [world.member.member, world.admin.member, world.speaker.member]:
        make_sign_in(old, member)
    make_sign_in(new, world.member.member)
    make_sign_in(hidden, world.member.member)

    member_view = get(client_for(world, "member"), ACTIVITY)
    admin_view = get(client_for(world, "admin"), ACTIVITY)

    assert [(s.topic, s.attendance) for s in member_view.context["talks"]] == [("五月底", 1), ("五月初", 3)]
    assert [(s.topic, s.attendance) for s in admin_view.context["talks"]] == [("五月底", 1), ("隐藏的", 1), ("五月初", 3)]
    html = member_view.content.decode()
    assert f'<a href="{talk_url(old)}">五月初</a>' in html
    assert '<span class="count">3</span> sign-ins\n          <meter min="0" max="3" value="3">3</meter>' in html
    assert "隐藏的" not in html


@pytest.mark.parametrize(("params", "message"), [
    ({"from": "2018-02-30"}, "from: Enter a valid date."),
    ({"from": "2018-05-10", "to": "2018-05-01"}, "The start of the range is after its end."),
    ({"from": "2017-01-01", "to": "2018-05-01"}, "Pick at most 366 days."),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "Pick dates between 2000-01-01 and 2100-12-31."),
    ({"to": "9999-12-31"}, "Pick dates between 2000-01-01 and 2100-12-31."),
])
def test_activity_explains_a_bad_range_and_shows_the_default(world, params, message):
    record(world.group, ("2018-05-01", 4), ("2018-05-03", 6))

    response = get(client_for(world, "member"), ACTIVITY, **params)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<p>{message}</p>" in html
    assert "Shown instead: the last 90 recorded days." in html
    assert (response.context["figures"]["start"], response.context["figures"]["end"], response.context["figures"]["total"]) == (
        dt.date(2018, 5, 1), dt.date(2018, 5, 3), 10)


def test_activity_with_one_end_far_from_the_record_is_capped_at_366_days(world):
    record(world.group, ("2018-05-01", 4), ("2020-05-03", 6))

    response = get(client_for(world, "member"), ACTIVITY, **{"from": "2018-05-01"})

    figures = response.context["figures"]
    assert (figures["start"], figures["end"], figures["total"]) == (dt.date(2018, 5, 1), dt.date(2019, 5, 1), 4)


def test_activity_of_a_group_with_no_record(world):
    response = get(client_for(world, "member"), ACTIVITY)

    figures = response.context["figures"]
    assert (figures["start"] == figures["end"], figures["total"], figures["recorded"], figures["missing"]) == (
        True, 0, 0, 1)
    assert "No talk in this range." in response.content.decode()


def test_activity_renders_topics_and_names_as_text(world):
    record(world.group, ("2018-05-20", 1))
    attacker = make_member("<img src=x onerror=alert(1)>")
    make_membership(world.group, attacker)
    make_share(world.group, attacker, topic="<script>alert(2)</script>")

    html = get(client_for(world, "member"), ACTIVITY).content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;</a>" in html
    assert '<span class="muted">&lt;img src=x onerror=alert(1)&gt;</span>' in html


@pytest.mark.parametrize("items", [1, 3])
def test_activity_query_count(world, django_assert_num_queries, items):
    for n in range(items):
        day = f"2018-05-{10 + n}"
        record(world.group, (day, n + 1))
        make_message(world.group, world.member.member, at(day, f"1{n}:00"), f"消息{n}")
        share = make_share(world.group, world.speaker.member, topic=f"分享{n}", start=at(day))
        make_sign_in(share, world.member.member)
        make_sign_in(share, world.admin.member)
    client = client_for(world, "member")

    # session, user, the group with the user's member and role, the last recorded day, the 90
    # latest recorded days, the days in range, messages by hour, groups of the user, groups the user runs, talks
    with django_assert_num_queries(11):
        response = client.get(ACTIVITY)

    assert [s.attendance for s in response.context["talks"]] == [2] * items
    assert response.context["figures"]["total"] == items * (items + 1) // 2
