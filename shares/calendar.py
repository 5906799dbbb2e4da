"""A group's shares as an iCalendar feed (RFC 5545), written by hand: the format needs
escaping, folding and CRLF, nothing a dependency would add."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from community.models import Group, Visibility

from .models import Share, ShareStatus
from .selectors import PLANNED_STATUSES, SCHEDULE_STATUSES, shares_on_schedule, speaker_name

PRODID = "-//payment-community//shares//ZH"
DEFAULT_HOST = "payment-community"
DEFAULT_DURATION = dt.timedelta(hours=1)
# The feed reaches back a year (and forward as far as the schedule goes): enough for a
# calendar, and its size stays bounded however long the group has been running.
PAST_DAYS = 365
FUTURE_DAYS = 3650
MAX_OCTETS = 75


def calendar_shares(*, group: Group, members_only: bool, today: dt.date) -> QuerySet[Share]:
    """The group's scheduled and delivered shares with a start, from a year before ``today``
    on, speaker and nickname loaded, by start: public ones, plus members-only ones when
    ``members_only``. Hidden shares never (a feed is copied into other apps). With
    ``members_only`` (the group's members) also its announced shares — announced in its record,
    not given there —, with or without a start; the public's feed stays what it was."""
    visibilities = [Visibility.PUBLIC, Visibility.MEMBERS] if members_only else [Visibility.PUBLIC]
    dated = Q(scheduled_for__isnull=False) | Q(started_at__isnull=False)
    if members_only:
        dated |= Q(status=ShareStatus.ANNOUNCED)
    return shares_on_schedule(
        group=group, start=today - dt.timedelta(days=PAST_DAYS), end=today + dt.timedelta(days=FUTURE_DAYS),
        statuses=SCHEDULE_STATUSES if members_only else PLANNED_STATUSES,
    ).filter(dated, visibility__in=visibilities)


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """A content line folded (RFC 5545 3.1): no physical line longer than 75 octets in UTF-8,
    continuation lines start with one space, and a multi-byte character is never split."""
    if len(line.encode()) <= MAX_OCTETS:
        return line
    parts: list[str] = []
    current, size = [], 0
    for char in line:
        width = len(char.encode())
        if size + width > MAX_OCTETS:
            parts.append("".join(current))
            current, size = [" "], 1  # the leading space of a continuation counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n".join(parts)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def announced_mark(share: Share, given_in: dict[int, Share]) -> str:
    """What an announced share says of itself: given in another group (when the reader may read
    that talk: ``given_in``, from ``selectors.given_in_talks``), or not given here."""
    talk = given_in.get(share.given_in_id) if share.given_in_id else None
    if talk is not None:
        return _("given in %(group)s") % {"group": talk.group.name}
    return _("announced — not given here")


def group_calendar(*, group: Group, shares: Iterable[Share], base_url: str = "",
                   now: dt.datetime | None = None, given_in: dict[int, Share] | None = None) -> str:
    """The VCALENDAR text for the shares, one VEVENT each (in the given order), CRLF line ends.

    A share starts at ``started_at`` if it was delivered with a recorded start, else at
    ``scheduled_for``; it ends at ``ended_at``, else one hour later. ``base_url``
    (``https://host``) gives the event URLs and the host in the UIDs
    (``share-<id>@<host>``, ``payment-community`` without one). ``now`` is the DTSTAMP.
    An announced share (not given in the group) says so in its summary and description — or
    names the group it was given in, with that talk's URL, when it is in ``given_in`` (the
    talks the reader may read) —, has no STATUS (it was not given as announced), and is an
    all-day event of its day when the announcement gave no time."""
    given_in = given_in or {}
    stamp = _utc(now or timezone.now())
    host = urlsplit(base_url).hostname or DEFAULT_HOST
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(group.name)}",
        f"X-WR-TIMEZONE:{group.time_zone}",
    ]
    for share in shares:
        announced = share.status == ShareStatus.ANNOUNCED
        start = share.started_at or share.scheduled_for
        if start is None and not (announced and share.day):
            continue
        if start is not None:
            end = share.ended_at if share.ended_at and share.ended_at > start else start + DEFAULT_DURATION
            when = [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]
        else:  # announced without a time: the day itself
            when = [f"DTSTART;VALUE=DATE:{share.day:%Y%m%d}",
                    f"DTEND;VALUE=DATE:{share.day + dt.timedelta(days=1):%Y%m%d}"]
        url = ""
        if base_url:
            path = reverse("shares:share_detail", kwargs={"group_slug": group.slug, "pk": share.pk})
            url = base_url.rstrip("/") + path
        summary = f"{share.topic} — {speaker_name(share)}"
        description = group.name
        if announced:
            mark = announced_mark(share, given_in)
            summary += f" ({mark})"
            description += f"\n{mark}"
            if start is None:
                description += f"\n{_('time not announced')}"
            talk = given_in.get(share.given_in_id) if share.given_in_id else None
            if talk is not None and base_url:
                description += "\n" + base_url.rstrip("/") + reverse(
                    "shares:talk", kwargs={"group_slug": talk.group.slug, "pk": talk.pk})
        description += f"\n{url}" if url else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:share-{share.pk}@{host}",
            f"DTSTAMP:{stamp}",
            *when,
            f"SUMMARY:{escape_text(summary)}",
            f"DESCRIPTION:{escape_text(description)}",
        ]
        if url:
            lines.append(f"URL:{url}")
        if not announced:
            lines.append("STATUS:CONFIRMED")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
