"""Preparing transcript files for import: decode, parse, detect talks, compute keys.

Plain Python (no Django): the importer runs it in a second process while the first one
writes the previous file to the database, so both cores work on a long import. Files
come out in the order they went in.
"""

from __future__ import annotations

import collections
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from .detection import DetectedTalk, detect_talks
from .transcript import RawMessage, Transcript, TranscriptError, decode_transcript, parse_transcript

# Below this many files to prepare, starting a second process costs more than it saves.
PARALLEL_MIN_FILES = 12


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
    """The idempotency keys: day, second, sender, content and ordinal among identical messages."""
    prefix = day.isoformat()
    sha1 = hashlib.sha1
    return [
        sha1(f"{prefix}|{m.time}|{m.sender}|{m.kind}|{m.text}|{m.url}|{m.ordinal}".encode()).hexdigest()
        for m in messages
    ]


def prepare(label: str, data: bytes, digest: str) -> Prepared:
    """Decode, parse and detect one file; a bad file comes back with its ``file:line: reason``."""
    try:
        transcript = parse_transcript(decode_transcript(data, filename=label), filename=label)
    except TranscriptError as error:
        return Prepared(label=label, digest=digest, error=str(error))
    talks = detect_talks(transcript.messages, author_hint=transcript.author_hint)
    return Prepared(label=label, digest=digest, transcript=transcript, talks=talks,
                    keys=message_keys(transcript.day, transcript.messages))


def prepared_files(sources: Iterable, known: dict[str, int], *, parallel: bool | None = None,
                   read: Callable = lambda source: source.read()) -> Iterator[tuple[object, Prepared]]:
    """Yield ``(source, Prepared)`` in order. Unchanged files (hash in ``known``) are not parsed.

    With ``parallel`` (default: when there are enough files, two cores, and this process
    may start children), files are parsed in a second process, a few ahead of the caller."""
    sources = list(sources)
    if parallel is None:
        parallel = (
            len(sources) >= PARALLEL_MIN_FILES
            and (os.cpu_count() or 1) >= 2
            and not multiprocessing.current_process().daemon
        )
    if not parallel:
        for source in sources:
            yield source, _read_and_prepare(source, known, read, None)
        return
    # fork: the child starts at once and never re-runs the caller's __main__. It inherits the
    # parent's database connection but never uses it, and leaves by os._exit, which closes nothing.
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        pending: collections.deque[tuple[object, Prepared | Future]] = collections.deque()
        ahead = 3
        for source in sources:
            pending.append((source, _read_and_prepare(source, known, read, pool)))
            if len(pending) > ahead:
                yield _resolved(pending.popleft())
        while pending:
            yield _resolved(pending.popleft())


def _read_and_prepare(source, known, read, pool) -> Prepared | Future:
    label = source.label
    try:
        data = read(source)
    except OSError as error:
        return Prepared(label=label, digest="", error=f"{label}:0: cannot read: {error.strerror or error}")
    digest = hashlib.sha256(data).hexdigest()
    if digest in known:
        return Prepared(label=label, digest=digest, unchanged_count=known[digest])
    if pool is None:
        return prepare(label, data, digest)
    return pool.submit(prepare, label, data, digest)


def _resolved(item: tuple[object, Prepared | Future]) -> tuple[object, Prepared]:
    source, prepared = item
    if isinstance(prepared, Future):
        prepared = prepared.result()
    return source, prepared
