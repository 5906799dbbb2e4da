"""Malformed uploads through the upload service and its task: transcripts (random bytes, garbled
real-looking days, other encodings, huge lines), rosters and images (random bytes behind a PNG
header, truncated PNGs, text named .png). Never an exception escaping, never a partial write,
always a per-file report with ``file:line: reason``."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from community.models import Member, Membership, MessageKind, Name, StoredImage
from importer.models import ImportedFile, UploadedFile
from importer.runs import import_run_execute
from importer.uploads import import_run_confirm, import_upload_create
from shares.models import Share, SignIn
from tests.factories import at, make_group, make_member, make_message, make_user
from tests.importer.test_roster import ROSTER
from tests.importer.test_services import talk_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def place():
    """The group (with the image message the image files match) and the uploader; hypothesis
    runs every example of a test inside that test's transaction, so they are made once."""
    group = make_group(slug="prodarch")
    make_message(group, make_member(), at("2018-03-07", "09:38:08"), "", kind=MessageKind.IMAGE)
    return group, make_user()

FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DAY = talk_day(day="2024-03-04")


def png(width=12, height=8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()


def rows() -> tuple[int, ...]:
    from community.models import Message

    return (Message.objects.count(), Member.objects.count(), Name.objects.count(), Membership.objects.count(),
            Share.objects.count(), SignIn.objects.count(), ImportedFile.objects.count(), StoredImage.objects.count())


def upload_and_run(group, user, kind, files):
    """The upload and its task, as the worker runs it (without the index refresh queued on commit);
    transcripts previewed (writing nothing), then confirmed and imported."""
    run = import_upload_create(group=group, user=user, kind=kind, files=files)
    before = rows()
    finished = import_run_execute(run_id=run.pk)
    assert finished is not None
    if finished.status == "previewed":
        assert rows() == before
        import_run_confirm(run=finished, replace_days=[], by=user)
        finished = import_run_execute(run_id=run.pk)
        assert finished is not None
    return finished


def assert_reported(run, label, allowed):
    """One report per file; a failure says ``file:line: reason``; nothing is left uploaded."""
    assert run.status in ("succeeded", "failed")
    assert [f["file"] for f in run.files] == [label]
    report = run.files[0]
    event(report["status"])  # shown by --hypothesis-show-statistics: both outcomes are reached
    assert report["status"] in allowed
    if report["status"] in ("failed", "unmatched", "ambiguous"):
        assert re.fullmatch(rf"{re.escape(label)}:\d+: \S.*", report["error"], re.DOTALL), report["error"]
        assert run.errors == [report["error"]]
    else:
        assert run.errors == []
    assert UploadedFile.objects.filter(run=run).count() == 0
    return report


def garbled(draw_bytes: bytes, positions: list[int], data: bytes) -> bytes:
    """``data`` with each position replaced by a drawn byte, or cut there (position < 0)."""
    out = bytearray(data)
    for n, position in enumerate(positions):
        if position < 0:
            del out[abs(position) % max(len(out), 1):]
        elif out:
            out[position % len(out)] = draw_bytes[n % len(draw_bytes)] if draw_bytes else 0
    return bytes(out)


transcripts = st.one_of(
    st.binary(max_size=2000),
    st.builds(garbled, st.binary(min_size=1, max_size=8), st.lists(st.integers(-5000, 5000), max_size=8), st.just(DAY)),
    st.sampled_from(["utf-16", "utf-32", "latin-1", "gb18030", "big5", "shift_jis", "utf-8-sig"]).map(
        lambda encoding: DAY.decode().encode(encoding, errors="replace")),
    st.integers(1, 3).map(lambda n: DAY.replace(b"\xe6\x97\xa9\xe4\xb8\x8a\xe5\xa5\xbd", "早".encode() * 30_000 * n)),
    st.text(max_size=500).map(lambda text: (DAY.decode().split("\n> ", 3)[0] + "\n" + text).encode()),
)


@FUZZ
@given(data=transcripts)
def test_malformed_transcripts_fail_alone_with_a_reason_and_write_nothing(place, data):
    group, user = place
    before = rows()
    run = upload_and_run(group, user, "transcripts", [("day.md", data)])
    report = assert_reported(run, "day.md", {"imported", "unchanged", "failed"})
    if report["status"] != "imported":
        assert rows() == before


rosters = st.one_of(
    st.binary(max_size=1000),
    st.text(max_size=600).map(str.encode),
    st.builds(garbled, st.binary(min_size=1, max_size=4), st.lists(st.integers(-300, 300), max_size=6),
              st.just(ROSTER.encode())),
    st.text(alphabet=",\n\"'NickName DisplayName JoinedAt 2029-13-45 小周\x00", max_size=300).map(str.encode),
)


@FUZZ
@given(data=rosters)
def test_malformed_rosters_fail_with_a_reason_and_write_nothing(place, data):
    group, user = place
    before = rows()
    run = upload_and_run(group, user, "roster", [("members.csv", data)])
    report = assert_reported(run, "members.csv", {"imported", "failed"})
    if report["status"] == "failed":
        assert rows() == before


images = st.one_of(
    st.binary(max_size=600).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),
    st.integers(0, len(PNG) - 1).map(lambda cut: PNG[:cut]),
    st.builds(garbled, st.binary(min_size=1, max_size=4), st.lists(st.integers(0, len(PNG)), min_size=1, max_size=4),
              st.just(PNG)),
    st.text(max_size=300).map(str.encode),
    st.binary(max_size=300).map(lambda tail: b"GIF89a" + tail),
    st.binary(max_size=300).map(lambda tail: b"\xff\xd8\xff\xe0" + tail),
    st.binary(max_size=300).map(lambda tail: b"RIFF\x00\x00\x00\x00WEBPVP8 " + tail),
)


@FUZZ
@given(data=images)
def test_malformed_images_are_refused_with_a_reason_and_store_nothing(place, data):
    group, user = place
    before = rows()
    run = upload_and_run(group, user, "images", [("20180307_093808.png", data)])
    report = assert_reported(run, "20180307_093808.png", {"stored", "replaced", "failed"})
    if report["status"] == "failed":
        assert rows() == before
