"""Privacy requests: a member's data exported, or erased, by staff, each with an audit entry.

``community`` never imports ``shares`` or ``importer``: each app registers what it holds about
a member with ``register_member_exporter`` (its part of the export) and
``register_member_eraser`` (what it anonymises, in the erasure's transaction), from its
``AppConfig.ready()``.

Erasure keeps the record whole: the member row stays (as "已注销成员 #id", every personal field
emptied, unlinked from its login), so that their messages, shares and sign-ins stay counted and
read as from an anonymous member. What goes: their names, their profile, the nicknames written
on their memberships, messages, reminders, flags and audit entries, and the suggested links
between them and others. Their ``Name`` rows being gone, a later import that meets one of their
old nicknames creates a new member for it (the importer cannot link it to the erased person).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    Application,
    AuditEntry,
    Flag,
    Member,
    MemberMerge,
    Membership,
    Message,
    Name,
    NameLink,
    NicknameReminder,
)

# ``exporter(member) -> JSON-able value``, listed in the export under its label.
MemberExporter = Callable[[Member], Any]
# ``eraser(*, member, anonymous_name) -> {label: rows changed}``, run inside the erasure.
MemberEraser = Callable[..., "dict[str, int]"]
_exporters: dict[str, MemberExporter] = {}
_erasers: list[MemberEraser] = []

ERASED_NAME = "已注销成员 #{id}"


def register_member_exporter(label: str, exporter: MemberExporter) -> None:
    """Register ``exporter(member)``: its value is the export's ``label`` entry."""
    _exporters[label] = exporter


def register_member_eraser(eraser: MemberEraser) -> None:
    """Register ``eraser(*, member, anonymous_name)``: it removes or anonymises an app's personal
    data about ``member`` inside the erasure's transaction, and returns its counts by label."""
    if eraser not in _erasers:
        _erasers.append(eraser)


def _staff_only(by) -> None:
    if not getattr(by, "is_staff", False):
        raise PermissionDenied("Only staff export or erase a member's data.")


def moment(value: dt.datetime | dt.date | None) -> str | None:
    """A moment in UTC (ISO 8601), a day as ``YYYY-MM-DD``, or None: how the export writes time."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _audit(*, action: str, member: Member, by, reason: str = "", **details) -> AuditEntry:
    # Which member and who: never their names or other personal data.
    return AuditEntry.objects.create(actor=by, action=action, target=f"member #{member.pk}",
                                     details={"member_id": member.pk, **details}, reason=reason[:300])


@transaction.atomic
def member_data_export(*, member: Member, by) -> dict:
    """Everything the site holds about ``member``, as JSON-able data: the member, their names,
    memberships (with periods, flags and nickname reminders), the messages they sent, their
    applications, and what the other apps registered (shares given, sign-ins). Staff only;
    audited as ``member_data_exported``. A constant number of queries plus the exporters'."""
    _staff_only(by)
    memberships = list(
        Membership.objects.filter(member=member).select_related("group")
        .prefetch_related("periods", "flags", "nickname_reminders").order_by("group__slug")
    )
    data = {
        "exported_at": moment(timezone.now()),
        "member": {
            "id": member.pk, "display_name": member.display_name, "name": member.name, "company": member.company,
            "position": member.position, "city": member.city, "wechat_id": member.wechat_id,
            "login": member.user.get_username() if member.user_id else None, "created_at": moment(member.created_at),
        },
        "names": [
            {"name": row.name, "group": row.group.slug if row.group_id else None, "source": row.source,
             "first_seen": moment(row.first_seen), "last_seen": moment(row.last_seen), "times_seen": row.times_seen}
            for row in Name.objects.filter(member=member).select_related("group").order_by("first_seen", "id")
        ],
        "memberships": [_membership_data(membership) for membership in memberships],
        "messages": [
            {"group": slug, "sent_at": moment(sent_at), "kind": kind, "text": text, "url": url}
            for slug, sent_at, kind, text, url in Message.objects.filter(sender=member).order_by("sent_at", "id")
            .values_list("group__slug", "sent_at", "kind", "text", "url")
        ],
        "applications": [
            {"group": row.group.slug, "name": row.name, "company": row.company, "position": row.position,
             "city": row.city, "wechat_id": row.wechat_id, "share_topic": row.share_topic,
             "share_abstract": row.share_abstract, "status": row.status, "created_at": moment(row.created_at)}
            for row in Application.objects.filter(member=member).select_related("group").order_by("created_at", "id")
        ],
    }
    for label, exporter in _exporters.items():
        data[label] = exporter(member)
    _audit(action="member_data_exported", member=member, by=by)
    return data


def _membership_data(membership: Membership) -> dict:
    return {
        "group": membership.group.slug, "nickname": membership.nickname, "role": membership.role,
        "status": membership.status, "joined_at": moment(membership.joined_at), "left_at": moment(membership.left_at),
        "exempt_until": moment(membership.exempt_until), "exempt_reason": membership.exempt_reason,
        "periods": [
            {"joined_at": moment(period.joined_at), "left_at": moment(period.left_at), "left_reason": period.left_reason}
            for period in membership.periods.all()
        ],
        "flags": [
            {"rule": flag.rule, "status": flag.status, "as_of": moment(flag.as_of), "evidence": flag.evidence,
             "created_at": moment(flag.created_at), "decided_at": moment(flag.decided_at), "reason": flag.reason}
            for flag in sorted(membership.flags.all(), key=lambda flag: (flag.created_at, flag.pk))
        ],
        "nickname_reminders": [
            {"nickname": reminder.nickname, "sent_at": moment(reminder.sent_at)}
            for reminder in membership.nickname_reminders.all()
        ],
    }


@transaction.atomic
def member_erase(*, member: Member, by, reason: str) -> dict[str, int]:
    """Erase ``member``'s personal data, keeping the record: the member row becomes
    "已注销成员 #id" with every personal field empty and no login; their names, the suggested
    links involving them and their applications are deleted; the nicknames on their
    memberships, their messages' sender name, their nickname reminders, their flags' evidence
    and the audit entries about them read the anonymous name. Messages, shares and sign-ins
    stay, counted as before. Staff only, with a reason; audited as ``member_erased`` (the
    member's id and the counts, nothing personal). Returns the counts by label."""
    _staff_only(by)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the member's data is erased.")})
    member = Member.objects.select_for_update().get(pk=member.pk)
    anonymous = ERASED_NAME.format(id=member.pk)
    memberships = Membership.objects.filter(member=member)
    flags = Flag.objects.filter(membership__in=memberships)
    # The audit entries that name them (a flag decided, a reminder, an application): by their
    # flags, or by a nickname or an application's "name-company" they carried.
    nicknames = set(memberships.exclude(nickname="").values_list("nickname", flat=True))
    applications = Application.objects.filter(member=member)
    targets = nicknames | {f"{name}-{company}" for name, company in applications.values_list("name", "company")}
    counts = {
        "names": Name.objects.filter(member=member).delete()[0],
        "name_links": NameLink.objects.filter(Q(member=member) | Q(other=member)).delete()[0],
        "applications": applications.delete()[0],
        "audit_entries": AuditEntry.objects.filter(Q(flag__in=flags) | Q(target__in=targets))
        .update(target=anonymous, details={}),
        "messages": Message.objects.filter(sender=member).update(sender_name=anonymous),
        "nickname_reminders": NicknameReminder.objects.filter(membership__in=memberships).update(nickname=anonymous),
        "flags": flags.update(evidence={}),
        "merges": MemberMerge.objects.filter(into=member).update(merged_name=anonymous, evidence={}),
        "memberships": memberships.update(nickname=anonymous),
    }
    for eraser in _erasers:
        counts.update(eraser(member=member, anonymous_name=anonymous))
    member.display_name, member.user = anonymous, None
    member.name = member.company = member.position = member.city = member.wechat_id = ""
    member.save(update_fields=["display_name", "user", "name", "company", "position", "city", "wechat_id"])
    _audit(action="member_erased", member=member, by=by, reason=reason, counts=counts)
    return counts
