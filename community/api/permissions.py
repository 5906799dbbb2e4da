"""Which group a list is about, and whether the user may read it: the same rules as the pages
(``community.permissions``), asked once per request."""

from __future__ import annotations

from rest_framework import generics
from rest_framework.exceptions import PermissionDenied

from community.models import Group
from community.permissions import GroupAccess, group_access

NO_ACCESS = GroupAccess(is_member=False, is_admin=False)


class GroupListAPI(generics.ListAPIView):
    """A list of one group's rows, the group named by ``?group=<slug>``.

    A missing or unknown slug is left to the FilterSet (``GroupSlugFilter``: 400 naming the
    field); a known group the user may not read this way is a 403 with ``denied_message``.
    ``self.group`` and ``self.access`` are set before the rows are read."""

    denied_message = ""
    group: Group | None = None
    access: GroupAccess = NO_ACCESS

    def allowed(self, access: GroupAccess) -> bool:
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        slug = request.query_params.get("group") or ""
        self.group = Group.objects.filter(slug=slug).first() if slug else None
        if self.group is not None:
            self.access = group_access(request.user, self.group)
            if not self.allowed(self.access):
                raise PermissionDenied(self.denied_message)
