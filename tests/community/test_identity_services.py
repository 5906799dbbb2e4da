"""Who is who, as services: confirming and rejecting suggested links, merging two members by
hand, splitting names off a member — what moves (messages, names, memberships and their
facts, sign-ins, shares and their speaker), what is recorded, and that a refusal or a
failure half-way writes nothing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from community import services
from community.models import (
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    Message,
    Name,
    NameLink,
    NameLinkStatus,
    NameSource,
)
from community.services import (
    member_merge,
    member_merge_manual,
    member_rows_count,
    member_split,
    name_link_confirm,
    name_link_reject,
    name_link_suggest,
)
from shares.models import Share, ShareRevision, SignIn, TalkMessage, TalkPart
from tests.factories import (
    at,
    make_group,
    make_member,
    make_membership,
    make_message,
    make_person,
    make_share,
    make_sign_in,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are compared in English (the site's default is Chinese)."""
    with translation.override("en"):
        yield


def name(member, group, text, source=NameSource.HEADER, times=1, first=None, last=None):
    from community.names import normalize_name

    return Name.objects.create(member=member, group=group, name=text, normalized=normalize_name(text), source=source,
                               times_seen=times, first_seen=first, last_seen=last or first)


def snapshot():
    """Every row a decision may touch, as plain values: equal before and after a refusal."""
    return (
        sorted(Member.objects.values_list("id", "display_name", "name", "company", "user_id")),
        sorted(Message.objects.values_list("id", "sender_id")),
        sorted(Name.objects.values_list("id", "member_id")),
        sorted(Membership.objects.values_list("id", "group_id", "member_id", "nickname", "message_count",
                                              "shares_given", "sign_in_count", "role")),
        sorted(MembershipPeriod.objects.values_list("id", "membership_id")),
        sorted(SignIn.objects.values_list("id", "share_id", "member_id")),
        sorted(Share.objects.values_list("id", "speaker_id", "sign_in_count", "version")),
        sorted(NameLink.objects.values_list("id", "member_id", "other_id", "status", "decided_by_id")),
        MemberMerge.objects.count(),
        ShareRevision.objects.count(),
    )


@pytest.fixture
def two():
    """One person under two members in a group: 周明远 (3 messages, a sign-in) and
    周明远-云汇支付-产品 (2 messages, a talk, a sign-in), suggested as a link; an admin."""
    group = make_group(slug="prodarch")
    admin = make_person(group, "管理员-群主", role="owner")
    bare, full = make_member("周明远"), make_member("周明远-云汇支付-产品", name="周明远", company="云汇支付")
    make_membership(group, bare, message_count=0)
    make_membership(group, full, message_count=0)
    for n in range(3):
        make_message(group, bare, at(f"2030-01-0{n + 1}", "10:00"), f"早{n}")
    talk_messages = [make_message(group, full, at("2030-01-05", f"19:3{n}"), f"分享{n}") for n in range(2)]
    name(bare, group, "周明远", times=3, first=at("2030-01-01", "10:00"), last=at("2030-01-03", "10:00"))
    name(full, group, "周明远-云汇支付-产品", times=2, first=at("2030-01-05", "19:30"))
    name(full, group, "周明远", source=NameSource.MENTION, times=1, first=at("2029-12-01"))
    host = make_member("主持人")
    other_talk = make_share(group, host, topic="别人的分享", start=at("2030-01-02"), sign_in_count=2)
    make_sign_in(other_talk, bare)
    make_sign_in(other_talk, full)
    talk = make_share(group, full, topic="跨境收单", start=at("2030-01-05"))
    for message in talk_messages:
        TalkMessage.objects.create(share=talk, message=message, part=TalkPart.TALK)
    link = NameLink.objects.create(group=group, member=bare, other=full, evidence={"rule": "weak or ambiguous name"})
    from shares.services import membership_share_facts_refresh

    membership_share_facts_refresh(group_id=group.pk)
    services.membership_facts_refresh(group_id=group.pk)
    return SimpleNamespace(group=group, admin=admin, bare=bare, full=full, link=link, talk=talk, other_talk=other_talk)


# --- confirm and reject ---

def test_confirm_merges_the_other_side_into_the_kept_one_and_moves_every_row(two):
    record = name_link_confirm(link=two.link, group=two.group, keep="other", by=two.admin.user, reason="同一人，见提及")

    assert not Member.objects.filter(pk=two.bare.pk).exists()
    assert list(Message.objects.order_by().values_list("sender_id", flat=True).distinct()) == [two.full.pk]
    assert sorted(Name.objects.values_list("member_id", "name", "source", "times_seen")) == [
        (two.full.pk, "周明远", "header", 3), (two.full.pk, "周明远", "mention", 1),
        (two.full.pk, "周明远-云汇支付-产品", "header", 2)]
    membership = Membership.objects.get(group=two.group, member=two.full)
    assert (membership.message_count, membership.last_message_at, membership.shares_given, membership.sign_in_count) == (
        5, at("2030-01-05", "19:31"), 1, 1)
    assert Membership.objects.filter(member_id=two.bare.pk).count() == 0
    # A sign-in both members had for one share counts once.
    assert list(SignIn.objects.values_list("share_id", "member_id")) == [(two.other_talk.pk, two.full.pk)]
    assert Share.objects.get(pk=two.other_talk.pk).sign_in_count == 1
    assert Share.objects.get(pk=two.talk.pk).speaker_id == two.full.pk
    assert NameLink.objects.count() == 0
    assert (record.action, record.into_id, record.merged_name, record.merged_member_id, record.automatic,
            record.by, record.reason) == ("merge", two.full.pk, "周明远", two.bare.pk, False, two.admin.user, "同一人，见提及")
    assert record.evidence == {
        "rule": "suggested link confirmed", "group": two.group.pk,
        "name_link": {"id": two.link.pk, "evidence": {"rule": "weak or ambiguous name"},
                      "suggested_at": two.link.created_at.isoformat()},
        "counts": {"messages": 3, "names": 1, "memberships": 1, "sign_ins": 1, "shares": 0},
    }


def test_reject_keeps_the_two_members_and_records_who_when_and_why(two):
    before = snapshot()

    name_link_reject(link=two.link, group=two.group, by=two.admin.user, reason="两个人：公司不同")

    link = NameLink.objects.get()
    assert (link.status, link.decided_by, link.decided_at is not None) == (NameLinkStatus.REJECTED, two.admin.user, True)
    assert link.evidence == {"rule": "weak or ambiguous name", "reject_reason": "两个人：公司不同"}
    assert snapshot()[:7] == before[:7]
    assert MemberMerge.objects.count() == 0


def test_reject_without_a_reason_is_allowed(two):
    name_link_reject(link=two.link, group=two.group, by=two.admin.user)

    assert NameLink.objects.get().evidence == {"rule": "weak or ambiguous name"}


def test_a_decided_link_cannot_be_decided_again(two):
    name_link_reject(link=two.link, group=two.group, by=two.admin.user)
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        name_link_confirm(link=two.link, group=two.group, keep="member", by=two.admin.user, reason="改主意")

    assert error.value.messages == ["This suggestion was already decided."]
    assert snapshot() == before


@pytest.mark.parametrize(("keep", "reason", "message"), [
    ("member", "", "Give a reason: it is kept with the decision."),
    ("", "同一人", "Choose which member is kept."),
])
def test_confirm_refuses_bad_input_and_writes_nothing(two, keep, reason, message):
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        name_link_confirm(link=two.link, group=two.group, keep=keep, by=two.admin.user, reason=reason)

    assert error.value.messages == [message]
    assert snapshot() == before


def test_a_link_of_another_group_is_not_this_groups_to_decide(two):
    other_group = make_group()
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        name_link_reject(link=two.link, group=other_group, by=make_user(staff=True))

    assert error.value.messages == ["This suggestion no longer exists: its members were merged meanwhile."]
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "other_admin", "nobody"])
def test_only_the_groups_admins_and_staff_decide(two, who):
    other_group = make_group()
    user = {
        "member": lambda: make_person(two.group, "普通成员").user,
        "other_admin": lambda: make_person(other_group, "别群管理员", role="admin").user,
        "nobody": lambda: make_user(),
    }[who]()
    before = snapshot()

    with pytest.raises(PermissionDenied):
        name_link_confirm(link=two.link, group=two.group, keep="member", by=user, reason="同一人")
    with pytest.raises(PermissionDenied):
        name_link_reject(link=two.link, group=two.group, by=user)
    with pytest.raises(PermissionDenied):
        member_merge_manual(group=two.group, into=two.full, other=two.bare, by=user, reason="同一人")
    with pytest.raises(PermissionDenied):
        member_split(member=two.full, names=list(two.full.names.all()), group=two.group, by=user, reason="两个人")

    assert snapshot() == before


def test_name_link_suggest_never_suggests_a_decided_pair_again_in_either_order(two):
    name_link_reject(link=two.link, group=two.group, by=two.admin.user)

    created = name_link_suggest(member=two.full, other=two.bare, group_id=two.group.pk, evidence={"rule": "again"})

    assert created is False
    assert list(NameLink.objects.values_list("member_id", "other_id", "status")) == [
        (two.bare.pk, two.full.pk, "rejected")]


# --- merge by hand ---

def test_merge_by_hand_moves_everything_and_records_the_counts(two):
    record = member_merge_manual(group=two.group, into=two.bare, other=two.full, by=two.admin.user, reason="同一人")

    assert list(Member.objects.filter(pk__in=[two.bare.pk, two.full.pk]).values_list("pk", flat=True)) == [two.bare.pk]
    assert Message.objects.filter(sender=two.bare).count() == 5
    assert Share.objects.get(pk=two.talk.pk).speaker_id == two.bare.pk
    membership = Membership.objects.get(group=two.group, member=two.bare)
    assert (membership.message_count, membership.shares_given, membership.sign_in_count) == (5, 1, 1)
    assert (record.automatic, record.by, record.reason, record.evidence) == (False, two.admin.user, "同一人", {
        "rule": "merged by an admin", "group": two.group.pk,
        "counts": {"messages": 2, "names": 2, "memberships": 1, "sign_ins": 1, "shares": 1},
    })
    # The suggestion between them is settled by the merge.
    assert NameLink.objects.count() == 0


@pytest.mark.parametrize(("case", "message"), [
    ("same", "Choose two different members: a member cannot be merged with itself."),
    ("other_group", "Both members must be members of this group."),
    ("no_reason", "Give a reason: it is kept with the decision."),
    ("two_logins", "Both members have a login: a merge would leave one login without its member. Ask a site operator."),
    ("gone", "One of the two members no longer exists: it was merged meanwhile."),
])
def test_merge_by_hand_refuses_bad_input_and_writes_nothing(two, case, message):
    into, other, reason = two.bare, two.full, "同一人"
    if case == "same":
        other = two.bare
    elif case == "other_group":
        other = make_member("别的群的人")
        make_membership(make_group(), other)
    elif case == "no_reason":
        reason = "   "
    elif case == "two_logins":
        Member.objects.filter(pk=two.bare.pk).update(user=make_user())
        Member.objects.filter(pk=two.full.pk).update(user=make_user())
    elif case == "gone":
        other = Member(pk=999_999, display_name="已不存在")
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        member_merge_manual(group=two.group, into=into, other=other, by=two.admin.user, reason=reason)

    assert error.value.messages == [message]
    assert snapshot() == before


def test_staff_may_merge_two_members_of_different_groups(two):
    elsewhere = make_member("周明远-云汇支付-产品-杭州")
    make_membership(make_group(), elsewhere)
    staff = make_user(staff=True)

    record = member_merge_manual(group=two.group, into=two.full, other=elsewhere, by=staff, reason="同一人，另一个群")

    assert (record.into_id, record.by) == (two.full.pk, staff)
    assert Membership.objects.filter(member=two.full).count() == 2


def test_a_login_moves_to_the_kept_member_when_only_the_merged_one_has_it(two):
    user = make_user()
    Member.objects.filter(pk=two.bare.pk).update(user=user)

    # The login belongs to this group only: its admin may merge it.
    member_merge_manual(group=two.group, into=two.full, other=two.bare, by=two.admin.user, reason="同一人")

    assert Member.objects.get(user=user).pk == two.full.pk


def test_merging_keeps_a_rejection_with_a_third_member_over_a_suggestion(two):
    third = make_member("周明")
    make_membership(two.group, third)
    rejected = NameLink.objects.create(group=two.group, member=third, other=two.full, status=NameLinkStatus.REJECTED,
                                       evidence={"rule": "x"})
    NameLink.objects.create(group=two.group, member=two.bare, other=third, evidence={"rule": "y"})

    member_merge_manual(group=two.group, into=two.bare, other=two.full, by=two.admin.user, reason="同一人")

    assert list(NameLink.objects.values_list("pk", "member_id", "other_id", "status")) == [
        (rejected.pk, *sorted([two.bare.pk, third.pk]), "rejected")]


def test_member_rows_count_counts_every_row_a_merge_moves(two):
    assert member_rows_count([two.bare.pk, two.full.pk]) == {
        two.bare.pk: {"messages": 3, "names": 1, "memberships": 1, "sign_ins": 1, "shares": 0},
        two.full.pk: {"messages": 2, "names": 2, "memberships": 1, "sign_ins": 1, "shares": 1},
    }


# --- split ---

@pytest.fixture
def merged():
    """A member that is two people: 鸽子 (bare, a talk and a sign-in under that name) and
    鸽子-支付产品-上海, tied by the import; plus an admin."""
    group = make_group(slug="prodarch")
    admin = make_person(group, "管理员-群主", role="owner")
    member = make_member("鸽子-支付产品-上海", name="鸽子", company="支付产品", city="上海")
    make_membership(group, member, nickname="鸽子", joined_at=at("2030-01-01"))
    own = [make_message(group, member, at("2030-01-01", f"10:0{n}"), f"本人{n}", sender_name="鸽子-支付产品-上海")
           for n in range(2)]
    other = [make_message(group, member, at("2030-01-03", f"19:3{n}"), f"另一人{n}", sender_name=sender)
             for n, sender in enumerate(["鸽子", "鸽子", "鸽子 ", "鸽子"])]
    full = name(member, group, "鸽子-支付产品-上海", times=2, first=at("2030-01-01", "10:00"))
    bare = name(member, group, "鸽子", times=4, first=at("2030-01-03", "19:30"), last=at("2030-01-03", "19:33"))
    bare_mention = name(member, group, "鸽子", source=NameSource.MENTION, times=1, first=at("2030-01-04"))
    host = make_member("主持人")
    make_membership(group, host)
    talk = make_share(group, member, topic="另一人的分享", start=at("2030-01-03"))
    for message in other[:3]:
        TalkMessage.objects.create(share=talk, message=message, part=TalkPart.TALK)
    TalkMessage.objects.create(share=talk, message=own[0], part=TalkPart.TALK)
    TalkMessage.objects.create(share=talk, message=other[3], part=TalkPart.QA)
    own_talk = make_share(group, member, topic="本人的分享", start=at("2030-01-01"))
    TalkMessage.objects.create(share=own_talk, message=own[1], part=TalkPart.TALK)
    listened = make_share(group, host, topic="听过的分享", start=at("2030-01-02"), sign_in_count=2)
    signed_as_other = make_sign_in(listened, member, message=other[0])
    other_day = make_share(group, host, topic="另一天", start=at("2030-01-04"), sign_in_count=1)
    signed_as_self = make_sign_in(other_day, member, message=own[0])
    from shares.services import membership_share_facts_refresh

    membership_share_facts_refresh(group_id=group.pk)
    services.membership_facts_refresh(group_id=group.pk)
    return SimpleNamespace(group=group, admin=admin, member=member, full=full, bare=bare, bare_mention=bare_mention,
                           own=own, other=other, talk=talk, own_talk=own_talk,
                           signed_as_other=signed_as_other, signed_as_self=signed_as_self)


def test_split_makes_a_new_member_with_the_names_messages_membership_sign_ins_and_talks(merged):
    record = member_split(member=merged.member, names=[merged.bare], group=merged.group, by=merged.admin.user,
                          reason="鸽子是另一个人")

    new = record.into
    assert (new.display_name, new.name, new.company) == ("鸽子", "", "")
    # Both rows of the name 鸽子 (header and mention) go: a name moves whole.
    assert sorted(Name.objects.filter(member=new).values_list("pk", flat=True)) == sorted([merged.bare.pk, merged.bare_mention.pk])
    assert list(Name.objects.filter(member=merged.member).values_list("pk", flat=True)) == [merged.full.pk]
    assert sorted(Message.objects.filter(sender=new).values_list("text", flat=True)) == ["另一人0", "另一人1", "另一人2", "另一人3"]
    assert sorted(Message.objects.filter(sender=merged.member).values_list("text", flat=True)) == ["本人0", "本人1"]
    membership = Membership.objects.get(member=new)
    assert (membership.group, membership.nickname, membership.status, membership.role, membership.joined_at,
            membership.message_count, membership.last_message_at, membership.shares_given, membership.sign_in_count) == (
        merged.group, "鸽子", "active", "member", at("2030-01-03", "19:30"), 4, at("2030-01-03", "19:33"), 1, 1)
    assert list(membership.periods.values_list("joined_at", "left_at")) == [(at("2030-01-03", "19:30"), None)]
    old = Membership.objects.get(member=merged.member)
    # The old nickname was the split name: the member keeps a name of its own.
    assert (old.nickname, old.message_count, old.last_message_at, old.shares_given, old.sign_in_count) == (
        "鸽子-支付产品-上海", 2, at("2030-01-01", "10:01"), 1, 1)
    assert SignIn.objects.get(pk=merged.signed_as_other.pk).member_id == new.pk
    assert SignIn.objects.get(pk=merged.signed_as_self.pk).member_id == merged.member.pk
    talk = Share.objects.get(pk=merged.talk.pk)
    assert (talk.speaker_id, talk.version) == (new.pk, 2)
    assert list(talk.revisions.values_list("action", "author", "note")) == [("reassigned", merged.admin.user.pk, "鸽子是另一个人")]
    assert Share.objects.get(pk=merged.own_talk.pk).speaker_id == merged.member.pk
    assert (record.action, record.merged_name, record.merged_member_id, record.automatic, record.by, record.reason) == (
        "split", "鸽子-支付产品-上海", merged.member.pk, False, merged.admin.user, "鸽子是另一个人")
    assert record.evidence == {
        "rule": "split by an admin", "group": merged.group.pk, "from_member": merged.member.pk,
        "names": ["鸽子"], "normalized": ["鸽子"],
        "counts": {"names": 2, "messages": 4, "sign_ins": 1, "shares": 1},
    }


def test_split_of_the_display_name_gives_the_member_its_remaining_name(merged):
    record = member_split(member=merged.member, names=[merged.full], group=merged.group, by=merged.admin.user,
                          reason="全名是另一个人")

    merged.member.refresh_from_db()
    assert (merged.member.display_name, merged.member.name, merged.member.company, merged.member.city) == ("鸽子", "", "", "")
    # "鸽子-支付产品-上海" lacks a role: not a well-formed nickname, so no parts are read from it.
    assert (record.into.display_name, record.into.name, record.into.company, record.into.city) == (
        "鸽子-支付产品-上海", "", "", "")
    assert Membership.objects.get(member=record.into).nickname == "鸽子-支付产品-上海"


@pytest.mark.parametrize(("case", "message"), [
    ("no_names", "Choose at least one name to split off."),
    ("not_of_member", "Every name to split off must be a name of this member in this group."),
    ("other_group", "Every name to split off must be a name of this member in this group."),
    ("all_names", "These are all the member's names: there is nothing left to split them from."),
    ("no_reason", "Give a reason: it is kept with the decision."),
])
def test_split_refuses_bad_input_and_writes_nothing(merged, case, message):
    names, reason = [merged.bare], "另一个人"
    if case == "no_names":
        names = []
    elif case == "not_of_member":
        names = [name(make_member("别人"), merged.group, "别人")]
    elif case == "other_group":
        names = [name(merged.member, make_group(), "鸽子-别的群")]
    elif case == "all_names":
        names = [merged.bare, merged.full]
    elif case == "no_reason":
        reason = ""
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        member_split(member=merged.member, names=names, group=merged.group, by=merged.admin.user, reason=reason)

    assert error.value.messages == [message]
    assert snapshot() == before


def test_merging_a_split_side_keeps_the_split_record_pointing_at_the_sides(merged):
    record = member_split(member=merged.member, names=[merged.bare], group=merged.group, by=merged.admin.user,
                          reason="另一个人")
    again = make_member("鸽子-另一家公司")
    make_membership(merged.group, again)

    member_merge(into=again, other=merged.member, evidence={"rule": "test"})

    record.refresh_from_db()
    assert (record.into_id, record.merged_member_id) == (record.into_id, again.pk)


# --- one transaction: a failure half-way leaves nothing moved ---

def test_a_failing_mover_leaves_the_merge_undone(two, monkeypatch):
    def failing(into, other):
        raise RuntimeError("an app could not move its rows")

    monkeypatch.setattr(services, "_member_movers", [*services._member_movers, failing])
    before = snapshot()

    with pytest.raises(RuntimeError):
        member_merge_manual(group=two.group, into=two.full, other=two.bare, by=two.admin.user, reason="同一人")

    assert snapshot() == before


def test_a_failing_splitter_leaves_the_split_undone(merged, monkeypatch):
    def failing(**kwargs):
        raise RuntimeError("an app could not move its rows")

    monkeypatch.setattr(services, "_member_splitters", [*services._member_splitters, failing])
    before = snapshot()

    with pytest.raises(RuntimeError):
        member_split(member=merged.member, names=[merged.bare], group=merged.group, by=merged.admin.user, reason="另一个人")

    assert snapshot() == before
