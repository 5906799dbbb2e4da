"""Reads for the member pages: a member's profile and a group's activity.

Who may see a profile, and how much of it: the member themself and staff see everything;
another logged-in person sees it only through the groups they share with the member — the
groups where the viewer is an active member and the member is active too (or has any
membership at all, when the viewer is one of that group's admins, who also see removed and
departed members in the directory). Names, memberships, talks, sign-ins and messages of the
other groups are left out; talks and sign-ins are also limited to the shares the viewer may
see (``shares_visible_to``).

Counts by month, day and hour are taken in each group's own time zone, in the database.
Every function here costs a constant number of queries, whatever the number of messages,
talks or sign-ins.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from functools import lru_cache

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Func,
    IntegerField,
    Max,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractHour, TruncMonth

from community.dates import latest_record_day
from community.models import (
    Group,
    Member,
    Message,
    RecordedDay,
)
from community.selectors import ProfileScope, profile_names, profile_scope  # noqa: F401  (the profile page's reads)

from .models import Share, ShareStatus, SignIn

# The activity page's default range: this many of the group's latest recorded days.
DEFAULT_RECORDED_DAYS = 90


# --- A profile ---

def profile_talks_given(scope: ProfileScope, *, visible: QuerySet[Share]) -> QuerySet[Share]:
    """The member's delivered talks in the shared groups that are among ``visible``
    (``shares_visible_to(viewer)``), with their group, newest first."""
    return (
        visible.filter(speaker=scope.member, status=ShareStatus.DELIVERED, group_id__in=scope.group_ids)
        .select_related("group")
        .order_by(F("started_at").desc(nulls_last=True), "-id")
    )


def profile_sign_ins(scope: ProfileScope, *, visible: QuerySet[Share]) -> QuerySet[SignIn]:
    """The member's sign-ins to shares of the shared groups that are among ``visible``, with
    the share and its group, newest first."""
    shares = visible.filter(group_id__in=scope.group_ids).values("pk")
    return (
        SignIn.objects.filter(member=scope.member, share__in=shares)
        .select_related("share__group")
        .order_by("-signed_at", "-id")
    )


# --- Local time, in the database ---
#
# Counting by month or hour in a group's zone is done in the database. On PostgreSQL,
# Django's ``TruncMonth``/``ExtractHour`` with ``tzinfo`` convert natively (``AT TIME ZONE``).
# On SQLite they call back into Python for every row (about 12 µs a message: most of a second
# for 90 busy days of a group), so there SQLite's own ``strftime`` is used instead, with the
# zone's UTC offset — one per stretch of constant offset, which is exact across daylight-saving
# changes.

# The window in which offset changes are looked for on the profile, whose messages span any
# dates: before it the first offset applies, after it the last.
PROFILE_WINDOW_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=64)
def offset_stretches(zone: str, since: dt.datetime, until: dt.datetime) -> tuple[tuple[dt.datetime, dt.timedelta], ...]:
    """The stretches of constant UTC offset of ``zone`` from ``since`` to ``until`` (aware):
    ``(first moment, offset)`` each, the first one starting at ``since``. A change is looked
    for day by day, then pinned to the minute (zones change offset at most a few times a year)."""
    tz = zoneinfo.ZoneInfo(zone)
    stretches = [(since, since.astimezone(tz).utcoffset())]
    moment = since
    while moment < until:
        following = min(moment + dt.timedelta(days=1), until)
        if following.astimezone(tz).utcoffset() != stretches[-1][1]:
            low, high = 0, int((following - moment).total_seconds()) // 60 + 1  # minutes after ``moment``
            while high - low > 1:
                middle = (low + high) // 2
                if (moment + dt.timedelta(minutes=middle)).astimezone(tz).utcoffset() == stretches[-1][1]:
                    low = middle
                else:
                    high = middle
            change = moment + dt.timedelta(minutes=high)
            stretches.append((change, change.astimezone(tz).utcoffset()))
        moment = following
    return tuple(stretches)


def _sqlite_local(fmt: str, zone: str, since: dt.datetime, until: dt.datetime):
    """``strftime(fmt)`` of ``sent_at`` moved to ``zone``'s offset at that moment (SQLite only)."""

    def shifted(offset: dt.timedelta):
        minutes = f"{int(offset.total_seconds()) // 60:+d} minutes"
        return Func(Value(fmt), F("sent_at"), Value(minutes), function="strftime", output_field=CharField())

    stretches = offset_stretches(zone, since, until)
    if len(stretches) == 1:
        return shifted(stretches[0][1])
    whens = [When(sent_at__lt=following, then=shifted(offset))
             for (_start, offset), (following, _next) in zip(stretches, stretches[1:], strict=False)]
    return Case(*whens, default=shifted(stretches[-1][1]), output_field=CharField())


def _local_hour(zone: str, since: dt.datetime, until: dt.datetime):
    """The hour (0–23) of ``sent_at`` in ``zone``, for messages sent from ``since`` to ``until``."""
    if connection.vendor == "sqlite":
        return Cast(_sqlite_local("%H", zone, since, until), IntegerField())
    return ExtractHour("sent_at", tzinfo=zoneinfo.ZoneInfo(zone))


def _local_month(groups: Iterable[Group]):
    """The month of ``sent_at`` in the zone of the message's group: one expression when the
    groups share a zone (the usual case), else one per zone. On SQLite a "YYYY-MM" text, on
    PostgreSQL the first moment of the month."""
    by_zone: dict[str, list[int]] = {}
    for group in groups:
        by_zone.setdefault(group.time_zone, []).append(group.pk)
    if connection.vendor == "sqlite":
        until = dt.datetime(dt.datetime.now(dt.UTC).year + 2, 1, 1, tzinfo=dt.UTC)
        months = {zone: _sqlite_local("%Y-%m", zone, PROFILE_WINDOW_START, until) for zone in by_zone}
        output = CharField()
    else:
        months = {zone: TruncMonth("sent_at", tzinfo=zoneinfo.ZoneInfo(zone)) for zone in by_zone}
        output = DateTimeField()
    if len(months) == 1:
        return next(iter(months.values()))
    return Case(*[When(group_id__in=by_zone[zone], then=month) for zone, month in months.items()], output_field=output)


def _year_month(value) -> tuple[int, int]:
    """(year, month) of what ``_local_month`` gives: "YYYY-MM", or a datetime already truncated
    in the right zone (aware, or naive when it came through a ``Case``)."""
    if isinstance(value, str):
        year, month = value.split("-")
        return int(year), int(month)
    return value.year, value.month


def messages_per_month(*, member: Member, groups: list[Group]) -> dict[tuple[int, int], int]:
    """How many messages the member sent in ``groups``, by (year, month) in each group's time
    zone. One query, grouped in the database."""
    if not groups:
        return {}
    rows = (
        Message.objects.filter(sender=member, group_id__in=[group.pk for group in groups])
        .annotate(month=_local_month(groups))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    counts: dict[tuple[int, int], int] = {}
    for row in rows:
        key = _year_month(row["month"])
        counts[key] = counts.get(key, 0) + row["count"]
    return counts


def month_series(counts: dict[tuple[int, int], int]) -> list[tuple[str, int]]:
    """Every month from the first to the last one of ``counts`` as ("YYYY-MM", count), the
    months without a message as zero."""
    if not counts:
        return []
    (year, month), last = min(counts), max(counts)
    series = []
    while (year, month) <= last:
        series.append((f"{year:04d}-{month:02d}", counts.get((year, month), 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return series


# --- A group's activity ---

def activity_range(*, group: Group, start: dt.date | None, end: dt.date | None,
                   days: int = DEFAULT_RECORDED_DAYS) -> tuple[dt.date, dt.date]:
    """The range the activity page shows: ``start`` and ``end`` when given; a missing end is
    the group's last recorded day (today in the group's zone when nothing is recorded, and
    never before ``start``); a missing start is the first of the ``days`` latest recorded days
    up to the end (never after ``community.dates.latest_record_day``). Two queries at most."""
    if end is None:
        end = RecordedDay.objects.filter(group=group).aggregate(last=Max("day"))["last"]
        # A day later than the record can have (stored before the importer refused such days) is not a range's end.
        latest = latest_record_day(group.tz)
        end = min(end, latest) if end is not None else dt.datetime.now(tz=group.tz).date()
        if start is not None and end < start:
            end = start
    if start is None:
        latest = list(
            RecordedDay.objects.filter(group=group, day__lte=end).order_by("-day").values_list("day", flat=True)[:days]
        )
        start = latest[-1] if latest else end
    return start, end


def recorded_day_counts(*, group: Group, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """The group's recorded days from ``start`` to ``end`` with their message counts; a day
    absent from the result is a gap in the record, not a silent day."""
    return dict(
        RecordedDay.objects.filter(group=group, day__gte=start, day__lte=end).values_list("day", "message_count")
    )


def day_series(counts: dict[dt.date, int], *, start: dt.date, end: dt.date) -> list[tuple[str, int | None]]:
    """Every day from ``start`` to ``end`` as ("YYYY-MM-DD", count), None for the days the
    record does not have."""
    return [
        (day.isoformat(), counts.get(day))
        for day in (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    ]


def _local_bounds(group: Group, start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(start, dt.time.min, tzinfo=group.tz),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=group.tz))


def messages_per_hour(*, group: Group, start: dt.date, end: dt.date) -> list[int]:
    """How many of the group's messages from ``start`` to ``end`` (days in the group's zone)
    were sent in each hour of the day (0 to 23, in the group's zone). One query."""
    since, until = _local_bounds(group, start, end)
    rows = (
        Message.objects.filter(group=group, sent_at__gte=since, sent_at__lt=until)
        .annotate(hour=_local_hour(group.time_zone, since, until))
        .values("hour")
        .annotate(count=Count("id"))
        .order_by("hour")
    )
    hours = [0] * 24
    for row in rows:
        hours[row["hour"]] = row["count"]
    return hours


def attendance_per_talk(*, group: Group, visible: QuerySet[Share], start: dt.date, end: dt.date) -> QuerySet[Share]:
    """The group's delivered talks among ``visible`` with a day from ``start`` to ``end``,
    each with ``attendance`` (its sign-ins, counted) and its speaker, newest first."""
    return (
        visible.filter(group=group, status=ShareStatus.DELIVERED, day__gte=start, day__lte=end)
        .select_related("speaker")
        .annotate(attendance=Count("sign_ins"))
        .order_by("-day", F("started_at").desc(nulls_last=True), "-id")
    )
