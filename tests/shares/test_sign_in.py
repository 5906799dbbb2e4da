"""Sign-ins (签到) on the web: the window, once only, counted with imported sign-ins, who may
sign in and close sign-in, what the share page shows, and a later import of the same day."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from community.models import Membership, Name, NameSource
from community.names import normalize_name
from shares.models import Origin, Share, ShareStatus, SignIn
from shares.services import sign_in_close, sign_in_record, sign_in_window
from tests.factories import (
    SHANGHAI,
    at,
    make_cast,
    make_group,
    make_member,
    make_membership,
    make_share,
    make_sign_in,
    make_user,
)
from tests.importer.test_services import run, talk_day

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
START = at("2030-03-04", "19:30")


def build_world(start):
    world = make_cast()
    group = world.group
    world.share = make_share(group, world.speaker.member, topic="跨境支付的清算", status=ShareStatus.SCHEDULED, start=start)
    return world


@pytest.fixture
def world():
    """A share at 19:30 on 2030-03-04 (Shanghai): the services are given ``now``."""
    return build_world(START)


@pytest.fixture
def live():
    """A share starting in five minutes: sign-in is open now, for the pages."""
    return build_world(timezone.now().replace(microsecond=0) + dt.timedelta(minutes=5))


def client_for(world, role, **kwargs):
    client = Client(headers={"accept-language": "en"}, **kwargs)
    if role != "anonymous":
        client.force_login(getattr(world, role).user)
    return client


def url(name, world):
    kwargs = {"group_slug": "prodarch"}
    if name != "calendar":
        kwargs["pk"] = world.share.pk
    return reverse(f"shares:{name}", kwargs=kwargs)


def outcome(response):
    return (response.status_code, response.url) if response.status_code == 302 else response.status_code


def refused(call) -> tuple[str, str]:
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        call()
    return caught.value.code, " ".join(caught.value.messages)


def signed_in(share):
    return list(SignIn.objects.filter(share=share).values_list("member__display_name", "origin").order_by("id"))


# --- the window ---

def test_window_runs_from_the_lead_time_before_the_start_to_two_hours_after(world):
    assert sign_in_window(share=world.share) == (at("2030-03-04", "19:15"), at("2030-03-04", "21:30"))


def test_window_follows_the_groups_lead_time(world):
    world.group.sign_in_lead_minutes = 30
    world.group.save()

    assert sign_in_window(share=Share.objects.get(pk=world.share.pk)) == (
        at("2030-03-04", "19:00"), at("2030-03-04", "21:30"),
    )


def test_window_ends_when_an_admin_closed_sign_in(world):
    sign_in_close(share=world.share, by=world.admin.user, now=at("2030-03-04", "19:40"))

    share = Share.objects.get(pk=world.share.pk)
    assert share.sign_in_closed_at == at("2030-03-04", "19:40")
    assert sign_in_window(share=share) == (at("2030-03-04", "19:15"), at("2030-03-04", "19:40"))


@pytest.mark.parametrize(("status", "has_start"), [
    (ShareStatus.PROPOSED, False), (ShareStatus.CANCELLED, True), (ShareStatus.DELIVERED, False),
])
def test_no_window_without_a_start_or_for_proposed_and_cancelled_shares(world, status, has_start):
    Share.objects.filter(pk=world.share.pk).update(status=status, scheduled_for=START if has_start else None)

    assert sign_in_window(share=Share.objects.get(pk=world.share.pk)) is None


def test_delivered_share_keeps_its_window(world):
    Share.objects.filter(pk=world.share.pk).update(status=ShareStatus.DELIVERED)

    assert sign_in_window(share=Share.objects.get(pk=world.share.pk)) == (at("2030-03-04", "19:15"), at("2030-03-04", "21:30"))


# --- recording a sign-in ---

def test_sign_in_exactly_at_the_lead_time_is_recorded(world):
    sign_in = sign_in_record(share=world.share, by=world.member.user, now=at("2030-03-04", "19:15"))

    assert (sign_in.member, sign_in.signed_at, sign_in.origin) == (world.member.member, at("2030-03-04", "19:15"), Origin.WEB)
    assert signed_in(world.share) == [("王芳-云汇支付-架构", "web")]


def test_sign_in_one_second_before_the_window_is_refused_and_says_when_it_opens(world):
    early = at("2030-03-04", "19:15") - dt.timedelta(seconds=1)

    assert refused(lambda: sign_in_record(share=world.share, by=world.member.user, now=early)) == (
        "too_early", "Sign-in opens at 2030-03-04 19:15 (Asia/Shanghai).",
    )
    assert signed_in(world.share) == []


def test_sign_in_exactly_two_hours_after_the_start_is_recorded(world):
    # The window includes its end: "until two hours after" the start.
    sign_in = sign_in_record(share=world.share, by=world.member.user, now=at("2030-03-04", "21:30"))

    assert sign_in.signed_at == at("2030-03-04", "21:30")


def test_sign_in_after_the_window_is_refused(world):
    late = at("2030-03-04", "21:30") + dt.timedelta(seconds=1)

    assert refused(lambda: sign_in_record(share=world.share, by=world.member.user, now=late)) == (
        "closed", "Sign-in for this share is closed.",
    )


def test_sign_in_after_an_admin_closed_it_is_refused(world):
    sign_in_close(share=world.share, by=world.admin.user, now=at("2030-03-04", "19:40"))
    share = Share.objects.get(pk=world.share.pk)

    assert refused(lambda: sign_in_record(share=share, by=world.member.user, now=at("2030-03-04", "19:41"))) == (
        "closed", "Sign-in for this share is closed.",
    )
    assert signed_in(world.share) == []


def test_sign_in_to_a_proposed_share_is_refused(world):
    Share.objects.filter(pk=world.share.pk).update(status=ShareStatus.PROPOSED)
    share = Share.objects.get(pk=world.share.pk)

    assert refused(lambda: sign_in_record(share=share, by=world.member.user, now=START)) == (
        "no_sign_in", "This share has no sign-in.",
    )


def test_sign_in_once_only(world):
    sign_in_record(share=world.share, by=world.member.user, now=START)

    assert refused(lambda: sign_in_record(share=world.share, by=world.member.user, now=START)) == (
        "already_signed_in", "You have already signed in.",
    )
    assert signed_in(world.share) == [("王芳-云汇支付-架构", "web")]
    assert Share.objects.get(pk=world.share.pk).sign_in_count == 1


def test_sign_in_after_an_imported_sign_in_of_the_same_member_is_refused(world):
    make_sign_in(world.share, world.member.member, origin=Origin.IMPORT)

    assert refused(lambda: sign_in_record(share=world.share, by=world.member.user, now=START))[0] == "already_signed_in"
    assert signed_in(world.share) == [("王芳-云汇支付-架构", "import")]


def test_sign_in_is_counted_with_imported_sign_ins(world):
    make_sign_in(world.share, world.admin.member, origin=Origin.IMPORT)
    Share.objects.filter(pk=world.share.pk).update(sign_in_count=1)

    sign_in_record(share=world.share, by=world.member.user, now=START)

    assert signed_in(world.share) == [("周明远-群主", "import"), ("王芳-云汇支付-架构", "web")]
    assert Share.objects.get(pk=world.share.pk).sign_in_count == 2
    assert world.share.sign_in_count == 2


def test_sign_in_updates_the_members_sign_in_count_in_the_group(world):
    earlier = make_share(world.group, world.admin.member, topic="上一场", start=at("2030-03-01"))
    make_sign_in(earlier, world.member.member, origin=Origin.IMPORT)

    sign_in_record(share=world.share, by=world.member.user, now=START)

    counts = dict(Membership.objects.filter(group=world.group).values_list("member__display_name", "sign_in_count"))
    assert counts == {"李东衡-关天数据-产品-上海": 0, "王芳-云汇支付-架构": 2, "周明远-群主": 0}


def test_the_speaker_may_sign_in(world):
    sign_in_record(share=world.share, by=world.speaker.user, now=START)

    assert signed_in(world.share) == [("李东衡-关天数据-产品-上海", "web")]


@pytest.mark.parametrize("who", ["outsider", "staff"])
def test_sign_in_by_someone_without_an_active_membership_is_refused(world, who):
    with pytest.raises(PermissionDenied):
        sign_in_record(share=world.share, by=getattr(world, who).user, now=START)

    assert signed_in(world.share) == []


def test_sign_in_by_a_member_who_left_is_refused(world):
    Membership.objects.filter(member=world.member.member).update(status="left")

    with pytest.raises(PermissionDenied):
        sign_in_record(share=world.share, by=world.member.user, now=START)


# --- closing sign-in ---

@pytest.mark.parametrize("who", ["member", "speaker", "other_admin"])
def test_close_by_someone_else_than_a_group_admin_is_refused(world, who):
    with pytest.raises(PermissionDenied):
        sign_in_close(share=world.share, by=getattr(world, who).user, now=START)

    assert Share.objects.get(pk=world.share.pk).sign_in_closed_at is None


def test_close_keeps_the_sign_ins_made_and_leaves_the_version(world):
    sign_in_record(share=world.share, by=world.member.user, now=START)

    share = sign_in_close(share=world.share, by=world.admin.user, now=at("2030-03-04", "19:45"))

    assert Share.objects.filter(pk=share.pk).values_list("sign_in_closed_at", "sign_in_count", "version").get() == (
        at("2030-03-04", "19:45"), 1, 1,
    )


def test_close_outside_the_window_is_refused(world):
    assert refused(lambda: sign_in_close(share=world.share, by=world.admin.user, now=at("2030-03-04", "19:00")))[0] == (
        "too_early"
    )
    sign_in_close(share=world.share, by=world.admin.user, now=at("2030-03-04", "19:40"))
    share = Share.objects.get(pk=world.share.pk)
    assert refused(lambda: sign_in_close(share=share, by=world.admin.user, now=at("2030-03-04", "19:50")))[0] == "closed"
    assert Share.objects.get(pk=world.share.pk).sign_in_closed_at == at("2030-03-04", "19:40")


# --- the pages: who may do what ---

@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", "done"), ("outsider", 403), ("speaker", "done"), ("admin", "done"),
    ("other_admin", 403), ("staff", 403),  # staff has no member to sign in
])
def test_sign_in_action_permissions(live, role, expected):
    address = url("share_sign_in", live)

    response = client_for(live, role).post(address)

    assert outcome(response) == {"login": (302, LOGIN + address), "done": (302, url("share_detail", live))}.get(
        expected, expected
    )
    member = getattr(live, role).member.display_name if expected == "done" else None
    assert signed_in(live.share) == ([(member, "web")] if member else [])
    assert Share.objects.get(pk=live.share.pk).sign_in_count == (1 if member else 0)


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 403), ("outsider", 403), ("speaker", 403), ("admin", "done"),
    ("other_admin", 403), ("staff", "done"),
])
def test_close_action_permissions(live, role, expected):
    address = url("share_sign_in_close", live)

    response = client_for(live, role).post(address)

    assert outcome(response) == {"login": (302, LOGIN + address), "done": (302, url("share_detail", live))}.get(
        expected, expected
    )
    closed = Share.objects.get(pk=live.share.pk).sign_in_closed_at
    assert (closed is not None) == (expected == "done")


@pytest.mark.parametrize("name", ["share_sign_in", "share_sign_in_close"])
def test_sign_in_actions_need_the_csrf_token(live, name):
    client = client_for(live, "admin", enforce_csrf_checks=True)

    response = client.post(url(name, live))

    assert response.status_code == 403
    assert Share.objects.filter(pk=live.share.pk).values_list("sign_in_count", "sign_in_closed_at").get() == (0, None)


@pytest.mark.parametrize("name", ["share_sign_in", "share_sign_in_close"])
def test_sign_in_actions_are_post_only(live, name):
    assert client_for(live, "admin").get(url(name, live)).status_code == 405


def test_sign_in_to_a_hidden_share_of_someone_else_is_404(live):
    Share.objects.filter(pk=live.share.pk).update(visibility="hidden")

    assert client_for(live, "member").post(url("share_sign_in", live)).status_code == 404


def test_sign_in_through_the_page_then_the_page_says_when(live):
    client = client_for(live, "member")

    response = client.post(url("share_sign_in", live), follow=True)

    time = SignIn.objects.get().signed_at.astimezone(SHANGHAI).strftime("%H:%M")
    assert [(m.level_tag, m.message) for m in response.context["messages"]] == [("success", f"You signed in at {time}.")]
    state = response.context["sign_in"]
    assert (state.is_open, state.can_sign_in, state.can_close, state.count, state.own.member_id, state.sign_ins) == (
        True, False, False, 1, live.member.member.pk, None,
    )
    page = response.content.decode()
    assert page.count(f"You signed in at {time}.") == 2  # the message and the section
    assert url("share_sign_in", live) not in page


def test_second_sign_in_through_the_page_shows_the_error(live):
    client = client_for(live, "member")
    client.post(url("share_sign_in", live), follow=True)

    response = client.post(url("share_sign_in", live), follow=True)

    assert [(m.level_tag, m.message) for m in response.context["messages"]] == [("error", "You have already signed in.")]
    assert SignIn.objects.count() == 1


def test_too_early_sign_in_through_the_page_says_when_it_opens(live):
    Share.objects.filter(pk=live.share.pk).update(scheduled_for=live.share.scheduled_for + dt.timedelta(days=1))
    opens = (live.share.scheduled_for + dt.timedelta(days=1, minutes=-15)).astimezone(SHANGHAI)

    response = client_for(live, "member").post(url("share_sign_in", live), follow=True)

    assert [(m.level_tag, m.message) for m in response.context["messages"]] == [
        ("error", f"Sign-in opens at {opens:%Y-%m-%d %H:%M} (Asia/Shanghai).")
    ]
    assert response.context["sign_in"].is_open is False
    assert "Sign-in is not open now." in response.content.decode()


# --- the share page ---

def test_share_page_offers_a_member_the_button_and_shows_the_window(live):
    response = client_for(live, "member").get(url("share_detail", live))

    state = response.context["sign_in"]
    start = live.share.scheduled_for.astimezone(SHANGHAI)
    assert (state.opens, state.closes) == (start - dt.timedelta(minutes=15), start + dt.timedelta(hours=2))
    assert (state.is_open, state.can_sign_in, state.can_close, state.own, state.count, state.sign_ins) == (
        True, True, False, None, 0, None,
    )
    page = response.content.decode()
    assert f'action="{url("share_sign_in", live)}"' in page
    assert f'action="{url("share_sign_in_close", live)}"' not in page
    assert f"{state.opens:%Y-%m-%d %H:%M}</time> –" in page


def test_share_page_shows_an_admin_who_signed_in_and_the_close_button(live):
    make_sign_in(live.share, live.speaker.member, origin=Origin.IMPORT, signed_at=live.share.scheduled_for)
    sign_in_record(share=live.share, by=live.member.user)

    response = client_for(live, "admin").get(url("share_detail", live))

    state = response.context["sign_in"]
    # by time: the web sign-in now, the imported one at the start
    assert [(s.nickname, s.origin) for s in state.sign_ins] == [
        ("王芳-云汇支付-架构", "web"), ("李东衡-关天数据-产品-上海", "import"),
    ]
    assert (state.count, state.can_sign_in, state.can_close, state.own) == (2, True, True, None)
    page = response.content.decode()
    assert f'action="{url("share_sign_in_close", live)}"' in page
    assert "王芳-云汇支付-架构" in page


def test_share_page_after_close_offers_no_button(live):
    sign_in_close(share=live.share, by=live.admin.user)

    response = client_for(live, "admin").get(url("share_detail", live))

    state = response.context["sign_in"]
    assert (state.is_open, state.closed_by_admin, state.can_sign_in, state.can_close) == (False, True, False, False)
    page = response.content.decode()
    assert "closed by an admin" in page
    assert f'action="{url("share_sign_in", live)}"' not in page


def test_share_page_of_a_proposed_share_has_no_sign_in(live):
    Share.objects.filter(pk=live.share.pk).update(status=ShareStatus.PROPOSED, scheduled_for=None)

    response = client_for(live, "member").get(url("share_detail", live))

    assert response.context["sign_in"] is None
    assert 'id="sign-in"' not in response.content.decode()


@pytest.mark.parametrize("sign_ins", [1, 3])
def test_share_page_query_count_with_sign_ins(live, django_assert_num_queries, sign_ins):
    for member in [live.member, live.speaker, live.admin][:sign_ins]:
        sign_in_record(share=live.share, by=member.user)
    client = client_for(live, "admin")

    # session, user, the group with the user's member and role,
    # groups of the user, groups the user runs, the share, its preferred days, its history,
    # the speakers to pick, the sign-ins
    with django_assert_num_queries(11):
        response = client.get(url("share_detail", live))

    assert len(response.context["sign_in"].sign_ins) == sign_ins


# --- a later import of the same day ---

def named(group, display_name, *, user=None):
    member = make_member(display_name, user=user)
    make_membership(group, member)
    Name.objects.create(member=member, group=group, name=display_name, normalized=normalize_name(display_name),
                        source=NameSource.MANUAL)
    return member


def test_import_of_the_day_keeps_web_sign_ins_and_counts_each_member_once():
    group = make_group(slug="prodarch")
    speaker = named(group, "周明远-云汇支付-产品-杭州")
    user = make_user()
    listener = named(group, "听众一", user=user)
    share = make_share(group, speaker, topic="网页上登记的主题", status=ShareStatus.SCHEDULED, start=at("2024-03-04"))
    sign_in_record(share=share, by=user, now=at("2024-03-04", "19:20"))

    # 听众一 also said "签到" in the chat at 19:10; 听众二 and 听众三 signed in only there.
    result = run(("2024-03-04.md", talk_day()))

    share.refresh_from_db()
    assert result.ok
    assert (share.status, share.sign_in_count) == (ShareStatus.DELIVERED, 3)
    assert sorted(SignIn.objects.filter(share=share).values_list("member__display_name", "origin", "signed_at")) == [
        ("听众一", "web", at("2024-03-04", "19:20")),
        ("听众三", "import", at("2024-03-04", "19:12")),
        ("听众二", "import", at("2024-03-04", "19:11")),
    ]
    assert Membership.objects.get(group=group, member=listener).sign_in_count == 1
