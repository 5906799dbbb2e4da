"""FilterSets over shares, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.dates import MONTHS
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from community.filters import GroupSlugFilter
from community.models import Group, Member, Visibility

from .models import Share, ShareStatus, SignIn
from .search import talks_search


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


@extend_schema_field(OpenApiTypes.INT)
class YearFilter(django_filters.ChoiceFilter):
    """A year of the shares' days, among the years the shares have (the choices are set per FilterSet)."""


class ShareFilter(django_filters.FilterSet):
    """Shares by group (slug), speaker (member id), status, day range, year and month of the
    day (in the group's time zone) and visibility: the API's share list. The talk archive's
    ``TalkFilter`` is this FilterSet as its page offers it (no status, range or visibility:
    the archive is delivered talks the visitor may see). The speaker is asked for by id, in
    a text box: a list of every member would show their names to whoever reads the form."""

    group = GroupSlugFilter()
    status = django_filters.ChoiceFilter(choices=ShareStatus.choices, label=_("status"))
    speaker = django_filters.ModelChoiceFilter(queryset=Member.objects.all(), label=_("speaker (member id)"),
                                               widget=forms.TextInput)
    date_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("on or after (YYYY-MM-DD)"))
    date_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("on or before (YYYY-MM-DD)"))
    year = YearFilter(field_name="day__year", choices=[], label=_("year"), empty_label=_("any year"), widget=PlainSelect)
    month = django_filters.ChoiceFilter(field_name="day__month", choices=[(str(n), name) for n, name in MONTHS.items()],
                                        label=_("month"), empty_label=_("any month"), widget=PlainSelect)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices, label=_("visibility"))

    class Meta:
        model = Share
        fields = ["group", "status", "speaker", "date_from", "date_to", "year", "month", "visibility"]

    def __init__(self, data=None, queryset=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        years = self.queryset.filter(day__isnull=False).order_by().dates("day", "year", order="DESC")
        year = self.filters["year"]
        # Asked once, when the form validates a year or renders the choices, whichever comes first.
        year.extra["choices"] = lambda: [(str(day.year), str(day.year)) for day in years]
        # The copy of the class's filter keeps the form field the class's filter may have built
        # already (the API's schema reads it), with the class's empty choices: build it again.
        year.__dict__.pop("_field", None)


class TalkFilter(ShareFilter):
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
    # Not offered on the archive's page.
    status = date_from = date_to = visibility = None

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
        self.search_terms: list[str] = []

    def filter_q(self, queryset, name, value):
        found, self.search_terms = talks_search(queryset, value)
        return found


class SignInFilter(django_filters.FilterSet):
    """Sign-ins of one group (``group`` required), by share (id), member (id) and the share's
    day (from, to). Ids are asked for in text boxes: a list would show every share and member."""

    group = GroupSlugFilter(field_name="share__group", required=True)
    share = django_filters.ModelChoiceFilter(queryset=Share.objects.all(), label=_("share (id)"), widget=forms.TextInput)
    member = django_filters.ModelChoiceFilter(queryset=Member.objects.all(), label=_("member (id)"),
                                              widget=forms.TextInput)
    date_from = django_filters.DateFilter(field_name="share__day", lookup_expr="gte",
                                          label=_("share on or after (YYYY-MM-DD)"))
    date_to = django_filters.DateFilter(field_name="share__day", lookup_expr="lte",
                                        label=_("share on or before (YYYY-MM-DD)"))

    class Meta:
        model = SignIn
        fields = ["group", "share", "member", "date_from", "date_to"]
