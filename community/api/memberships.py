"""The memberships API: a group's membership rows for its admins, and anyone's own."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from community.access import Access
from community.api.fields import GroupLocalDateTimeField
from community.api.permissions import GroupListAPI
from community.filters import MembershipFilter
from community.models import Membership, MembershipPeriod
from community.selectors import user_member_id


class MembershipPeriodSerializer(serializers.Serializer):
    joined_at = GroupLocalDateTimeField(group_source="membership.group")
    left_at = GroupLocalDateTimeField(group_source="membership.group", allow_null=True)
    left_reason = serializers.CharField(read_only=True, help_text="removed, left, or empty while it lasts.")


class MembershipMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class MembershipSerializer(serializers.Serializer):
    """A member in a group: nickname, role, status, the stretches of membership, the exemption."""

    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True)
    member = MembershipMemberSerializer(read_only=True)
    nickname = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True, help_text="owner, admin or member")
    status = serializers.CharField(read_only=True, help_text="active, pending, removed or left")
    joined_at = GroupLocalDateTimeField(allow_null=True)
    left_at = GroupLocalDateTimeField(allow_null=True)
    periods = MembershipPeriodSerializer(many=True, read_only=True)
    exempt_until = serializers.DateField(read_only=True, allow_null=True,
                                         help_text="Exempt from the silence and share rules until this day.")
    exempt_reason = serializers.CharField(read_only=True)


def memberships_with_periods() -> QuerySet[Membership]:
    """Memberships with their group, member and periods loaded, by group then nickname:
    three queries for any number of them."""
    # The prefetch gives each period its membership (and so the group its moments are shown in).
    periods = MembershipPeriod.objects.order_by("joined_at", "id")
    return (
        Membership.objects.select_related("group", "member")
        .prefetch_related(Prefetch("periods", queryset=periods))
        .order_by("group__name", "nickname", "id")
    )


@extend_schema_view(get=extend_schema(
    summary="Memberships", tags=["memberships"],
    description="With `group`: every membership of the group, for its admins and staff (403 for anyone else). "
                "With `mine=true`: the user's own memberships, in every group (or only `group`'s). One of the two "
                "is required (400).",
))
class MembershipListAPI(GroupListAPI):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    denied_message = "Only the group's admins see its memberships."

    @property
    def mine(self) -> bool:
        return self.request.query_params.get("mine", "").lower() in ("1", "true", "yes", "on")

    def allowed(self, access: Access) -> bool:
        return self.mine or access.is_admin

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not self.mine and not request.query_params.get("group"):
            raise ValidationError({"group": ["Give a group, or mine=true for your own memberships."]})

    def get_queryset(self):
        memberships = memberships_with_periods()
        if self.mine:
            member_id = user_member_id(self.request.user)
            return memberships.filter(member_id=member_id) if member_id is not None else memberships.none()
        return memberships
