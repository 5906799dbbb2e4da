"""The sign-ins API: a group's sign-ins, for its members, admins and staff."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema

from community.access import Access
from community.api.permissions import GroupListAPI

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
class SignInListAPI(GroupListAPI):
    serializer_class = SignInSerializer
    filterset_class = SignInFilter
    denied_message = gettext_lazy("Only the group's members see its sign-ins.")

    def allowed(self, access: Access) -> bool:
        return access.is_member

    def get_queryset(self):
        return sign_ins_visible_to(self.request.user)
