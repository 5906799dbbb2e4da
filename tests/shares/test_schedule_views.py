"""The schedule pages: who may see and do what, what they show, Markdown made harmless,
conflicting edits, and the number of queries a page costs."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Visibility
from shares.models import Share, SharePreferredDate, ShareRevision, ShareStatus
from shares.selectors import announcement_text, week_schedule_text
from shares.services import share_edit, share_register, share_schedule
from tests.factories import ROLES, SHANGHAI, client_for, make_cast

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="


def today():
    return timezone.now().astimezone(SHANGHAI).date()


@pytest.fixture
def world():
    world = make_cast()
    group = world.group
    world.share = share_register(group=group, speaker=world.speaker.member, topic="跨境支付的清算", abstract="**清算**",
                                 preferred_days=[today() + dt.timedelta(days=7)], by=world.speaker.user)
    share_schedule(share=world.share, day=today() + dt.timedelta(days=7), by=world.admin.user)
    return world


def url(name, world, **kwargs):
    if name.startswith("share_") and name != "share_register":
        kwargs.setdefault("pk", world.share.pk)
    return reverse(f"shares:{name}", kwargs={"group_slug": "prodarch", **kwargs})


def outcome(response):
    return (response.status_code, response.url) if response.status_code == 302 else response.status_code


# --- who may see and do what ---

@pytest.mark.parametrize("name", ["schedule", "share_register", "share_detail"])
@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 403), ("speaker", 200), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_member_pages_permissions(world, name, role, expected):
    address = url(name, world)

    response = client_for(world, role).get(address)

    assert outcome(response) == ((302, LOGIN + address) if expected == "login" else expected)


@pytest.mark.parametrize("name", ["share_announcement", "week_text"])
@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 403), ("outsider", 403), ("speaker", 403), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_admin_pages_permissions(world, name, role, expected):
    address = url(name, world)

    response = client_for(world, role).get(address)

    assert outcome(response) == ((302, LOGIN + address) if expected == "login" else expected)


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 403), ("outsider", 403), ("speaker", 403), ("admin", "done"),
    ("other_admin", 403), ("staff", "done"),
])
def test_schedule_action_permissions(world, role, expected):
    address = url("share_schedule", world)
    day = today() + dt.timedelta(days=8)

    response = client_for(world, role).post(address, {"day": day.isoformat(), "time": "20:00", "overlap_reason": ""})

    detail = url("share_detail", world)
    assert outcome(response) == {"login": (302, LOGIN + address), "done": (302, detail)}.get(expected, expected)
    share = Share.objects.get(pk=world.share.pk)
    assert share.day == (day if expected == "done" else today() + dt.timedelta(days=7))


@pytest.mark.parametrize("action", ["share_cancel", "share_edit", "share_reassign"])
@pytest.mark.parametrize("role", ROLES)
def test_other_actions_permissions(world, action, role):
    address = url(action, world)
    data = {
        "share_cancel": {"reason": "出差"},
        "share_edit": {"topic": "新主题", "abstract": "", "visibility": "members", "version": "2"},
        "share_reassign": {"speaker": world.member.member.pk},
    }[action]
    allowed = {"admin", "staff"} | ({"speaker"} if action != "share_reassign" else set())

    response = client_for(world, role).post(address, data)

    if role == "anonymous":
        assert outcome(response) == (302, LOGIN + address)
    elif role in allowed:
        assert outcome(response) == (302, url("share_detail", world))
    else:
        assert response.status_code == 403
    assert Share.objects.get(pk=world.share.pk).version == (3 if role in allowed else 2)


def test_writes_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin.user)

    response = client.post(url("share_cancel", world), {"reason": ""})

    assert response.status_code == 403
    assert Share.objects.get(pk=world.share.pk).status == ShareStatus.SCHEDULED


def test_unknown_group_is_404_and_share_of_another_group_is_404(world, client):
    other = share_register(group=world.outsider.member.memberships.get().group, speaker=world.outsider.member,
                           topic="别的群的", by=world.outsider.user)
    client.force_login(world.staff.user)

    assert client.get(reverse("shares:schedule", kwargs={"group_slug": "nope"})).status_code == 404
    assert client.get(url("share_detail", world, pk=other.pk)).status_code == 404


def test_hidden_share_is_404_for_a_member_and_shown_to_its_speaker(world):
    Share.objects.filter(pk=world.share.pk).update(visibility=Visibility.HIDDEN)

    assert client_for(world, "member").get(url("share_detail", world)).status_code == 404
    assert client_for(world, "speaker").get(url("share_detail", world)).status_code == 200


# --- the schedule page ---

def test_schedule_page_shows_four_weeks_evening_by_evening(world):
    response = client_for(world, "member").get(url("schedule", world))

    weeks = response.context["weeks"]
    monday = today() - dt.timedelta(days=today().weekday())
    assert [week["start"] for week in weeks] == [monday + dt.timedelta(days=7 * n) for n in range(4)]
    assert [evening["day"] for evening in weeks[0]["evenings"]] == [monday + dt.timedelta(days=n) for n in range(7)]
    booked = [(evening["day"], [share.topic for share in evening["shares"]])
              for week in weeks for evening in week["evenings"] if evening["shares"]]
    assert booked == [(today() + dt.timedelta(days=7), ["跨境支付的清算"])]
    assert (response.context["own_shares"], response.context["proposed"]) == ([], [])


def test_schedule_page_shows_a_member_their_own_shares_and_an_admin_the_proposed_ones(world):
    proposed = share_register(group=world.group, speaker=world.speaker.member, topic="还在等日期",
                              preferred_days=[today() + dt.timedelta(days=3)], by=world.speaker.user)

    own = client_for(world, "speaker").get(url("schedule", world)).context
    admin = client_for(world, "admin").get(url("schedule", world)).context

    assert [(share.topic, share.status) for share in own["own_shares"]] == [
        ("还在等日期", "proposed"), ("跨境支付的清算", "scheduled"),
    ]
    assert own["proposed"] == []
    assert [(share.topic, share.speaker_nickname) for share in admin["proposed"]] == [("还在等日期", "李东衡-关天数据-产品-上海")]
    assert [d.day for d in admin["proposed"][0].preferred_dates.all()] == [today() + dt.timedelta(days=3)]
    assert admin["own_shares"] == []
    assert proposed.pk == admin["proposed"][0].pk


@pytest.mark.parametrize("shares", [1, 3])
def test_schedule_page_query_count_for_a_member(world, django_assert_num_queries, shares):
    for n in range(1, shares):
        share = share_register(group=world.group, speaker=world.speaker.member, topic=f"第{n}场", by=world.admin.user)
        share_schedule(share=share, day=today() + dt.timedelta(days=7 + n), by=world.admin.user)
    client = client_for(world, "speaker")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the shares, own shares, their preferred days
    with django_assert_num_queries(9):
        response = client.get(url("schedule", world))

    assert sum(len(evening["shares"]) for week in response.context["weeks"] for evening in week["evenings"]) == shares


@pytest.mark.parametrize("shares", [1, 3])
def test_schedule_page_query_count_for_an_admin(world, django_assert_num_queries, shares):
    for n in range(shares):
        share_register(group=world.group, speaker=world.member.member, topic=f"待排期{n}",
                       preferred_days=[today() + dt.timedelta(days=n)], by=world.member.user)
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the shares, own shares, proposed shares, their preferred days
    with django_assert_num_queries(10):
        response = client.get(url("schedule", world))

    assert len(response.context["proposed"]) == shares


# --- registering ---

def test_register_by_a_member_makes_their_own_proposed_share(world):
    first, second = today() + dt.timedelta(days=10), today() + dt.timedelta(days=3)
    client = client_for(world, "member")

    response = client.post(url("share_register", world), {
        "topic": "收单风控", "abstract": "简介", "preferred_day_1": first.isoformat(), "preferred_day_2": second.isoformat(),
        "preferred_day_3": "", "speaker": world.speaker.member.pk,  # ignored: members register for themselves
    })

    share = Share.objects.get(topic="收单风控")
    assert outcome(response) == (302, url("share_detail", world, pk=share.pk))
    assert (share.speaker, share.status, share.abstract, share.created_by) == (world.member.member, "proposed", "简介", world.member.user)
    assert list(SharePreferredDate.objects.filter(share=share).values_list("day", flat=True)) == [second, first]
    assert "speaker" not in client.get(url("share_register", world)).context["form"].fields


def test_register_by_an_admin_for_a_member(world):
    response = client_for(world, "admin").post(url("share_register", world), {
        "speaker": world.member.member.pk, "topic": "代为登记", "preferred_day_1": today().isoformat(),
    })

    share = Share.objects.get(topic="代为登记")
    assert outcome(response) == (302, url("share_detail", world, pk=share.pk))
    assert (share.speaker, share.created_by) == (world.member.member, world.admin.user)


def test_register_admin_form_offers_the_groups_active_members_by_nickname(world):
    form = client_for(world, "admin").get(url("share_register", world)).context["form"]

    assert [label for _, label in form.fields["speaker"].choices] == [
        "---------", "周明远-群主", "李东衡-关天数据-产品-上海", "王芳-云汇支付-架构",
    ]
    assert form["speaker"].value() == world.admin.member.pk


def test_register_a_day_in_the_past_or_no_day_is_refused(world):
    client = client_for(world, "member")

    past = client.post(url("share_register", world), {"topic": "过去", "preferred_day_1": "2001-01-01"})
    none = client.post(url("share_register", world), {"topic": "没有日期"})

    assert (past.status_code, list(past.context["form"].errors)) == (200, ["preferred_day_1"])
    assert (none.status_code, list(none.context["form"].errors)) == (200, ["preferred_day_1"])
    assert Share.objects.count() == 1


# --- the share page ---

def test_share_detail_shows_the_share_in_the_groups_time_zone_and_its_history(world):
    response = client_for(world, "admin").get(url("share_detail", world))

    context = response.context
    day = today() + dt.timedelta(days=7)
    assert context["local_start"] == dt.datetime.combine(day, dt.time(19, 30), tzinfo=SHANGHAI)
    assert str(context["local_start"].tzinfo) == "Asia/Shanghai"
    assert context["abstract_html"] == "<p><strong>清算</strong></p>"
    assert [(r.version, r.action, r.author) for r in context["revisions"]] == [
        (2, "scheduled", world.admin.user), (1, "registered", world.speaker.user),
    ]
    assert context["preferred_days"] == [day]
    assert (context["can_schedule"], context["can_edit"], context["can_cancel"], context["can_reassign"], context["can_announce"]) == (
        True, True, True, True, True,
    )
    assert context["schedule_form"].initial == {"day": day, "time": dt.time(19, 30), "overlap_reason": ""}
    assert context["edit_form"]["version"].value() == 2
    assert '<input type="hidden" name="version" value="2" id="id_version">' in response.content.decode()


@pytest.mark.parametrize(("role", "actions"), [
    ("member", (False, False, False, False, False)),
    ("speaker", (False, True, True, False, False)),
    ("staff", (True, True, True, True, True)),
])
def test_share_detail_offers_each_role_its_actions(world, role, actions):
    context = client_for(world, role).get(url("share_detail", world)).context

    assert (context["can_schedule"], context["can_edit"], context["can_cancel"], context["can_reassign"], context["can_announce"]) == actions
    assert ("schedule_form" in context, "edit_form" in context, "reassign_form" in context) == (actions[0], actions[1], actions[3])


def test_share_detail_renders_the_abstract_as_harmless_markdown(world):
    Share.objects.filter(pk=world.share.pk).update(abstract=(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[x](javascript:alert(1)) [链接](https://example.com/a) **粗体**"
    ))

    response = client_for(world, "member").get(url("share_detail", world))

    assert response.context["abstract_html"] == (
        'alert(1)\n\n<p></p>\n<p><a>x</a> <a href="https://example.com/a" rel="nofollow">链接</a> <strong>粗体</strong></p>'
    )
    page = response.content.decode()
    assert ("<script>alert" in page, "onerror" in page, "javascript:" in page, "<img" in page) == (False, False, False, False)


@pytest.mark.parametrize("revisions", [1, 3])
def test_share_detail_query_count(world, django_assert_num_queries, revisions):
    share = share_register(group=world.group, speaker=world.speaker.member, topic="主题", by=world.speaker.user)
    for n in range(1, revisions):
        share_edit(share=share, topic=f"主题{n}", abstract="", expected_version=n, by=world.admin.user)
    client = client_for(world, "admin")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the share, its preferred days, its history, the speakers to pick
    with django_assert_num_queries(10):
        response = client.get(url("share_detail", world, pk=share.pk))

    assert len(response.context["revisions"]) == revisions


# --- actions through the page ---

def test_schedule_action_on_a_taken_evening_shows_the_error_and_keeps_the_input(world):
    second = share_register(group=world.group, speaker=world.member.member, topic="第二场", by=world.member.user)
    day = today() + dt.timedelta(days=7)

    response = client_for(world, "admin").post(url("share_schedule", world, pk=second.pk),
                                               {"day": day.isoformat(), "time": "21:00", "overlap_reason": ""})

    assert response.status_code == 200
    assert [(m.level_tag, "跨境支付的清算" in m.message) for m in response.context["messages"]] == [("error", True)]
    assert response.context["schedule_form"]["time"].value() == "21:00"
    assert Share.objects.filter(pk=second.pk).values_list("status", "version").get() == ("proposed", 1)


def test_schedule_action_with_a_reason_schedules_a_second_share(world):
    second = share_register(group=world.group, speaker=world.member.member, topic="第二场", by=world.member.user)
    day = today() + dt.timedelta(days=7)

    response = client_for(world, "admin").post(url("share_schedule", world, pk=second.pk),
                                               {"day": day.isoformat(), "time": "21:00", "overlap_reason": "嘉宾时间"})

    assert outcome(response) == (302, url("share_detail", world, pk=second.pk))
    assert Share.objects.filter(pk=second.pk).values_list("status", "day", "overlap_reason").get() == ("scheduled", day, "嘉宾时间")


def test_edit_with_a_stale_version_is_refused_and_overwrites_nothing(world):
    speaker = client_for(world, "speaker")
    assert speaker.get(url("share_detail", world)).context["edit_form"]["version"].value() == 2
    share_edit(share=world.share, topic="管理员改的", abstract="", expected_version=2, by=world.admin.user)

    response = speaker.post(url("share_edit", world), {
        "topic": "讲者改的", "abstract": "讲者的简介", "visibility": "hidden", "version": "2",
    })

    assert response.status_code == 409
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Share.objects.filter(pk=world.share.pk).values_list("topic", "abstract", "visibility", "version").get() == (
        "管理员改的", "", "members", 3,
    )
    form = response.context["edit_form"]
    assert (form["topic"].value(), form["abstract"].value(), form["version"].value()) == ("讲者改的", "讲者的简介", "3")
    assert response.context["share"].topic == "管理员改的"


def test_edit_by_the_speaker_sets_visibility_and_records_who(world):
    response = client_for(world, "speaker").post(url("share_edit", world), {
        "topic": "跨境支付的清算", "abstract": "**清算**", "visibility": "hidden", "version": "2",
    })

    assert outcome(response) == (302, url("share_detail", world))
    assert Share.objects.filter(pk=world.share.pk).values_list("visibility", "version").get() == ("hidden", 3)
    assert ShareRevision.objects.filter(share=world.share, version=3).values_list("action", "author").get() == (
        "edited", world.speaker.user.pk,
    )


def test_cancel_by_the_speaker_through_the_page(world):
    response = client_for(world, "speaker").post(url("share_cancel", world), {"reason": "出差"})

    assert outcome(response) == (302, url("share_detail", world))
    assert Share.objects.filter(pk=world.share.pk).values_list("status", "version").get() == ("cancelled", 3)
    context = client_for(world, "speaker").get(url("share_detail", world)).context
    assert (context["can_cancel"], context["can_edit"]) == (False, False)


def test_cancel_a_cancelled_share_again_shows_an_error(world):
    client = client_for(world, "admin")
    client.post(url("share_cancel", world), {"reason": ""})

    response = client.post(url("share_cancel", world), {"reason": ""})

    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["success", "error"]
    assert Share.objects.get(pk=world.share.pk).version == 3


def test_reassign_through_the_page(world):
    response = client_for(world, "admin").post(url("share_reassign", world), {"speaker": world.member.member.pk})

    assert outcome(response) == (302, url("share_detail", world))
    assert Share.objects.get(pk=world.share.pk).speaker == world.member.member


def test_get_on_an_action_is_not_allowed(world):
    assert client_for(world, "admin").get(url("share_schedule", world)).status_code == 405


# --- the paste-ready texts ---

def test_announcement_page_has_the_exact_text_read_only_with_a_copy_button(world):
    response = client_for(world, "admin").get(url("share_announcement", world))

    expected = announcement_text(share=Share.objects.get(pk=world.share.pk))
    assert response.context["text"] == expected
    assert expected.startswith("今天请到一位朋友，@李东衡-关天数据-产品-上海 给大家做分享，主题是 “跨境支付的清算” 开始时间为【19:30】；")
    page = response.content.decode()
    assert f'<textarea id="paste-text" rows="6" readonly>{expected}</textarea>' in page
    assert '<button type="button" class="button" data-copy="paste-text"' in page
    assert '<script src="/static/shares/copy.js" defer></script>' in page


def test_copy_script_is_served_and_has_a_fallback(client):
    script = b"".join(client.get("/static/shares/copy.js").streaming_content).decode()

    assert ("navigator.clipboard.writeText" in script, "field.select()" in script) == (True, True)


def test_announcement_of_a_proposed_share_sends_back_to_the_share(world):
    proposed = share_register(group=world.group, speaker=world.member.member, topic="未排期", by=world.member.user)

    response = client_for(world, "admin").get(url("share_announcement", world, pk=proposed.pk))

    assert outcome(response) == (302, url("share_detail", world, pk=proposed.pk))


def test_week_text_page_for_a_given_week(world):
    response = client_for(world, "admin").get(url("week_text", world), {"start": "2030-06-05"})

    assert response.context["week_start"] == dt.date(2030, 6, 3)
    assert (response.context["previous_week"], response.context["next_week"]) == (dt.date(2030, 5, 27), dt.date(2030, 6, 10))
    assert response.context["text"] == week_schedule_text(group=world.group, week_start=dt.date(2030, 6, 3))
    assert response.context["text"].splitlines()[0] == "支付产品群 分享安排（2030-06-03 至 2030-06-09）"


@pytest.mark.parametrize("start", [None, "not-a-date"])
def test_week_text_page_defaults_to_this_week(world, start):
    response = client_for(world, "admin").get(url("week_text", world), {"start": start} if start else {})

    assert response.context["week_start"] == today() - dt.timedelta(days=today().weekday())
