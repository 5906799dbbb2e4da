"""Who may do what, in one place: the pages, the API and the services ask these.

Roles: site staff (operators, every group); a group's owner and admins (that group);
members (their own data and their group's members-only pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from .models import Group, Member, Membership, MembershipRole, MembershipStatus
from .selectors import UserRoles, user_member_id

ADMIN_ROLES = (MembershipRole.OWNER, MembershipRole.ADMIN)
# A membership that holds a seat: the member is in the group, or about to be.
SEAT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.PENDING)


def membership_of(user, group: Group) -> Membership | None:
    """The user's active membership in the group, or None."""
    member_id = user_member_id(user)
    if member_id is None:
        return None
    return Membership.objects.filter(group=group, member_id=member_id, status=MembershipStatus.ACTIVE).first()


def is_group_member(user, group: Group) -> bool:
    """Staff, or an active member of the group (any role)."""
    if getattr(user, "is_staff", False):
        return True
    return membership_of(user, group) is not None


def is_group_admin(user, group: Group) -> bool:
    """Staff, or the group's owner or an admin of it."""
    if getattr(user, "is_staff", False):
        return True
    membership = membership_of(user, group)
    return membership is not None and membership.role in (MembershipRole.OWNER, MembershipRole.ADMIN)


@dataclass(frozen=True)
class GroupAccess:
    is_member: bool
    is_admin: bool


def group_access(user, group: Group) -> GroupAccess:
    """Membership of the group, asked once (staff count as members and admins)."""
    if getattr(user, "is_staff", False):
        return GroupAccess(is_member=True, is_admin=True)
    membership = membership_of(user, group)
    return GroupAccess(is_member=membership is not None, is_admin=membership is not None and membership.is_admin)


def group_access_from_roles(user, roles: UserRoles, group: Group) -> GroupAccess:
    """``group_access`` from roles already read (``community.selectors.user_roles``): no query."""
    if getattr(user, "is_staff", False):
        return GroupAccess(is_member=True, is_admin=True)
    return GroupAccess(is_member=group.pk in roles.roles, is_admin=group.pk in roles.admin_groups)


# --- Reach: an admin's power stops at their group ---


def _out_of_reach(user) -> Q:
    """``members_out_of_reach`` as a filter on ``Member`` (one subquery, no query of its own)."""
    memberships = Membership.objects.filter(member=OuterRef("pk"))
    elsewhere = memberships.filter(Q(role__in=ADMIN_ROLES) | Q(status__in=SEAT_STATUSES))
    authenticated = getattr(user, "is_authenticated", False)
    if authenticated:
        runs = Membership.objects.filter(
            member__user_id=user.pk, status=MembershipStatus.ACTIVE, role__in=ADMIN_ROLES
        ).values("group_id")
        elsewhere = elsewhere.exclude(group_id__in=runs)
        memberships = memberships.exclude(group_id__in=runs)
    out = (Q(user__isnull=False) & Q(Exists(memberships))) | Q(Exists(elsewhere))
    if authenticated:
        out &= ~Q(user_id=user.pk)  # one's own member is always within one's reach
    return out


def members_out_of_reach(*, user, member_ids: Iterable[int] | None = None) -> set[int]:
    """The ids of the members (of ``member_ids``; every member when None) out of ``user``'s reach.

    The rule, once. A member M is out of reach of a user U when M has a login, or an owner or
    admin role, or an active or pending membership, in a group U does not run. Read out:
    * M has a login and a membership (whatever its role and status) in a group U does not run:
      a login acts with every role of its person, so what it is linked to is not for the admin of
      one group to decide once the person belongs to another; or
    * M has an owner or admin role in a group U does not run, whatever that membership's status
      (a left admin who returns is admin again); or
    * M has an active or pending membership in a group U does not run.
    U runs a group when U's member has an active owner or admin membership in it. U's own member
    is never out of U's reach (an admin merges their own alias).

    Staff are exempt (nothing is out of their reach). So are operators on the command line,
    but that is for the caller to say: this function has no "nobody" user, and ``None`` (like
    an anonymous visitor) runs no group, so that every member with a login and a group, a role
    or a seat anywhere is out of its reach. What the rule guards: a login or an invitation for M,
    every merge involving M, and identity evidence (an upload, a roster, an application) tying a
    name to M. One query, whatever the number of members."""
    if getattr(user, "is_staff", False):
        return set()
    members = Member.objects.filter(_out_of_reach(user))
    if member_ids is not None:
        ids = list(member_ids)
        if not ids:
            return set()
        members = members.filter(pk__in=ids)
    return set(members.order_by().values_list("pk", flat=True))


def member_out_of_reach(member: Member, user) -> bool:
    """Whether ``member`` is out of ``user``'s reach (``members_out_of_reach``, which says the rule)."""
    return member.pk in members_out_of_reach(user=user, member_ids=[member.pk])
