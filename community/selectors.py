"""Reads of groups, members and memberships, with the permission rules they carry."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Group, Membership, MembershipRole, MembershipStatus, Name


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
