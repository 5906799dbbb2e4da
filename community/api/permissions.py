"""Which group a list is about, and whether the user may read it: the pages' access object
(``community.access``), read once per request."""

from __future__ import annotations

from rest_framework import generics
from rest_framework.exceptions import PermissionDenied

from community.access import NO_ACCESS, Access, group_with_access
from community.models import Group


class GroupListAPI(generics.ListAPIView):
    """A list of one group's rows, the group named by ``?group=<slug>``.

    A missing or unknown slug is left to the FilterSet (``GroupSlugFilter``: 400 naming the
    field) or to the queryset; a known group the user may not read this way is a 403 with
    ``denied_message``. ``self.group`` and ``self.access`` are set before the rows are read."""

    denied_message = ""
    group: Group | None = None
    access: Access = NO_ACCESS

    def allowed(self, access: Access) -> bool:
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self.group, self.access = group_with_access(request.user, request.query_params.get("group") or "")
        if self.group is not None and not self.allowed(self.access):
            raise PermissionDenied(self.denied_message)
