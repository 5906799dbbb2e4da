"""A talk announced in a group's record and not given there that day: an ``announced`` share of
that day, speaker the member bearing the announced name, its sign-ins kept; a later import where
it is given turns it into the talk delivered."""

import pytest

from community.models import Member, Membership, NameLink
from community.services import OUT_OF_REACH
from shares import services
from shares.models import Share, ShareRevision, ShareStatus, SignIn, TalkMessage
from tests.factories import at, make_cast

from .test_reach import B_ADMIN
from .test_reach import world as reach_world  # noqa: F401 (a fixture)
from .test_services import ANNOUNCE, run, talk_day, transcript

pytestmark = pytest.mark.django_db

DAY = "2024-03-06"
SPEAKER = "周明远-云汇支付-产品-杭州"
TOPIC = "跨境收单的清结算"


def not_given(day=DAY, nick=SPEAKER, host="管理员甲", extra=()):
    """The host announces a talk at 19:30, two members sign in, then the host says it is postponed."""
    return transcript(day, sorted([
        ("09:01:00", "闲聊者", "早上好"),
        ("15:00:00", host, ANNOUNCE.format(nick=nick, topic=TOPIC, start="19:30")),
        ("19:10:00", "听众一", "签到"),
        ("19:11:00", "听众二", "签到！"),
        ("19:40:00", host, "嘉宾临时有事，今天的分享改期"),
        ("21:00:00", "闲聊者", "晚安"),
        *extra,
    ]))


def shares():
    return [(s.status, s.speaker.display_name, s.topic, s.topic_source, s.host.display_name if s.host else None,
             s.scheduled_for and s.scheduled_for.astimezone(s.group.tz).isoformat(), s.started_at, s.ended_at,
             s.origin, s.sign_in_count)
            for s in Share.objects.select_related("speaker", "host", "group").order_by("day", "id")]


def sign_ins():
    return sorted(SignIn.objects.values_list("member__display_name", "origin"))


ANNOUNCED_ROW = ("announced", SPEAKER, TOPIC, "announcement", "管理员甲", "2024-03-06T19:30:00+08:00", None, None,
                 "import", 2)


def test_a_talk_announced_and_not_given_is_an_announced_share_with_its_sign_ins():
    result = run((f"{DAY}.md", not_given()))

    assert shares() == [ANNOUNCED_ROW]
    assert sign_ins() == [("听众一", "import"), ("听众二", "import")]
    assert (result.counts.shares_found, result.counts.sign_ins_found) == (1, 2)
    assert TalkMessage.objects.count() == 0
    share = Share.objects.get()
    assert list(ShareRevision.objects.filter(share=share).values_list("version", "action")) == [(1, "announced (import)")]
    # Named only by the announcement: a member of the group from then on, who has not shared.
    membership = Membership.objects.get(member=share.speaker)
    assert (membership.group.slug, membership.joined_at, membership.shares_given) == (
        "prodarch", at(DAY, "15:00"), 0)


def test_the_announced_speaker_is_the_member_already_known_by_that_name():
    run(("2024-03-05.md", transcript("2024-03-05", [("10:00:00", SPEAKER, "大家好")])))
    known = Member.objects.get(display_name=SPEAKER)

    run((f"{DAY}.md", not_given()))

    assert (Share.objects.get().speaker_id, Member.objects.filter(display_name=SPEAKER).count()) == (known.pk, 1)


def test_an_announced_speaker_out_of_the_uploaders_reach_is_a_member_of_their_own_and_a_suggestion(request):
    world = request.getfixturevalue("reach_world")
    day = not_given(nick=B_ADMIN, host="甲群主-某支付-产品")

    result = run((f"{DAY}.md", day), slug="a-group", user=world.a_admin.user)

    assert result.ok, result.errors
    share = Share.objects.get()
    assert (share.status, share.speaker.display_name) == ("announced", B_ADMIN)
    assert share.speaker_id != world.b_admin.pk
    assert [({link.member_id, link.other_id}, link.evidence["why_not_merged"]) for link in NameLink.objects.all()] == [
        ({share.speaker_id, world.b_admin.pk}, OUT_OF_REACH)]


def test_for_an_operator_the_announced_speaker_is_the_member_of_the_other_group(request):
    world = request.getfixturevalue("reach_world")

    run((f"{DAY}.md", not_given(nick=B_ADMIN, host="甲群主-某支付-产品")), slug="a-group")

    assert Share.objects.get().speaker_id == world.b_admin.pk


def test_an_unchanged_reimport_of_the_day_replaced_keeps_the_announced_share_as_it_is():
    run((f"{DAY}.md", not_given()))
    before = (shares(), sign_ins(), list(Share.objects.values_list("version", flat=True)))

    run((f"{DAY}.md", not_given()), replace_days=True)

    assert (shares(), sign_ins(), list(Share.objects.values_list("version", flat=True))) == before


def test_a_replaced_day_without_one_sign_in_drops_it_and_keeps_the_share():
    run((f"{DAY}.md", not_given()))
    fewer = not_given().decode().replace("签到！", "来了").encode()

    run((f"{DAY}.md", fewer), replace_days=True)

    assert (shares()[0][0], shares()[0][-1], sign_ins()) == ("announced", 1, [("听众一", "import")])


def test_a_topic_and_speaker_an_admin_corrected_are_kept_on_reimport():
    cast = make_cast()
    run((f"{DAY}.md", not_given()))
    share = Share.objects.get()
    services.share_edit(share=share, topic="改过的题目", abstract="", expected_version=share.version, by=cast.admin.user)
    services.share_reassign(share=share, speaker=cast.speaker.member, by=cast.admin.user)

    run((f"{DAY}.md", not_given(extra=[("23:00:00", "闲聊者", "明天见")])))

    share.refresh_from_db()
    assert (share.status, share.topic, share.topic_source, share.speaker_id) == (
        "announced", "改过的题目", "admin", cast.speaker.member.pk)


def test_a_later_import_where_the_talk_is_given_under_another_name_turns_it_delivered():
    run((f"{DAY}.md", not_given()))
    announced = Share.objects.get()
    # The whole day again, where the talk is given at 19:30 by the speaker writing as "willing".
    given = talk_day(day=DAY, speaker="willing").decode().replace(
        "@willing 给大家做分享", f"@{SPEAKER} 给大家做分享").encode()

    run((f"{DAY}.md", given), replace_days=True)

    share = Share.objects.get()
    assert (share.pk, share.status, share.speaker.display_name, share.started_at, share.topic_source) == (
        announced.pk, "delivered", "willing", at(DAY, "19:30:05"), "announcement")
    assert TalkMessage.objects.filter(share=share, part="talk").count() == 14
    assert share.revisions.order_by("-version").values_list("action", flat=True)[0] == "delivered (import)"


def test_a_delivered_talk_is_not_turned_back_by_a_file_of_the_same_day_that_only_announces_it():
    run((f"{DAY}.md", talk_day(day=DAY)))

    run(("announcement-only.md", not_given()))  # added to the day: the talk stays given

    assert list(Share.objects.values_list("status", "started_at")) == [("delivered", at(DAY, "19:30:05"))]
    assert TalkMessage.objects.filter(part="talk").count() == 14


def test_an_announced_share_is_not_a_share_given():
    run((f"{DAY}.md", not_given()))

    assert Membership.objects.get(member__display_name=SPEAKER).shares_given == 0
    assert Share.objects.get().status == ShareStatus.ANNOUNCED


def test_an_announced_share_deleted_as_false_stays_deleted_on_reimport_and_comes_back_announced():
    cast = make_cast()
    run((f"{DAY}.md", not_given()))
    share = Share.objects.get()

    services.talk_delete(share=share, by=cast.admin.user, reason="没有这场分享")
    run((f"{DAY}.md", not_given(extra=[("23:00:00", "闲聊者", "明天见")])))

    assert (list(Share.objects.values_list("pk", "status")), SignIn.objects.count()) == ([(share.pk, "cancelled")], 0)
    services.talk_restore(share=Share.objects.get(), by=cast.admin.user)
    assert (shares(), sign_ins()) == ([ANNOUNCED_ROW], [("听众一", "import"), ("听众二", "import")])
