"""The shares API (read-only for now)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAdminUser

from community.api.fields import GroupLocalDateTimeField, MemberSummarySerializer

from .filters import ShareFilter
from .selectors import shares_with_speakers


class ShareSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True, help_text="The group's slug.")
    date = serializers.DateField(source="day", read_only=True, allow_null=True, help_text="In the group's time zone.")
    topic = serializers.CharField(read_only=True)
    speaker = MemberSummarySerializer(read_only=True)
    status = serializers.CharField(read_only=True)
    scheduled_for = GroupLocalDateTimeField(allow_null=True, help_text="The announced start, when there was one.")
    started_at = GroupLocalDateTimeField(allow_null=True)
    ended_at = GroupLocalDateTimeField(allow_null=True)
    visibility = serializers.CharField(read_only=True)
    origin = serializers.CharField(read_only=True)
    sign_in_count = serializers.IntegerField(read_only=True)


@extend_schema(
    summary="Shares",
    description="Shares of every group, newest day first. Staff only.",
    tags=["shares"],
)
class ShareListAPI(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = ShareSerializer
    filterset_class = ShareFilter

    def get_queryset(self):
        return shares_with_speakers()
