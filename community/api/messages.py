"""The messages API: a group's record, for its members."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers

from community.access import Access
from community.api.fields import GroupLocalDateTimeField
from community.api.permissions import GroupListAPI
from community.filters import MessageFilter
from community.models import Message
from community.selectors import group_roles, messages_readable


class SenderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class MessageSerializer(serializers.Serializer):
    """One message of the record: who (the member, when known, and the name it was sent under),
    when (in the group's time zone), what."""

    id = serializers.IntegerField(read_only=True)
    group = serializers.CharField(source="group.slug", read_only=True)
    sender = SenderSerializer(read_only=True, allow_null=True, help_text="null when the sender is not known.")
    sender_name = serializers.CharField(read_only=True, help_text="The name the message was sent under.")
    sent_at = GroupLocalDateTimeField()
    kind = serializers.CharField(read_only=True, help_text="text, image, link, file, sticker or empty")
    text = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="The link of a link, file or image message, as recorded.")
    image = serializers.SerializerMethodField(help_text="The app's stored copy of an image, when it has one.")

    @extend_schema_field(OpenApiTypes.URI)
    def get_image(self, message) -> str | None:
        if getattr(message, "stored_image", None) is None:
            return None
        path = reverse("stored_image", kwargs={"message_id": message.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


def messages_of_groups() -> QuerySet[Message]:
    """Messages with their group, sender and stored image loaded, in the record's order (time,
    then id): one query a page. Filtered by group, the order is the ``(group, sent_at)`` index's."""
    return Message.objects.select_related("group", "sender", "stored_image").order_by("sent_at", "id")


@extend_schema_view(get=extend_schema(
    summary="Messages of a group", tags=["messages"],
    description="The record of the group named by the required `group` slug, oldest first, for its members, its "
                "admins and staff (403 for anyone else). `since` and `until` take a day (`until`: the whole day "
                "included) or an ISO 8601 date-time; without an offset, in the group's time zone. The messages of "
                "a hidden talk (its talk, interruptions and Q&A) are left out for whoever may not see that talk.",
))
class MessageListAPI(GroupListAPI):
    serializer_class = MessageSerializer
    filterset_class = MessageFilter
    denied_message = "Only the group's members read its messages."

    def allowed(self, access: Access) -> bool:
        return access.is_member

    def get_queryset(self):
        messages = messages_of_groups()
        if self.group is None:  # the FilterSet answers 400 (no or unknown group): nothing is read
            return messages
        roles = group_roles(self.request.user, group=self.group, is_member=self.access.is_member,
                            is_admin=self.access.is_admin)
        return messages_readable(messages, user=self.request.user, group=self.group, roles=roles)
