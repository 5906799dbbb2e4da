"""Who may do what, in one place: the pages, the API and the services ask these.

Roles: site staff (operators, every group); a group's owner and admins (that group);
members (their own data and their group's members-only pages).
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Group, Membership, MembershipRole, MembershipStatus
from .selectors import UserRoles, user_member_id


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
