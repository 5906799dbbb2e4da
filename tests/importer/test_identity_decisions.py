"""Admins' decisions on who is who survive re-import: a manual merge stays merged, a split
stays apart (not even a merged-export pair joins the two again), a rejected link is never
suggested again nor merged — through the real import of transcripts written here."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Group, Member, MemberMerge, Membership, Message, Name, NameLink, NameLinkStatus
from community.services import member_merge_manual, member_split, name_link_reject
from tests.factories import make_member, make_user

from .test_services import run, transcript

pytestmark = pytest.mark.django_db

BARE, FULL = "鸽子飞", "鸽子飞-支付产品-上海"


def senders(day_prefix: str = "") -> dict[str, set[int]]:
    """sender name -> the members its messages are attributed to."""
    found: dict[str, set[int]] = {}
    for sender_name, sender_id in Message.objects.values_list("sender_name", "sender_id"):
        found.setdefault(sender_name, set()).add(sender_id)
    return found


def doubled(day: str, first: str, second: str, count: int = 4) -> bytes:
    """A day merged from two phones' exports: every message twice, under both names."""
    messages = []
    for n in range(count):
        messages += [(f"10:0{n}:00", first, f"合并导出{n}"), (f"10:0{n}:00", second, f"合并导出{n}")]
    return transcript(day, messages)


# --- a merge by hand ---

def test_reimport_keeps_a_manual_merge():
    day1 = transcript("2024-03-04", [("10:00:00", "吴远航", "早"), ("10:01:00", "老吴-青松银行-开发", "早上好")])
    run(("1.md", day1))
    group = Group.objects.get(slug="prodarch")
    kept, other = Member.objects.get(display_name="吴远航"), Member.objects.get(display_name="老吴-青松银行-开发")
    member_merge_manual(group=group, into=kept, other=other, by=make_user(staff=True), reason="同一人")

    unchanged = run(("1.md", day1))
    changed = day1 + "> 11:00:00  老吴-青松银行-开发  \n   \n再见  \n   \n".encode()
    run(("1.md", changed), ("2.md", transcript("2024-03-05", [
        ("09:00:00", "老吴-青松银行-开发", "又来了"), ("09:01:00", "吴远航", "又来了")])))

    assert unchanged.counts.files_skipped == 1
    assert list(Member.objects.filter(display_name__in=["吴远航", "老吴-青松银行-开发"]).values_list("pk", flat=True)) == [kept.pk]
    assert senders() == {"吴远航": {kept.pk}, "老吴-青松银行-开发": {kept.pk}}
    assert set(Name.objects.values_list("member_id", flat=True)) == {kept.pk}
    assert Membership.objects.get(member=kept).message_count == 5
    assert Member.objects.count() == 1


# --- a split ---

@pytest.fixture
def split():
    """One member under both names (the import tied the bare name to the nickname), then an
    admin splits the bare name off: it was someone else."""
    run(("1.md", transcript("2024-03-04", [("10:00:00", BARE, "我是另一个人"), ("10:01:00", FULL, "大家好")])))
    [member] = Member.objects.all()
    group = Group.objects.get(slug="prodarch")
    record = member_split(member=member, names=[member.names.get(name=BARE)], group=group, by=make_user(staff=True),
                          reason="鸽子飞是另一个人")
    return member, record.into


def test_reimport_keeps_a_split_apart(split):
    member, new = split

    run(("1.md", transcript("2024-03-04", [("10:00:00", BARE, "我是另一个人"), ("10:01:00", FULL, "大家好"),
                                           ("10:02:00", BARE, "补一句")])),
        ("2.md", transcript("2024-03-05", [("09:00:00", FULL, "早"), ("09:01:00", BARE, "早")])))

    assert sorted(Member.objects.values_list("pk", flat=True)) == sorted([member.pk, new.pk])
    assert senders() == {BARE: {new.pk}, FULL: {member.pk}}
    assert sorted(Name.objects.values_list("name", "member_id")) == [(BARE, new.pk), (FULL, member.pk)]
    assert dict(Membership.objects.values_list("member_id", "message_count")) == {member.pk: 2, new.pk: 3}


def test_a_merged_export_pair_does_not_join_a_split_again(split):
    member, new = split

    result = run(("3.md", doubled("2024-03-06", BARE, FULL)))

    assert result.ok
    assert sorted(Member.objects.values_list("pk", flat=True)) == sorted([member.pk, new.pk])
    assert MemberMerge.objects.filter(evidence__rule="merged-export pair").count() == 0
    # The pair is one message each time, under the fuller name; the split name stays the new member's.
    assert Message.objects.filter(text__startswith="合并导出").count() == 4
    assert set(Message.objects.filter(text__startswith="合并导出").values_list("sender_id", flat=True)) == {member.pk}
    assert list(Name.objects.filter(name=BARE).values_list("member_id", flat=True)) == [new.pk]


def test_a_split_name_never_links_back_to_its_old_member_on_evidence(split):
    member, new = split
    # The new member's rows of the name are gone (say, an undone run): only the split's record knows.
    Name.objects.filter(member=new).delete()

    run(("2.md", transcript("2024-03-05", [("09:01:00", BARE, "我还是另一个人")])))

    sender = Message.objects.get(text="我还是另一个人").sender
    assert sender.pk != member.pk
    assert sender.display_name == BARE


def test_without_the_split_the_pair_would_merge():
    """The control of the two tests above: the same days, no admin decision, one member."""
    run(("1.md", transcript("2024-03-04", [("10:00:00", BARE, "我是另一个人"), ("10:01:00", FULL, "大家好")])))
    run(("3.md", doubled("2024-03-06", BARE, FULL)))

    assert Member.objects.count() == 1


# --- a rejected link ---

@pytest.fixture
def rejected():
    """Three members sharing the weak personal name 王, suggested pairwise; an admin rejects
    the link between 王 and 王-云汇支付-产品."""
    names = ["王-云汇支付-产品", "王-青松银行-开发", "王"]
    run(("1.md", transcript("2024-03-06", [(f"10:0{n}:00", name, "在") for n, name in enumerate(names)])))
    ids = dict(Member.objects.values_list("display_name", "pk"))
    link = NameLink.objects.get(member_id=min(ids["王"], ids["王-云汇支付-产品"]),
                                other_id=max(ids["王"], ids["王-云汇支付-产品"]))
    name_link_reject(link=link, group=Group.objects.get(slug="prodarch"), by=make_user(staff=True), reason="两个人")
    return ids, link


def test_reimport_never_suggests_a_rejected_link_again(rejected):
    ids, link = rejected
    before = sorted(NameLink.objects.values_list("pk", "member_id", "other_id", "status"))

    run(("1.md", transcript("2024-03-06", [("10:00:00", "王-云汇支付-产品", "在"), ("10:01:00", "王-青松银行-开发", "在"),
                                           ("10:02:00", "王", "在"), ("10:03:00", "王", "还在")])),
        ("2.md", transcript("2024-03-07", [("10:00:00", "王", "早"), ("10:01:00", "王-云汇支付-产品", "早")])))

    assert sorted(NameLink.objects.values_list("pk", "member_id", "other_id", "status")) == before
    assert NameLink.objects.get(pk=link.pk).status == NameLinkStatus.REJECTED
    assert Member.objects.count() == 3


def test_a_merged_export_pair_does_not_merge_a_rejected_pair(rejected):
    ids, link = rejected

    run(("3.md", doubled("2024-03-08", "王", "王-云汇支付-产品")))

    assert sorted(Member.objects.values_list("pk", flat=True)) == sorted(ids.values())
    assert NameLink.objects.get(pk=link.pk).status == NameLinkStatus.REJECTED


def test_without_the_rejection_the_pair_would_merge():
    names = ["王-云汇支付-产品", "王-青松银行-开发", "王"]
    run(("1.md", transcript("2024-03-06", [(f"10:0{n}:00", name, "在") for n, name in enumerate(names)])))
    run(("3.md", doubled("2024-03-08", "王", "王-云汇支付-产品")))

    assert Member.objects.count() == 2


# --- the cost: a constant number of queries, whatever the number of decisions ---

@pytest.mark.parametrize("decisions", [1, 3])
def test_reading_the_decisions_costs_two_queries_for_1_and_3(decisions):
    staff = make_user(staff=True)
    for n in range(decisions):
        a, b = make_member(f"甲{n}"), make_member(f"乙{n}")
        NameLink.objects.create(member=a, other=b, status=NameLinkStatus.REJECTED, decided_by=staff)
        MemberMerge.objects.create(action=MemberMerge.Action.SPLIT, into=a, merged_name=f"丙{n}", merged_member_id=b.pk,
                                   automatic=False, evidence={"group": 0, "normalized": [f"丙{n}"]})
    # A bare name and its nickname: linking them on evidence asks for the decisions.
    data = transcript("2024-03-06", [("10:00:00", BARE, "早"), ("10:01:00", FULL, "在")])

    with CaptureQueriesContext(connection) as queries:
        run(("1.md", data))

    decision_reads = [q["sql"] for q in queries.captured_queries
                      if "community_namelink" in q["sql"] and "rejected" in q["sql"]
                      or "community_membermerge" in q["sql"] and q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(decision_reads) == 2
    assert Member.objects.filter(names__name=BARE).get() == Member.objects.filter(names__name=FULL).get()
    # PostgreSQL takes the group's lock with one statement more than SQLite; one read per run of
    # the group's pending memberships (accepted applicants who may now appear); one aggregate of the
    # talks each member hosted (``membership_share_facts_refresh``). New memberships and their
    # periods are inserted returning their ids (no query to read them back). A day with no talk
    # found reads none of the day's shares.
    assert len(queries.captured_queries) == (39 if connection.vendor == "postgresql" else 38)


def test_a_run_of_unchanged_files_does_not_read_the_decisions():
    data = transcript("2024-03-06", [("10:00:00", BARE, "早"), ("10:01:00", FULL, "在")])
    run(("1.md", data))

    with CaptureQueriesContext(connection) as queries:
        result = run(("1.md", data))

    assert result.counts.files_skipped == 1
    assert [q["sql"] for q in queries.captured_queries if "community_namelink" in q["sql"]] == []
