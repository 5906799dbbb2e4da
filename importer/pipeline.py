"""Preparing transcript files for import: hash, decode, parse, detect talks, compute keys;
and, for a day already stored, which of a file's messages are stored already.

Plain Python (no Django), so it is tested on strings and could run anywhere; the import
service stores what it prepares. An unchanged file (its hash already imported) is not
even parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .detection import DetectedTalk, detect_shares
from .transcript import RawMessage, Transcript, TranscriptError, decode_transcript, mentions_in, parse_transcript


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


def prepare(label: str, data: bytes, known: dict[str, int], *, latest_day: dt.date | None = None) -> Prepared:
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
    talks = detect_shares(transcript.messages, author_hint=transcript.author_hint)
    return Prepared(label=label, digest=digest, transcript=transcript, talks=talks,
                    keys=message_keys(transcript.day, transcript.messages))


def prepared_files(sources: Iterable, known: dict[str, int], *,
                   latest_day: dt.date | None = None) -> Iterator[Prepared]:
    """Each source (``.label``, ``.read()``) prepared, in order; one file in memory at a time."""
    for source in sources:
        try:
            data = source.read()
        except OSError as error:
            yield Prepared(label=source.label, digest="", error=f"{source.label}:0: cannot read: {error.strerror or error}")
            continue
        yield prepare(source.label, data, known, latest_day=latest_day)


# --- A day already stored: which messages of a file it has -----------------------------------

_SPACES = re.compile(r"\s+")


def same_content(text: str) -> str:
    """A message's text as compared with a stored one: runs of whitespace are one space, none at the ends."""
    return _SPACES.sub(" ", text).strip()


def message_identity(moment: dt.datetime, sender: Hashable, kind: str, text: str, url: str) -> tuple:
    """What makes two messages of a day one: the same second, the same sender (a resolved member,
    so the two names of a merged-export pair are one), the same kind, and the same text (and
    link, for images and links) after normalising whitespace."""
    return moment.replace(microsecond=0), sender, kind, same_content(text), same_content(url)


def stored_matches(file_identities: Sequence[tuple], stored: Sequence[tuple[int, tuple]]) -> list[int | None]:
    """For each message of a file (its ``message_identity``), the id of the stored message it is,
    or None when it is new. ``stored``: (id, identity) in the record's order. Identical messages
    are counted: the n-th identical message of the file is the n-th stored one."""
    waiting: dict[tuple, list[int]] = {}
    for pk, identity in stored:
        waiting.setdefault(identity, []).append(pk)
    for ids in waiting.values():
        ids.reverse()  # popped from the end: the first stored comes first
    found: list[int | None] = []
    for identity in file_identities:
        ids = waiting.get(identity)
        found.append(ids.pop() if ids else None)
    return found


def stored_message(line: int, time: dt.time, sender: str, kind: str, text: str, url: str) -> RawMessage:
    """A stored message as the parser would have read it (its mentions read again; quotes are
    not stored), for detecting talks over a day's stored and new messages together."""
    return RawMessage(line, time, sender, kind, text, url, mentions_in(text) if kind == "text" else ())


def day_union(file_moments: Sequence[dt.datetime], extra_moments: Sequence[dt.datetime]) -> list[tuple[int, int]]:
    """The order of a day made of a file's messages and stored messages the file lacks: by time,
    the file's messages first within a second, each side in its own order. Items are
    (0, index in the file) or (1, index among the extras)."""
    order = [(moment, 0, i) for i, moment in enumerate(file_moments)]
    order += [(moment, 1, i) for i, moment in enumerate(extra_moments)]
    order.sort(key=lambda item: (item[0], item[1], item[2]))
    return [(side, index) for _moment, side, index in order]
