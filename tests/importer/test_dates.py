"""Bad dates are input errors: a transcript dated before 2000-01-01 or after tomorrow in the
group's time zone, a message placed outside that range, or a roster row joined outside it fails
its own file with ``file:line: reason``; the other files still import, and nothing of the bad
one is stored. (Before: a file dated 9999-12-31 imported and broke the group's activity page; one
dated 0001-01-01 stopped a whole upload without saying where.)"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from community.dates import EARLIEST_DAY, latest_record_day, record_day_problem
from community.models import Message, RecordedDay
from importer.models import ImportedFile
from importer.services import Source, roster_import, transcripts_import
from importer.transcript import Transcript, TranscriptError, message_moments, parse_transcript
from importer.uploads import import_upload_create
from tests.factories import client_for, make_cast, make_group, make_user
from tests.importer.test_services import talk_day, transcript

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GOOD = ("2024-03-04.md", talk_day(day="2024-03-04"))


def tomorrow() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date() + dt.timedelta(days=1)


def day_file(day: str) -> tuple[str, bytes]:
    return f"{day}.md", transcript(day, [("09:00:00", "甲", "早"), ("09:01:00", "乙", "早上好")])


def run(*files, slug="prodarch"):
    return transcripts_import(group_slug=slug, sources=[Source.from_bytes(label, data) for label, data in files])


def stored_days() -> list[dt.date]:
    return sorted({*RecordedDay.objects.values_list("day", flat=True), *ImportedFile.objects.values_list("day", flat=True),
                   *Message.objects.values_list("source_day", flat=True)})


def test_a_transcript_dated_9999_12_31_fails_its_file_alone():
    result = run(day_file("9999-12-31"), GOOD)

    assert result.errors == [
        f"9999-12-31.md:4: date 9999-12-31 is after {tomorrow().isoformat()} (tomorrow in the group's time zone): "
        "a record cannot be from the future"]
    assert [(report["file"], report["status"]) for report in result.files] == [
        ("9999-12-31.md", "failed"), ("2024-03-04.md", "imported")]
    assert stored_days() == [dt.date(2024, 3, 4)]


def test_a_transcript_dated_0001_01_01_fails_its_file_alone():
    result = run(day_file("0001-01-01"), GOOD)

    assert result.errors == ["0001-01-01.md:4: date 0001-01-01 is before 2000-01-01: no group's record is that old"]
    assert [(report["file"], report["status"]) for report in result.files] == [
        ("0001-01-01.md", "failed"), ("2024-03-04.md", "imported")]
    assert stored_days() == [dt.date(2024, 3, 4)]


def test_an_upload_with_a_file_dated_0001_01_01_imports_the_others_and_names_the_bad_one(
        django_capture_on_commit_callbacks):
    group = make_group(slug="prodarch")
    with django_capture_on_commit_callbacks(execute=True):
        # Confirmed at once (no preview to wait for): what is asked here is the import itself.
        upload = import_upload_create(group=group, user=make_user(), kind="transcripts",
                                      files=[day_file("0001-01-01"), GOOD], options={"confirmed": True})

    upload.refresh_from_db()
    assert (upload.status, upload.errors) == (
        "failed", ["0001-01-01.md:4: date 0001-01-01 is before 2000-01-01: no group's record is that old"])
    assert [(report["file"], report["status"]) for report in upload.files] == [
        ("0001-01-01.md", "failed"), ("2024-03-04.md", "imported")]
    assert stored_days() == [dt.date(2024, 3, 4)]


@pytest.mark.parametrize(("offset", "imported"), [(1, True), (2, False)])
def test_tomorrow_in_the_groups_zone_is_the_latest_day(offset, imported):
    day = (tomorrow() - dt.timedelta(days=1) + dt.timedelta(days=offset)).isoformat()

    result = run(day_file(day))

    assert result.ok is imported
    assert [day.isoformat() for day in stored_days()] == ([day] if imported else [])


def test_the_first_day_of_2000_is_the_earliest_day():
    result = run(day_file("2000-01-01"), day_file("1999-12-31"))

    assert [(report["file"], report["status"]) for report in result.files] == [
        ("2000-01-01.md", "imported"), ("1999-12-31.md", "failed")]


def test_the_group_activity_page_after_a_9999_upload_attempt(client):
    cast = make_cast()
    run(day_file("9999-12-31"), slug=cast.group.slug)

    response = client_for(cast, "member").get(reverse("group_activity", kwargs={"group_slug": cast.group.slug}))

    assert response.status_code == 200


def test_the_activity_page_survives_a_day_stored_in_the_far_future_before_the_check():
    """A day stored before the importer refused such days: the default range ends tomorrow."""
    cast = make_cast()
    RecordedDay.objects.create(group=cast.group, day=dt.date(9999, 12, 31), message_count=3)

    response = client_for(cast, "member").get(reverse("group_activity", kwargs={"group_slug": cast.group.slug}))

    assert response.status_code == 200
    assert response.context["figures"]["end"] == tomorrow()


# --- The parser and the message check, on strings ---

def test_the_parser_names_the_date_line():
    with pytest.raises(TranscriptError) as error:
        parse_transcript(day_file("1999-12-31")[1].decode(), filename="old.md")

    assert str(error.value) == "old.md:4: date 1999-12-31 is before 2000-01-01: no group's record is that old"


def test_the_parser_takes_the_latest_day_as_an_argument():
    text = day_file("2031-05-06")[1].decode()

    assert parse_transcript(text, filename="x.md").day == dt.date(2031, 5, 6)
    with pytest.raises(TranscriptError) as error:
        parse_transcript(text, filename="x.md", latest_day=dt.date(2031, 5, 5))
    assert error.value.line == 4


def test_a_message_outside_the_range_fails_its_file_naming_the_message():
    """A transcript read without the group's latest day (the parser alone cannot know the
    group's zone or the clock): the import still refuses its messages, naming the first one."""
    parsed = parse_transcript(day_file("2031-05-06")[1].decode(), filename="x.md")

    with pytest.raises(TranscriptError) as error:
        message_moments(parsed, SHANGHAI, latest_day=dt.date(2031, 5, 5), filename="x.md")

    assert str(error.value) == (
        "x.md:9: message at 09:00:00 from 甲: date 2031-05-06 is after 2031-05-05 (tomorrow in the group's time "
        "zone): a record cannot be from the future")


def test_a_message_that_cannot_be_placed_in_time_fails_its_file_naming_the_message():
    """Day 1 of year 1 before 08:00 in Shanghai is before year 1 in UTC, where it is stored."""
    data = transcript("2024-03-04", [("07:59:59", "甲", "早"), ("09:00:00", "乙", "早上好")])
    parsed = parse_transcript(data.decode(), filename="x.md")
    edge = Transcript(day=dt.date(1, 1, 1), title="", author_hint="", front_matter={}, messages=parsed.messages)

    with pytest.raises(TranscriptError) as error:
        message_moments(edge, SHANGHAI, latest_day=None, filename="x.md")

    assert str(error.value) == "x.md:9: message at 07:59:59 from 甲: out of the calendar's range"


def test_the_bounds_are_in_one_place():
    assert EARLIEST_DAY == dt.date(2000, 1, 1)
    now = dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 8th in Shanghai
    assert latest_record_day(SHANGHAI, now=now) == dt.date(2026, 12, 9)
    assert latest_record_day(zoneinfo.ZoneInfo("America/Los_Angeles"), now=now) == dt.date(2026, 12, 8)
    assert record_day_problem(dt.date(2026, 12, 9), latest=dt.date(2026, 12, 9)) == ""


# --- Rosters ---

@pytest.mark.parametrize(("joined", "reason"), [
    ("1999-12-31", "date 1999-12-31 is before 2000-01-01: no group's record is that old"),
    ("9999-12-31", "date 9999-12-31 is after {tomorrow} (tomorrow in the group's time zone): "
                   "a record cannot be from the future"),
])
def test_a_roster_joined_outside_the_range_fails_naming_its_line(joined, reason):
    data = f"NickName,DisplayName,JoinedAt\n小周,周明远,2023-01-05\n小李,李雷,{joined}\n".encode()

    result = roster_import(group_slug="prodarch", source=Source.from_bytes("members.csv", data))

    assert result.errors == [f"members.csv:3: JoinedAt '{joined}': {reason.format(tomorrow=tomorrow().isoformat())}"]
    assert result.counts.members_created == 0
