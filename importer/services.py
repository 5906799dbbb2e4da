"""Importing transcripts and rosters: the one path for the commands, the web upload and tasks.

Guarantees:
* a new file adds and never deletes: a file for a day already imported adds the messages
  that are new and keeps every stored message and everything built on them (talks, sign-ins,
  corrections). A message of the file is already stored when a stored message of that day has
  the same second, the same sender as a resolved member (the two names of a merged-export
  pair are one sender), the same kind and the same text (and link) after normalising
  whitespace; identical repeats are counted (the n-th identical message is the n-th). Talks
  and sign-ins of the day are found again over the stored and new messages together;
* stored messages are removed only when the operator asks: ``replace_days`` (the command's
  ``--replace-days``, the web's "replace these days" after the preview) makes those days
  exactly their files: stored messages the file lacks go, and so do imported talks and
  sign-ins no longer found;
* an unchanged file (its hash already imported into the group) is skipped before parsing;
  a day remembers every file imported into it (``ImportedFile``: group, day and hash);
* each file is one transaction: a file that fails leaves nothing behind and is reported
  as ``file:line: reason``, and the other files still import;
* a file dated before 2000-01-01 or after tomorrow in the group's time zone, or with a
  message outside that range, fails that way (``community.dates``); so does a roster row
  joined outside it;
* ``dry_run`` runs exactly the same code and rolls each file back (a preview never holds
  the database longer than a file): its report, per file and day (messages to add, stored
  messages not in the file, talks found and changed, sign-ins), is the preview (kept on the
  run, ``ImportRun.preview``). Files are previewed each against the stored days, not against
  each other (two files of one day are each previewed alone);
* every row the run changes or deletes is kept first in the run's journal
  (``importer.journal``), and rows it creates carry the run: ``import_run_undo`` gives the
  days back exactly as they were. The first import of a fresh day keeps no journal rows;
* imports of one group are serialized by a lock on the group's row, so two imports at
  once never duplicate anything.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import getpass
import hashlib
import io
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from community.bulk import rows_update
from community.dates import latest_record_day, record_day_problem
from community.lengths import max_length
from community.models import (
    Group,
    Member,
    MemberMerge,
    Membership,
    MembershipPeriod,
    MembershipRole,
    MembershipStatus,
    Message,
    MessageKind,
    Name,
    NameLink,
    NameLinkStatus,
    NameSource,
    RecordedDay,
)
from community.names import normalize_name, parse_nickname
from community.services import member_parts_update, membership_facts_refresh, membership_join
from shares.services import TalkFound, announced_shares_link, membership_share_facts_refresh, talks_import_day
from shares.tasks import talk_index_refresh_enqueue

from . import quotes, sql
from .detection import DetectedTalk, detect_shares
from .identity import ME, IdentityResolver
from .journal import RunJournal, rows_before, rows_created
from .models import ImportedFile, ImportKind, ImportRun, ImportStatus, RunChangeAction
from .pipeline import Prepared, day_union, message_identity, prepared_files, stored_matches, stored_message
from .transcript import RawMessage, Transcript

logger = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".markdown", ".md", ".txt"}
# The most stored messages read for the quotes of one file that are not of the file's own messages.
QUOTE_LOOKUP_ROWS = 2_000
# Texts cut to what their columns hold (read from the models, never copied).
SENDER_NAME_MAX = max_length(Message, "sender_name")
SOURCE_FILE_MAX = max_length(Message, "source_file")  # a file's path keeps its end: the file name
FILE_PATH_MAX = max_length(ImportedFile, "path")
DISPLAY_NAME_MAX = max_length(Member, "display_name")
# The most characters of a message, quote or topic kept in a link's evidence (JSON: no column limit).
EVIDENCE_EXCERPT = 200


class _DryRunRollback(Exception):
    """Ends a file's transaction in a dry run, carrying the file's report out of it."""

    def __init__(self, day: dict):
        super().__init__()
        self.day = day


@dataclass(frozen=True)
class Source:
    """A file to import: a label for reports, and how to read its bytes."""

    label: str
    read: Callable[[], bytes]

    @classmethod
    def from_path(cls, path: Path) -> Source:
        return cls(label=str(path), read=path.read_bytes)

    @classmethod
    def from_bytes(cls, label: str, data: bytes) -> Source:
        return cls(label=label, read=lambda: data)


def transcript_sources(paths: Iterable[str | Path]) -> list[Source]:
    """Files and folders (recursively ``*.markdown``, ``*.md``, ``*.txt``), in name order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TRANSCRIPT_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return [Source.from_path(p) for p in found]


@dataclass
class ImportCounts:
    files_read: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    messages_created: int = 0
    messages_unchanged: int = 0
    messages_not_in_file: int = 0
    messages_removed: int = 0
    members_created: int = 0
    names_created: int = 0
    members_merged: int = 0
    shares_found: int = 0
    talks_changed: int = 0
    sign_ins_found: int = 0


@dataclass
class ImportResult:
    run: ImportRun
    counts: ImportCounts
    files: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


ReplaceDays = bool | Collection[dt.date]


def transcripts_import(
    *,
    group_slug: str,
    sources: Iterable[Source],
    group_name: str = "",
    me: str = "",
    dry_run: bool = False,
    strict: bool = False,
    replace_days: ReplaceDays = False,
    user=None,
    progress: Callable[[int, str], None] | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Import daily transcripts into a group (created if missing). See the module docstring.

    ``replace_days``: the days the files replace (their stored messages the files lack are
    removed); True: every day of the files, whose hashes are then not trusted to skip them
    (the day is made exactly its file even when that file was imported before). ``dry_run``:
    the preview, written nowhere but on the run. ``run``: a run queued by a web upload,
    recorded into instead of a new one. ``user``: who uploaded the files, whose reach limits
    the identity evidence (``importer.identity``); None on the command line (an operator).

    Each file's report (``result.files``): file, status (imported, unchanged, failed), day,
    the file's messages, and for an imported day: ``added``, ``kept`` (stored already),
    ``not_in_file`` (stored messages the file lacks), ``removed`` (of those, in a day
    replaced), ``talks`` (share, speaker id, topic, status: new, changed, unchanged, removed,
    deleted), ``shares`` (talks found) and ``sign_ins`` (sign-ins added)."""
    group, _ = Group.objects.get_or_create(slug=group_slug, defaults={"name": group_name or group_slug})
    replace_all = replace_days is True
    replacing = frozenset() if isinstance(replace_days, bool) else frozenset(replace_days)
    run = _run_open(
        run, group=group, kind=ImportKind.TRANSCRIPTS, dry_run=dry_run, started_by=user, started_by_name=_operator(user),
        options={"me": me, "strict": strict, "dry_run": dry_run,
                 "replace_days": True if replace_all else sorted(day.isoformat() for day in replacing)},
    )
    result = ImportResult(run=run, counts=ImportCounts())
    journal = RunJournal(run.pk)
    resolver = IdentityResolver(group_id=group.pk, import_run=run.pk, me_name=me, user=user, journal=journal)
    work = _Work(group=group, resolver=resolver, journal=journal, result=result, dry_run=dry_run,
                 replace=(lambda day: True) if replace_all else replacing.__contains__, trust_hashes=not replace_all)
    try:
        _import_all(work, sources, strict, progress)
    finally:
        _finish_run(run, result)
    counts = result.counts
    if not dry_run and counts.files_read > counts.files_skipped + counts.files_failed:
        # The talk search index is built after the import has committed, by a worker: never
        # inside the import. A broker that is down costs one failed attempt; the shares stay
        # stale and the periodic refresh indexes them.
        transaction.on_commit(talk_index_refresh_enqueue)
    return result


@dataclass
class _Work:
    """One transcripts run as it goes: where, who resolves names, its journal and its result."""

    group: Group
    resolver: IdentityResolver
    journal: RunJournal
    result: ImportResult
    replace: Callable[[dt.date], bool]
    trust_hashes: bool
    dry_run: bool = False
    touched: set[int] = field(default_factory=set)
    linked_groups: set[int] = field(default_factory=set)  # groups that announced shares on the days imported


def _import_all(work: _Work, sources, strict, progress) -> None:
    work.resolver.refresh()
    # Unchanged files are recognised by their hash alone, before any parsing.
    known = {}
    if work.trust_hashes:
        known = dict(ImportedFile.objects.filter(group=work.group).values_list("sha256", "message_count"))
    latest = latest_record_day(work.group.tz)
    for index, prepared in enumerate(prepared_files(sources, known, latest_day=latest, tz=work.group.tz), start=1):
        if progress:
            progress(index, prepared.label)
        ok = _import_one(work, prepared)
        if not ok and strict:
            break
    counts = work.result.counts
    if not work.dry_run and (work.touched or counts.files_read > counts.files_skipped + counts.files_failed):
        # A run whose every file was unchanged (or failed) wrote nothing: no fact to refresh.
        with transaction.atomic():
            _refresh_group_facts(work)


def _import_one(work: _Work, prepared: Prepared) -> bool:
    group, resolver, result = work.group, work.resolver, work.result
    counts = result.counts
    counts.files_read += 1
    report = {"file": prepared.label, "status": "failed", "messages": 0}
    result.files.append(report)
    if prepared.error:
        return _fail(result, report, prepared.error)
    if prepared.unchanged_count is not None:
        return _skip(result, report, prepared.unchanged_count)
    transcript, digest, moments = prepared.transcript, prepared.digest, prepared.moments
    report["day"] = transcript.day.isoformat()
    result.warnings.extend(transcript.warnings)
    before = asdict(resolver.stats)
    try:
        with transaction.atomic():
            # One import of a group at a time: concurrent runs wait here instead of duplicating
            # members, and then see what the other run wrote.
            sql.group_lock(group.pk)
            hashes = sql.imported_hashes(group.pk, transcript.day)
            replace = work.replace(transcript.day)
            if digest in hashes and work.trust_hashes:
                return _skip(result, report, len(transcript.messages))
            resolver.refresh()
            day = _import_day(work, prepared, moments, fresh=not hashes, replace=replace)
            if work.dry_run:
                # Each file of a dry run is rolled back on its own: the preview never holds the
                # database for more than a day's file, like the import itself.
                raise _DryRunRollback(day)
    except _DryRunRollback as rollback:
        day = rollback.day
        resolver.reload()
        work.journal.forget()
    except (IntegrityError, DatabaseError, ValueError, OverflowError) as error:
        resolver.reload()
        resolver.stats.__dict__.update(before)
        work.journal.forget()
        logger.exception("import of %s failed", prepared.label)
        return _fail(result, report, f"{prepared.label}:0: could not be stored: {error}")
    talks = day["talks"]
    counts.messages_created += day["added"]
    counts.messages_unchanged += day["kept"]
    counts.messages_not_in_file += day["not_in_file"]
    counts.messages_removed += day["removed"]
    counts.shares_found += day["shares"]
    counts.talks_changed += sum(1 for talk in talks if talk["status"] in ("new", "changed", "removed"))
    counts.sign_ins_found += day["sign_ins"]
    after = asdict(resolver.stats)
    counts.members_created += after["members_created"] - before["members_created"]
    counts.names_created += after["names_created"] - before["names_created"]
    counts.members_merged += after["members_merged"] - before["members_merged"]
    report.update(status="imported", messages=len(transcript.messages), **day)
    return True


def _sightings(pairs) -> dict[str, list]:
    """name -> [first moment, last moment, count], in order of first appearance."""
    found: dict[str, list] = {}
    for name, moment in pairs:
        span = found.get(name)
        if span is None:
            found[name] = [moment, moment, 1]
        else:
            if moment < span[0]:
                span[0] = moment
            if moment > span[1]:
                span[1] = moment
            span[2] += 1
    return found


def _skip(result: ImportResult, report: dict, message_count: int) -> bool:
    result.counts.files_skipped += 1
    result.counts.messages_unchanged += message_count
    report.update(status="unchanged", messages=message_count)
    return True


def _fail(result: ImportResult, report: dict, reason: str) -> bool:
    result.counts.files_failed += 1
    result.errors.append(reason)
    report.update(status="failed", error=reason)
    return False


def _import_day(work: _Work, prepared: Prepared, moments: list[dt.datetime], *, fresh: bool,
                replace: bool) -> dict:
    """Store one day's file, its messages at ``moments`` (``message_moments``: checked). ``fresh``: nothing was imported into that day yet (its messages are
    inserted as they are, no journal). Otherwise the file's messages already stored are kept,
    the new ones added, and the stored ones it lacks kept too, unless ``replace``."""
    group, resolver, journal = work.group, work.resolver, work.journal
    transcript, label, digest = prepared.transcript, prepared.label, prepared.digest
    run_id = journal.run_id
    tz = group.tz
    day = transcript.day
    owner_id = resolver.owner_id(group.pk)
    # Merged-export pairs first: they may merge members, and every id below must be current.
    for kept, other, _line in transcript.merged_pairs:
        resolver.link_pair(kept, other, moments[0] if moments else None)
    # Each distinct name once per file, with its first and last moment and its count.
    headers = _sightings((m.sender, moment) for m, moment in zip(transcript.messages, moments, strict=True))
    # The names new to the group, as other groups know them: one query for the file's headers, mentions and quotes.
    resolver.elsewhere_prefetch([*headers, *(n for m in transcript.messages for n in m.mentions),
                                 *(q.name for m in transcript.messages for q in quotes.quotes_of(m.quote))])
    sender_of: dict[str, int | None] = {}
    first_seen: dict[int, dt.datetime] = {}
    for name, (first, last, times) in headers.items():
        if name == ME:
            member_id = resolver.resolve_me(owner_id)
            resolver.see(member_id, ME, ME, NameSource.HEADER, first, last=last, times=times)
        else:
            member_id = resolver.resolve(name, NameSource.HEADER, first, last=last, times=times)
        sender_of[name] = member_id
        if member_id is not None and (member_id not in first_seen or first < first_seen[member_id]):
            first_seen[member_id] = first
    senders = [sender_of[m.sender] for m in transcript.messages]
    if any(m.quote for m in transcript.messages) and _quotes_link(group, resolver, transcript, moments, senders):
        # A quote merged members: the names of the day resolve to the members that remain.
        sender_of = {name: resolver.moved.get(member_id, member_id) for name, member_id in sender_of.items()}
        senders = [sender_of[m.sender] for m in transcript.messages]
        first_seen = {resolver.moved.get(m, m): t for m, t in first_seen.items()}
    mentions = _sightings((name, moment) for m, moment in zip(transcript.messages, moments, strict=True) for name in m.mentions)
    quoted = _sightings((quote.name, moment) for m, moment in zip(transcript.messages, moments, strict=True)
                        for quote in quotes.quotes_of(m.quote))
    # The speaker of a talk announced and not given is the member bearing the announced name:
    # created if none (under the uploader's reach, like any name), a member of the group then.
    announced = {talk.speaker_mention for talk in prepared.talks if not talk.delivered and talk.speaker_mention}
    for source, sightings in ((NameSource.MENTION, mentions), (NameSource.QUOTE, quoted)):
        for name, (first, last, times) in sightings.items():
            create = source == NameSource.MENTION and name in announced
            member_id = resolver.resolve(name, source, first, create=create, last=last, times=times)
            if create and member_id is not None and (member_id not in first_seen or first < first_seen[member_id]):
                first_seen[member_id] = first
    resolver.flush()
    _memberships_ensure(group, first_seen, resolver, journal)
    work.touched.update(s for s in senders if s is not None)

    keys = prepared.keys
    stored = sql.db_datetimes(day, transcript.messages, moments)
    group_id, source_file = group.pk, label[-SOURCE_FILE_MAX:]
    if fresh:
        rows = [
            (group_id, sender_id, m.sender[:SENDER_NAME_MAX], when, m.kind, m.text, m.url, day, source_file, m.line, key, run_id)
            for m, when, sender_id, key in zip(transcript.messages, stored, senders, keys, strict=True)
        ]
        sql.messages_insert(rows)
        kept = not_in_file = 0
        union = _Union(transcript.messages, moments, senders, prepared.talks,
                       lambda: _message_ids(group, day, keys))
    else:
        journal.before(RecordedDay.objects.filter(group=group, day=day))
        day_rows = sql.day_messages(group.pk, day)
        matches = stored_matches(
            [message_identity(moment, sender_id if sender_id is not None else ("", normalize_name(m.sender)),
                              m.kind, m.text, m.url)
             for m, moment, sender_id in zip(transcript.messages, moments, senders, strict=True)],
            [(row[0], message_identity(row[3], row[1] if row[1] is not None else ("", normalize_name(row[2])),
                                       row[4], row[5], row[6])) for row in day_rows],
        )
        matched = set(filter(None, matches))
        extras = [row for row in day_rows if row[0] not in matched]
        kept, not_in_file = len(matched), len(extras)
        if replace and extras:
            journal.delete(Message.objects.filter(pk__in=[row[0] for row in extras]))
        taken = {row[7] for row in day_rows}
        rows = []
        for m, when, sender_id, key, match in zip(transcript.messages, stored, senders, keys, matches, strict=True):
            if match is None:
                key = _free_key(key, taken)
                taken.add(key)
                rows.append((group_id, sender_id, m.sender[:SENDER_NAME_MAX], when, m.kind, m.text, m.url, day, source_file,
                             m.line, key, run_id))
        sql.messages_insert(rows)
        new_ids = iter(_message_ids(group, day, [row[10] for row in rows]) if rows else [])
        file_ids = [match if match is not None else next(new_ids) for match in matches]
        if replace or not extras:
            union = _Union(transcript.messages, moments, senders, prepared.talks, lambda: file_ids)
        else:
            union = _day_union(transcript, moments, senders, file_ids, extras, sender_of, tz)
    sql.day_recorded(group.pk, day, len(union.messages))
    _announced_names_link(resolver, union)
    talks = _talks_found(day, union, resolver)
    found = talks_import_day(group=group, day=day, talks=talks, import_run=run_id, fresh=fresh,
                             keep_missing=not replace, journal=journal)
    if found.talks:
        # A talk announced in one group and given in another that evening: linked whichever came first.
        work.linked_groups |= announced_shares_link(day=day, journal=journal, import_run=run_id)
    if replace and not fresh:
        journal.delete(ImportedFile.objects.filter(group=group, day=day))
    sql.file_imported(group.pk, day, digest, label[-FILE_PATH_MAX:], run_id, len(keys), timezone.now())
    return {
        "added": len(rows),
        "kept": kept,
        "not_in_file": not_in_file,
        "removed": not_in_file if replace else 0,
        "shares": found.shares_found,
        "sign_ins": found.sign_ins_found,
        "talks": found.talks,
    }


def _quotes_link(group: Group, resolver: IdentityResolver, transcript: Transcript, moments: list[dt.datetime],
                 senders: list[int | None]) -> bool:
    """Quotes are evidence (``importer.quotes``): the quoted name is a name of whoever sent the
    quoted message, found among the file's earlier messages or, when not there, among the group's
    stored messages of the ``QUOTE_LOOKBACK`` before (one query for the whole file, whatever its
    number of quotes). Each name is linked by ``IdentityResolver.link_name``; returns True when
    members were merged."""
    messages = transcript.messages
    candidates = [quotes.Candidate.of(moment, sender, m.kind, m.text, m.url)
                  for m, moment, sender in zip(messages, moments, senders, strict=True)]
    found: list[tuple[quotes.Wanted, quotes.Found]] = []
    missing: list[quotes.Wanted] = []
    for index, message in enumerate(messages):
        for quote in quotes.quotes_of(message.quote):
            if not quote.name.strip() or normalize_name(quote.name) == normalize_name(message.sender):
                continue
            wanted = quotes.Wanted(quote.name, quote.text, moments[index])
            result = quotes.quoted_message(wanted, candidates[:index])
            if result.message is None and not result.ambiguous:
                missing.append(wanted)
            else:
                found.append((wanted, result))
    if missing:
        stored = [quotes.Candidate.of(*row) for row in _stored_candidates(group, missing)]
        found += [(wanted, quotes.quoted_message(wanted, stored)) for wanted in missing]
    present = {s for s in senders if s is not None}
    merged = False
    for wanted, result in found:
        if result.message is None:
            continue
        sender = resolver.moved.get(result.sender, result.sender)
        quoted = result.message
        outcome = resolver.link_name(sender, wanted.name, NameSource.QUOTE, wanted.moment, present=present, times=0,
                                     evidence={"rule": "a quote of their message", "quote": wanted.text[:EVIDENCE_EXCERPT],
                                               "quoted_at": quoted.moment.isoformat(),
                                               "quoted": (quoted.text or quoted.url)[:EVIDENCE_EXCERPT],
                                               "quote_at": wanted.moment.isoformat()})
        merged = merged or outcome == "merged"
    return merged


def _stored_candidates(group: Group, wanted: list[quotes.Wanted]) -> list[tuple]:
    """The group's stored messages that the quotes ``wanted`` may be of, in one query: sent in the
    ``QUOTE_LOOKBACK`` before the quotes and holding a quote's probe (its text, or its link), or images
    sent just before a quote of an image. At most ``QUOTE_LOOKUP_ROWS``, the latest."""
    match = Q()
    for item in wanted:
        if item.media:
            match |= Q(kind=MessageKind.IMAGE, sent_at__gte=item.moment - quotes.QUOTE_MEDIA_WINDOW,
                       sent_at__lte=item.moment)
            continue
        probe = item.probe()
        if probe:
            match |= Q(text__contains=probe)
        if item.url:
            match |= Q(url__contains=item.url[:200])
    if not match:
        return []
    return list(
        Message.objects.filter(group=group, sent_at__gte=min(w.moment for w in wanted) - quotes.QUOTE_LOOKBACK,
                               sent_at__lte=max(w.moment for w in wanted)).filter(match)
        .order_by("-sent_at").values_list("sent_at", "sender_id", "kind", "text", "url")[:QUOTE_LOOKUP_ROWS])


def _announced_names_link(resolver: IdentityResolver, union: _Union) -> None:
    """The announced name is evidence: the name an announcement @mentioned is a name of the member
    who gave the announced talk (the detector's speaker: the sender of the run that fits the
    announcement), recorded with its evidence by ``IdentityResolver.link_name``. Only talks given
    (a share announced but not given has no speaker) and found for an announcement (not for a
    host's invitation), and not when the run is the announcer's own."""
    changed = False
    present = {s for s in union.senders if s is not None}
    for talk in union.talks:
        if not (talk.delivered and talk.announcement_index is not None and talk.speaker_mention
                and talk.start_index is not None):
            continue
        speaker = union.senders[talk.start_index]
        if speaker is None or normalize_name(talk.speaker_mention) == normalize_name(talk.speaker):
            continue
        if talk.host and normalize_name(talk.host) == normalize_name(talk.speaker):
            # The announcer's own run (a document they posted for the speaker, words on their behalf):
            # no evidence that the announced name is theirs.
            continue
        announced_at = union.moments[talk.announcement_index]
        resolver.link_name(speaker, talk.speaker_mention, NameSource.ANNOUNCEMENT, announced_at, present=present,
                           evidence={"rule": "the announced speaker of the talk", "speaker": talk.speaker,
                                     "announced_by": union.messages[talk.announcement_index].sender,
                                     "announced_at": announced_at.isoformat(), "topic": talk.topic[:EVIDENCE_EXCERPT],
                                     "started_at": union.moments[talk.start_index].isoformat()})
        changed = True
    if changed:
        resolver.flush()


def _free_key(key: str, taken: set[str]) -> str:
    """A new message's key, made unique among the day's stored keys (a stored message with the
    same key is another message: its sender was reassigned since, or its text differs in spaces)."""
    candidate, n = key, 0
    while candidate in taken:
        n += 1
        candidate = key[:8] + hashlib.sha1(f"{key}|{n}".encode()).hexdigest()[:32]
    return candidate


@dataclass
class _Union:
    """A day's messages in order, the file's and the stored ones it lacks: what talks are found
    in. ``ids()`` gives their message ids (read when a talk needs them)."""

    messages: list[RawMessage]
    moments: list[dt.datetime]
    senders: list[int | None]
    talks: list[DetectedTalk]
    ids: Callable[[], list[int]]


def _day_union(transcript: Transcript, moments, senders, file_ids, extras, sender_of, tz) -> _Union:
    """The file's messages and the stored ones it lacks, by time, and the talks found in them.
    A stored message is named as the file names its sender, so that detection sees one person."""
    name_of = {member_id: name for name, member_id in sender_of.items() if member_id is not None}
    extra_moments = [row[3].astimezone(tz) for row in extras]
    messages, union_moments, union_senders, ids = [], [], [], []
    for side, index in day_union(moments, extra_moments):
        if side == 0:
            messages.append(transcript.messages[index])
            union_moments.append(moments[index])
            union_senders.append(senders[index])
            ids.append(file_ids[index])
        else:
            pk, sender_id, sender_name, _at, kind, text, url, _key, line = extras[index]
            moment = extra_moments[index]
            messages.append(stored_message(line or 0, moment.time(), name_of.get(sender_id, sender_name), kind, text, url))
            union_moments.append(moment)
            union_senders.append(sender_id)
            ids.append(pk)
    talks = detect_shares(messages, author_hint=transcript.author_hint)
    return _Union(messages, union_moments, union_senders, talks, lambda: ids)


def _message_ids(group: Group, day: dt.date, keys: list[str]) -> list[int]:
    ids = sql.message_ids(group.pk, day)
    return [ids[key] for key in keys]


def _talks_found(day: dt.date, union: _Union, resolver: IdentityResolver) -> list[TalkFound]:
    """The day's shares found, in rows: a talk's speaker is the sender of its run; a talk
    announced and not given has the member bearing the announced name (none: skipped). The
    host is the member behind the host's header name."""
    found = []
    talks, moments, senders = union.talks, union.moments, union.senders
    message_ids = union.ids() if talks else []
    member_of = {}
    if any(talk.host for talk in talks):
        member_of = {message.sender: sender for message, sender in zip(union.messages, senders, strict=True)}
    for talk in talks:
        tz = moments[0].tzinfo if moments else None
        scheduled = dt.datetime.combine(day, talk.announced_start, tzinfo=tz) if talk.announced_start else None
        sign_ins = [(senders[hit.index], moments[hit.index], message_ids[hit.index])
                    for hit in talk.sign_ins if senders[hit.index] is not None]
        host_id = member_of.get(talk.host) if talk.host else None
        if not talk.delivered:
            announced_at = moments[talk.announcement_index] if talk.announcement_index is not None else None
            # Known already (resolved with the day's mentions): no sighting counted twice.
            speaker_id = resolver.resolve(talk.speaker_mention, NameSource.MENTION, announced_at, times=0)
            if speaker_id is not None:
                found.append(TalkFound(
                    speaker_id=speaker_id, topic=talk.topic or "", scheduled_for=scheduled, started_at=None,
                    ended_at=None, sign_ins=sign_ins, topic_source=talk.topic_source, host_id=host_id,
                    delivered=False,
                ))
            continue
        speaker_id = senders[talk.start_index]
        if speaker_id is None:
            continue
        interruptions = set(talk.interruption_indices)
        talk_range = range(talk.start_index, talk.end_index + 1)
        found.append(
            TalkFound(
                speaker_id=speaker_id,
                topic=talk.topic or "",
                scheduled_for=scheduled,
                started_at=moments[talk.start_index],
                ended_at=moments[talk.end_index],
                talk_ids=[message_ids[i] for i in talk_range if i not in interruptions],
                interruption_ids=[message_ids[i] for i in talk_range if i in interruptions],
                qa_ids=[message_ids[i] for i in range(talk.end_index + 1, talk.qa_end_index + 1)],
                sign_ins=sign_ins,
                topic_source=talk.topic_source,
                host_id=host_id,
            )
        )
    if not all(talk.delivered for talk in talks):
        resolver.flush()  # the announced names just resolved (a member may have been created for one)
    return found


def _memberships_ensure(group: Group, first_seen: dict[int, dt.datetime], resolver: IdentityResolver,
                        journal: RunJournal) -> None:
    """Every member seen in a group's record has a membership there, joined when first seen.
    The journal notes memberships made for members the run did not create (a member it created
    goes, with its memberships, when the run is undone) and keeps those it changes."""
    if resolver.joined is None:
        resolver.joined = dict(Membership.objects.filter(group=group).values_list("member_id", "joined_at"))
    have = resolver.joined
    new = {member_id: moment for member_id, moment in first_seen.items() if member_id not in have}
    if new:
        # Tuples through ``sql.rows_insert``, which returns the ids: no model instances, no query for the ids.
        membership_ids = sql.rows_insert(Membership, ["group_id", "member_id", "joined_at"],
                                         [(group.pk, m, t) for m, t in new.items()])
        created = list(zip(membership_ids, new, strict=True))
        period_ids = sql.rows_insert(MembershipPeriod, ["membership_id", "joined_at"],
                                     [(pk, new[m]) for pk, m in created])
        theirs = resolver.not_created(new)
        if theirs:
            journal.created(Membership, [pk for pk, m in created if m in theirs])
            journal.created(MembershipPeriod,
                            [period for period, (_pk, m) in zip(period_ids, created, strict=True) if m in theirs])
        have.update(new)
    if resolver.pending is None:
        resolver.pending = set(
            Membership.objects.filter(group=group, status=MembershipStatus.PENDING).values_list("member_id", flat=True)
        )
    # An accepted applicant seen in the record has joined the group: the membership becomes active.
    for member_id in resolver.pending & first_seen.keys():
        membership = Membership.objects.get(group=group, member_id=member_id)
        journal.before([membership])
        opened = set(membership.periods.values_list("pk", flat=True))
        membership_join(membership=membership, joined_at=first_seen[member_id])
        journal.created(MembershipPeriod, set(membership.periods.values_list("pk", flat=True)) - opened)
        resolver.pending.discard(member_id)
        have[member_id] = min(filter(None, [have.get(member_id), first_seen[member_id]]))
    earlier = {m: t for m, t in first_seen.items() if m not in new and (have[m] is None or t < have[m])}
    if earlier:
        journal.before(Membership.objects.filter(group=group, member_id__in=resolver.not_created(earlier)))
    for member_id, moment in earlier.items():
        Membership.objects.filter(group=group, member_id=member_id).update(joined_at=moment)
        have[member_id] = moment


def _refresh_group_facts(work: _Work) -> None:
    """After a run: message facts of the members it touched, share facts, and group nicknames."""
    group, resolver, journal = work.group, work.resolver, work.journal
    membership_facts_refresh(group_id=group.pk, member_ids=work.touched)
    membership_share_facts_refresh(group_id=group.pk)
    for other in sorted(work.linked_groups - {group.pk}):
        membership_share_facts_refresh(group_id=other)  # the speaker of a share announced there gave it here
    nicknames = resolver.group_nicknames()
    changed = []
    for membership in Membership.objects.filter(group=group, member_id__in=list(nicknames)).only("id", "member_id", "nickname"):
        nickname = nicknames[membership.member_id]
        if membership.nickname != nickname:
            membership.nickname = nickname
            changed.append(membership)
    if changed:
        journal.before(Membership.objects.filter(
            pk__in=[m.pk for m in changed], member_id__in=resolver.not_created(m.member_id for m in changed)))
    rows_update(changed, ["nickname"])
    # A member out of the uploader's reach keeps the name they are known by on the site.
    _display_names_update({member_id: name for member_id, name in resolver.display_names().items()
                           if not resolver.out_of_reach(member_id)}, journal)


def _display_names_update(names: dict[int, str], journal: RunJournal) -> None:
    members = Member.objects.filter(pk__in=list(names)).only("id", "display_name", "name", "company", "position", "city",
                                                             "import_run")
    changed = []
    for member in members:
        nickname = names[member.pk]
        if parse_nickname(nickname) is None and member.display_name != nickname and member.display_name != ME:
            continue  # keep an earlier well-formed display name over a bare one
        if member_parts_update(member=member, nickname=nickname):
            changed.append(member)
    theirs = [member.pk for member in changed if member.import_run != journal.run_id]
    if theirs:
        journal.before(Member.objects.filter(pk__in=theirs))
    rows_update(changed, ["display_name", "name", "company", "position", "city"])


def _run_open(run: ImportRun | None, *, options: dict, **fields) -> ImportRun:
    """A new run, or the queued run of a web upload now starting (its options kept, completed)."""
    if run is None:
        return ImportRun.objects.create(options=options, **fields)
    for name, value in fields.items():
        setattr(run, name, value)
    run.options = {**run.options, **options}
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.save()
    return run


def _finish_run(run: ImportRun, result: ImportResult) -> None:
    run.counts = asdict(result.counts)
    run.files = result.files
    if run.dry_run and run.kind == ImportKind.TRANSCRIPTS:
        # The preview: what the run would do, per file and day; kept when the run is confirmed.
        run.preview = {"counts": run.counts, "files": result.files, "errors": result.errors[:1000]}
    run.warnings = result.warnings[:1000]
    run.errors = result.errors[:1000]
    run.finished_at = timezone.now()
    run.status = ImportStatus.FAILED if result.errors else ImportStatus.SUCCEEDED
    run.save()


def _operator(user) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


# Rosters ---------------------------------------------------------------------

class RosterError(ValueError):
    """A roster that cannot be imported; the message says ``file:line: reason``."""


@dataclass(frozen=True)
class RosterRow:
    line: int
    nickname: str  # the member's own WeChat nickname
    display_name: str  # their group nickname (may be empty)
    remark: str
    wechat_id: str
    joined_on: dt.date | None


def decode_roster(data: bytes, *, filename: str) -> str:
    if not data.strip():
        raise RosterError(f"{filename}:1: the file is empty")
    if b"\x00" in data[:4096]:
        raise RosterError(f"{filename}:1: this is a binary file, not a CSV member list")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{filename}:1: the file is neither UTF-8 nor GBK text")


def parse_roster(text: str, *, filename: str, latest_day: dt.date | None = None) -> list[RosterRow]:
    """Rows of a WeChat member list; columns in any order, extra columns ignored. A joining
    date before 2000-01-01, or after ``latest_day`` (the group's ``latest_record_day``) when
    given, is a ``RosterError`` naming its line."""
    # newline="": a carriage return inside a field is data, as the csv module expects.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _roster_rows(reader, filename, latest_day)
    except csv.Error as error:
        raise RosterError(f"{filename}:{reader.line_num}: not a readable CSV row ({error})") from None


def _roster_rows(reader, filename: str, latest_day: dt.date | None) -> list[RosterRow]:
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise RosterError(f"{filename}:1: the file is empty") from None
    lowered = {h.casefold(): i for i, h in enumerate(header)}
    missing = [c for c in ("NickName", "DisplayName") if c.casefold() not in lowered]
    if missing:
        raise RosterError(f"{filename}:1: missing column(s) {', '.join(missing)} (the header row has: {', '.join(header)})")

    def column(row: list[str], name: str) -> str:
        index = lowered.get(name.casefold())
        return row[index].strip() if index is not None and index < len(row) else ""

    rows = []
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        nickname, display_name = column(row, "NickName"), column(row, "DisplayName")
        if not nickname and not display_name:
            raise RosterError(f"{filename}:{line}: both NickName and DisplayName are empty")
        joined_raw = column(row, "JoinedAt")
        joined_on = None
        if joined_raw:
            try:
                joined_on = dt.date.fromisoformat(joined_raw[:10])
            except ValueError:
                raise RosterError(f"{filename}:{line}: JoinedAt {joined_raw!r} is not an ISO date (YYYY-MM-DD)") from None
            problem = record_day_problem(joined_on, latest=latest_day)
            if problem:
                raise RosterError(f"{filename}:{line}: JoinedAt {joined_raw!r}: {problem}")
        rows.append(RosterRow(line, nickname, display_name, column(row, "RemarkName"),
                              column(row, "UserName") or column(row, "wxid"), joined_on))
    return rows


def roster_import(*, group_slug: str, source: Source, dry_run: bool = False, mark_missing_left: bool = False,
                  user=None, group_name: str = "", run: ImportRun | None = None,
                  progress: Callable[[int, str], None] | None = None) -> ImportResult:
    """Import a member list: members (matched by WeChat id, then by name), their group
    nicknames and join dates; with ``mark_missing_left``, members absent from it have left.
    ``run``: a run queued by a web upload, recorded into instead of a new one. ``user``: who
    uploaded it: a WeChat id of a member out of that user's reach matches nobody (the row is
    matched by name, or gets a member of its own, and the two are kept as a suggestion);
    None on the command line (an operator).

    Guarantees:
    * the whole file is read and checked first: a bad row fails the file as ``file:line:
      reason`` and nothing is written;
    * rows are then written in transactions of at most ``ROSTER_CHUNK_ROWS`` rows, each a few
      bulk statements, so that a long list never holds the database for long: a chunk is
      resolved before its transaction begins, which holds its writes only (other writers wait
      for one chunk's writes at most), and on SQLite the import pauses between two chunks to
      let waiting writers in; marking the missing members as left is chunked the same way;
    * a chunk that fails to write is rolled back and the import stops there: the chunks
      before it stay, the run is failed with ``file:line`` of the chunk's first row, and it
      can be undone (``roster_run_undo``) or the file imported again (rows already written
      match their members and change nothing);
    * every row the run changes is kept in the run's journal before it is changed, and every
      row it creates is recorded, so that undoing the run restores exactly;
    * ``dry_run`` resolves every row in memory and writes nothing (new members get provisional
      ids): the counts are those a real run would report.
    ``progress(1, text)`` is told the rows done after each chunk."""
    group, _ = Group.objects.get_or_create(slug=group_slug, defaults={"name": group_name or group_slug})
    run = _run_open(
        run, group=group, kind=ImportKind.ROSTER, dry_run=dry_run, started_by=user, started_by_name=_operator(user),
        options={"dry_run": dry_run, "mark_missing_left": mark_missing_left},
    )
    result = ImportResult(run=run, counts=ImportCounts(files_read=1))
    report = {"file": source.label, "status": "failed"}
    result.files.append(report)
    try:
        rows = parse_roster(decode_roster(source.read(), filename=source.label), filename=source.label,
                            latest_day=latest_record_day(group.tz))
        summary = _roster_apply(group, rows, run.pk, mark_missing_left, user, dry_run=dry_run, label=source.label,
                                progress=progress)
    except (RosterError, OSError) as error:
        _fail(result, report, str(error))
    except RosterWriteError as error:
        report.update(error.summary)
        result.counts.members_created = error.summary["members_created"]
        result.counts.names_created = error.summary["names_created"]
        _fail(result, report, str(error))
    else:
        report.update(status="imported", **summary)
        result.counts.members_created = summary["members_created"]
        result.counts.names_created = summary["names_created"]
    finally:
        _finish_run(run, result)
    return result


ROSTER_CHUNK_ROWS = 1000  # rows of a roster written per transaction


class RosterWriteError(Exception):
    """A chunk of a roster could not be written; ``summary`` counts what the chunks before it wrote."""

    def __init__(self, message: str, summary: dict[str, int]):
        super().__init__(message)
        self.summary = summary


def _roster_apply(group: Group, rows: list[RosterRow], run_id: int, mark_missing_left: bool, user=None, *,
                  dry_run: bool = False, label: str = "", progress: Callable[[int, str], None] | None = None,
                  ) -> dict[str, int]:
    writer = _RosterWriter(group=group, run_id=run_id, user=user, dry_run=dry_run)
    for start in range(0, len(rows), ROSTER_CHUNK_ROWS):
        chunk = rows[start:start + ROSTER_CHUNK_ROWS]
        try:
            writer.rows_write(chunk)
        except (IntegrityError, DatabaseError) as error:
            logger.exception("roster %s: the chunk from line %s could not be stored", label, chunk[0].line)
            raise RosterWriteError(
                f"{label}:{chunk[0].line}: could not be stored ({error}); the {writer.rows_written} rows before it "
                "were stored: undo the run to take them back, or import the file again", writer.committed,
            ) from error
        if progress:
            progress(1, f"{label} ({start + len(chunk):,}/{len(rows):,})")
    if mark_missing_left:
        try:
            writer.missing_mark_left()
        except (IntegrityError, DatabaseError) as error:
            logger.exception("roster %s: marking missing members as left failed", label)
            raise RosterWriteError(
                f"{label}:0: members missing from the list could not all be marked as left ({error}); "
                f"{writer.committed['marked_left']} were: undo the run to take them back, or import the file again",
                writer.committed,
            ) from error
    return writer.summary()


@dataclass
class _NewMember:
    """A member the roster creates, until its chunk is written (the fields a nickname fills)."""

    display_name: str
    name: str = ""
    company: str = ""
    position: str = ""
    city: str = ""
    wechat_id: str = ""

    COLUMNS = ["display_name", "name", "company", "position", "city", "wechat_id"]

    def row(self) -> tuple:
        return (self.display_name, self.name, self.company, self.position, self.city, self.wechat_id)


@dataclass
class _RosterResolver(IdentityResolver):
    """The identity resolver, writing nothing while it resolves a chunk of a roster: a member it
    creates gets a provisional id (negative) until the chunk is written, and the merges and
    suggested links it finds wait for the chunk's write. A dry run never writes them."""

    unsaved: dict[int, _NewMember] = field(default_factory=dict)  # provisional id -> member not written yet
    real: dict[int, int] = field(default_factory=dict)  # provisional id -> its row's id, once written
    merges: list[tuple[int, str, dict]] = field(default_factory=list)
    suggestions: list[tuple[int, int, dict]] = field(default_factory=list)
    provisional_count: int = 0
    # Known names the chunk being resolved sees again: their counts before it (checked before they are written).
    counts_before: dict[int, tuple] = field(default_factory=dict)

    def see(self, member_id: int, name: str, normalized: str, source: str, seen_at: dt.datetime | None, *,
            last: dt.datetime | None = None, times: int = 1) -> None:
        seen = self.names.get((member_id, normalized, source))
        if seen is not None and seen.pk and seen.pk not in self.counts_before:
            self.counts_before[seen.pk] = (seen.times, seen.first, seen.last)
        super().see(member_id, name, normalized, source, seen_at, last=last, times=times)

    def _create_member(self, name: str) -> int:
        member = _NewMember(display_name=name[:DISPLAY_NAME_MAX])
        member_parts_update(member=member, nickname=name)
        self.provisional_count += 1
        self.unsaved[-self.provisional_count] = member
        self.stats.members_created += 1
        return -self.provisional_count

    def _merge_record(self, member_id: int, name: str, evidence: dict) -> None:
        self.merges.append((member_id, name, evidence))

    def _link_suggest(self, member_id: int, other: int, evidence: dict) -> bool:
        self.suggestions.append((member_id, other, evidence))
        return True

    def member_id(self, member_id: int) -> int:
        """The row id of a member (a provisional id is the member's row once written)."""
        return self.real.get(member_id, member_id) if member_id < 0 else member_id


@dataclass
class _Seat:
    """A member's membership of the group as the roster leaves it (``pk`` None: not written yet)."""

    pk: int | None
    status: str
    role: str
    nickname: str
    joined_at: dt.datetime | None
    left_at: dt.datetime | None
    open_period: bool


# The fields of a name, as the journal keeps them (``rows_before``: Django's "python" serializer).
_NAME_FIELDS = ["member", "group", "name", "normalized", "source", "first_seen", "last_seen", "times_seen", "import_run"]


def _names_before(run_id: int, ids: list[int]) -> None:
    """Keep known names in the run's journal before their counts change, as ``rows_before``
    does, but from one ``values_list`` query and one prepared insert: a roster imported again
    changes every name it lists, and the serializer and ``bulk_create`` cost several times the
    rest of the chunk. The names the run created are left out (undo deletes them)."""
    rows = Name.objects.filter(pk__in=ids).exclude(import_run=run_id).values_list(
        "pk", *[f"{name}_id" if name in ("member", "group") else name for name in _NAME_FIELDS])
    sql.run_changes_insert([(run_id, "community.name", pk, RunChangeAction.UPDATED,
                             dict(zip(_NAME_FIELDS, values, strict=True))) for pk, *values in rows])


class _RosterWriter:
    """Writes a roster chunk by chunk. Each chunk is resolved in memory (reading what it needs in a
    few bulk queries) and then written in one transaction of a few bulk statements, after the
    rows it changes are kept in the run's journal (``importer.journal``). What the chunks found
    (members, memberships, WeChat ids) is kept in memory for the chunks after them, so that a dry
    run, which writes nothing, counts what a real run does."""

    def __init__(self, *, group: Group, run_id: int, user, dry_run: bool):
        self.group, self.run_id, self.dry_run = group, run_id, dry_run
        self.resolver = _RosterResolver(group_id=group.pk, import_run=run_id, user=user)
        self.now = timezone.now()
        self.by_wxid: dict[str, int] = {}  # WeChat id -> member id (provisional until written)
        self.seats: dict[int, _Seat | None] = {}  # member id -> its membership (None: none yet)
        self.present: set[int] = set()
        self.rows = self.returning = self.marked_left = self.rows_written = 0
        self.committed = self.summary()
        self.committed_stats = dataclasses.replace(self.resolver.stats)

    def summary(self) -> dict[str, int]:
        return {"rows": self.rows, "members_created": self.resolver.stats.members_created,
                "names_created": self.resolver.stats.names_created, "returning": self.returning,
                "marked_left": self.marked_left}

    # Chunks of rows ----------------------------------------------------------------

    def rows_write(self, rows: list[RosterRow]) -> None:
        """Resolve a chunk, then write it in one transaction. The resolution reads and thinks
        outside the transaction (on SQLite a transaction holds the whole database's write lock):
        the transaction holds the writes only, after checking that nothing the resolution read
        has changed since; if something has (another import of the group, an admin's change),
        what was not written is forgotten and the chunk is resolved again, under the lock."""
        plan = self._plan(rows)
        if self.dry_run:
            self._plan_discard(plan)
            self.present.update(plan["joined"])
            self.committed = self.summary()
            return
        with transaction.atomic():
            sql.group_lock(self.group.pk)  # imports of one group, one at a time (SQLite: BEGIN IMMEDIATE)
            if not self._plan_holds(plan):
                self._forget_unwritten()
                plan = self._plan(rows)
            self._plan_write(plan)
        self.present.update(self.resolver.member_id(m) for m in plan["joined"])
        self.rows_written += len(rows)
        self.committed = self.summary()
        self.committed_stats = dataclasses.replace(self.resolver.stats)
        sql.writers_let_in()

    def _plan_holds(self, plan: dict) -> bool:
        """Nothing the plan read has changed since (checked in the write transaction, under the lock)."""
        resolver, group = self.resolver, self.group
        if sql.newest_name_id(group.pk) > plan["names_at"]:
            return False  # another import named someone in the group
        wechat_ids = list(plan["wechat_ids"].values())
        if wechat_ids and Member.objects.filter(wechat_id__in=wechat_ids).exclude(wechat_id="").exists():
            return False
        known = [m for m in plan["new"] if m > 0]
        if known and Membership.objects.filter(group=group, member_id__in=known).exists():
            return False
        before = plan["seats_before"]
        if before and {pk: (status, nickname) for pk, status, nickname in Membership.objects.filter(
                pk__in=list(before)).values_list("pk", "status", "nickname")} != before:
            return False
        back = [self.seats[m].pk for m in plan["rejoined"]]
        if back and MembershipPeriod.objects.filter(membership_id__in=back, left_at__isnull=True).exists():
            return False
        counts = resolver.counts_before
        return not counts or {pk: (times, first, last) for pk, times, first, last in Name.objects.filter(
            pk__in=list(counts)).values_list("pk", "times_seen", "first_seen", "last_seen")} == counts

    def _forget_unwritten(self) -> None:
        """Start again from what is written: a new resolver (it reads the group's names again)
        and empty caches; the counts as the last chunk written left them."""
        old = self.resolver
        self.resolver = _RosterResolver(group_id=old.group_id, import_run=old.import_run, user=old.user)
        self.resolver.stats = dataclasses.replace(self.committed_stats)
        self.by_wxid.clear()
        self.seats.clear()
        self.rows, self.returning = self.committed["rows"], self.committed["returning"]

    def _plan(self, rows: list[RosterRow]) -> dict:
        """Resolve a chunk's rows in memory: who each row is, their names, WeChat ids, and what
        becomes of their memberships."""
        resolver, tz = self.resolver, self.group.tz
        resolver.refresh()
        names_at = resolver.last_name_id
        resolver.counts_before.clear()
        self._prefetch(rows)
        joined: dict[int, dt.datetime] = {}
        nicknames: dict[int, str] = {}
        wechat_ids: dict[int, str] = {}
        for row in rows:
            moment = dt.datetime.combine(row.joined_on, dt.time(12), tzinfo=tz) if row.joined_on else self.now
            member_id = self.by_wxid.get(row.wechat_id) if row.wechat_id else None
            beyond = None
            if member_id is not None and resolver.out_of_reach(member_id):
                beyond, member_id = member_id, None  # a WeChat id is evidence like any other
            names = [n for n in (row.display_name, row.nickname) if n]
            if member_id is None:
                for name in names:
                    member_id = resolver.resolve(name, NameSource.ROSTER, self.now, create=False)
                    if member_id is not None:
                        break
            if member_id is None:
                member_id = resolver.resolve(names[0], NameSource.ROSTER, self.now)
            if beyond is not None and member_id != beyond:
                resolver.suggest_out_of_reach(member_id, beyond, {"rule": "the same WeChat id in a roster",
                                                                  "name": names[0]})
            for name in names:
                resolver.see(member_id, name, normalize_name(name), NameSource.ROSTER, self.now)
            if row.wechat_id and row.wechat_id not in self.by_wxid:
                wechat_ids.setdefault(member_id, row.wechat_id)
                self.by_wxid[row.wechat_id] = member_id
            joined[member_id] = moment
            if row.display_name:
                nicknames[member_id] = row.display_name
        self.rows += len(rows)
        return {"joined": joined, "wechat_ids": wechat_ids, "names_at": names_at, **self._seats_plan(joined, nicknames)}

    def _prefetch(self, rows: list[RosterRow]) -> None:
        """What resolving the chunk needs from the database, in two queries: the members with its
        WeChat ids, and its names as other groups know them (evidence for a new name)."""
        resolver = self.resolver
        wanted = {row.wechat_id for row in rows if row.wechat_id and row.wechat_id not in self.by_wxid}
        if wanted:
            # (Blank ids excluded in the query too: the index on WeChat ids holds only the others.)
            self.by_wxid.update(Member.objects.filter(wechat_id__in=wanted).exclude(wechat_id="")
                                .values_list("wechat_id", "id"))
        names = {normalize_name(n) for row in rows for n in (row.display_name, row.nickname) if n}
        names = {n for n in names if n and n not in resolver.by_norm and n not in resolver.other_groups}
        if names:
            elsewhere: dict[str, set[int]] = {}
            for normalized, member_id in (Name.objects.filter(normalized__in=names).exclude(group_id=self.group.pk)
                                          .order_by().values_list("normalized", "member_id").distinct()):
                elsewhere.setdefault(normalized, set()).add(member_id)
            for normalized in names:
                resolver.other_groups[normalized] = sorted(elsewhere.get(normalized, ()))[:2]

    def _seats_plan(self, joined: dict[int, dt.datetime], nicknames: dict[int, str]) -> dict:
        """What becomes of the memberships of the chunk's members (read once, in two queries)."""
        unknown = [m for m in joined if m > 0 and m not in self.seats]
        if unknown:
            for pk, member_id, status, role, nickname, joined_at, left_at in Membership.objects.filter(
                    group=self.group, member_id__in=unknown).values_list(
                    "pk", "member_id", "status", "role", "nickname", "joined_at", "left_at"):
                self.seats[member_id] = _Seat(pk, status, role, nickname, joined_at, left_at, open_period=False)
            inactive = {seat.pk: seat for m in unknown if (seat := self.seats.get(m)) and seat.status != "active"}
            for membership_id in MembershipPeriod.objects.filter(membership_id__in=list(inactive),
                                                                 left_at__isnull=True).values_list("membership_id",
                                                                                                   flat=True):
                inactive[membership_id].open_period = True
        new, rejoined, renamed, before = [], {}, [], {}
        for member_id, moment in joined.items():
            seat = self.seats.get(member_id)
            if seat is None:
                self.seats[member_id] = _Seat(None, MembershipStatus.ACTIVE, "member", nicknames.get(member_id, ""),
                                              moment, None, open_period=True)
                new.append(member_id)
                continue
            if seat.pk is not None:
                before[seat.pk] = (seat.status, seat.nickname)
            if seat.status != MembershipStatus.ACTIVE:
                self.returning += 1
                if not seat.open_period:  # as ``membership_join``: a returning member gets a new period
                    start = max(moment, seat.left_at or moment)
                    rejoined[member_id] = start
                    seat.status, seat.left_at, seat.open_period = MembershipStatus.ACTIVE, None, True
                    if seat.joined_at is None or start < seat.joined_at:
                        seat.joined_at = start
            if member_id in nicknames and seat.nickname != nicknames[member_id]:
                seat.nickname = nicknames[member_id]
                renamed.append(member_id)
        # What the plan takes the changed memberships to be now (checked before they are written).
        before = {pk: values for pk, values in before.items()
                  if any(self.seats[m].pk == pk for m in [*rejoined, *renamed])}
        return {"new": new, "rejoined": rejoined, "renamed": renamed, "seats_before": before}

    def _plan_discard(self, plan: dict) -> None:
        """A dry run: count the names a real run would create, write nothing."""
        resolver = self.resolver
        for seen in resolver.names.values():
            if seen.dirty and seen.pk is None:
                resolver.stats.names_created += 1
                seen.pk = 0  # counted: a later sighting updates it
            seen.dirty = False
        resolver.merges.clear()
        resolver.suggestions.clear()

    def _plan_write(self, plan: dict) -> None:
        resolver, run_id = self.resolver, self.run_id
        # A new member is created with its WeChat id; a member known before gets one only if it has none.
        known: dict[int, str] = {}
        for member_id, wechat_id in plan["wechat_ids"].items():
            if member_id in resolver.unsaved:
                resolver.unsaved[member_id].wechat_id = wechat_id
            else:
                known[member_id] = wechat_id
        # Members first: every row below points at them.
        if resolver.unsaved:
            ids = sql.rows_insert(Member, [*_NewMember.COLUMNS, "import_run"],
                                  [(*member.row(), run_id) for member in resolver.unsaved.values()])
            resolver.real.update(zip(resolver.unsaved, ids, strict=True))
            resolver.unsaved.clear()
        real = resolver.member_id
        if resolver.merges:
            merges = MemberMerge.objects.bulk_create([
                MemberMerge(into_id=real(member_id), merged_name=name, evidence=evidence)
                for member_id, name, evidence in resolver.merges])
            rows_created(run_id=run_id, model=MemberMerge, ids=[m.pk for m in merges])
            resolver.merges.clear()
        if resolver.suggestions:
            self._suggestions_write()
        self._names_write()
        known = {real(m): w for m, w in known.items()}
        if known:
            blank = Member.objects.filter(pk__in=list(known), wechat_id="")
            rows_before(run_id=run_id, rows=blank.exclude(import_run=run_id))
            members = list(blank.only("pk", "wechat_id"))
            for member in members:
                member.wechat_id = known[member.pk]
            rows_update(members, ["wechat_id"])
        self._seats_write(plan)

    def _suggestions_write(self) -> None:
        resolver = self.resolver
        pairs: dict[tuple[int, int], tuple[int, dict]] = {}
        for member_id, other, evidence in resolver.suggestions:
            first, second = sorted([resolver.member_id(member_id), resolver.member_id(other)])
            if first != second:
                pairs.setdefault((first, second), (resolver.group_id, evidence))
        resolver.suggestions.clear()
        ids = {m for pair in pairs for m in pair}
        linked = {frozenset(pair) for pair in NameLink.objects.filter(member_id__in=ids, other_id__in=ids)
                  .values_list("member_id", "other_id")}
        links = NameLink.objects.bulk_create([
            NameLink(member_id=first, other_id=second, group_id=group_id, evidence=evidence,
                     status=NameLinkStatus.SUGGESTED)
            for (first, second), (group_id, evidence) in pairs.items() if frozenset((first, second)) not in linked])
        resolver.stats.suggestions += len(links)
        rows_created(run_id=self.run_id, model=NameLink, ids=[link.pk for link in links])

    def _names_write(self) -> None:
        """The chunk's names: new ones in one bulk insert, the counts of known ones in one
        update (kept in the journal first, unless this run created them)."""
        resolver, run_id = self.resolver, self.run_id
        new = [s for s in resolver.names.values() if s.dirty and s.pk is None]
        old = [s for s in resolver.names.values() if s.dirty and s.pk is not None]
        if new:
            real, group_id = resolver.member_id, self.group.pk
            ids = sql.rows_insert(
                Name, ["member_id", "group_id", "name", "normalized", "source", "first_seen", "last_seen", "times_seen",
                       "import_run"],
                [(real(s.member_id), group_id, s.name, s.normalized, s.source, s.first, s.last, s.times, run_id)
                 for s in new])
            for seen, pk in zip(new, ids, strict=True):
                seen.pk = pk
            resolver.stats.names_created += len(ids)
        if old:
            _names_before(run_id, [s.pk for s in old])
            sql.names_counts_update([(s.pk, s.first, s.last, s.times) for s in old])
        for seen in new + old:
            seen.dirty = False
        resolver.last_name_id = max([resolver.last_name_id] + [s.pk for s in new])

    def _seats_write(self, plan: dict) -> None:
        run_id, real = self.run_id, self.resolver.member_id
        joined, seats = plan["joined"], self.seats
        if plan["new"]:
            group_id = self.group.pk
            memberships = sql.rows_insert(Membership, ["group_id", "member_id", "joined_at", "nickname"], [
                (group_id, real(m), joined[m], seats[m].nickname) for m in plan["new"]])
            for member_id, pk in zip(plan["new"], memberships, strict=True):
                seats[member_id].pk = pk
            periods = sql.rows_insert(MembershipPeriod, ["membership_id", "joined_at"], [
                (pk, joined[m]) for m, pk in zip(plan["new"], memberships, strict=True)])
            # The memberships of members this run created go with them when it is undone.
            known = [(m, p) for member_id, m, p in zip(plan["new"], memberships, periods, strict=True) if member_id > 0]
            rows_created(run_id=run_id, model=Membership, ids=[m for m, _p in known])
            rows_created(run_id=run_id, model=MembershipPeriod, ids=[p for _m, p in known])
        rejoined = plan["rejoined"]
        renamed = [m for m in plan["renamed"] if m not in rejoined]
        if not (rejoined or renamed):
            return
        rows_before(run_id=run_id, rows=Membership.objects.filter(pk__in=[seats[m].pk for m in [*rejoined, *renamed]]))
        if rejoined:
            periods = sql.rows_insert(MembershipPeriod, ["membership_id", "joined_at"],
                                      [(seats[m].pk, start) for m, start in rejoined.items()])
            rows_created(run_id=run_id, model=MembershipPeriod, ids=periods)
            rows_update([Membership(pk=seats[m].pk, status=seats[m].status, left_at=None, joined_at=seats[m].joined_at,
                                    nickname=seats[m].nickname) for m in rejoined],
                        ["status", "left_at", "joined_at", "nickname"])
        rows_update([Membership(pk=seats[m].pk, nickname=seats[m].nickname) for m in renamed], ["nickname"])

    # Members missing from the list ---------------------------------------------------

    def missing_mark_left(self) -> None:
        """Members of the group (not its owner or admins) active but absent from the list have
        left, now: their open period closes. In chunks of ``ROSTER_CHUNK_ROWS``, journaled."""
        present = {self.resolver.member_id(m) for m in self.present}
        missing = [pk for pk, member_id in Membership.objects.filter(
            group=self.group, status=MembershipStatus.ACTIVE, role=MembershipRole.MEMBER,
        ).order_by("pk").values_list("pk", "member_id") if member_id not in present]
        if self.dry_run:
            self.marked_left = len(missing)
            self.committed = self.summary()
            return
        for start in range(0, len(missing), ROSTER_CHUNK_ROWS):
            with transaction.atomic():
                sql.group_lock(self.group.pk)
                still = Membership.objects.filter(pk__in=missing[start:start + ROSTER_CHUNK_ROWS],
                                                  status=MembershipStatus.ACTIVE)
                ids = list(still.values_list("pk", flat=True))
                periods = list(MembershipPeriod.objects.filter(membership_id__in=ids, left_at__isnull=True))
                rows_before(run_id=self.run_id, rows=Membership.objects.filter(pk__in=ids))
                rows_before(run_id=self.run_id, rows=periods)
                for period in periods:
                    period.left_at, period.left_reason = max(self.now, period.joined_at), MembershipStatus.LEFT
                rows_update(periods, ["left_at", "left_reason"])
                Membership.objects.filter(pk__in=ids).update(status=MembershipStatus.LEFT, left_at=self.now)
            self.marked_left += len(ids)
            self.committed = self.summary()
            sql.writers_let_in()
