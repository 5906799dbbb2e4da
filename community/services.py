"""Writes of groups, members, names and memberships.

Every write with a rule or a side effect goes through a function here (or in the
services of the app that owns the data). Nothing here imports ``shares`` or ``importer``:
apps that hold rows pointing at a member register a mover with
``register_member_mover`` so that a merge moves them too, in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bulk import rows_update
from .models import (
    AuditEntry,
    Group,
    Invitation,
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    Message,
    Name,
    NameLink,
    NameLinkStatus,
)
from .names import is_weak_name, normalize_name, parse_nickname
from .permissions import is_group_admin

MemberMover = Callable[[Member, Member], None]
_member_movers: list[MemberMover] = []


def register_member_mover(mover: MemberMover) -> None:
    """Register ``mover(into, other)``: it repoints an app's rows from ``other`` to ``into``."""
    if mover not in _member_movers:
        _member_movers.append(mover)


def member_parts_update(*, member: Member, nickname: str) -> bool:
    """Fill the member's name, company, position and city from a well-formed nickname.

    Returns True when something changed (the caller saves)."""
    parts = parse_nickname(nickname)
    if parts is None:
        return False
    changed = False
    for field, value in (("name", parts.name), ("company", parts.company), ("position", parts.position), ("city", parts.city)):
        if value and getattr(member, field) != value:
            setattr(member, field, value)
            changed = True
    if member.display_name != nickname:
        member.display_name = nickname
        changed = True
    return changed


def _merge_membership(into: Membership, other: Membership) -> None:
    into.message_count += other.message_count
    into.shares_given += other.shares_given
    into.sign_in_count += other.sign_in_count
    if other.last_message_at and (into.last_message_at is None or other.last_message_at > into.last_message_at):
        into.last_message_at = other.last_message_at
    if other.joined_at and (into.joined_at is None or other.joined_at < into.joined_at):
        into.joined_at = other.joined_at
    if other.next_share_at and (into.next_share_at is None or other.next_share_at < into.next_share_at):
        into.next_share_at = other.next_share_at
    if not into.nickname:
        into.nickname = other.nickname
    # The higher role wins: an admin merged with their own alias stays admin.
    rank = {"owner": 0, "admin": 1, "member": 2}
    if rank[other.role] < rank[into.role]:
        into.role = other.role
    into.save()
    other.periods.all().delete()
    other.delete()


def _names_move(into: Member, other: Member) -> None:
    """``other``'s names become ``into``'s; a name both had keeps one row with both histories."""
    mine = {(n.group_id, n.normalized, n.source): n for n in Name.objects.filter(member=into)}
    move, drop, update = [], [], []
    for name in Name.objects.filter(member=other):
        same = mine.get((name.group_id, name.normalized, name.source))
        if same is None:
            move.append(name.pk)
            continue
        same.times_seen += name.times_seen
        same.first_seen = min(filter(None, [same.first_seen, name.first_seen]), default=None)
        same.last_seen = max(filter(None, [same.last_seen, name.last_seen]), default=None)
        update.append(same)
        drop.append(name.pk)
    Name.objects.filter(pk__in=drop).delete()
    Name.objects.filter(pk__in=move).update(member=into)
    Name.objects.bulk_update(update, ["times_seen", "first_seen", "last_seen"])


@transaction.atomic
def member_merge(*, into: Member, other: Member, evidence: dict, reason: str = "", by=None, automatic: bool = True) -> MemberMerge:
    """Merge ``other`` into ``into``: messages, names, memberships, and every app's rows
    (sign-ins, shares, …) move; ``other`` is deleted; the merge and its evidence are recorded."""
    if into.pk == other.pk:
        raise ValueError("A member cannot be merged into itself.")
    Message.objects.filter(sender=other).update(sender=into)
    _names_move(into, other)
    for membership in Membership.objects.filter(member=other):
        existing = Membership.objects.filter(member=into, group=membership.group_id).first()
        if existing is None:
            membership.member = into
            membership.save(update_fields=["member"])
        else:
            _merge_membership(existing, membership)
    NameLink.objects.filter(Q(member=other, other=into) | Q(member=into, other=other)).delete()
    NameLink.objects.filter(member=other).update(member=into)
    NameLink.objects.filter(other=other).update(other=into)
    for mover in _member_movers:
        mover(into, other)
    if other.user_id and not into.user_id:
        into.user_id, other.user_id = other.user_id, None
        other.save(update_fields=["user"])
        into.save(update_fields=["user"])
    record = MemberMerge.objects.create(
        into=into, merged_name=other.display_name, merged_member_id=other.pk,
        evidence=evidence, reason=reason, automatic=automatic, by=by,
    )
    MemberMerge.objects.filter(into=other).update(into=into)
    other.delete()
    return record


def name_link_suggest(*, member: Member, other: Member, group_id: int | None, evidence: dict) -> None:
    """Keep a weak candidate link for an admin to confirm or reject (never twice for a pair)."""
    first, second = sorted([member.pk, other.pk])
    NameLink.objects.get_or_create(
        member_id=first, other_id=second,
        defaults={"group_id": group_id, "evidence": evidence, "status": NameLinkStatus.SUGGESTED},
    )


def membership_facts_refresh(*, group_id: int, member_ids: Iterable[int] | None = None) -> int:
    """Recompute ``message_count`` and ``last_message_at`` from the record, set-based.

    One aggregate query and one bulk update, whatever the number of members."""
    memberships = Membership.objects.filter(group_id=group_id)
    if member_ids is not None:
        memberships = memberships.filter(member_id__in=list(member_ids))
    stats = {
        row["sender_id"]: row
        for row in Message.objects.filter(group_id=group_id, sender_id__in=memberships.values("member_id"))
        .values("sender_id")
        .annotate(n=Count("id"), last=Max("sent_at"))
    }
    changed = []
    for membership in memberships.only("id", "member_id", "message_count", "last_message_at"):
        row = stats.get(membership.member_id)
        count, last = (row["n"], row["last"]) if row else (0, None)
        if (membership.message_count, membership.last_message_at) != (count, last):
            membership.message_count, membership.last_message_at = count, last
            changed.append(membership)
    rows_update(changed, ["message_count", "last_message_at"])
    return len(changed)


def membership_join(*, membership: Membership, joined_at: dt.datetime) -> None:
    """Open a membership period (a returning member gets a new one) and mark it active."""
    if membership.periods.filter(left_at__isnull=True).exists():
        return
    MembershipPeriod.objects.create(membership=membership, joined_at=joined_at)
    membership.status = MembershipStatus.ACTIVE
    membership.left_at = None
    if membership.joined_at is None or joined_at < membership.joined_at:
        membership.joined_at = joined_at
    membership.save(update_fields=["status", "left_at", "joined_at"])


def membership_leave(*, membership: Membership, left_at: dt.datetime | None = None,
                     status: str = MembershipStatus.LEFT) -> None:
    """Close the open period and mark the membership left (or removed), dated."""
    left_at = left_at or timezone.now()
    period = membership.periods.filter(left_at__isnull=True).first()
    if period is not None:
        period.left_at = max(left_at, period.joined_at)
        period.left_reason = status
        period.save(update_fields=["left_at", "left_reason"])
    membership.status = status
    membership.left_at = left_at
    membership.save(update_fields=["status", "left_at"])


def is_strong_name(name: str) -> bool:
    return not is_weak_name(name) and bool(normalize_name(name))


# Logins for members: invitations and accounts created by a group's admins.

INVITATION_DAYS_VALID = 14


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def member_login_authorize(*, member: Member, group: Group, by) -> None:
    """Raise ``PermissionDenied`` unless ``by`` runs ``group`` (its owner, an admin, or staff)
    and ``member`` belongs to it; raise ``ValidationError`` if the member already has a login.

    The one rule behind every way of giving a member a login (the pages ask it too)."""
    if not is_group_admin(by, group) or not Membership.objects.filter(group=group, member=member).exists():
        raise PermissionDenied(_("Only an admin of the group can give its members a login."))
    if member.user_id is not None:
        raise ValidationError(_("This member already has a login."), code="member_has_login")


@transaction.atomic
def invitation_create(*, member: Member, group: Group, created_by, days_valid: int = INVITATION_DAYS_VALID) -> tuple[Invitation, str]:
    """An invitation for ``member`` and its token, valid ``days_valid`` days.

    Only the token's SHA-256 is stored: the token is returned once, for the link. The
    member's earlier unused invitations are deleted, so only the newest link works."""
    member_login_authorize(member=member, group=group, by=created_by)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    Invitation.objects.filter(member=member, used_at__isnull=True).delete()
    invitation = Invitation.objects.create(
        member=member, group=group, token_hash=_token_hash(token), created_by=created_by,
        created_at=now, expires_at=now + dt.timedelta(days=days_valid),
    )
    return invitation, token


def invitation_check(*, token: str, lock: bool = False) -> Invitation:
    """The open invitation of ``token`` (with its member and group), or ``ValidationError``
    with code ``invitation_unknown``, ``invitation_used``, ``invitation_expired`` or
    ``member_has_login`` (linked meanwhile by other means). One query."""
    invitations = Invitation.objects.select_related("member", "group")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=_token_hash(token)).first()
    if invitation is None:
        raise ValidationError(_("This invitation link is not valid."), code="invitation_unknown")
    if invitation.used_at is not None:
        raise ValidationError(_("This invitation link has already been used."), code="invitation_used")
    if invitation.expires_at <= timezone.now():
        raise ValidationError(_("This invitation link has expired."), code="invitation_expired")
    if invitation.member.user_id is not None:
        raise ValidationError(_("This member already has a login."), code="member_has_login")
    return invitation


def _user_create_for_member(*, member: Member, username: str, password: str, email: str):
    """Create a login with a validated username and password and link it to ``member``.

    Runs inside the caller's transaction; errors are keyed by ``username``, ``email`` and
    ``password``."""
    User = get_user_model()
    user = User(username=username, email=email)
    errors: dict[str, list] = {}
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = error.error_list
    user.set_password(password)
    try:
        user.full_clean()
    except ValidationError as error:
        errors.update({field: errors.get(field, []) + messages for field, messages in error.error_dict.items()})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another request took the username between the check and the insert.
        raise ValidationError(
            {"username": [ValidationError(_("This username is already taken."), code="unique")]}
        ) from None
    # Conditional: a login given meanwhile by someone else is never replaced.
    if not Member.objects.filter(pk=member.pk, user__isnull=True).update(user=user):
        raise ValidationError(_("This member already has a login."), code="member_has_login")
    member.user = user
    Invitation.objects.filter(member=member, used_at__isnull=True).delete()
    return user


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str, email: str = ""):
    """Create the login of the invitation's member and mark the invitation used.

    The invitation row is locked and checked inside the transaction: of two concurrent
    accepts of one token, only one succeeds. Nothing is created when anything is wrong."""
    invitation = invitation_check(token=token, lock=True)
    used_at = timezone.now()
    # Mark the invitation first (conditionally) so that a concurrent accept finds it used.
    if not Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=used_at):
        raise ValidationError(_("This invitation link has already been used."), code="invitation_used")
    user = _user_create_for_member(member=invitation.member, username=username, password=password, email=email)
    Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    invitation.used_at, invitation.used_by = used_at, user
    return user


@transaction.atomic
def account_create(*, member: Member, group: Group, username: str, password: str, created_by, email: str = ""):
    """An admin of ``group`` creates a login for ``member`` directly (same rules as an invitation).

    The member's open invitations are deleted: the login exists now."""
    member_login_authorize(member=member, group=group, by=created_by)
    return _user_create_for_member(member=member, username=username, password=password, email=email)


GROUP_RULE_SETTINGS = ("silence_days", "never_shared_grace_days", "nickname_reminders", "nickname_grace_days")
GROUP_SETTINGS = ("description", "share_time", "sign_in_lead_minutes", "announcement_template", *GROUP_RULE_SETTINGS)
ANNOUNCEMENT_PLACEHOLDERS = ("{speaker}", "{topic}", "{start}")


@transaction.atomic
def group_settings_update(*, group: Group, by, reason: str = "", **values) -> Group:
    """A group's admins change its rhythm, its announcement template and its rules' parameters
    (nothing else here). A change of the rules is written to the audit log: who, when, from what
    to what, and why (``reason``)."""
    if not is_group_admin(by, group):
        raise PermissionDenied
    unknown = set(values) - set(GROUP_SETTINGS)
    if unknown:
        raise ValueError(f"not a group setting: {', '.join(sorted(unknown))}")
    template = values.get("announcement_template", group.announcement_template)
    missing = [p for p in ANNOUNCEMENT_PLACEHOLDERS if p not in template]
    if missing:
        raise ValidationError(
            _("The announcement template must contain %(missing)s."), code="placeholders",
            params={"missing": "、".join(missing)},
        )
    changed_rules = {
        name: [getattr(group, name), value] for name, value in values.items()
        if name in GROUP_RULE_SETTINGS and getattr(group, name) != value
    }
    for name, value in values.items():
        setattr(group, name, value)
    group.full_clean()
    group.save(update_fields=list(values))
    if changed_rules:
        AuditEntry.objects.create(group=group, actor=by, action="rules_changed", target=group.name,
                                  details=changed_rules, reason=reason[:300])
    return group


@transaction.atomic
def application_submit(*, group: Group, **fields):
    """Someone asks for a seat (public form). One waiting application per WeChat id and group."""
    from .models import Application

    application = Application(group=group, **fields)
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ValidationError(
            _("An application with this WeChat id is already waiting for this group."), code="already_waiting"
        ) from None
    return application


@transaction.atomic
def application_decline(*, application, by, reason: str = ""):
    """A group admin declines a waiting application (audited)."""
    from .models import ApplicationStatus

    if not is_group_admin(by, application.group):
        raise PermissionDenied(_("Only the group's admins decide applications."))
    if application.status != ApplicationStatus.WAITING:
        raise ValidationError(_("This application was already decided."), code="decided")
    application.status, application.decided_by, application.decided_at, application.reason = (
        ApplicationStatus.DECLINED, by, timezone.now(), reason[:300],
    )
    application.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    AuditEntry.objects.create(group=application.group, actor=by, action="application_declined",
                              target=f"{application.name}-{application.company}", reason=reason[:300])
    return application
