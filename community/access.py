"""Who the visitor is in a group, resolved once per request, and the gates built on it.

``Access`` says what a login may do in one group (the pages, the API and the services ask it);
``access_for`` reads it in one query; the view decorators resolve the group named by the URL
(``group_slug``) with the visitor's access in that same query, set ``request.group`` and
``request.access`` and answer uniformly: anonymous visitors to the login page, an unknown
group 404, a visitor without the role 403. Templates read ``access`` through
``access_context`` (a context processor), so views do not pass it.

Roles: site staff (operators, every group); a group's owner and admins (that group);
members (their own data and their group's members-only pages).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404

from .models import Group, Member, Membership, MembershipRole, MembershipStatus

ADMIN_ROLES = (MembershipRole.OWNER, MembershipRole.ADMIN)


class Access:
    """A login in one group: its member (or None), the role of its active membership there (or
    None), and whether it is staff. Staff count as members and admins of every group.

    Built from what is already read (the decorators read it with the group), or with ``read``,
    which is called once, when the member or the role is first needed: a staff login is an
    admin without a query."""

    def __init__(self, *, member_id: int | None = None, role: str | None = None, is_staff: bool = False,
                 read: Callable[[], tuple[int | None, str | None]] | None = None):
        self.is_staff = is_staff
        self._member_id, self._role, self._read = member_id, role, read

    def _load(self) -> None:
        if self._read is not None:
            self._member_id, self._role = self._read()
            self._read = None

    @property
    def member_id(self) -> int | None:
        self._load()
        return self._member_id

    @property
    def role(self) -> str | None:
        self._load()
        return self._role

    def __repr__(self) -> str:
        return f"Access(member_id={self.member_id!r}, role={self.role!r}, is_staff={self.is_staff!r})"

    @property
    def has_membership(self) -> bool:
        """An active membership of its own in the group (staff or not)."""
        return self.role is not None

    @property
    def is_member(self) -> bool:
        """May read the group's members-only pages: staff, or an active member (any role)."""
        return self.is_staff or self.has_membership

    @property
    def is_admin(self) -> bool:
        """Runs the group: staff, or its owner or an admin of it."""
        return self.is_staff or self.role in ADMIN_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role == MembershipRole.OWNER

    @property
    def can_manage_seats(self) -> bool:
        """The seats (flags, reminders, waiting list), imports, names and the group's settings."""
        return self.is_admin

    @property
    def can_decide_for_everyone(self) -> bool:
        """Finds members beyond the group (merges, splits): staff only."""
        return self.is_staff

    def is_self_or_admin(self, member_id: int | None) -> bool:
        """Acts for ``member_id`` (a share's speaker, say): an admin, or that member's own login
        while an active member of the group (a member who left edits nothing of the group)."""
        return self.is_admin or (self.has_membership and self.member_id == member_id)

    # The gates: a ``PermissionDenied`` (403) with ``message`` when given (the API shows it).
    def require_member(self, message: str = "") -> None:
        _require(self.is_member, message)

    def require_admin(self, message: str = "") -> None:
        _require(self.is_admin, message)

    def require_self_or_admin(self, member_id: int | None, message: str = "") -> None:
        _require(self.is_self_or_admin(member_id), message)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(*([message] if message else []))


NO_ACCESS = Access()


def _role_in(group_ref, user_id: int) -> Subquery:
    return Subquery(
        Membership.objects.filter(group_id=group_ref, member__user_id=user_id, status=MembershipStatus.ACTIVE)
        .values("role")[:1]
    )


def _is_staff(user) -> bool:
    return bool(getattr(user, "is_staff", False))


def access_for(user, group: Group) -> Access:
    """The user's access to ``group``: one query when first asked what it needs (none for an
    anonymous visitor, nor for whether staff are members or admins)."""
    if not getattr(user, "is_authenticated", False):
        return NO_ACCESS

    def read() -> tuple[int | None, str | None]:
        row = (Member.objects.filter(user_id=user.pk).annotate(role=_role_in(group.pk, user.pk))
               .values_list("pk", "role").first())
        return row if row is not None else (None, None)

    return Access(is_staff=_is_staff(user), read=read)


def group_and_access(user, group_slug: str) -> tuple[Group, Access]:
    """The group with this slug and the user's access to it, in one query; 404 for no such group."""
    group, access = group_with_access(user, group_slug)
    if group is None:
        raise Http404
    return group, access


def group_with_access(user, group_slug: str) -> tuple[Group | None, Access]:
    """``group_and_access``, with None for no such group (the API's lists leave that to their filter)."""
    if not group_slug:
        return None, NO_ACCESS
    groups = Group.objects.filter(slug=group_slug)
    authenticated = getattr(user, "is_authenticated", False)
    if authenticated:
        groups = groups.annotate(
            visitor_member_id=Subquery(Member.objects.filter(user_id=user.pk).values("pk")[:1]),
            visitor_role=_role_in(OuterRef("pk"), user.pk),
        )
    group = groups.first()
    if group is None or not authenticated:
        return group, NO_ACCESS
    return group, Access(member_id=group.visitor_member_id, role=group.visitor_role, is_staff=_is_staff(user))


def resolve_group(request, group_slug: str) -> Group:
    """Set ``request.group`` and ``request.access`` (for pages open to anyone, which decide
    themselves what a visitor sees); 404 for no such group."""
    request.group, request.access = group_and_access(request.user, group_slug)
    return request.group


def _gate(check: Callable[[Access], None]) -> Callable:
    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def gated(request, *args, group_slug: str, **kwargs):
            resolve_group(request, group_slug)
            check(request.access)
            return view(request, *args, group_slug=group_slug, **kwargs)
        return gated
    return decorator


group_member_required = _gate(Access.require_member)
group_member_required.__doc__ = "Logged in, and a member of the URL's group (or staff): 403 otherwise."
group_admin_required = _gate(Access.require_admin)
group_admin_required.__doc__ = "Logged in, and an owner or admin of the URL's group (or staff): 403 otherwise."


def staff_required(view: Callable) -> Callable:
    """Logged in and staff; anyone else gets a 404 (the page does not say what exists)."""
    @login_required
    @wraps(view)
    def gated(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404
        return view(request, *args, **kwargs)
    return gated


def access_context(request) -> dict:
    """Templates read ``access`` (and ``group``) as the gate resolved them."""
    access = getattr(request, "access", None)
    return {} if access is None else {"access": access}
