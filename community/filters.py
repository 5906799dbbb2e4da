"""FilterSets over groups, memberships and messages, shared by the API and the pages.

The member directory's FilterSets (``DirectoryFilter`` for members, ``AdminDirectoryFilter``
for a group's admins) are the base of the members API's (``MemberFilter``,
``AdminMemberFilter``): the page and the API filter the same rows the same way."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import (
    Flag,
    FlagRule,
    FlagStatus,
    Group,
    Membership,
    MembershipRole,
    MembershipStatus,
    Message,
    MessageKind,
    Name,
)


class GroupSlugFilter(django_filters.ModelChoiceFilter):
    """A group chosen by its slug; an unknown slug is an invalid value (400), not an empty list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Group.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("label", _("group (slug)"))
        error_messages = {"invalid_choice": _("No group has this slug.")}
        if kwargs.get("required"):
            error_messages["required"] = _("This filter is required.")
        kwargs.setdefault("error_messages", error_messages)
        super().__init__(**kwargs)


class FlagFilter(django_filters.FilterSet):
    """Flags of one group (``group`` required), by rule and status."""

    group = GroupSlugFilter(required=True)
    rule = django_filters.ChoiceFilter(choices=FlagRule.choices)
    status = django_filters.ChoiceFilter(choices=FlagStatus.choices)

    class Meta:
        model = Flag
        fields = ["group", "rule", "status"]


def _descending(field: str) -> tuple:
    # Most first; members without a value (never spoke) last, then by nickname.
    return (F(field).desc(nulls_last=True), "nickname", "id")


class DirectoryFilter(django_filters.FilterSet):
    """A group's member directory as members see it (rows are the memberships the view gives):
    search over nickname, name, display name and company; role, position, city and company;
    and the order. ``AdminDirectoryFilter`` adds the status and the message count."""

    SORTS = {
        "nickname": ("nickname", "id"),
        "last_message": _descending("last_message_at"),
        "shares_given": _descending("shares_given"),
        "sign_ins": _descending("sign_in_count"),
    }
    SORT_CHOICES = [
        ("nickname", _("nickname")),
        ("last_message", _("last message, newest first")),
        ("shares_given", _("shares given, most first")),
        ("sign_ins", _("sign-ins, most first")),
    ]

    q = django_filters.CharFilter(method="filter_q", label=_("search"))
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices, label=_("role"), empty_label=_("any role"))
    position = django_filters.CharFilter(field_name="member__position", lookup_expr="icontains", label=_("position"))
    city = django_filters.CharFilter(field_name="member__city", lookup_expr="icontains", label=_("city"))
    company = django_filters.CharFilter(field_name="member__company", lookup_expr="icontains", label=_("company"))
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="filter_sort", label=_("order"), empty_label=None)

    class Meta:
        model = Membership
        fields = ["q", "role", "position", "city", "company", "sort"]

    def filter_q(self, queryset, name, value):
        # Only what the directory shows: names seen in other groups are not searched (they would leak).
        return queryset.filter(
            Q(nickname__icontains=value) | Q(member__name__icontains=value)
            | Q(member__display_name__icontains=value) | Q(member__company__icontains=value)
        )

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*self.SORTS[value])


class AdminDirectoryFilter(DirectoryFilter):
    """The directory as a group's admins see it: every membership, so a status filter too,
    and the message count (rule evidence) as an order."""

    SORTS = {**DirectoryFilter.SORTS, "messages": _descending("message_count")}
    SORT_CHOICES = [*DirectoryFilter.SORT_CHOICES, ("messages", _("messages, most first"))]

    status = django_filters.ChoiceFilter(choices=MembershipStatus.choices, label=_("status"), empty_label=_("any status"))
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="filter_sort", label=_("order"), empty_label=None)

    class Meta(DirectoryFilter.Meta):
        fields = [*DirectoryFilter.Meta.fields, "status"]


class _GroupMembersFilter(django_filters.FilterSet):
    """What the members API adds to the directory's filters: the group (required) and a name."""

    group = GroupSlugFilter(required=True)
    name = django_filters.CharFilter(
        method="filter_name", label=_("nickname, display name or a name seen in the group contains"),
    )

    def filter_name(self, queryset, name, value):
        # Names seen in other groups are not searched (they would tell where else the member is);
        # EXISTS rather than a join on names: one row per membership, no DISTINCT.
        known_name = Name.objects.filter(
            member_id=OuterRef("member_id"), group_id=OuterRef("group_id"), name__icontains=value,
        )
        return queryset.filter(
            Q(nickname__icontains=value) | Q(member__display_name__icontains=value) | Exists(known_name)
        )


class MemberFilter(_GroupMembersFilter, DirectoryFilter):
    """The members API as a group's members use it: the directory's filters, with the group,
    a name and a status (the rows are active memberships only, as in their directory)."""

    status = django_filters.ChoiceFilter(choices=MembershipStatus.choices, label=_("status"))

    class Meta(DirectoryFilter.Meta):
        fields = ["group", "status", *DirectoryFilter.Meta.fields, "name"]


class AdminMemberFilter(_GroupMembersFilter, AdminDirectoryFilter):
    """The members API as a group's admins (and staff) use it: the admins' directory filters
    (status and every membership), with the group and a name."""

    class Meta(AdminDirectoryFilter.Meta):
        fields = ["group", *AdminDirectoryFilter.Meta.fields, "name"]


class MembershipFilter(django_filters.FilterSet):
    """Memberships: of one group (``group``), or the user's own (``mine``); by role and status.
    The view decides who may ask for which."""

    group = GroupSlugFilter()
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("only my own memberships"))
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices)
    status = django_filters.ChoiceFilter(choices=MembershipStatus.choices)

    class Meta:
        model = Membership
        fields = ["group", "mine", "role", "status"]

    def filter_mine(self, queryset, name, value):
        # The view gives the user's own memberships as the rows when ``mine`` is set.
        return queryset


class MomentField(forms.Field):
    """A day (``2018-05-20``) or an ISO 8601 date-time (``2018-05-20T19:30``, with or without
    an offset): returns a ``date`` or a ``datetime``; the filter puts it in the group's zone."""

    default_error_messages = {
        "invalid": _("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS][+08:00])."),
        "out_of_range": _("Enter a moment between the years 1970 and 2100."),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        try:
            moment = dt.date.fromisoformat(value) if len(value) == 10 else dt.datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        # Far years are no group's record, and overflow when moved to UTC.
        if not 1970 <= moment.year <= 2100:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return moment


class MomentFilter(django_filters.Filter):
    """``sent_at`` from (``since``) or until a moment; a day means its start (``since``) or its
    end (``until``, the whole day included), in the time zone of the filtered group."""

    field_class = MomentField

    def __init__(self, *, end_of_day: bool, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(field_name="sent_at", lookup_expr="lt" if end_of_day else "gte", **kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        group = self.parent.form.cleaned_data.get("group")
        zone = group.tz if group is not None else timezone.get_current_timezone()
        if isinstance(value, dt.datetime):
            moment = value if timezone.is_aware(value) else value.replace(tzinfo=zone)
            # A moment given for ``until`` is included.
            return queryset.filter(sent_at__lte=moment) if self.end_of_day else queryset.filter(sent_at__gte=moment)
        day = value + dt.timedelta(days=1) if self.end_of_day else value
        return super().filter(queryset, dt.datetime.combine(day, dt.time(), tzinfo=zone))


# The largest id a row can have (a 64-bit primary key): a larger number names nothing, and
# some databases cannot even compare with it.
MAX_ID = 2**63 - 1


@extend_schema_field(OpenApiTypes.INT64)
class IdFilter(django_filters.NumberFilter):
    """A row's id (a whole number from 1 to ``MAX_ID``): anything else is an invalid value (400)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("decimal_places", 0)
        super().__init__(**kwargs)


class MessageFilter(django_filters.FilterSet):
    """A group's messages (``group`` required): by sender, time range (``since``, ``until``:
    days or moments in the group's time zone), kind and text."""

    group = GroupSlugFilter(required=True)
    member = IdFilter(field_name="sender_id", label=_("sender (member id)"))
    since = MomentFilter(end_of_day=False, label=_("sent at or after (day or ISO date-time)"))
    until = MomentFilter(end_of_day=True, label=_("sent at or before (day, included, or ISO date-time)"))
    kind = django_filters.ChoiceFilter(choices=MessageKind.choices)
    text = django_filters.CharFilter(field_name="text", lookup_expr="icontains", label=_("text contains"))

    class Meta:
        model = Message
        fields = ["group", "member", "since", "until", "kind", "text"]
