"""FilterSets over shares, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.dates import MONTHS
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from community.filters import GroupSlugFilter
from community.models import Group, Member, Visibility

from .models import Share, ShareStatus
from .search import talks_search


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


class PlainSelect(forms.Select):
    """A ``<select>`` written out directly: Django renders each ``<option>`` through a template,
    which for the hundreds of speakers of an archive costs more than the rest of the page.
    Values and labels are escaped."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((str(key), " selected" if str(key) in chosen else "", label) for key, label in self.choices),
        )
        return format_html("<select name=\"{}\"{}>{}</select>", name, flatatt(self.build_attrs(self.attrs, attrs)),
                           options)


class TalkFilter(django_filters.FilterSet):
    """The talk archive's filters over delivered shares: a text query, group, speaker, year and
    month (of the talk's day, in its group's time zone). ``visible`` (``shares_visible_to``)
    limits the groups and speakers one may pick to those of talks the visitor may see, so
    the choices reveal nothing more than the list. An invalid value is reported on the form
    and ignored."""

    q = django_filters.CharFilter(method="filter_q", label=_("Search"), max_length=200)
    group = GroupSlugFilter(queryset=Group.objects.none(), label=_("group"), empty_label=_("all groups"),
                            widget=PlainSelect)
    speaker = django_filters.ModelChoiceFilter(queryset=Member.objects.none(), label=_("speaker"),
                                               empty_label=_("any speaker"), widget=PlainSelect)
    year = django_filters.ChoiceFilter(field_name="day__year", choices=[], label=_("year"), empty_label=_("any year"),
                                       widget=PlainSelect)
    month = django_filters.ChoiceFilter(field_name="day__month", choices=[(str(n), name) for n, name in MONTHS.items()],
                                        label=_("month"), empty_label=_("any month"), widget=PlainSelect)

    class Meta:
        model = Share
        fields = ["q", "group", "speaker", "year", "month"]

    def __init__(self, data=None, queryset=None, *, visible, **kwargs):
        super().__init__(data, queryset, **kwargs)
        talks = visible.filter(status=ShareStatus.DELIVERED).order_by()
        # Only what a choice shows: hundreds of speakers are read for every page.
        self.filters["group"].queryset = (
            Group.objects.filter(pk__in=talks.values("group_id")).only("id", "slug", "name").order_by("name"))
        self.filters["speaker"].queryset = (
            Member.objects.filter(pk__in=talks.values("speaker_id")).only("id", "display_name")
            .order_by("display_name", "id"))
        years = talks.filter(day__isnull=False).dates("day", "year", order="DESC")
        # Asked once, when the form validates or renders the choices, whichever comes first.
        self.filters["year"].extra["choices"] = lambda: [(str(day.year), str(day.year)) for day in years]
        self.search_terms: list[str] = []

    def filter_q(self, queryset, name, value):
        found, self.search_terms = talks_search(queryset, value)
        return found
