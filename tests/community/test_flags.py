"""Evaluating a group's rules into flags, and the admins' decisions on them."""

import datetime as dt
import threading

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection, connections

from community.flags import (
    flag_approve,
    flag_dismiss,
    flag_exempt,
    flag_reopen,
    flags_decide,
    group_flags_evaluate,
    nickname_reminders_record,
)
from community.models import (
    AuditEntry,
    Flag,
    MembershipPeriod,
    MembershipRole,
    MembershipStatus,
    NicknameReminder,
    RecordedDay,
)
from community.tasks import task_flags_evaluate_all, task_group_flags_evaluate
from tests.factories import at, make_cast, make_group, make_membership, make_person

pytestmark = pytest.mark.django_db

LAST_DAY = dt.date(2018, 6, 30)


def record(group, first: dt.date, last: dt.date, *, skip=()) -> None:
    days = (last - first).days + 1
    RecordedDay.objects.bulk_create([
        RecordedDay(group=group, day=first + dt.timedelta(days=i), message_count=10)
        for i in range(days) if first + dt.timedelta(days=i) not in skip
    ])


def silent_member(group, nickname="王芳-云汇支付-架构-上海", *, last="2018-04-01", joined="2018-01-01", **fields):
    fields.setdefault("shares_given", 1)
    return make_membership(group, nickname=nickname, joined_at=at(joined, "10:00"), last_message_at=at(last, "21:00"), **fields)


def flag_rows(group):
    return sorted(
        (flag.membership.nickname, flag.rule, flag.status, flag.evidence_key)
        for flag in Flag.objects.filter(group=group).select_related("membership")
    )


@pytest.fixture
def group():
    group = make_group(slug="prodarch")
    record(group, dt.date(2018, 1, 1), LAST_DAY)
    return group


def test_evaluate_writes_flags_with_evidence_as_of_the_last_imported_day(group):
    silent = silent_member(group)
    silent_member(group, "李四-银联-产品", last="2018-06-29")  # spoke yesterday
    silent_member(group, "Daniel", last="2018-06-29")
    silent_member(group, "赵五-拉卡拉-PM", last="2018-06-29", shares_given=0)

    result = group_flags_evaluate(group=group)

    assert result.as_of == LAST_DAY
    assert result.counts() == {"memberships": 4, "created": 3, "updated": 0, "resolved": 0, "unchanged": 0, "gaps": 0}
    assert flag_rows(group) == [
        ("Daniel", "nickname", "reminder_due", "nickname:Daniel"),
        ("王芳-云汇支付-架构-上海", "silent", "open", "silent:2018-04-01"),
        ("赵五-拉卡拉-PM", "never_shared", "open", "never_shared:2018-01-01"),
    ]
    flag = Flag.objects.get(membership=silent)
    assert flag.as_of == LAST_DAY
    assert flag.evidence["days_silent"] == 90
    assert flag.evidence["last_message"] == "2018-04-01"


def test_evaluate_twice_creates_nothing_new(group):
    silent_member(group)
    first = group_flags_evaluate(group=group)
    ids = list(Flag.objects.values_list("id", flat=True))

    second = group_flags_evaluate(group=group)

    assert len(first.created) == 1
    assert second.counts()["created"] == 0 and second.counts()["unchanged"] == 1
    assert list(Flag.objects.values_list("id", flat=True)) == ids


def test_flag_resolves_itself_when_the_member_speaks_again(group):
    membership = silent_member(group)
    group_flags_evaluate(group=group)
    membership.last_message_at = at("2018-06-30", "20:00")
    membership.save()

    result = group_flags_evaluate(group=group)

    assert len(result.resolved) == 1
    flag = Flag.objects.get(membership=membership)
    assert (flag.status, flag.evidence["resolved_as_of"]) == ("resolved", "2018-06-30")
    assert list(AuditEntry.objects.values_list("action", "target")) == [("flag_resolved", "王芳-云汇支付-架构-上海")]


def test_scheduling_a_share_resolves_never_shared(group):
    membership = silent_member(group, last="2018-06-29", shares_given=0)
    group_flags_evaluate(group=group)
    membership.next_share_at = at("2018-07-03")
    membership.save()

    group_flags_evaluate(group=group)

    assert Flag.objects.get(membership=membership).status == "resolved"


def test_fixing_the_nickname_resolves_the_nickname_flag(group):
    membership = silent_member(group, "Daniel", last="2018-06-29")
    group_flags_evaluate(group=group)
    membership.nickname = "Daniel-银联-架构师-上海"
    membership.save()

    group_flags_evaluate(group=group)

    assert Flag.objects.get(membership=membership).status == "resolved"


def test_dismissed_flag_is_not_raised_again_for_the_same_evidence(group):
    cast_admin = make_person(group, "周明远-群主", role=MembershipRole.OWNER)
    membership = silent_member(group)
    group_flags_evaluate(group=group)
    flag_dismiss(flag=Flag.objects.get(membership=membership), by=cast_admin.user, reason="在休产假")

    again = group_flags_evaluate(group=group, as_of=LAST_DAY)

    assert again.counts()["created"] == 0
    assert flag_rows(group) == [("王芳-云汇支付-架构-上海", "silent", "dismissed", "silent:2018-04-01")]


def test_dismissed_flag_is_raised_again_on_new_evidence(group):
    admin = make_person(group, "周明远-群主", role=MembershipRole.OWNER)
    membership = silent_member(group)
    group_flags_evaluate(group=group)
    flag_dismiss(flag=Flag.objects.get(membership=membership), by=admin.user, reason="在休产假")
    membership.last_message_at = at("2018-04-20", "09:00")  # spoke once more, then silent again
    membership.save()

    group_flags_evaluate(group=group)

    assert flag_rows(group) == [
        ("王芳-云汇支付-架构-上海", "silent", "dismissed", "silent:2018-04-01"),
        ("王芳-云汇支付-架构-上海", "silent", "open", "silent:2018-04-20"),
    ]


def test_silence_over_a_gap_is_reported_and_a_live_flag_is_kept(group):
    membership = silent_member(group)
    group_flags_evaluate(group=group)
    RecordedDay.objects.filter(group=group, day=dt.date(2018, 6, 10)).delete()

    result = group_flags_evaluate(group=group)

    assert [(gap.membership_id, gap.missing_days, gap.first_missing) for gap in result.gaps] == [
        (membership.pk, 1, dt.date(2018, 6, 10))
    ]
    assert Flag.objects.get(membership=membership).status == "open"


def test_silence_over_a_gap_is_never_flagged():
    group = make_group()
    record(group, dt.date(2018, 1, 1), LAST_DAY, skip={dt.date(2018, 6, 1)})
    silent_member(group)

    result = group_flags_evaluate(group=group)

    assert Flag.objects.count() == 0
    assert len(result.gaps) == 1


def test_as_of_an_earlier_day(group):
    silent_member(group)  # last message 2018-04-01

    assert group_flags_evaluate(group=group, as_of=dt.date(2018, 5, 31)).counts()["created"] == 0
    assert group_flags_evaluate(group=group, as_of=dt.date(2018, 6, 1)).counts()["created"] == 1


def test_dry_run_writes_nothing_and_reports_the_same(group):
    silent_member(group)

    dry = group_flags_evaluate(group=group, dry_run=True)

    assert Flag.objects.count() == 0
    assert dry.counts() == group_flags_evaluate(group=group).counts()


def test_left_and_removed_members_are_not_evaluated(group):
    silent_member(group, status=MembershipStatus.LEFT)
    silent_member(group, "李四-银联-产品", status=MembershipStatus.REMOVED)

    assert group_flags_evaluate(group=group).counts()["created"] == 0


def test_evaluation_queries_do_not_grow_with_members(group, django_assert_num_queries):
    silent_member(group)
    group_flags_evaluate(group=group)  # one live flag: the next run only reads
    with django_assert_num_queries(10) as one:  # 7 reads, 1 update, the savepoint pair
        group_flags_evaluate(group=group)
    for n in range(2):
        silent_member(group, f"张{n}-银联-产品")
    group_flags_evaluate(group=group)
    with django_assert_num_queries(len(one.captured_queries)):
        group_flags_evaluate(group=group)


def test_new_flags_send_one_digest_to_the_groups_admins(group, django_capture_on_commit_callbacks):
    owner = make_person(group, "周明远-群主", role=MembershipRole.OWNER)
    owner.user.email = "owner@example.org"
    owner.user.save()
    silent_member(group)
    silent_member(group, "Daniel", last="2018-06-29")

    with django_capture_on_commit_callbacks(execute=True):
        group_flags_evaluate(group=group)
    with django_capture_on_commit_callbacks(execute=True):
        group_flags_evaluate(group=group)  # nothing new: no second mail

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.org"]
    assert "王芳-云汇支付-架构-上海" in mail.outbox[0].body and "Daniel" in mail.outbox[0].body
    assert "/g/prodarch/seats/" in mail.outbox[0].body


# --- Decisions ---


@pytest.fixture
def cast():
    cast = make_cast()
    record(cast.group, dt.date(2018, 1, 1), LAST_DAY)
    cast.silent = silent_member(cast.group, "钱八-易宝-产品")
    group_flags_evaluate(group=cast.group)
    cast.flag = Flag.objects.get(membership=cast.silent)
    return cast


def test_approve_removes_the_membership_with_date_and_who(cast):
    flag = flag_approve(flag=cast.flag, by=cast.admin.user, reason="两个月没发言")

    cast.silent.refresh_from_db()
    assert (flag.status, flag.decided_by, flag.reason) == ("approved", cast.admin.user, "两个月没发言")
    assert cast.silent.status == "removed" and cast.silent.left_at == flag.decided_at
    audit = AuditEntry.objects.get(action="flag_approved")
    assert (audit.actor, audit.target, audit.reason, audit.flag) == (cast.admin.user, "钱八-易宝-产品", "两个月没发言", flag)


def test_reopening_an_approved_flag_gives_the_seat_back(cast):
    MembershipPeriod.objects.create(membership=cast.silent, joined_at=at("2018-01-01", "10:00"))
    flag_approve(flag=cast.flag, by=cast.admin.user)

    flag = flag_reopen(flag=cast.flag, by=cast.admin.user, reason="误判")

    cast.silent.refresh_from_db()
    assert (flag.status, flag.decided_by, cast.silent.status) == ("open", None, "active")
    assert cast.silent.periods.count() == 2
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["flag_approved", "flag_reopened"]


def test_reopening_an_approved_flag_reopens_the_flags_the_approval_resolved(group):
    admin = make_person(group, "管理员-支付社群-运营", role=MembershipRole.OWNER)
    silent = silent_member(group, "Daniel")  # silent, and a nickname flag too
    group_flags_evaluate(group=group)
    silence, nickname = Flag.objects.get(membership=silent, rule="silent"), Flag.objects.get(membership=silent, rule="nickname")
    nickname_was = (nickname.status, nickname.updated_at)
    assert nickname_was[0] == "reminder_due"

    flag_approve(flag=silence, by=admin.user)
    nickname.refresh_from_db()
    assert nickname.status == "resolved"

    flag_reopen(flag=silence, by=admin.user, reason="误判")

    nickname.refresh_from_db()
    assert (nickname.status, nickname.updated_at) == nickname_was
    assert Flag.objects.get(pk=silence.pk).status == "open"
    reopened = AuditEntry.objects.get(action="flag_reopened")
    assert reopened.details == {"rule": "silent", "previous_status": "approved", "reopened_flags": [nickname.pk]}


def test_reopening_an_approval_leaves_a_newer_flag_of_the_same_rule_alone(group):
    admin = make_person(group, "管理员-支付社群-运营", role=MembershipRole.OWNER)
    silent = silent_member(group, "Daniel")
    group_flags_evaluate(group=group)
    silence, nickname = Flag.objects.get(membership=silent, rule="silent"), Flag.objects.get(membership=silent, rule="nickname")
    flag_approve(flag=silence, by=admin.user)
    newer = Flag.objects.create(group=group, membership=silent, rule="nickname", status="open",
                                evidence_key="nickname:Daniel", as_of=LAST_DAY)

    flag_reopen(flag=silence, by=admin.user)

    assert (Flag.objects.get(pk=nickname.pk).status, Flag.objects.get(pk=newer.pk).status) == ("resolved", "open")


def test_dismiss_needs_a_reason_and_writes_nothing_without_one(cast):
    with pytest.raises(ValidationError):
        flag_dismiss(flag=cast.flag, by=cast.admin.user, reason=" ")
    cast.flag.refresh_from_db()
    assert cast.flag.status == "open" and AuditEntry.objects.count() == 0


def test_exempt_sets_the_exemption_and_reopen_takes_it_back(cast):
    until = dt.date.today() + dt.timedelta(days=30)
    flag_exempt(flag=cast.flag, by=cast.admin.user, until=until, reason="海外出差")
    cast.silent.refresh_from_db()
    assert (cast.silent.exempt_until, cast.silent.exempt_reason) == (until, "海外出差")

    flag_reopen(flag=cast.flag, by=cast.admin.user)

    cast.silent.refresh_from_db()
    assert (cast.silent.exempt_until, cast.silent.exempt_reason) == (None, "")
    assert Flag.objects.get(pk=cast.flag.pk).status == "open"


def test_exemption_keeps_the_flag_from_being_raised_again(cast):
    flag_exempt(flag=cast.flag, by=cast.admin.user, until=dt.date.today() + dt.timedelta(days=30), reason="出差")

    assert group_flags_evaluate(group=cast.group).counts()["created"] == 0


@pytest.mark.parametrize("who", ["member", "speaker", "outsider", "other_admin"])
def test_only_the_groups_admins_decide(cast, who):
    user = getattr(cast, who).user
    for decide in (lambda: flag_approve(flag=cast.flag, by=user),
                   lambda: flag_dismiss(flag=cast.flag, by=user, reason="x"),
                   lambda: flag_exempt(flag=cast.flag, by=user, until=dt.date.today(), reason="x")):
        with pytest.raises(PermissionDenied):
            decide()
    cast.flag.refresh_from_db()
    cast.silent.refresh_from_db()
    assert (cast.flag.status, cast.silent.status, AuditEntry.objects.count()) == ("open", "active", 0)


def test_staff_decide_any_group(cast):
    assert flag_dismiss(flag=cast.flag, by=cast.staff.user, reason="ok").status == "dismissed"


def test_bulk_decision_is_all_or_nothing(cast):
    second = silent_member(cast.group, "孙九-快钱-产品")
    group_flags_evaluate(group=cast.group)
    flags = list(Flag.objects.filter(group=cast.group).order_by("id"))
    flag_dismiss(flag=flags[1], by=cast.admin.user, reason="already")  # the second can no longer be approved

    with pytest.raises(ValidationError):
        flags_decide(flags=flags, decision="approve", by=cast.admin.user)

    cast.silent.refresh_from_db()
    assert cast.silent.status == "active"
    assert Flag.objects.get(pk=flags[0].pk).status == "open"
    assert second.pk == flags[1].membership_id


def test_reminders_recorded_move_the_nickname_flag_towards_removal(group):
    admin = make_person(group, "周明远-群主", role=MembershipRole.OWNER)
    membership = silent_member(group, "Daniel", last="2018-06-29")
    group_flags_evaluate(group=group)
    for sent in ("2018-06-01", "2018-06-10"):
        nickname_reminders_record(group=group, memberships=[membership], by=admin.user, sent_at=at(sent, "10:00"))

    result = group_flags_evaluate(group=group)

    assert len(result.updated) == 1
    flag = Flag.objects.get(membership=membership)
    assert (flag.status, flag.evidence["reminders_sent"], flag.evidence["last_reminder"]) == ("open", 2, "2018-06-10")
    assert NicknameReminder.objects.filter(membership=membership, nickname="Daniel").count() == 2


def test_reminders_for_another_groups_member_are_refused(group):
    admin = make_person(group, "周明远-群主", role=MembershipRole.OWNER)
    stranger = silent_member(make_group(), "Daniel")
    with pytest.raises(ValidationError):
        nickname_reminders_record(group=group, memberships=[stranger], by=admin.user)
    assert NicknameReminder.objects.count() == 0


# --- Command and tasks ---


def test_flag_members_command_prints_a_table(group, capsys):
    silent_member(group)
    other = make_group(slug="devarch")
    record(other, dt.date(2018, 6, 1), dt.date(2018, 6, 30))

    call_command("flag_members", "--as-of", "2018-06-30")

    out = capsys.readouterr().out
    assert "devarch as of 2018-06-30" in out and "prodarch as of 2018-06-30" in out
    assert "new     silent  open    王芳-云汇支付-架构-上海" in out
    assert "days_silent=90" in out


def test_flag_members_command_dry_run_and_one_group(group, capsys):
    silent_member(group)

    call_command("flag_members", "--group", "prodarch", "--dry-run")

    assert "(dry run: nothing was written)" in capsys.readouterr().out
    assert Flag.objects.count() == 0


def test_flag_members_command_rejects_unknown_group_and_bad_date(group):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such group"):
        call_command("flag_members", "--group", "nope")
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("flag_members", "--as-of", "30/06/2018")


def test_task_evaluates_the_group_and_all_groups_task_queues_each(group):
    silent_member(group)

    assert task_group_flags_evaluate.delay(group_id=group.pk, as_of="2018-06-30").get()["created"] == 1
    assert task_group_flags_evaluate.delay(group_id=999999).get() is None
    assert task_flags_evaluate_all.delay().get() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_create_each_flag_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (run with TEST_POSTGRES=1)")
    group = make_group()
    record(group, dt.date(2018, 1, 1), LAST_DAY)
    for n in range(20):
        silent_member(group, f"张{n}-银联-产品")
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            group_flags_evaluate(group=group)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Flag.objects.filter(group=group).count() == 20


def test_task_retries_a_temporary_database_error_and_logs_it(group, monkeypatch, caplog):
    from django.db import OperationalError

    calls = []

    def locked(**kwargs):
        calls.append(kwargs)
        raise OperationalError("database is locked")

    from celery.exceptions import Retry

    monkeypatch.setattr("community.tasks.group_flags_evaluate", locked)
    with pytest.raises(Retry, match=r"Retry in \d+s: OperationalError"):  # scheduled again, with backoff
        task_group_flags_evaluate.apply(kwargs={"group_id": group.pk}, throw=True)
    assert len(calls) == 1
    assert task_group_flags_evaluate.max_retries == 5
    assert "flags: group prodarch: temporary database error, retry 1" in caplog.text


def test_task_failure_is_logged_not_silent(group, monkeypatch, caplog):
    def broken(**kwargs):
        raise ValueError("bad evidence")

    monkeypatch.setattr("community.tasks.group_flags_evaluate", broken)
    with pytest.raises(ValueError, match="bad evidence"):
        task_group_flags_evaluate.apply(kwargs={"group_id": group.pk}, throw=True)
    assert "flags: evaluating group prodarch failed" in caplog.text


def test_last_evaluation_is_kept_with_its_gaps_one_row_per_group():
    from community.models import RuleEvaluation

    group = make_group()
    record(group, dt.date(2018, 1, 1), LAST_DAY, skip={dt.date(2018, 6, 1), dt.date(2018, 6, 2)})
    silent_member(group)
    group_flags_evaluate(group=group)
    group_flags_evaluate(group=group)

    evaluation = RuleEvaluation.objects.get(group=group)
    assert evaluation.as_of == LAST_DAY
    assert evaluation.counts["gaps"] == 1
    assert evaluation.gaps == {"members": ["王芳-云汇支付-架构-上海"], "member_count": 1,
                               "first_missing": "2018-06-01", "last_missing": "2018-06-02"}


def test_flag_members_command_quiet_prints_the_counts_only(group, capsys):
    silent_member(group)
    call_command("flag_members", "-v", "0")
    assert capsys.readouterr().out == (
        "prodarch as of 2018-06-30\n"
        "  memberships 1, created 1, updated 0, resolved 0, unchanged 0, gaps 0\n"
    )
