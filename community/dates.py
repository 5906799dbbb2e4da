"""The days a group's record can have, in one place (plain Python, no Django).

No group's record is older than ``EARLIEST_DAY``, and none is later than tomorrow in the
group's time zone (a day of margin for a clock or a zone slightly ahead): a transcript, a
roster's joining date or a message outside that range is an input error, never stored. The
rules never judge as of a day after today. Pages and filters that take a day, a year or a
moment from a URL refuse one outside ``EARLIEST_DAY`` to ``LATEST_QUERY_DAY`` (far dates
overflow Python's and the databases' datetimes).
"""

from __future__ import annotations

import datetime as dt

EARLIEST_DAY = dt.date(2000, 1, 1)
# The furthest day a page or filter may be asked about (a schedule can look ahead; a record cannot).
LATEST_QUERY_DAY = dt.date(2100, 12, 31)


def today_in(tz: dt.tzinfo, *, now: dt.datetime | None = None) -> dt.date:
    """Today in the time zone ``tz`` (``now``: an aware moment, default the current one)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()


def latest_record_day(tz: dt.tzinfo, *, now: dt.datetime | None = None) -> dt.date:
    """The latest day a group's record may have: tomorrow in the group's time zone ``tz``."""
    return today_in(tz, now=now) + dt.timedelta(days=1)


def record_day_problem(day: dt.date, *, latest: dt.date | None) -> str:
    """Why ``day`` cannot be a day of a group's record (in English, for the importer's
    ``file:line: reason`` reports), or "" when it can. ``latest``: ``latest_record_day`` of
    the group (None: only the earliest bound is checked)."""
    if day < EARLIEST_DAY:
        return f"date {day.isoformat()} is before {EARLIEST_DAY.isoformat()}: no group's record is that old"
    if latest is not None and day > latest:
        return (f"date {day.isoformat()} is after {latest.isoformat()} (tomorrow in the group's time zone): "
                "a record cannot be from the future")
    return ""


def is_query_day(day: dt.date) -> bool:
    """Whether a page or filter may be asked about ``day`` (``EARLIEST_DAY`` to ``LATEST_QUERY_DAY``)."""
    return EARLIEST_DAY <= day <= LATEST_QUERY_DAY
