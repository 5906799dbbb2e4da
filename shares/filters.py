"""FilterSets over shares, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from community.filters import GroupSlugFilter
from community.models import Member, Visibility

from .models import Share, ShareStatus


class ShareFilter(django_filters.FilterSet):
    group = GroupSlugFilter()
    status = django_filters.ChoiceFilter(choices=ShareStatus.choices)
    speaker = django_filters.ModelChoiceFilter(queryset=Member.objects.all(), label=_("speaker (member id)"))
    date_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("on or after (YYYY-MM-DD)"))
    date_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("on or before (YYYY-MM-DD)"))
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)

    class Meta:
        model = Share
        fields = ["group", "status", "speaker", "date_from", "date_to", "visibility"]
