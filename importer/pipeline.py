"""Preparing transcript files for import: hash, decode, parse, detect talks, compute keys.

Plain Python (no Django), so it is tested on strings and could run anywhere; the import
service stores what it prepares. An unchanged file (its hash already imported) is not
even parsed.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .detection import DetectedTalk, detect_talks
from .transcript import RawMessage, Transcript, TranscriptError, decode_transcript, parse_transcript


@dataclass
class Prepared:
    """A file ready to be stored, or why it cannot be."""

    label: str
    digest: str
    transcript: Transcript | None = None
    talks: list[DetectedTalk] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    error: str = ""
    unchanged_count: int | None = None  # set when the hash says the file was imported as it is


def message_keys(day, messages: list[RawMessage]) -> list[str]:
    """The idempotency keys: day, second, sender, content and ordinal among identical messages.

    A key starts with the day (``20180520`` + 32 hex digits of a SHA-1): a day's keys sit
    together in the unique index, so inserting them touches a few pages, not thousands."""
    prefix = day.isoformat()
    stamp = day.strftime("%Y%m%d")
    sha1 = hashlib.sha1
    return [
        stamp + sha1(f"{prefix}|{m.time}|{m.sender}|{m.kind}|{m.text}|{m.url}|{m.ordinal}".encode()).hexdigest()[:32]
        for m in messages
    ]


def prepare(label: str, data: bytes, known: dict[str, int], *, latest_day: datetime.date | None = None) -> Prepared:
    """Hash, decode, parse and detect one file; a bad file comes back with its ``file:line: reason``.

    ``known`` maps the hashes of files already imported to their message counts; ``latest_day``
    is the latest day the group's record may have (a later ``date`` is a bad file)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        return Prepared(label=label, digest=digest, unchanged_count=known[digest])
    try:
        transcript = parse_transcript(decode_transcript(data, filename=label), filename=label, latest_day=latest_day)
    except TranscriptError as error:
        return Prepared(label=label, digest=digest, error=str(error))
    talks = detect_talks(transcript.messages, author_hint=transcript.author_hint)
    return Prepared(label=label, digest=digest, transcript=transcript, talks=talks,
                    keys=message_keys(transcript.day, transcript.messages))


def prepared_files(sources: Iterable, known: dict[str, int], *,
                   latest_day: datetime.date | None = None) -> Iterator[Prepared]:
    """Each source (``.label``, ``.read()``) prepared, in order; one file in memory at a time."""
    for source in sources:
        try:
            data = source.read()
        except OSError as error:
            yield Prepared(label=source.label, digest="", error=f"{source.label}:0: cannot read: {error.strerror or error}")
            continue
        yield prepare(source.label, data, known, latest_day=latest_day)
