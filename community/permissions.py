"""Reach: an admin's power stops at their group. (Who may do what in one group is
``community.access``.)"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q

from .access import ADMIN_ROLES
from .models import Member, Membership, MembershipStatus

# A membership that holds a seat: the member is in the group, or about to be.
SEAT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.PENDING)


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
