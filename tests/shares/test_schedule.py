"""The schedule's services and texts: registering, scheduling, cancelling, reassigning,
editing with conflict detection, the announcement and the week's text."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from community.models import Membership, MembershipRole, MembershipStatus
from shares import services
from shares.models import Origin, Share, SharePreferredDate, ShareRevision, ShareStatus
from shares.selectors import announcement_text, week_schedule_text
from shares.services import (
    ShareConflict,
    share_cancel,
    share_edit,
    share_reassign,
    share_register,
    share_schedule,
)
from tests.factories import at, make_group, make_person, make_share, make_user

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2030, 6, 3)  # a Monday, safely in the future (the share facts count upcoming shares only)
WEDNESDAY = dt.date(2030, 6, 5)


@pytest.fixture
def world():
    group = make_group(slug="prodarch", name="支付产品群")
    other_group = make_group(slug="devarch", name="支付开发群")
    return SimpleNamespace(
        group=group,
        other_group=other_group,
        speaker=make_person(group, "李东衡-关天数据-产品-上海"),
        member=make_person(group, "王芳-云汇支付-架构"),
        admin=make_person(group, "周明远-群主", role=MembershipRole.OWNER),
        other_admin=make_person(other_group, "赵六-别的群主", role=MembershipRole.ADMIN),
        staff=make_user(staff=True),
    )


def register(world, **fields):
    fields.setdefault("group", world.group)
    fields.setdefault("speaker", world.speaker.member)
    fields.setdefault("topic", "跨境支付的清算")
    fields.setdefault("preferred_days", [MONDAY])
    fields.setdefault("by", world.speaker.user)
    return share_register(**fields)


def history(share):
    return list(ShareRevision.objects.filter(share=share).order_by("version").values_list("version", "action", "author_id", "note"))


# --- share_register ---

def test_share_register_by_the_speaker_makes_a_proposed_share_with_its_days_and_first_revision(world):
    share = register(world, abstract="**清算**流程", preferred_days=[WEDNESDAY, MONDAY, WEDNESDAY])

    share.refresh_from_db()
    assert (share.group, share.speaker, share.topic, share.abstract) == (world.group, world.speaker.member, "跨境支付的清算", "**清算**流程")
    assert (share.status, share.origin, share.visibility, share.version) == (ShareStatus.PROPOSED, Origin.WEB, "members", 1)
    assert (share.day, share.scheduled_for, share.created_by, share.edited_fields) == (None, None, world.speaker.user, [])
    assert list(SharePreferredDate.objects.filter(share=share).values_list("day", flat=True)) == [MONDAY, WEDNESDAY]
    revision = ShareRevision.objects.get(share=share)
    assert (revision.version, revision.action, revision.author, revision.note) == (1, "registered", world.speaker.user, "")
    assert revision.snapshot == {
        "topic": "跨境支付的清算", "abstract": "**清算**流程", "status": "proposed", "speaker": world.speaker.member.pk,
        "day": None, "scheduled_for": None, "started_at": None, "ended_at": None, "visibility": "members",
    }


def test_share_register_by_an_admin_on_behalf_of_a_member(world):
    share = register(world, by=world.admin.user)

    assert (share.speaker, share.created_by) == (world.speaker.member, world.admin.user)
    assert history(share) == [(1, "registered", world.admin.user.pk, "")]


def test_share_register_by_staff_on_behalf_of_a_member(world):
    share = register(world, by=world.staff)

    assert share.speaker == world.speaker.member


@pytest.mark.parametrize("who", ["member", "other_admin"])
def test_share_register_for_someone_else_is_denied(world, who):
    with pytest.raises(PermissionDenied):
        register(world, by=getattr(world, who).user)

    assert Share.objects.count() == 0


def test_share_register_by_a_speaker_who_left_the_group_is_denied(world):
    Membership.objects.filter(pk=world.speaker.membership.pk).update(status=MembershipStatus.LEFT)

    with pytest.raises(PermissionDenied):
        register(world)

    assert Share.objects.count() == 0


def test_share_register_for_a_speaker_outside_the_group_is_rejected(world):
    with pytest.raises(ValidationError) as error:
        register(world, speaker=world.other_admin.member, by=world.admin.user)

    assert error.value.code == "not_member"
    assert Share.objects.count() == 0


def test_share_register_more_than_three_preferred_days_is_rejected(world):
    days = [MONDAY + dt.timedelta(days=n) for n in range(4)]

    with pytest.raises(ValidationError) as error:
        register(world, preferred_days=days)

    assert (error.value.code, error.value.params) == ("too_many_days", {"limit": 3})
    assert (Share.objects.count(), SharePreferredDate.objects.count()) == (0, 0)


def test_share_register_without_a_topic_is_rejected(world):
    with pytest.raises(ValidationError) as error:
        register(world, topic="  ")

    assert list(error.value.message_dict) == ["topic"]
    assert Share.objects.count() == 0


# --- share_schedule ---

def test_share_schedule_sets_day_and_start_at_the_groups_usual_time_and_refreshes_share_facts(world):
    share = register(world)

    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share.refresh_from_db()
    assert (share.status, share.day, share.scheduled_for, share.version) == (ShareStatus.SCHEDULED, MONDAY, at("2030-06-03", "19:30"), 2)
    assert (share.overlap_reason, share.edited_fields) == ("", ["scheduled_for"])
    assert history(share) == [(1, "registered", world.speaker.user.pk, ""), (2, "scheduled", world.admin.user.pk, "")]
    assert ShareRevision.objects.get(share=share, version=2).snapshot["scheduled_for"] == "2030-06-03T11:30:00+00:00"
    world.speaker.membership.refresh_from_db()
    assert world.speaker.membership.next_share_at == at("2030-06-03", "19:30")


def test_share_schedule_at_a_given_time_in_the_groups_time_zone(world):
    world.group.time_zone = "Europe/Berlin"
    world.group.save()
    share = register(world)

    share_schedule(share=share, day=MONDAY, time=dt.time(20, 0), by=world.admin.user)

    share.refresh_from_db()
    assert share.scheduled_for == dt.datetime(2030, 6, 3, 18, 0, tzinfo=dt.UTC)


def test_share_schedule_default_time_follows_the_groups_share_time(world):
    world.group.share_time = dt.time(20, 30)
    world.group.save()
    share = register(world)

    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share.refresh_from_db()
    assert share.scheduled_for == at("2030-06-03", "20:30")


def test_share_schedule_again_is_a_reschedule(world):
    share = register(world)
    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share_schedule(share=share, day=WEDNESDAY, time=dt.time(18, 0), by=world.staff)

    share.refresh_from_db()
    assert (share.status, share.day, share.scheduled_for, share.version) == (ShareStatus.SCHEDULED, WEDNESDAY, at("2030-06-05", "18:00"), 3)
    assert [row[:3] for row in history(share)] == [
        (1, "registered", world.speaker.user.pk), (2, "scheduled", world.admin.user.pk), (3, "rescheduled", world.staff.pk),
    ]
    world.speaker.membership.refresh_from_db()
    assert world.speaker.membership.next_share_at == at("2030-06-05", "18:00")


def test_share_schedule_to_the_same_day_and_time_records_nothing(world):
    share = register(world)
    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share_schedule(share=share, day=MONDAY, time=dt.time(19, 30), by=world.admin.user)

    assert [row[:2] for row in history(share)] == [(1, "registered"), (2, "scheduled")]
    assert Share.objects.get(pk=share.pk).version == 2


@pytest.mark.parametrize("who", ["speaker", "member", "other_admin"])
def test_share_schedule_by_anyone_but_an_admin_is_denied(world, who):
    share = register(world)

    with pytest.raises(PermissionDenied):
        share_schedule(share=share, day=MONDAY, by=getattr(world, who).user)

    share.refresh_from_db()
    assert (share.status, share.day, share.version) == (ShareStatus.PROPOSED, None, 1)


def test_share_schedule_a_second_share_that_evening_without_a_reason_names_the_first(world):
    first = register(world, topic="第一场")
    share_schedule(share=first, day=MONDAY, by=world.admin.user)
    second = register(world, speaker=world.member.member, topic="第二场", by=world.member.user)

    with pytest.raises(ValidationError) as error:
        share_schedule(share=second, day=MONDAY, time=dt.time(21, 0), by=world.admin.user)

    assert (error.value.code, error.value.params) == (
        "evening_taken", {"day": "2030-06-03", "topic": "第一场", "speaker": "李东衡-关天数据-产品-上海", "id": first.pk},
    )
    second.refresh_from_db()
    assert (second.status, second.day, second.scheduled_for, second.version) == (ShareStatus.PROPOSED, None, None, 1)
    assert history(second) == [(1, "registered", world.member.user.pk, "")]


def test_share_schedule_a_second_share_that_evening_with_a_reason(world):
    first = register(world, topic="第一场")
    share_schedule(share=first, day=MONDAY, by=world.admin.user)
    second = register(world, speaker=world.member.member, topic="第二场", by=world.member.user)

    share_schedule(share=second, day=MONDAY, time=dt.time(21, 0), by=world.admin.user, overlap_reason=" 嘉宾只有这天有空 ")

    second.refresh_from_db()
    assert (second.status, second.day, second.overlap_reason) == (ShareStatus.SCHEDULED, MONDAY, "嘉宾只有这天有空")
    assert history(second)[-1] == (2, "scheduled", world.admin.user.pk, "嘉宾只有这天有空")
    assert sorted(Share.objects.filter(day=MONDAY, status="scheduled").values_list("topic", flat=True)) == ["第一场", "第二场"]


def test_share_schedule_a_reason_on_a_free_evening_is_not_kept(world):
    share = register(world)

    share_schedule(share=share, day=MONDAY, by=world.admin.user, overlap_reason="不需要")

    share.refresh_from_db()
    assert share.overlap_reason == ""


def test_share_schedule_an_imported_share_that_evening_does_not_count(world):
    make_share(world.group, world.member.member, topic="导入的", start=at("2030-06-03"))
    share = register(world)

    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    assert Share.objects.get(pk=share.pk).status == ShareStatus.SCHEDULED


def test_share_schedule_the_constraint_catches_a_share_scheduled_meanwhile(world, monkeypatch):
    first = register(world, topic="第一场")
    share_schedule(share=first, day=MONDAY, by=world.admin.user)
    second = register(world, speaker=world.member.member, topic="第二场", by=world.member.user)
    real = services._same_evening
    calls = []

    def blind_first_look(share, day):  # the check runs before the other admin's write lands
        calls.append(day)
        return Share.objects.none() if len(calls) == 1 else real(share, day)

    monkeypatch.setattr(services, "_same_evening", blind_first_look)

    with pytest.raises(ValidationError) as error:
        share_schedule(share=second, day=MONDAY, by=world.admin.user)

    assert (error.value.code, error.value.params["id"]) == ("evening_taken", first.pk)
    assert Share.objects.filter(pk=second.pk).values_list("status", "version").get() == (ShareStatus.PROPOSED, 1)
    assert history(second) == [(1, "registered", world.member.user.pk, "")]


@pytest.mark.parametrize("status", [ShareStatus.DELIVERED, ShareStatus.CANCELLED])
def test_share_schedule_a_closed_share_is_rejected(world, status):
    share = make_share(world.group, world.speaker.member, status=status, start=at("2030-06-03"), origin=Origin.WEB)

    with pytest.raises(ValidationError) as error:
        share_schedule(share=share, day=WEDNESDAY, by=world.admin.user)

    assert error.value.code == "closed"
    assert Share.objects.get(pk=share.pk).day == MONDAY


# --- share_cancel ---

def test_share_cancel_by_the_speaker_keeps_the_day_and_clears_the_next_share(world):
    share = register(world)
    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share_cancel(share=share, by=world.speaker.user, reason="出差")

    share.refresh_from_db()
    assert (share.status, share.day, share.version) == (ShareStatus.CANCELLED, MONDAY, 3)
    assert history(share)[-1] == (3, "cancelled", world.speaker.user.pk, "出差")
    world.speaker.membership.refresh_from_db()
    assert world.speaker.membership.next_share_at is None


def test_share_cancel_by_an_admin(world):
    share = register(world)

    share_cancel(share=share, by=world.admin.user)

    assert history(share)[-1] == (2, "cancelled", world.admin.user.pk, "")


@pytest.mark.parametrize("who", ["member", "other_admin"])
def test_share_cancel_by_someone_else_is_denied(world, who):
    share = register(world)

    with pytest.raises(PermissionDenied):
        share_cancel(share=share, by=getattr(world, who).user)

    assert Share.objects.get(pk=share.pk).status == ShareStatus.PROPOSED


def test_share_cancel_a_delivered_share_is_rejected(world):
    share = make_share(world.group, world.speaker.member, start=at("2018-05-20"))

    with pytest.raises(ValidationError) as error:
        share_cancel(share=share, by=world.admin.user)

    assert error.value.code == "closed"
    assert Share.objects.get(pk=share.pk).status == ShareStatus.DELIVERED


# --- share_reassign ---

def test_share_reassign_moves_the_share_and_the_next_share_fact(world):
    share = register(world)
    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    share_reassign(share=share, speaker=world.member.member, by=world.admin.user)

    share.refresh_from_db()
    assert (share.speaker, share.version, share.edited_fields) == (world.member.member, 3, ["scheduled_for", "speaker"])
    assert history(share)[-1] == (3, "reassigned", world.admin.user.pk, "")
    assert ShareRevision.objects.get(share=share, version=3).snapshot["speaker"] == world.member.member.pk
    assert dict(Membership.objects.filter(group=world.group).values_list("member__display_name", "next_share_at")) == {
        "李东衡-关天数据-产品-上海": None,
        "王芳-云汇支付-架构": at("2030-06-03", "19:30"),
        "周明远-群主": None,
    }


@pytest.mark.parametrize("who", ["speaker", "member", "other_admin"])
def test_share_reassign_by_anyone_but_an_admin_is_denied(world, who):
    share = register(world)

    with pytest.raises(PermissionDenied):
        share_reassign(share=share, speaker=world.member.member, by=getattr(world, who).user)

    assert Share.objects.get(pk=share.pk).speaker == world.speaker.member


def test_share_reassign_to_someone_outside_the_group_is_rejected(world):
    share = register(world)

    with pytest.raises(ValidationError) as error:
        share_reassign(share=share, speaker=world.other_admin.member, by=world.admin.user)

    assert error.value.code == "not_member"
    assert history(share) == [(1, "registered", world.speaker.user.pk, "")]


# --- share_edit ---

def test_share_edit_by_the_speaker_records_a_revision(world):
    share = register(world)

    share_edit(share=share, topic="跨境支付的清算与结算", abstract="新的简介", visibility="hidden", expected_version=1,
               by=world.speaker.user)

    share.refresh_from_db()
    assert (share.topic, share.abstract, share.visibility, share.version) == ("跨境支付的清算与结算", "新的简介", "hidden", 2)
    assert share.edited_fields == ["abstract", "topic", "visibility"]
    revision = ShareRevision.objects.get(share=share, version=2)
    assert (revision.action, revision.author) == ("edited", world.speaker.user)
    assert (revision.snapshot["topic"], revision.snapshot["abstract"], revision.snapshot["visibility"]) == (
        "跨境支付的清算与结算", "新的简介", "hidden",
    )


def test_share_edit_with_a_stale_version_is_a_conflict_and_changes_nothing(world):
    share = register(world)
    share_edit(share=Share.objects.get(pk=share.pk), topic="管理员改的主题", abstract="", expected_version=1, by=world.admin.user)

    with pytest.raises(ShareConflict) as error:
        share_edit(share=share, topic="讲者改的主题", abstract="讲者的简介", visibility="public", expected_version=1,
                   by=world.speaker.user)

    assert isinstance(error.value, ValidationError)
    assert (error.value.code, error.value.params) == ("conflict", {"version": 2})
    assert Share.objects.filter(pk=share.pk).values_list("topic", "abstract", "visibility", "version").get() == (
        "管理员改的主题", "", "members", 2,
    )
    assert [row[:3] for row in history(share)] == [(1, "registered", world.speaker.user.pk), (2, "edited", world.admin.user.pk)]


def test_share_edit_visibility_by_an_admin(world):
    share = register(world)

    share_edit(share=share, topic=share.topic, abstract="", visibility="public", expected_version=1, by=world.admin.user)

    assert Share.objects.get(pk=share.pk).visibility == "public"
    assert history(share)[-1] == (2, "edited", world.admin.user.pk, "")


@pytest.mark.parametrize("who", ["member", "other_admin"])
def test_share_edit_or_visibility_by_anyone_else_is_denied(world, who):
    share = register(world)

    with pytest.raises(PermissionDenied):
        share_edit(share=share, topic=share.topic, abstract="", visibility="public", expected_version=1,
                   by=getattr(world, who).user)

    assert Share.objects.filter(pk=share.pk).values_list("visibility", "version").get() == ("members", 1)


def test_share_edit_without_visibility_keeps_it(world):
    share = register(world)
    share_edit(share=share, topic=share.topic, abstract="", visibility="hidden", expected_version=1, by=world.speaker.user)

    share_edit(share=share, topic="新主题", abstract="", expected_version=2, by=world.admin.user)

    assert Share.objects.filter(pk=share.pk).values_list("topic", "visibility", "version").get() == ("新主题", "hidden", 3)


def test_share_edit_with_nothing_changed_records_nothing(world):
    share = register(world, abstract="简介")

    share_edit(share=share, topic="跨境支付的清算", abstract="简介", visibility="members", expected_version=1,
               by=world.speaker.user)

    assert (Share.objects.get(pk=share.pk).version, len(history(share))) == (1, 1)


def test_share_edit_an_unknown_visibility_is_rejected(world):
    share = register(world)

    with pytest.raises(ValidationError) as error:
        share_edit(share=share, topic=share.topic, abstract="", visibility="everyone", expected_version=1,
                   by=world.speaker.user)

    assert list(error.value.message_dict) == ["visibility"]
    assert Share.objects.filter(pk=share.pk).values_list("visibility", "version").get() == ("members", 1)


# --- the texts ---

def test_announcement_text_fills_the_default_template_with_the_group_nickname(world):
    world.speaker.membership.nickname = "东衡-关天数据-产品-上海"
    world.speaker.membership.save()
    share = register(world, topic="新疆本地市场的多元化金融业务")
    share_schedule(share=share, day=MONDAY, by=world.admin.user)

    text = announcement_text(share=Share.objects.get(pk=share.pk))

    assert text == (
        "今天请到一位朋友，@东衡-关天数据-产品-上海 给大家做分享，主题是 “新疆本地市场的多元化金融业务” 开始时间为【19:30】；"
        "欢迎欢迎[鼓掌][鼓掌][鼓掌]！（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。2.分享完成后请大家积极补充和提问；"
        "3.烦请领取红包签到，谢谢！)"
    )


def test_announcement_text_custom_template_in_the_groups_time_zone(world):
    world.group.announcement_template = "{date} {start} @{speaker}：{topic} {unknown}"
    world.group.time_zone = "Europe/Berlin"
    world.group.save()
    Membership.objects.filter(pk=world.speaker.membership.pk).update(nickname="")
    share = make_share(world.group, world.speaker.member, topic="花括号 {date}", status=ShareStatus.SCHEDULED,
                       start=dt.datetime(2030, 6, 3, 22, 30, tzinfo=dt.UTC))

    text = announcement_text(share=share)

    assert text == "2030-06-04 00:30 @李东衡-关天数据-产品-上海：花括号 {date} {unknown}"


def test_announcement_text_needs_a_start(world):
    with pytest.raises(ValueError):
        announcement_text(share=register(world))


def test_week_schedule_text_lists_every_evening_from_monday(world):
    def scheduled(who, topic, day, time=None, reason=""):
        share = register(world, speaker=who.member, topic=topic, by=world.admin.user)
        return share_schedule(share=share, day=day, time=time, by=world.admin.user, overlap_reason=reason)

    scheduled(world.speaker, "跨境支付的清算", MONDAY)
    scheduled(world.member, "收单风控", WEDNESDAY, dt.time(20, 0))
    scheduled(world.admin, "聚合支付", WEDNESDAY, dt.time(18, 0), reason="嘉宾时间")
    share_cancel(share=scheduled(world.member, "取消了的", dt.date(2030, 6, 6)), by=world.admin.user)
    register(world, topic="还没排期的")
    scheduled(world.speaker, "下一周的", dt.date(2030, 6, 10))
    make_share(world.other_group, world.other_admin.member, status=ShareStatus.SCHEDULED, start=at("2030-06-04"),
               origin=Origin.WEB)

    text = week_schedule_text(group=world.group, week_start=WEDNESDAY)

    assert text == "\n".join([
        "支付产品群 分享安排（2030-06-03 至 2030-06-09）",
        "2030-06-03 周一 19:30 李东衡-关天数据-产品-上海《跨境支付的清算》",
        "2030-06-04 周二 （空）",
        "2030-06-05 周三 18:00 周明远-群主《聚合支付》",
        "2030-06-05 周三 20:00 王芳-云汇支付-架构《收单风控》",
        "2030-06-06 周四 （空）",
        "2030-06-07 周五 （空）",
        "2030-06-08 周六 （空）",
        "2030-06-09 周日 （空）",
    ])
