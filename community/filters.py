"""FilterSets over groups and memberships, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
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
