"""The groups API: every group with its seats and rules; a group's admins change its settings."""

from __future__ import annotations

from django import forms
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from community.access import group_and_access
from community.forms import GroupSettingsForm
from community.models import Group
from community.selectors import groups_with_seats, seats
from community.services import GROUP_SETTINGS, group_settings_update


class SeatsSerializer(serializers.Serializer):
    capacity = serializers.IntegerField(read_only=True)
    active = serializers.IntegerField(read_only=True, help_text="Active memberships.")
    pending = serializers.IntegerField(read_only=True, help_text="Memberships waiting to be added in WeChat.")
    free = serializers.IntegerField(read_only=True, help_text="capacity - active - pending, never below 0.")


class GroupSerializer(serializers.Serializer):
    """A group: its name, zone, seats, rhythm and the parameters of its rules.

    Reads ``seats_active`` and ``seats_pending`` (``groups_with_seats``)."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    time_zone = serializers.CharField(read_only=True, help_text="Moments of this group are written in this zone.")
    seats = serializers.SerializerMethodField()
    share_time = serializers.TimeField(read_only=True, help_text="The usual start of a share, in the group's zone.")
    sign_in_lead_minutes = serializers.IntegerField(read_only=True)
    announcement_template = serializers.CharField(read_only=True)
    silence_days = serializers.IntegerField(read_only=True, help_text="Rule 'silent': days without a message.")
    never_shared_grace_days = serializers.IntegerField(
        read_only=True, help_text="Rule 'never shared': days after joining before it counts.")
    hosting_counts_as_sharing = serializers.BooleanField(
        read_only=True, help_text="Rule 'never shared': a member who hosted a talk since joining is not flagged.")
    nickname_form = serializers.CharField(read_only=True, help_text="Rule 'nickname': the form nicknames follow.")
    nickname_reminders = serializers.IntegerField(read_only=True, help_text="Rule 'nickname': reminders before removal.")
    nickname_grace_days = serializers.IntegerField(
        read_only=True, help_text="Rule 'nickname': days after the last reminder before the flag opens.")

    @extend_schema_field(SeatsSerializer)
    def get_seats(self, group: Group) -> dict[str, int]:
        return seats(capacity=group.capacity, active=group.seats_active, pending=group.seats_pending)


_FIELD_TYPES = {
    forms.IntegerField: serializers.IntegerField,
    forms.TimeField: serializers.TimeField,
    forms.CharField: serializers.CharField,
    forms.BooleanField: serializers.BooleanField,
}


def _settings_input_fields() -> dict[str, serializers.Field]:
    """The settings page's fields (``GroupSettingsForm``), every one optional: the API takes
    the same values within the same bounds."""
    fields = {}
    for name, field in GroupSettingsForm.base_fields.items():
        kwargs = {"required": False, "help_text": str(field.help_text or field.label)}
        if isinstance(field, forms.IntegerField):
            kwargs.update(min_value=field.min_value, max_value=field.max_value)
        elif isinstance(field, forms.CharField):
            kwargs.update(allow_blank=not field.required, max_length=field.max_length)
        serializer_field = next(cls for form_cls, cls in _FIELD_TYPES.items() if isinstance(field, form_cls))
        fields[name] = serializer_field(**kwargs)
    return fields


GroupSettingsInputSerializer = type("GroupSettingsInputSerializer", (serializers.Serializer,), {
    "__doc__": "Settings to change (any of them) and, for a change of the rules, why (kept in the audit log).",
    **_settings_input_fields(),
})


@extend_schema_view(get=extend_schema(
    summary="Groups", tags=["groups"],
    description="Every group, by name, with its seats and rule settings. Any logged-in user.",
))
class GroupListAPI(generics.ListAPIView):
    serializer_class = GroupSerializer

    def get_queryset(self):
        return groups_with_seats()


@extend_schema_view(
    get=extend_schema(summary="A group", tags=["groups"],
                      description="A group with its seats and rule settings. Any logged-in user."),
    patch=extend_schema(
        summary="Change a group's settings", tags=["groups"], request=GroupSettingsInputSerializer,
        responses={200: GroupSerializer},
        description="The group's admins and staff change its rhythm, announcement template and rule parameters, "
                    "as on the group's settings page (same bounds). A change of the rules is written to the audit "
                    "log with `reason`. Nothing is changed when a value is refused (400 naming the field).",
    ),
)
class GroupDetailAPI(generics.RetrieveAPIView):
    serializer_class = GroupSerializer
    lookup_field = "slug"
    error_fields = {"placeholders": "announcement_template"}  # a refusal of the service (400)

    def get_queryset(self):
        return groups_with_seats()

    def patch(self, request, slug: str):
        group, access = group_and_access(request.user, slug)
        access.require_admin("Only the group's admins change its settings.")
        values = GroupSettingsInputSerializer(data=request.data)
        values.is_valid(raise_exception=True)
        unchanged = {name: getattr(group, name) for name in GROUP_SETTINGS}
        group_settings_update(group=group, by=request.user, **{**unchanged, **values.validated_data})
        return Response(GroupSerializer(self.get_queryset().get(pk=group.pk)).data)
