"""The members API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAdminUser

from community.api.fields import GroupLocalDateTimeField, KnownNamesField
from community.filters import MemberFilter
from community.selectors import memberships_with_members


class GroupMemberSerializer(serializers.Serializer):
    """A member of a group: who they are, and what the group knows of them (one membership)."""

    id = serializers.IntegerField(source="member_id", read_only=True, help_text="The member's id.")
    display_name = serializers.CharField(source="member.display_name", read_only=True)
    names = KnownNamesField(source="member.names")
    company = serializers.CharField(source="member.company", read_only=True)
    city = serializers.CharField(source="member.city", read_only=True)
    nickname = serializers.CharField(read_only=True, help_text="The member's nickname in this group.")
    role = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    message_count = serializers.IntegerField(read_only=True)
    last_message_at = GroupLocalDateTimeField(allow_null=True)
    shares_given = serializers.IntegerField(read_only=True)
    sign_ins = serializers.IntegerField(source="sign_in_count", read_only=True)


@extend_schema(
    summary="Members of a group",
    description="One row per membership of the group named by the required `group` slug. Staff only.",
    tags=["members"],
)
class MemberListAPI(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = GroupMemberSerializer
    filterset_class = MemberFilter

    def get_queryset(self):
        return memberships_with_members()
