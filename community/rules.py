"""The group rules (GROUP_RULES.md), as plain functions of a membership's facts.

Nothing here reads the database: ``community.flags`` loads the facts of all memberships
of a group in a few set-based queries, calls ``membership_findings`` for each, and writes
the flags. Every day is a date in the group's time zone; "as of" is the last day the rules
may look at (by default the group's last imported day).

* **silent** — no message for more than ``silence_days`` days (a member who never wrote
  counts from the day they joined). The window of ``silence_days + 1`` days ending on the
  as-of day must be fully recorded: a day missing from the record is a gap, and silence over
  a gap is never flagged (it is reported instead).
* **never shared** — no delivered share and none scheduled, more than
  ``never_shared_grace_days`` days after joining. Hosting is contributing: when the group's
  ``hosting_counts_as_sharing`` is on (the default), a member who hosted a talk since joining
  (announced it, called the sign-ins or invited the speaker) is not flagged. The evidence gives
  the talks hosted whenever there are some.
* **nickname** — a known group nickname that does not read ``姓名-公司-岗位[-地区]``: a
  reminder is due until ``nickname_reminders`` reminders were sent; then, once
  ``nickname_grace_days`` have passed since the last one, the flag is open for removal.

Exempt: the owner and admins (every rule); a member with an upcoming scheduled share
(silent, never shared); a member an admin exempted until a day on or after the as-of day
(every rule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .names import parse_nickname

SILENT = "silent"
NEVER_SHARED = "never_shared"
NICKNAME = "nickname"
REMINDER_DUE = "reminder_due"
OPEN = "open"


@dataclass(frozen=True)
class RuleParams:
    silence_days: int = 60
    never_shared_grace_days: int = 60
    hosting_counts_as_sharing: bool = True
    nickname_reminders: int = 2
    nickname_grace_days: int = 7


@dataclass(frozen=True)
class MembershipFacts:
    """What the rules know of one membership; every day in the group's time zone."""

    membership_id: int
    role: str
    nickname: str
    joined_on: dt.date | None
    last_message_on: dt.date | None
    shares_given: int
    next_share_on: dt.date | None
    exempt_until: dt.date | None
    reminders_sent: int  # reminders recorded for the current nickname
    last_reminder_on: dt.date | None
    talks_hosted: int = 0
    last_hosted_on: dt.date | None = None


@dataclass(frozen=True)
class Finding:
    """A rule that applies to a membership, as of a day: status, evidence and its key."""

    rule: str
    status: str
    evidence: dict
    evidence_key: str


@dataclass(frozen=True)
class Gap:
    """Silence that cannot be judged because days of its window are missing from the record."""

    membership_id: int
    missing_days: int
    first_missing: dt.date
    last_missing: dt.date


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def membership_findings(facts: MembershipFacts, params: RuleParams, as_of: dt.date,
                        missing_days: Callable[[dt.date, dt.date], list[dt.date]]) -> tuple[list[Finding], Gap | None]:
    """The rules that apply to one membership as of a day, and the gap that kept silence from
    being judged (if any). ``missing_days(first, last)`` gives the days of that closed range
    missing from the group's record."""
    if facts.role in ("owner", "admin"):
        return [], None
    if facts.exempt_until is not None and facts.exempt_until >= as_of:
        return [], None
    findings: list[Finding] = []
    gap = None
    upcoming_share = facts.next_share_on is not None and facts.next_share_on >= as_of
    if not upcoming_share:
        silent, gap = _silent(facts, params, as_of, missing_days)
        if silent:
            findings.append(silent)
        never = _never_shared(facts, params, as_of)
        if never:
            findings.append(never)
    nickname = _nickname(facts, params, as_of)
    if nickname:
        findings.append(nickname)
    return findings, gap


def _silent(facts: MembershipFacts, params: RuleParams, as_of: dt.date,
            missing_days: Callable[[dt.date, dt.date], list[dt.date]]) -> tuple[Finding | None, Gap | None]:
    since = facts.last_message_on or facts.joined_on
    if since is None or since > as_of:
        return None, None
    days = (as_of - since).days
    if days <= params.silence_days:
        return None, None
    window_start = as_of - dt.timedelta(days=params.silence_days)
    missing = missing_days(window_start, as_of)
    if missing:
        return None, Gap(facts.membership_id, len(missing), missing[0], missing[-1])
    evidence = {
        "last_message": _iso(facts.last_message_on),
        "joined": _iso(facts.joined_on),
        "counted_from": "last_message" if facts.last_message_on else "joined",
        "days_silent": days,
        "silence_days": params.silence_days,
        "as_of": as_of.isoformat(),
        "shares_given": facts.shares_given,
        "next_share": _iso(facts.next_share_on),
    }
    return Finding(SILENT, OPEN, evidence, f"silent:{since.isoformat()}"), None


def _never_shared(facts: MembershipFacts, params: RuleParams, as_of: dt.date) -> Finding | None:
    if facts.shares_given > 0 or facts.joined_on is None:
        return None
    hosted_since_joining = facts.last_hosted_on is not None and facts.last_hosted_on >= facts.joined_on
    if params.hosting_counts_as_sharing and facts.talks_hosted > 0 and hosted_since_joining:
        return None
    days = (as_of - facts.joined_on).days
    if days <= params.never_shared_grace_days:
        return None
    evidence = {
        "joined": facts.joined_on.isoformat(),
        "days_since_joining": days,
        "grace_days": params.never_shared_grace_days,
        "shares_given": 0,
        "next_share": _iso(facts.next_share_on),
        "last_message": _iso(facts.last_message_on),
        "as_of": as_of.isoformat(),
    }
    if facts.talks_hosted:
        # Hosted, yet flagged: the group does not count hosting as sharing, or it was before joining.
        evidence.update(talks_hosted=facts.talks_hosted, last_hosted=_iso(facts.last_hosted_on),
                        hosting_counts_as_sharing=params.hosting_counts_as_sharing)
    return Finding(NEVER_SHARED, OPEN, evidence, f"never_shared:{facts.joined_on.isoformat()}")


def _nickname(facts: MembershipFacts, params: RuleParams, as_of: dt.date) -> Finding | None:
    nickname = facts.nickname.strip()
    if not nickname or parse_nickname(nickname) is not None:
        return None  # unknown nicknames are not judged
    sent = facts.reminders_sent
    status = REMINDER_DUE
    grace_ends = None
    if sent >= params.nickname_reminders:
        last = facts.last_reminder_on or as_of
        grace_ends = last + dt.timedelta(days=params.nickname_grace_days)
        if as_of >= grace_ends:
            status = OPEN
    evidence = {
        "nickname": nickname,
        "form": "姓名-公司-岗位[-地区]",
        "reminders_sent": sent,
        "reminders_needed": params.nickname_reminders,
        "last_reminder": _iso(facts.last_reminder_on),
        "grace_ends": _iso(grace_ends),
        "as_of": as_of.isoformat(),
    }
    return Finding(NICKNAME, status, evidence, f"nickname:{nickname}")
