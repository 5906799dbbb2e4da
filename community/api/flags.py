"""The flags API: a group's flags for its admins, and their decisions."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from community.access import Access
from community.api.permissions import GroupListAPI
from community.filters import FlagFilter
from community.flags import FLAG_DECISIONS
from community.models import Flag
from community.selectors import admin_group_ids_of_user


class FlagMemberSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="member_id", read_only=True)
    display_name = serializers.CharField(source="member.display_name", read_only=True)
    nickname = serializers.CharField(read_only=True, help_text="The member's nickname in this group.")


class FlagSerializer(serializers.Serializer):
    """A flag: who, under which rule, its status and the evidence the rule saw."""

    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True, help_text="The group's slug.")
    member = FlagMemberSerializer(source="membership", read_only=True)
    rule = serializers.CharField(read_only=True, help_text="silent, never_shared or nickname")
    status = serializers.CharField(
        read_only=True, help_text="reminder_due (nickname only), open, approved, dismissed, exempted or resolved"
    )
    evidence = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class FlagDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=sorted(FLAG_DECISIONS))
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    until = serializers.DateField(required=False, help_text="The last day of an exemption (decision exempt).")

    def validate(self, data):
        if data["decision"] == "exempt" and "until" not in data:
            raise serializers.ValidationError({"until": "Required for an exemption."})
        return data


def flags_for_admin(user):
    """Flags of the groups the user runs (staff: every group), with what the serializer reads."""
    return (
        Flag.objects.filter(group_id__in=admin_group_ids_of_user(user))
        .select_related("group", "membership__member")
        .order_by("group_id", "rule", "id")
    )


@extend_schema(
    summary="Flags of a group",
    description="The group's flags (`group` slug required), for the group's admins and staff; filter by `status` and `rule`.",
    tags=["flags"],
)
class FlagListAPI(GroupListAPI):
    serializer_class = FlagSerializer
    filterset_class = FlagFilter
    denied_message = "Only the group's admins see its flags."

    def allowed(self, access: Access) -> bool:
        return access.is_admin

    def get_queryset(self):
        return flags_for_admin(self.request.user)


@extend_schema(
    summary="Decide a flag",
    description="approve (the membership becomes removed), dismiss (reason required), exempt (until and reason "
                "required) or reopen (reverses a decision). The group's admins and staff only.",
    tags=["flags"], request=FlagDecisionSerializer, responses={200: FlagSerializer},
)
class FlagDecideAPI(APIView):
    def post(self, request, pk: int):
        flag = get_object_or_404(flags_for_admin(request.user), pk=pk)
        decision = FlagDecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        data = dict(decision.validated_data)
        name = data.pop("decision")
        if name != "exempt":
            data.pop("until", None)
        flag = FLAG_DECISIONS[name](flag=flag, by=request.user, **data)
        flag = flags_for_admin(request.user).get(pk=flag.pk)
        return Response(FlagSerializer(flag).data)
