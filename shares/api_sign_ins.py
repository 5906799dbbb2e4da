"""The sign-ins API: a group's sign-ins, for its members, admins and staff."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied

from community.models import Group
from community.permissions import is_group_member

from .api import SignInSerializer
from .api_selectors import sign_ins_visible_to
from .filters import SignInFilter


@extend_schema(
    summary="Sign-ins of a group",
    description="The sign-ins of the group named by the required `group` slug, newest first, as the pages show "
                "them: the group's admins and staff see every one; a member sees their own and those of the "
                "group's talks they may see. 403 for anyone else. Filter by `share`, `member` (ids) and the "
                "share's day (`date_from`, `date_to`).",
    tags=["sign-ins"],
)
class SignInListAPI(generics.ListAPIView):
    serializer_class = SignInSerializer
    filterset_class = SignInFilter

    def get_queryset(self):
        return sign_ins_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        group = Group.objects.filter(slug=request.query_params.get("group") or "").first()
        if group is not None and not is_group_member(request.user, group):
            raise PermissionDenied(_("Only the group's members see its sign-ins."))
        return super().list(request, *args, **kwargs)
