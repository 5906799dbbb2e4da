"""Reads of groups, members and memberships, with the permission rules they carry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from .models import Group, Membership, MembershipRole, MembershipStatus, Name, RecordedDay
from .names import NicknameParts, parse_nickname


def user_member_id(user) -> int | None:
    """The ``Member`` id linked to a login, or None (anonymous, or an account with no member)."""
    if not getattr(user, "is_authenticated", False):
        return None
    member = getattr(user, "member", None)
    return member.pk if member is not None else None


def group_ids_of_user(user) -> set[int]:
    """Groups where the user is an active member (any role)."""
    member_id = user_member_id(user)
    if member_id is None:
        return set()
    return set(
        Membership.objects.filter(member_id=member_id, status=MembershipStatus.ACTIVE).values_list("group_id", flat=True)
    )


def admin_group_ids_of_user(user) -> set[int]:
    """Groups the user runs as owner or admin (staff run every group)."""
    if getattr(user, "is_staff", False):
        return set(Group.objects.values_list("id", flat=True))
    member_id = user_member_id(user)
    if member_id is None:
        return set()
    return set(
        Membership.objects.filter(
            member_id=member_id,
            status=MembershipStatus.ACTIVE,
            role__in=[MembershipRole.OWNER, MembershipRole.ADMIN],
        ).values_list("group_id", flat=True)
    )


def groups_with_counts() -> QuerySet[Group]:
    """Every group with ``active_members``: the number of its active memberships."""
    return Group.objects.annotate(
        active_members=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE))
    ).order_by("name")


def memberships_with_members() -> QuerySet[Membership]:
    """Every membership with its group, its member and the member's names loaded, ordered by
    group, nickname and id: listing any number of them costs the same few queries."""
    return (
        Membership.objects.select_related("group", "member")
        .prefetch_related(Prefetch("member__names", queryset=Name.objects.only("id", "member_id", "name")))
        .order_by("group_id", "nickname", "id")
    )


# --- The seats: flags to review, reminders due, approved removals, the waiting list ---


def flags_of_group(*, group: Group) -> QuerySet:
    """The group's flags with their membership and member loaded (one query for any number)."""
    from .models import Flag

    return Flag.objects.filter(group=group).select_related("membership__member", "decided_by").order_by(
        "rule", "membership__nickname", "id"
    )


def nickname_reminders_due(*, group: Group) -> QuerySet:
    """Nickname flags for which a reminder is due: reminders not used up yet."""
    from .models import FlagRule, FlagStatus

    return (
        flags_of_group(group=group)
        .filter(rule=FlagRule.NICKNAME, status=FlagStatus.REMINDER_DUE,
                evidence__reminders_sent__lt=group.nickname_reminders)
    )


def seats_of_group(*, group: Group) -> dict[str, int]:
    """Capacity, active and pending memberships, and the seats free (never below zero)."""
    counts = Membership.objects.filter(group=group).aggregate(
        active=Count("id", filter=Q(status=MembershipStatus.ACTIVE)),
        pending=Count("id", filter=Q(status=MembershipStatus.PENDING)),
    )
    return {"capacity": group.capacity, **counts,
            "free": max(group.capacity - counts["active"] - counts["pending"], 0)}


# --- The member directory ---

def directory_memberships(*, group: Group, include_inactive: bool) -> QuerySet[Membership]:
    """The group's memberships for its directory, each with its member loaded, by nickname
    then id. Active ones only, unless ``include_inactive`` (the admins' view: pending, left and
    removed too). One query, whatever the size of the group."""
    memberships = Membership.objects.filter(group=group).select_related("member").order_by("nickname", "id")
    return memberships if include_inactive else memberships.filter(status=MembershipStatus.ACTIVE)


def last_recorded_day(group: Group) -> dt.date | None:
    """The group's latest recorded (imported) day: "today" for the rules' evidence, since the
    record can lag behind the calendar."""
    return RecordedDay.objects.filter(group=group).aggregate(last=Max("day"))["last"]


@dataclass(frozen=True)
class DirectoryRow:
    """A membership as the directory shows it, with the rule evidence worked out.

    ``last_message_day`` is in the group's time zone; ``days_silent`` counts from it to the
    group's last recorded day (None when the member never spoke or nothing is recorded);
    ``nickname_parts`` is the nickname read as ``姓名-公司-岗位[-地区]``, None when it does not
    follow that form."""

    membership: Membership
    last_message_day: dt.date | None
    days_silent: int | None
    nickname_parts: NicknameParts | None

    @property
    def member(self):
        return self.membership.member


def directory_rows(memberships, *, group: Group, as_of: dt.date | None) -> list[DirectoryRow]:
    """The directory's rows for ``memberships`` (no query beyond evaluating them)."""
    rows = []
    for membership in memberships:
        last_day = group.local_day(membership.last_message_at) if membership.last_message_at else None
        silent = max((as_of - last_day).days, 0) if last_day is not None and as_of is not None else None
        rows.append(DirectoryRow(membership=membership, last_message_day=last_day, days_silent=silent,
                                 nickname_parts=parse_nickname(membership.nickname)))
    return rows
