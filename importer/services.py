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
import datetime as dt
import getpass
import hashlib
import io
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from community.bulk import rows_update
from community.dates import latest_record_day, record_day_problem
from community.models import (
    Group,
    Member,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    Message,
    NameSource,
    RecordedDay,
)
from community.names import normalize_name, parse_nickname
from community.services import member_parts_update, membership_facts_refresh, membership_join, membership_leave
from shares.services import TalkFound, membership_share_facts_refresh, talks_import_day
from shares.tasks import talk_index_refresh_enqueue

from . import sql
from .detection import DetectedTalk, detect_talks
from .identity import ME, IdentityResolver
from .journal import RunJournal
from .models import ImportedFile, ImportKind, ImportRun, ImportStatus
from .pipeline import Prepared, day_union, message_identity, prepared_files, stored_matches, stored_message
from .transcript import RawMessage, Transcript, TranscriptError, message_moments

logger = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".markdown", ".md", ".txt"}


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


def _import_all(work: _Work, sources, strict, progress) -> None:
    work.resolver.refresh()
    # Unchanged files are recognised by their hash alone, before any parsing.
    known = {}
    if work.trust_hashes:
        known = dict(ImportedFile.objects.filter(group=work.group).values_list("sha256", "message_count"))
    latest = latest_record_day(work.group.tz)
    for index, prepared in enumerate(prepared_files(sources, known, latest_day=latest), start=1):
        if progress:
            progress(index, prepared.label)
        ok = _import_one(work, prepared, latest)
        if not ok and strict:
            break
    if not work.dry_run and (work.touched or work.result.counts.files_read):
        with transaction.atomic():
            _refresh_group_facts(work)


def _import_one(work: _Work, prepared: Prepared, latest: dt.date) -> bool:
    group, resolver, result = work.group, work.resolver, work.result
    counts = result.counts
    counts.files_read += 1
    report = {"file": prepared.label, "status": "failed", "messages": 0}
    result.files.append(report)
    if prepared.error:
        return _fail(result, report, prepared.error)
    if prepared.unchanged_count is not None:
        return _skip(result, report, prepared.unchanged_count)
    transcript, digest = prepared.transcript, prepared.digest
    report["day"] = transcript.day.isoformat()
    try:
        moments = message_moments(transcript, group.tz, latest_day=latest, filename=prepared.label)
    except TranscriptError as error:
        return _fail(result, report, str(error))
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
    mentions = _sightings((name, moment) for m, moment in zip(transcript.messages, moments, strict=True) for name in m.mentions)
    quotes = _sightings((m.quote.name, moment) for m, moment in zip(transcript.messages, moments, strict=True) if m.quote)
    for source, sightings in ((NameSource.MENTION, mentions), (NameSource.QUOTE, quotes)):
        for name, (first, last, times) in sightings.items():
            resolver.resolve(name, source, first, create=False, last=last, times=times)
    resolver.flush()
    _memberships_ensure(group, first_seen, resolver, journal)
    work.touched.update(s for s in senders if s is not None)

    keys = prepared.keys
    stored = sql.db_datetimes(day, transcript.messages, moments)
    if fresh:
        rows = [
            (group.pk, sender_id, m.sender[:200], when, m.kind, m.text, m.url, day, label[-255:], m.line, key, run_id)
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
                rows.append((group.pk, sender_id, m.sender[:200], when, m.kind, m.text, m.url, day, label[-255:],
                             m.line, key, run_id))
        sql.messages_insert(rows)
        new_ids = iter(_message_ids(group, day, [row[10] for row in rows]) if rows else [])
        file_ids = [match if match is not None else next(new_ids) for match in matches]
        if replace or not extras:
            union = _Union(transcript.messages, moments, senders, prepared.talks, lambda: file_ids)
        else:
            union = _day_union(transcript, moments, senders, file_ids, extras, sender_of, tz)
    sql.day_recorded(group.pk, day, len(union.messages))
    talks = _talks_found(day, union)
    found = talks_import_day(group=group, day=day, talks=talks, import_run=run_id, fresh=fresh,
                             keep_missing=not replace, journal=journal)
    if replace and not fresh:
        journal.delete(ImportedFile.objects.filter(group=group, day=day))
    sql.file_imported(group.pk, day, digest, label[-500:], run_id, len(keys), timezone.now())
    return {
        "added": len(rows),
        "kept": kept,
        "not_in_file": not_in_file,
        "removed": not_in_file if replace else 0,
        "shares": found.shares_found,
        "sign_ins": found.sign_ins_found,
        "talks": found.talks,
    }


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
    talks = detect_talks(messages, author_hint=transcript.author_hint)
    return _Union(messages, union_moments, union_senders, talks, lambda: ids)


def _message_ids(group: Group, day: dt.date, keys: list[str]) -> list[int]:
    ids = sql.message_ids(group.pk, day)
    return [ids[key] for key in keys]


def _talks_found(day: dt.date, union: _Union) -> list[TalkFound]:
    found = []
    talks, moments, senders = union.talks, union.moments, union.senders
    message_ids = union.ids() if talks else []
    for talk in talks:
        speaker_id = senders[talk.start_index]
        if speaker_id is None:
            continue
        tz = moments[0].tzinfo if moments else None
        scheduled = dt.datetime.combine(day, talk.announced_start, tzinfo=tz) if talk.announced_start else None
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
                sign_ins=[
                    (senders[hit.index], moments[hit.index], message_ids[hit.index])
                    for hit in talk.sign_ins
                    if senders[hit.index] is not None
                ],
            )
        )
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
        Membership.objects.bulk_create([Membership(group=group, member_id=m, joined_at=t) for m, t in new.items()])
        created = list(Membership.objects.filter(group=group, member_id__in=list(new)).values_list("id", "member_id"))
        periods = MembershipPeriod.objects.bulk_create(
            [MembershipPeriod(membership_id=pk, joined_at=new[m]) for pk, m in created])
        theirs = resolver.not_created(m for _pk, m in created)
        if theirs:
            journal.created(Membership, [pk for pk, m in created if m in theirs])
            ours = {pk for pk, m in created if m in theirs}
            journal.created(MembershipPeriod, [p.pk for p in periods if p.membership_id in ours])
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
                  user=None, group_name: str = "", run: ImportRun | None = None) -> ImportResult:
    """Import a member list: members (matched by WeChat id, then by name), their group
    nicknames and join dates; with ``mark_missing_left``, members absent from it have left.
    ``run``: a run queued by a web upload, recorded into instead of a new one. ``user``: who
    uploaded it: a WeChat id of a member out of that user's reach matches nobody (the row is
    matched by name, or gets a member of its own, and the two are kept as a suggestion);
    None on the command line (an operator)."""
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
        with transaction.atomic():
            Group.objects.select_for_update().filter(pk=group.pk).exists()
            summary = _roster_apply(group, rows, run.pk, mark_missing_left, user)
            if dry_run:
                transaction.set_rollback(True)
        report.update(status="imported", **summary)
        result.counts.members_created = summary["members_created"]
        result.counts.names_created = summary["names_created"]
    except (RosterError, OSError) as error:
        _fail(result, report, str(error))
    finally:
        _finish_run(run, result)
    return result


def _roster_apply(group: Group, rows: list[RosterRow], run_id: int, mark_missing_left: bool,
                  user=None) -> dict[str, int]:
    resolver = IdentityResolver(group_id=group.pk, import_run=run_id, user=user)
    resolver.refresh()
    now = timezone.now()
    by_wxid = dict(Member.objects.exclude(wechat_id="").values_list("wechat_id", "id"))
    present: set[int] = set()
    joined: dict[int, dt.datetime] = {}
    nicknames: dict[int, str] = {}
    for row in rows:
        moment = dt.datetime.combine(row.joined_on, dt.time(12), tzinfo=group.tz) if row.joined_on else now
        member_id = by_wxid.get(row.wechat_id) if row.wechat_id else None
        beyond = None
        if member_id is not None and resolver.out_of_reach(member_id):
            beyond, member_id = member_id, None  # a WeChat id is evidence like any other
        names = [n for n in (row.display_name, row.nickname) if n]
        if member_id is None:
            for name in names:
                member_id = resolver.resolve(name, NameSource.ROSTER, now, create=False)
                if member_id is not None:
                    break
        if member_id is None:
            member_id = resolver.resolve(names[0], NameSource.ROSTER, now)
        if beyond is not None and member_id != beyond:
            resolver.suggest_out_of_reach(member_id, beyond, {"rule": "the same WeChat id in a roster",
                                                              "name": names[0]})
        for name in names:
            resolver.see(member_id, name, normalize_name(name), NameSource.ROSTER, now)
        if row.wechat_id and row.wechat_id not in by_wxid:
            Member.objects.filter(pk=member_id, wechat_id="").update(wechat_id=row.wechat_id)
            by_wxid[row.wechat_id] = member_id
        present.add(member_id)
        joined[member_id] = moment
        if row.display_name:
            nicknames[member_id] = row.display_name
    resolver.flush()
    memberships = {m.member_id: m for m in Membership.objects.filter(group=group)}
    returning = 0
    for member_id in present:
        membership = memberships.get(member_id)
        if membership is None:
            membership = Membership.objects.create(group=group, member_id=member_id, joined_at=joined[member_id],
                                                   nickname=nicknames.get(member_id, ""))
            MembershipPeriod.objects.create(membership=membership, joined_at=joined[member_id])
            continue
        if membership.status != "active":
            returning += 1
            membership_join(membership=membership, joined_at=max(joined[member_id], membership.left_at or joined[member_id]))
        if member_id in nicknames and membership.nickname != nicknames[member_id]:
            membership.nickname = nicknames[member_id]
            membership.save(update_fields=["nickname"])
    left = 0
    if mark_missing_left:
        for member_id, membership in memberships.items():
            if member_id not in present and membership.status == "active" and membership.role == "member":
                membership_leave(membership=membership, left_at=now)
                left += 1
    return {
        "rows": len(rows),
        "members_created": resolver.stats.members_created,
        "names_created": resolver.stats.names_created,
        "returning": returning,
        "marked_left": left,
    }
