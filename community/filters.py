"""FilterSets over groups and memberships, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from .models import Flag, FlagRule, FlagStatus, Group, Membership, MembershipRole, MembershipStatus, Name


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


class MemberFilter(django_filters.FilterSet):
    """The members of one group (rows are memberships): ``group`` is required."""

    group = GroupSlugFilter(required=True)
    status = django_filters.ChoiceFilter(choices=MembershipStatus.choices)
    role = django_filters.ChoiceFilter(choices=MembershipRole.choices)
    company = django_filters.CharFilter(field_name="member__company", lookup_expr="icontains")
    city = django_filters.CharFilter(field_name="member__city", lookup_expr="icontains")
    name = django_filters.CharFilter(method="filter_name", label=_("display name or any known name contains"))

    class Meta:
        model = Membership
        fields = ["group", "status", "role", "company", "city", "name"]

    def filter_name(self, queryset, name, value):
        # EXISTS rather than a join on names: one row per membership, no DISTINCT.
        known_name = Name.objects.filter(member_id=OuterRef("member_id"), name__icontains=value)
        return queryset.filter(Q(member__display_name__icontains=value) | Exists(known_name))


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
