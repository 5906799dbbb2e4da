"""A member's profile and a group's activity page.

Both need a login (anonymous visitors are sent to log in). A profile the viewer shares no
group with is a 404 — whether someone is in a group the viewer is not in is not told; the
activity page is for the group's members and staff, a 403 for other logged-in people, as on
the other member-only group pages.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from community.access import group_member_required
from community.charts import bar_chart
from community.dates import EARLIEST_DAY, LATEST_QUERY_DAY, is_query_day

from .people import (
    activity_range,
    attendance_per_talk,
    day_series,
    messages_per_hour,
    messages_per_month,
    month_series,
    profile_names,
    profile_scope,
    profile_sign_ins,
    profile_talks_given,
    recorded_day_counts,
)
from .selectors import shares_visible_to

MAX_RANGE_DAYS = 366


@login_required
@require_GET
def profile(request, pk: int) -> HttpResponse:
    """A member's names over time, groups, talks given and attended, and messages per month,
    limited to the groups the viewer shares with the member (all of it for the member and staff)."""
    scope = profile_scope(viewer=request.user, member_id=pk)
    if scope is None:
        raise Http404
    visible = shares_visible_to(request.user)
    series = month_series(messages_per_month(member=scope.member, groups=scope.groups))
    chart = None
    if series:
        total = sum(count for _label, count in series)
        busiest = max(series, key=lambda item: item[1])
        chart = bar_chart(
            series,
            title=_("Messages per month"),
            description=_("%(total)s messages from %(first)s to %(last)s; the busiest month: %(month)s (%(count)s).") % {
                "total": total, "first": series[0][0], "last": series[-1][0], "month": busiest[0], "count": busiest[1],
            },
        )
    return render(request, "shares/people/profile.html", {
        "scope": scope,
        "member": scope.member,
        "memberships": scope.memberships,
        "names": list(profile_names(scope)),
        "talks_given": list(profile_talks_given(scope, visible=visible)),
        "sign_ins": list(profile_sign_ins(scope, visible=visible)),
        "month_counts": series,
        "chart": chart,
    })


class _RangeForm(forms.Form):
    """A range of days: both ends optional, the start not after the end, at most a year."""

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        for day in (start, end):
            # Dates outside these bounds cannot be a group's record, and very far ones overflow datetimes.
            if day is not None and not is_query_day(day):
                raise ValidationError(_("Pick dates between %(earliest)s and %(latest)s.") % {
                    "earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_QUERY_DAY.isoformat()})
        if start is not None and end is not None:
            if start > end:
                raise ValidationError(_("The start of the range is after its end."))
            if (end - start).days + 1 > MAX_RANGE_DAYS:
                raise ValidationError(_("Pick at most %(days)s days.") % {"days": MAX_RANGE_DAYS})
        return data


def _date_field(label):
    return forms.DateField(label=label, required=False,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


# The fields are named as the query string has them: ``?from=…&to=…`` ("from" is a Python keyword).
ActivityRangeForm = type("ActivityRangeForm", (_RangeForm,), {
    "from": _date_field(gettext_lazy("from")),
    "to": _date_field(gettext_lazy("to")),
})


@group_member_required
@require_GET
def group_activity(request, group_slug: str) -> HttpResponse:
    """The group's messages per day (gaps where the record has no day), by hour of day, and
    the sign-ins of each delivered talk the viewer may see, over a range of days (by default
    the last 90 recorded days). A range that is not valid is explained, and the default shown."""
    group = request.group
    form = ActivityRangeForm(request.GET or None)
    asked_start = asked_end = None
    if form.is_bound and form.is_valid():
        asked_start, asked_end = form.cleaned_data["from"], form.cleaned_data["to"]
    start, end = activity_range(group=group, start=asked_start, end=asked_end)
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        # Only a range with one end given gets here: keep the end the viewer chose.
        if asked_start is not None:
            end = start + dt.timedelta(days=MAX_RANGE_DAYS - 1)
        else:
            start = end - dt.timedelta(days=MAX_RANGE_DAYS - 1)
    counts = recorded_day_counts(group=group, start=start, end=end)
    days = day_series(counts, start=start, end=end)
    hours = messages_per_hour(group=group, start=start, end=end)
    total = sum(counts.values())
    figures = {"total": total, "recorded": len(counts), "missing": len(days) - len(counts), "start": start, "end": end}
    day_chart = bar_chart(
        days,
        title=_("Messages per day, %(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()},
        description=_("%(total)s messages over %(recorded)s recorded days; %(missing)s days are not in the record.")
        % figures,
        gap_text=_("not in the record"),
    )
    hour_chart = bar_chart(
        [(str(hour), count) for hour, count in enumerate(hours)],
        title=_("Messages by hour of day (%(time_zone)s)") % {"time_zone": group.time_zone},
        description=_("%(total)s messages; the busiest hour starts at %(hour)s:00.") % {
            "total": sum(hours), "hour": max(range(24), key=lambda hour: hours[hour])}
        if any(hours) else _("No message in this range."),
    )
    talks = list(attendance_per_talk(group=group, visible=shares_visible_to(request.user), start=start, end=end))
    return render(request, "shares/people/group_activity.html", {
        "group": group,
        "form": form,
        "range_error": form.is_bound and not form.is_valid(),
        "figures": figures,
        "day_chart": day_chart,
        "hour_chart": hour_chart,
        "hours": hours,
        "talks": talks,
        # The meters' scale: the best-attended talk of the range fills its bar.
        "most_attended": max((share.attendance for share in talks), default=0) or 1,
    })
