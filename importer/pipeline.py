"""Preparing transcript files for import: hash, decode, parse, detect talks, compute keys;
and, for a day already stored, which of a file's messages are stored already.

Plain Python (no Django), so it is tested on strings and runs in a second process during a
large import (``prepared_files``); the import service stores what it prepares. An unchanged
file (its hash already imported) is not even parsed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import multiprocessing
import re
import sys
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from .detection import DetectedTalk, detect_shares
from .transcript import (
    RawMessage,
    Transcript,
    TranscriptError,
    decode_transcript,
    mentions_in,
    message_moments,
    parse_transcript,
)


@dataclass
class Prepared:
    """A file ready to be stored, or why it cannot be."""

    label: str
    digest: str
    transcript: Transcript | None = None
    talks: list[DetectedTalk] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    moments: list[dt.datetime] | None = None  # each message's moment in the group's zone (``tz`` given)
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


def prepare(label: str, data: bytes, known: dict[str, int], *, latest_day: dt.date | None = None,
            tz: dt.tzinfo | None = None) -> Prepared:
    """Hash, decode, parse and detect one file; a bad file comes back with its ``file:line: reason``.

    ``known`` maps the hashes of files already imported to their message counts; ``latest_day``
    is the latest day the group's record may have (a later ``date`` is a bad file). With the
    group's zone ``tz``, the messages' moments are worked out and checked too (``message_moments``)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        return Prepared(label=label, digest=digest, unchanged_count=known[digest])
    return _prepare_new(label, data, digest, latest_day, tz)


def _prepare_new(label: str, data: bytes, digest: str, latest_day: dt.date | None, tz: dt.tzinfo | None) -> Prepared:
    try:
        transcript = parse_transcript(decode_transcript(data, filename=label), filename=label, latest_day=latest_day)
        moments = None if tz is None else message_moments(transcript, tz, latest_day=latest_day, filename=label)
    except TranscriptError as error:
        return Prepared(label=label, digest=digest, error=str(error))
    talks = detect_shares(transcript.messages, author_hint=transcript.author_hint)
    return Prepared(label=label, digest=digest, transcript=transcript, talks=talks,
                    keys=message_keys(transcript.day, transcript.messages), moments=moments)


# Preparing is plain Python, and most of an import's work: with enough files, a second process
# prepares the next files while this one stores a day (two cores: about a fifth off a first import).
# Fewer files than this are prepared here: the process would cost more to start than it saves.
PREPARE_PROCESS_MIN_FILES = 8
# Files read and handed to the second process ahead of the one being stored: enough to keep it
# busy while a day is stored, few enough that memory holds only a few days' files.
PREPARE_AHEAD = 4


def prepared_files(sources: Iterable, known: dict[str, int], *, latest_day: dt.date | None = None,
                   tz: dt.tzinfo | None = None, processes: bool = True) -> Iterator[Prepared]:
    """Each source (``.label``, ``.read()``) prepared, in order, a few files in memory at a time.

    Files whose hash is ``known`` are recognised here, unparsed. The others are prepared by a
    second process when ``processes`` allows it and ``prepare_process_usable`` says it may start
    (many files, a platform that forks, not a daemon such as a Celery worker's child);
    otherwise here. Either way the results are the same, in the sources' order."""
    sources = list(sources)
    if not (processes and len(sources) >= PREPARE_PROCESS_MIN_FILES and prepare_process_usable()):
        for source in sources:
            yield _read_and_prepare(source, known, latest_day, tz, None)
        return
    # Fork: the child has the parent's modules already (no start-up), and touches no database connection.
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        ahead: deque = deque()
        queue = iter(sources)
        for source in itertools.islice(queue, PREPARE_AHEAD):
            ahead.append(_read_and_prepare(source, known, latest_day, tz, pool))
        while ahead:
            item = ahead.popleft()
            source = next(queue, None)
            if source is not None:
                ahead.append(_read_and_prepare(source, known, latest_day, tz, pool))
            yield item if isinstance(item, Prepared) else item.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def prepare_process_usable() -> bool:
    """Whether a second process may prepare files: on Linux (where forking a process is cheap and
    safe), and not from a daemonic process (a Celery worker's child may not have children)."""
    return sys.platform == "linux" and not multiprocessing.current_process().daemon


def _read_and_prepare(source, known: dict[str, int], latest_day, tz, pool) -> Prepared | Future:
    try:
        data = source.read()
    except OSError as error:
        return Prepared(label=source.label, digest="", error=f"{source.label}:0: cannot read: {error.strerror or error}")
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        return Prepared(label=source.label, digest=digest, unchanged_count=known[digest])
    if pool is None:
        return _prepare_new(source.label, data, digest, latest_day, tz)
    return pool.submit(_prepare_new, source.label, data, digest, latest_day, tz)


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
