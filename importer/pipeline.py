"""Preparing transcript files for import: hash, decode, parse, detect talks, compute keys.

Plain Python (no Django), so it is tested on strings. On a long import it runs in a
second process, a few files ahead, while the first process writes to the database: a
two-core machine then works on both at once. An unchanged file (its hash already
imported) is not even parsed. Files come out in the order they went in.
"""

from __future__ import annotations

import collections
import hashlib
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from .detection import DetectedTalk, detect_talks
from .transcript import RawMessage, Transcript, TranscriptError, decode_transcript, parse_transcript

# Below this many files, starting a second process costs more than it saves.
PARALLEL_MIN_FILES = 12
# How many files the second process may prepare ahead of the writer (bounds memory).
AHEAD = 3


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


def prepare(label: str, data: bytes, known: dict[str, int]) -> Prepared:
    """Hash, decode, parse and detect one file; a bad file comes back with its ``file:line: reason``.

    ``known`` maps the hashes of files already imported to their message counts."""
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        return Prepared(label=label, digest=digest, unchanged_count=known[digest])
    try:
        transcript = parse_transcript(decode_transcript(data, filename=label), filename=label)
    except TranscriptError as error:
        return Prepared(label=label, digest=digest, error=str(error))
    talks = detect_talks(transcript.messages, author_hint=transcript.author_hint)
    return Prepared(label=label, digest=digest, transcript=transcript, talks=talks,
                    keys=message_keys(transcript.day, transcript.messages))


def prepared_files(sources: Iterable, known: dict[str, int], *, parallel: bool | None = None) -> Iterator[Prepared]:
    """Each source (``.label``, ``.read()``) prepared, in order.

    ``parallel`` (default: with enough files, two cores, and a process allowed to have
    children — not a daemonic Celery worker process): parse in a second process."""
    sources = list(sources)
    if parallel is None:
        parallel = (
            len(sources) >= PARALLEL_MIN_FILES
            and (os.cpu_count() or 1) >= 2
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon
        )
    if not parallel:
        for source in sources:
            yield _read_then(source, known, lambda label, data: prepare(label, data, known))
        return
    # fork: the child starts at once and never re-runs the caller's __main__. It inherits
    # the parent's database connection but never uses it, and leaves by os._exit.
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: collections.deque[Prepared | Future] = collections.deque()
        for source in sources:
            pending.append(_read_then(source, known, lambda label, data: pool.submit(prepare, label, data, {})))
            if len(pending) > AHEAD:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())


def _read_then(source, known: dict[str, int], then) -> Prepared | Future:
    try:
        data = source.read()
    except OSError as error:
        return Prepared(label=source.label, digest="", error=f"{source.label}:0: cannot read: {error.strerror or error}")
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:  # unchanged: neither parsed nor sent anywhere
        return Prepared(label=source.label, digest=digest, unchanged_count=known[digest])
    return then(source.label, data)


def _result(item: Prepared | Future) -> Prepared:
    return item.result() if isinstance(item, Future) else item
