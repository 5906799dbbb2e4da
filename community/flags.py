"""Writes of the group rules: evaluating a group's memberships into flags, the admins'
decisions on them (approve, dismiss, exempt, reopen), reminders sent, and the audit log.

The evaluation is set-based: a fixed number of queries per group whatever its size (the
memberships' facts, the reminders, the recorded days, the flags), the rules themselves in
``community.rules`` as plain functions. A group is evaluated under a lock on its row, and at
most one live flag per membership and rule is a database constraint: running twice, or twice
at once, creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from .access import access_for
from .bulk import rows_update
from .dates import today_in
from .models import (
    ACTIVE_FLAG_STATUSES,
    AuditEntry,
    Flag,
    FlagRule,
    FlagStatus,
    Group,
    Membership,
    MembershipRole,
    MembershipStatus,
    NicknameReminder,
    RecordedDay,
    RuleEvaluation,
)
from .rules import Finding, Gap, MembershipFacts, RuleParams, membership_findings
from .services import membership_join, membership_leave

logger = logging.getLogger(__name__)



@dataclass
class Evaluation:
    """What one evaluation of a group found and did (or would do, in a dry run)."""

    group: Group
    as_of: dt.date
    dry_run: bool
    memberships: int = 0
    created: list[Flag] = field(default_factory=list)
    updated: list[Flag] = field(default_factory=list)
    resolved: list[Flag] = field(default_factory=list)
    unchanged: int = 0
    gaps: list[Gap] = field(default_factory=list)
    # membership id -> the nickname (or display name) it is known by in the group
    names: dict[int, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "memberships": self.memberships, "created": len(self.created), "updated": len(self.updated),
            "resolved": len(self.resolved), "unchanged": self.unchanged, "gaps": len(self.gaps),
        }


def group_rule_params(group: Group) -> RuleParams:
    return RuleParams(
        silence_days=group.silence_days, never_shared_grace_days=group.never_shared_grace_days,
        hosting_counts_as_sharing=group.hosting_counts_as_sharing,
        nickname_reminders=group.nickname_reminders, nickname_grace_days=group.nickname_grace_days,
    )


def group_as_of_default(group: Group) -> dt.date:
    """The group's last imported day (transcripts arrive in batches), or today where nothing is;
    never a day after today (in the group's time zone)."""
    last = RecordedDay.objects.filter(group=group).aggregate(last=Max("day"))["last"]
    today = today_in(group.tz, now=timezone.now())
    return min(last, today) if last else today


def _local(moment: dt.datetime | None, tz) -> dt.date | None:
    return moment.astimezone(tz).date() if moment else None


def _facts(group: Group, names: dict[int, str]) -> list[MembershipFacts]:
    """The facts of every active membership of the group: two queries. Fills ``names``."""
    tz = group.tz
    reminders = {
        (row["membership_id"], row["nickname"]): (row["n"], row["last"])
        for row in NicknameReminder.objects.filter(membership__group=group)
        .values("membership_id", "nickname").annotate(n=Count("id"), last=Max("sent_at"))
    }
    facts = []
    for row in Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE).values(
        "id", "role", "nickname", "joined_at", "last_message_at", "shares_given", "next_share_at", "exempt_until",
        "member__display_name", "talks_hosted", "last_hosted_on",
    ):
        names[row["id"]] = row["nickname"] or row["member__display_name"]
        sent, last = reminders.get((row["id"], row["nickname"].strip()), (0, None))
        facts.append(MembershipFacts(
            membership_id=row["id"], role=row["role"], nickname=row["nickname"],
            joined_on=_local(row["joined_at"], tz), last_message_on=_local(row["last_message_at"], tz),
            shares_given=row["shares_given"], next_share_on=_local(row["next_share_at"], tz),
            exempt_until=row["exempt_until"], reminders_sent=sent, last_reminder_on=_local(last, tz),
            talks_hosted=row["talks_hosted"], last_hosted_on=row["last_hosted_on"],
        ))
    return facts


def _missing_days_reader(group: Group, params: RuleParams, as_of: dt.date):
    """``missing(first, last)``: days of that range absent from the record (one query in all)."""
    first = as_of - dt.timedelta(days=params.silence_days)
    recorded = set(RecordedDay.objects.filter(group=group, day__gte=first, day__lte=as_of).values_list("day", flat=True))

    def missing(start: dt.date, end: dt.date) -> list[dt.date]:
        days = (end - start).days + 1
        return [day for day in (start + dt.timedelta(days=i) for i in range(days)) if day not in recorded]

    return missing


def group_flags_evaluate(*, group: Group, as_of: dt.date | None = None, dry_run: bool = False) -> Evaluation:
    """Evaluate every active membership of the group as of a day (default: the last imported
    day) and make the flags match: new findings become flags, live flags get their current
    evidence, live flags whose member complies again are resolved. A finding whose evidence an
    admin dismissed is not raised again. A dry run writes nothing and reports the same.

    The rules never judge as of a day in the future: an ``as_of`` after today (in the group's
    time zone) is taken as today (``Evaluation.as_of`` says which day was judged)."""
    with transaction.atomic():
        # Serialises evaluations of one group (SQLite serialises every write transaction anyway).
        Group.objects.select_for_update().filter(pk=group.pk).first()
        as_of = min(as_of, today_in(group.tz, now=timezone.now())) if as_of else group_as_of_default(group)
        params = group_rule_params(group)
        result = Evaluation(group=group, as_of=as_of, dry_run=dry_run)
        facts = _facts(group, result.names)
        result.memberships = len(facts)
        missing = _missing_days_reader(group, params, as_of)
        live = {
            (flag.membership_id, flag.rule): flag
            for flag in Flag.objects.filter(group=group).active().select_related("membership__member")
        }
        dismissed = set(
            Flag.objects.filter(group=group, status=FlagStatus.DISMISSED).values_list("membership_id", "rule", "evidence_key")
        )
        now = timezone.now()
        found: set[tuple[int, str]] = set()
        gapped: set[int] = set()
        for fact in facts:
            findings, gap = membership_findings(fact, params, as_of, missing)
            if gap is not None:
                result.gaps.append(gap)
                gapped.add(fact.membership_id)
            for finding in findings:
                if (fact.membership_id, finding.rule, finding.evidence_key) in dismissed:
                    continue
                found.add((fact.membership_id, finding.rule))
                _apply_finding(result, live.get((fact.membership_id, finding.rule)), fact, finding, group, as_of, now)
        for (membership_id, rule), flag in live.items():
            if (membership_id, rule) in found:
                continue
            if rule == FlagRule.SILENT and membership_id in gapped:
                continue  # silence over a gap is not judged either way
            flag.status = FlagStatus.RESOLVED
            flag.evidence = {**flag.evidence, "resolved_as_of": as_of.isoformat()}
            flag.updated_at = now
            result.resolved.append(flag)
        if dry_run:
            transaction.set_rollback(True)
            return result
        Flag.objects.bulk_create(result.created, ignore_conflicts=True)
        rows_update(result.updated + result.resolved, ["status", "evidence", "evidence_key", "as_of", "updated_at"])
        if result.resolved:
            AuditEntry.objects.bulk_create([
                AuditEntry(group=group, action="flag_resolved", flag=flag, target=_flag_target(flag),
                           details={"rule": flag.rule, "as_of": as_of.isoformat()}, reason=_("The member complies again."))
                for flag in result.resolved
            ])
        summary = {"as_of": as_of, "ran_at": now, "counts": result.counts(), "gaps": _gaps_summary(result)}
        if not RuleEvaluation.objects.filter(group=group).update(**summary):  # the group's row, kept current
            RuleEvaluation.objects.create(group=group, **summary)
        if result.created:
            created_ids = [flag.membership_id for flag in result.created]
            transaction.on_commit(lambda: flags_digest_send(group_id=group.pk, membership_ids=created_ids))
    return result


def _gaps_summary(result: Evaluation) -> dict:
    """Who could not be judged for silence, and which days of the record are missing."""
    if not result.gaps:
        return {}
    return {
        "members": sorted(result.names.get(gap.membership_id, "?") for gap in result.gaps)[:100],
        "member_count": len(result.gaps),
        "first_missing": min(gap.first_missing for gap in result.gaps).isoformat(),
        "last_missing": max(gap.last_missing for gap in result.gaps).isoformat(),
    }


def _apply_finding(result: Evaluation, flag: Flag | None, fact: MembershipFacts, finding: Finding, group: Group,
                   as_of: dt.date, now: dt.datetime) -> None:
    if flag is None:
        result.created.append(Flag(
            group=group, membership_id=fact.membership_id, rule=finding.rule, status=finding.status,
            evidence=finding.evidence, evidence_key=finding.evidence_key, as_of=as_of, created_at=now, updated_at=now,
        ))
        return
    if (flag.status, flag.evidence, flag.evidence_key) == (finding.status, finding.evidence, finding.evidence_key):
        result.unchanged += 1
        return
    flag.status, flag.evidence, flag.evidence_key, flag.as_of, flag.updated_at = (
        finding.status, finding.evidence, finding.evidence_key, as_of, now,
    )
    result.updated.append(flag)


def _flag_target(flag: Flag) -> str:
    membership = flag.membership
    return membership.nickname or membership.member.display_name


def flags_digest_send(*, group_id: int, membership_ids: list[int]) -> int:
    """One e-mail to the group's admins that have an address, listing the new flags. Returns
    the number of recipients (0 when nobody has an address)."""
    group = Group.objects.get(pk=group_id)
    recipients = sorted(set(
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE, role__in=[MembershipRole.OWNER, MembershipRole.ADMIN])
        .exclude(member__user__email="").exclude(member__user__isnull=True)
        .values_list("member__user__email", flat=True)
    ))
    if not recipients:
        return 0
    flags = (
        Flag.objects.filter(group=group, membership_id__in=membership_ids).active()
        .select_related("membership__member").order_by("rule", "membership__nickname")
    )
    labels = dict(FlagRule.choices)
    lines = [f"- {labels[flag.rule]}: {flag.membership.nickname or flag.membership.member.display_name}" for flag in flags]
    counts = Counter(flag.rule for flag in flags)
    subject = _("%(group)s: %(count)d new flags to review") % {"group": group.name, "count": sum(counts.values())}
    body = "\n".join([
        _("New flags in %(group)s, for you to review before anyone is reminded or removed:") % {"group": group.name},
        "", *lines, "",
        _("Review them at %(url)s") % {"url": settings.SITE_URL.rstrip("/") + f"/g/{group.slug}/seats/"},
    ])
    send_mail(subject, body, None, recipients)
    return len(recipients)


# --- Decisions ---------------------------------------------------------------------------------


def _audit(*, flag: Flag, action: str, by, reason: str = "", **details) -> AuditEntry:
    return AuditEntry.objects.create(
        group_id=flag.group_id, actor=by, action=action, flag=flag, target=_flag_target(flag),
        details={"rule": flag.rule, **details}, reason=reason[:300],
    )


def _locked(flag: Flag, by) -> Flag:
    if not access_for(by, flag.group).is_admin:
        raise PermissionDenied(_("Only the group's admins decide its flags."))
    return Flag.objects.select_for_update().select_related("membership__member", "group").get(pk=flag.pk)


@transaction.atomic
def flag_approve(*, flag: Flag, by, reason: str = "") -> Flag:
    """Approve the removal: the membership becomes removed (dated, by whom) and appears on the
    export for removal in WeChat; its other live flags are resolved by this decision, and the
    decision's audit entry keeps them as they were (``details["resolved_flags"]``) so that
    reopening the flag puts them back."""
    flag = _locked(flag, by)
    if flag.status != FlagStatus.OPEN:
        raise ValidationError(_("Only an open flag can be approved."), code="not_open")
    now = timezone.now()
    membership_leave(membership=flag.membership, left_at=now, status=MembershipStatus.REMOVED)
    others = Flag.objects.select_for_update().filter(
        membership=flag.membership, status__in=ACTIVE_FLAG_STATUSES).exclude(pk=flag.pk)
    resolved = [{"id": pk, "status": status, "updated_at": updated_at.isoformat()}
                for pk, status, updated_at in others.order_by("id").values_list("id", "status", "updated_at")]
    others.update(status=FlagStatus.RESOLVED, updated_at=now)
    flag.status, flag.decided_by, flag.decided_at, flag.reason, flag.updated_at = FlagStatus.APPROVED, by, now, reason[:300], now
    flag.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    _audit(flag=flag, action="flag_approved", by=by, reason=reason, **({"resolved_flags": resolved} if resolved else {}))
    return flag


@transaction.atomic
def flag_dismiss(*, flag: Flag, by, reason: str) -> Flag:
    """Dismiss the flag, with a reason: it is not raised again for the same evidence."""
    if not reason.strip():
        raise ValidationError(_("Say why the flag is dismissed."), code="reason_required")
    flag = _locked(flag, by)
    if flag.status not in ACTIVE_FLAG_STATUSES:
        raise ValidationError(_("This flag was already decided."), code="decided")
    now = timezone.now()
    flag.status, flag.decided_by, flag.decided_at, flag.reason, flag.updated_at = FlagStatus.DISMISSED, by, now, reason[:300], now
    flag.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    _audit(flag=flag, action="flag_dismissed", by=by, reason=reason, evidence_key=flag.evidence_key)
    return flag


@transaction.atomic
def flag_exempt(*, flag: Flag, by, until: dt.date, reason: str) -> Flag:
    """Exempt the member from the group's rules until a day, with a reason."""
    if not reason.strip():
        raise ValidationError(_("Say why the member is exempted."), code="reason_required")
    flag = _locked(flag, by)
    if flag.status not in ACTIVE_FLAG_STATUSES:
        raise ValidationError(_("This flag was already decided."), code="decided")
    if until < timezone.now().astimezone(flag.group.tz).date():
        raise ValidationError(_("An exemption must last until today or later."), code="past")
    membership = flag.membership
    previous = {"exempt_until": membership.exempt_until.isoformat() if membership.exempt_until else None,
                "exempt_reason": membership.exempt_reason}
    membership.exempt_until, membership.exempt_reason = until, reason[:200]
    membership.save(update_fields=["exempt_until", "exempt_reason"])
    now = timezone.now()
    flag.status, flag.decided_by, flag.decided_at, flag.reason, flag.updated_at = FlagStatus.EXEMPTED, by, now, reason[:300], now
    flag.evidence = {**flag.evidence, "exempt_until": until.isoformat(), "previous_exemption": previous}
    flag.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at", "evidence"])
    _audit(flag=flag, action="flag_exempted", by=by, reason=reason, until=until.isoformat())
    return flag


@transaction.atomic
def flag_reopen(*, flag: Flag, by, reason: str = "") -> Flag:
    """Reverse a decision: an approved removal gives the seat back (a new membership period) and
    reopens the member's other flags it resolved (as they were, unless the rules have since
    raised a newer one for that rule), an exemption is withdrawn (the one before it restored);
    the flag is open again."""
    flag = _locked(flag, by)
    if flag.status not in (FlagStatus.APPROVED, FlagStatus.DISMISSED, FlagStatus.EXEMPTED):
        raise ValidationError(_("Only a decided flag can be reopened."), code="not_decided")
    if Flag.objects.filter(membership=flag.membership, rule=flag.rule).active().exists():
        raise ValidationError(_("A newer flag for this rule is already open."), code="newer")
    membership = flag.membership
    was = flag.status
    reopened: list[int] = []
    if was == FlagStatus.APPROVED:
        membership_join(membership=membership, joined_at=timezone.now())
        reopened = _decision_resolved_restore(flag)
    elif was == FlagStatus.EXEMPTED:
        previous = flag.evidence.get("previous_exemption") or {}
        until = previous.get("exempt_until")
        membership.exempt_until = dt.date.fromisoformat(until) if until else None
        membership.exempt_reason = previous.get("exempt_reason", "") if until else ""
        membership.save(update_fields=["exempt_until", "exempt_reason"])
    status = FlagStatus.REMINDER_DUE if flag.rule == FlagRule.NICKNAME and flag.evidence.get(
        "reminders_sent", 0) < flag.evidence.get("reminders_needed", 0) else FlagStatus.OPEN
    flag.status, flag.decided_by, flag.decided_at, flag.reason, flag.updated_at = status, None, None, "", timezone.now()
    flag.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    details = {"previous_status": was, **({"reopened_flags": reopened} if reopened else {})}
    _audit(flag=flag, action="flag_reopened", by=by, reason=reason, **details)
    return flag


def _decision_resolved_restore(flag: Flag) -> list[int]:
    """The flags the approval resolved (kept by its audit entry), put back as they were: those
    still resolved, for a rule with no live flag now (the rules may have raised a newer one
    since). Returns their ids."""
    approval = AuditEntry.objects.filter(flag=flag, action="flag_approved").order_by("-at", "-id").first()
    details = approval.details if approval is not None and isinstance(approval.details, dict) else {}
    recorded = {row["id"]: row for row in details.get("resolved_flags") or ()}
    if not recorded:
        return []
    live_rules = set(Flag.objects.filter(membership_id=flag.membership_id).active().values_list("rule", flat=True))
    restored = []
    for other in Flag.objects.select_for_update().filter(pk__in=list(recorded), status=FlagStatus.RESOLVED).order_by("id"):
        if other.rule in live_rules:
            continue
        row = recorded[other.pk]
        other.status, other.updated_at = row["status"], dt.datetime.fromisoformat(row["updated_at"])
        other.save(update_fields=["status", "updated_at"])
        live_rules.add(other.rule)
        restored.append(other.pk)
    return restored


FLAG_DECISIONS = {"approve": flag_approve, "dismiss": flag_dismiss, "exempt": flag_exempt, "reopen": flag_reopen}


@transaction.atomic
def flags_decide(*, flags: list[Flag], decision: str, by, **arguments) -> list[Flag]:
    """The same decision on several flags, all or nothing."""
    if decision not in FLAG_DECISIONS:
        raise ValueError(f"unknown decision: {decision}")
    return [FLAG_DECISIONS[decision](flag=flag, by=by, **arguments) for flag in flags]


@transaction.atomic
def nickname_reminders_record(*, group: Group, memberships: list[Membership], by,
                              sent_at: dt.datetime | None = None) -> list[NicknameReminder]:
    """Record that the members were reminded (in WeChat) to fix their nickname: one reminder
    each, for the nickname they have now."""
    if not access_for(by, group).is_admin:
        raise PermissionDenied(_("Only the group's admins record reminders."))
    if any(membership.group_id != group.pk for membership in memberships):
        raise ValidationError(_("Every member reminded must be in this group."), code="other_group")
    sent_at = sent_at or timezone.now()
    reminders = NicknameReminder.objects.bulk_create([
        NicknameReminder(membership=membership, nickname=membership.nickname.strip(), sent_at=sent_at, recorded_by=by)
        for membership in memberships
    ])
    AuditEntry.objects.bulk_create([
        AuditEntry(group=group, actor=by, action="nickname_reminded", target=membership.nickname,
                   details={"nickname": membership.nickname.strip()})
        for membership in memberships
    ])
    return reminders
