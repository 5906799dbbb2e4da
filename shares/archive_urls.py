"""The talk archive's pages under a group."""

import datetime as dt

from django.urls import path, register_converter

from community.dates import is_query_day

from . import archive_views


class IsoDayConverter:
    """A day as ``YYYY-MM-DD``; an impossible date (2018-02-30), or one no record can have
    (before 2000, after 2100: far ones overflow the day's datetimes), does not match (404)."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> dt.date:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(value) from None
        if not is_query_day(day):
            raise ValueError(value)
        return day

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, dt.date) else str(value)


register_converter(IsoDayConverter, "archive_day")

urlpatterns = [
    path("talks/<int:pk>/", archive_views.talk, name="talk"),
    path("days/<archive_day:day>/", archive_views.day, name="day"),
]
