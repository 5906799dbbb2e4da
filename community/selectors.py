"""Reads of groups, members and memberships, with the permission rules they carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from .dates import today_in
from .models import Group, Member, Membership, MembershipRole, MembershipStatus, Message, Name, RecordedDay
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


@dataclass(frozen=True)
class UserRoles:
    """Who a login is in the groups: its member (or None) and the role of each of its active
    memberships, by group id. Staff are not special here (``is_staff`` is on the user)."""

    member_id: int | None
    roles: dict[int, str]

    @property
    def member_groups(self) -> set[int]:
        return set(self.roles)

    @property
    def admin_groups(self) -> set[int]:
        return {group_id for group_id, role in self.roles.items() if role in (MembershipRole.OWNER, MembershipRole.ADMIN)}


NO_ROLES = UserRoles(member_id=None, roles={})


def user_roles(user) -> UserRoles:
    """The login's member and active memberships in one query (what ``user_member_id``,
    ``group_ids_of_user`` and ``admin_group_ids_of_user`` read in three), for pages that ask
    all of them."""
    if not getattr(user, "is_authenticated", False):
        return NO_ROLES
    rows = Member.objects.filter(user_id=user.pk).values_list("id", "memberships__group_id", "memberships__role",
                                                               "memberships__status")
    member_id, roles = None, {}
    for member, group_id, role, status in rows:
        member_id = member
        if status == MembershipStatus.ACTIVE:
            roles[group_id] = role
    return UserRoles(member_id=member_id, roles=roles)


# ``restriction(messages, *, user, group, roles) -> messages``: an app's rule on which of a group's
# messages a member of it may read (shares: not those of a talk hidden from them). ``roles`` is
# the user's role in that group alone (``UserRoles``): the restriction reads nothing more.
MessageRestriction = Callable[..., QuerySet]
_message_restrictions: list[MessageRestriction] = []


def register_message_restriction(restriction: MessageRestriction) -> None:
    """Register ``restriction(messages, *, user, group, roles)`` (see ``messages_readable``)."""
    if restriction not in _message_restrictions:
        _message_restrictions.append(restriction)


def group_roles(user, *, group: Group, is_member: bool, is_admin: bool) -> UserRoles:
    """The user's ``UserRoles`` in ``group`` alone, from what the caller already knows (no query
    once the login's member is loaded)."""
    role = MembershipRole.ADMIN if is_admin else MembershipRole.MEMBER
    return UserRoles(member_id=user_member_id(user), roles={group.pk: role} if is_member else {})


def messages_readable(messages: QuerySet[Message], *, user, group: Group, roles: UserRoles) -> QuerySet[Message]:
    """``messages`` of ``group`` without those ``user`` (a member of the group, with ``roles``
    in it) may not read in the group's record, by the rules the apps registered: the messages
    of a talk hidden from the user (its talk, interruptions and Q&A) stay hidden. Adds
    conditions to the query; reads nothing."""
    for restriction in _message_restrictions:
        messages = restriction(messages, user=user, group=group, roles=roles)
    return messages


def groups_with_counts() -> QuerySet[Group]:
    """Every group with ``active_members``: the number of its active memberships."""
    return Group.objects.annotate(
        active_members=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE))
    ).order_by("name")


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


def memberships_by_wechat_id(*, group: Group, wechat_ids) -> dict[str, Membership]:
    """The group's memberships whose member has one of ``wechat_ids``, by that id, member
    loaded: the hint the seats page gives beside an application's WeChat id (as typed by
    anyone, it is never identity evidence). Only this group's members: an admin learns nothing
    of other groups. One query."""
    ids = {wechat_id for wechat_id in wechat_ids if wechat_id}
    if not ids:
        return {}
    memberships = Membership.objects.filter(group=group, member__wechat_id__in=ids).select_related("member")
    return {membership.member.wechat_id: membership for membership in memberships}


def seats(*, capacity: int, active: int, pending: int) -> dict[str, int]:
    """Capacity, active and pending memberships, and the seats free (never below zero)."""
    return {"capacity": capacity, "active": active, "pending": pending, "free": max(capacity - active - pending, 0)}


def seats_of_group(*, group: Group) -> dict[str, int]:
    """The group's ``seats``: one query."""
    counts = Membership.objects.filter(group=group).aggregate(
        active=Count("id", filter=Q(status=MembershipStatus.ACTIVE)),
        pending=Count("id", filter=Q(status=MembershipStatus.PENDING)),
    )
    return seats(capacity=group.capacity, **counts)


def groups_with_seats() -> QuerySet[Group]:
    """Every group by name, with ``seats_active`` and ``seats_pending`` (its active and pending
    memberships) for ``seats``: one query for any number of groups."""
    return Group.objects.annotate(
        seats_active=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE)),
        seats_pending=Count("memberships", filter=Q(memberships__status=MembershipStatus.PENDING)),
    ).order_by("name", "id")


# --- The member directory ---

def directory_memberships(*, group: Group, include_inactive: bool) -> QuerySet[Membership]:
    """The group's memberships for its directory, each with its member loaded, by nickname
    then id. Active ones only, unless ``include_inactive`` (the admins' view: pending, left and
    removed too). One query, whatever the size of the group."""
    memberships = Membership.objects.filter(group=group).select_related("member").order_by("nickname", "id")
    return memberships if include_inactive else memberships.filter(status=MembershipStatus.ACTIVE)


def last_recorded_day(group: Group) -> dt.date | None:
    """The group's latest recorded (imported) day: "today" for the rules' evidence, since the
    record can lag behind the calendar; never after today in the group's time zone (as the
    rules, which never judge as of a future day)."""
    last = RecordedDay.objects.filter(group=group).aggregate(last=Max("day"))["last"]
    return min(last, today_in(group.tz, now=timezone.now())) if last else None


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


# --- A member as someone else sees them: through the groups they share ---

@dataclass(frozen=True)
class ProfileScope:
    """What a viewer may see of a member: ``memberships`` (with their groups) are the groups
    shared with the viewer; ``everything`` for the member themself and staff."""

    member: Member
    memberships: list[Membership]
    everything: bool

    @property
    def group_ids(self) -> set[int]:
        return {membership.group_id for membership in self.memberships}

    @property
    def groups(self) -> list[Group]:
        return [membership.group for membership in self.memberships]


def profile_scope(*, viewer, member_id: int) -> ProfileScope | None:
    """The part of member ``member_id``'s profile ``viewer`` may see, or None when the viewer
    shares no group with the member (or there is no such member): the page is then a 404,
    so that it does not tell who is in which group. Three queries at most."""
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        return None
    memberships = list(Membership.objects.filter(member=member).select_related("group").order_by("group__name", "id"))
    viewer_member_id = user_member_id(viewer)
    if getattr(viewer, "is_staff", False) or (viewer_member_id is not None and viewer_member_id == member.pk):
        return ProfileScope(member=member, memberships=memberships, everything=True)
    if viewer_member_id is None:
        return None
    viewer_roles = dict(
        Membership.objects.filter(member_id=viewer_member_id, status=MembershipStatus.ACTIVE).values_list("group_id", "role")
    )
    admin_roles = (MembershipRole.OWNER, MembershipRole.ADMIN)
    shared = [
        membership for membership in memberships
        if membership.group_id in viewer_roles
        and (membership.status == MembershipStatus.ACTIVE or viewer_roles[membership.group_id] in admin_roles)
    ]
    if not shared:
        return None
    return ProfileScope(member=member, memberships=shared, everything=False)


def profile_names(scope: ProfileScope) -> QuerySet[Name]:
    """The member's names seen in the shared groups (and, for the member themself and staff,
    names recorded without a group), with their group, oldest first."""
    where = Q(group_id__in=scope.group_ids)
    if scope.everything:
        where |= Q(group__isnull=True)
    return (
        Name.objects.filter(where, member=scope.member)
        .select_related("group")
        .order_by(F("first_seen").asc(nulls_last=True), "name", "id")
    )
