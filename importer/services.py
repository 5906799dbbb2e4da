"""Importing transcripts and rosters: the one path for the commands, the web upload and tasks.

Guarantees:
* a file is identified by its group and day; an unchanged file (same hash) is skipped;
* each file is one transaction: a file that fails leaves nothing behind and is reported
  as ``file:line: reason``, and the other files still import;
* a file dated before 2000-01-01 or after tomorrow in the group's time zone, or with a
  message outside that range, fails that way (``community.dates``); so does a roster row
  joined outside it;
* a changed file replaces that day's messages, talks and sign-ins (keys keep the
  messages that did not change, so admins' links to them survive);
* imports of one group are serialized by a lock on the group's row, so two imports at
  once never duplicate anything;
* ``dry_run`` runs exactly the same code and rolls everything back.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import logging
from collections.abc import Callable, Iterable
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
    Name,
    NameSource,
    RecordedDay,
)
from community.names import normalize_name, parse_nickname
from community.services import member_parts_update, membership_facts_refresh, membership_join, membership_leave
from shares.models import Origin, Share, ShareStatus, SignIn
from shares.services import TalkFound, membership_share_facts_refresh, talks_import_day
from shares.tasks import talk_index_refresh_enqueue

from . import sql
from .detection import DetectedTalk
from .identity import ME, IdentityResolver
from .models import ImportedFile, ImportKind, ImportRun, ImportStatus
from .pipeline import Prepared, prepared_files
from .transcript import Transcript, TranscriptError, message_moments

logger = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = {".markdown", ".md", ".txt"}


class _DryRunRollback(Exception):
    pass


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
    messages_removed: int = 0
    members_created: int = 0
    names_created: int = 0
    members_merged: int = 0
    shares_found: int = 0
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


def transcripts_import(
    *,
    group_slug: str,
    sources: Iterable[Source],
    group_name: str = "",
    me: str = "",
    dry_run: bool = False,
    strict: bool = False,
    user=None,
    progress: Callable[[int, str], None] | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Import daily transcripts into a group (created if missing). See the module docstring.
    ``run``: a run queued by a web upload, recorded into instead of a new one. ``user``: who
    uploaded the files, whose reach limits the identity evidence (``importer.identity``);
    None on the command line (an operator)."""
    group, _ = Group.objects.get_or_create(slug=group_slug, defaults={"name": group_name or group_slug})
    run = _run_open(
        run, group=group, kind=ImportKind.TRANSCRIPTS, dry_run=dry_run, started_by=user, started_by_name=_operator(user),
        options={"me": me, "strict": strict, "dry_run": dry_run},
    )
    result = ImportResult(run=run, counts=ImportCounts())
    resolver = IdentityResolver(group_id=group.pk, import_run=run.pk, me_name=me, user=user)
    try:
        if dry_run:
            try:
                with transaction.atomic():
                    _import_all(group, sources, resolver, result, strict, progress)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            _import_all(group, sources, resolver, result, strict, progress)
    finally:
        _finish_run(run, result)
    counts = result.counts
    if not dry_run and counts.files_read > counts.files_skipped + counts.files_failed:
        # The talk search index is built after the import has committed, by a worker: never
        # inside the import. A broker that is down costs one failed attempt; the shares stay
        # stale and the periodic refresh indexes them.
        transaction.on_commit(talk_index_refresh_enqueue)
    return result


def _import_all(group, sources, resolver, result, strict, progress) -> None:
    resolver.refresh()
    touched: set[int] = set()
    # Unchanged files are recognised by their hash alone, before any parsing.
    known = dict(ImportedFile.objects.filter(group=group).values_list("sha256", "message_count"))
    latest = latest_record_day(group.tz)
    for index, prepared in enumerate(prepared_files(sources, known, latest_day=latest), start=1):
        if progress:
            progress(index, prepared.label)
        ok = _import_one(group, prepared, resolver, result, touched, latest)
        if not ok and strict:
            break
    if touched or result.counts.files_read:
        with transaction.atomic():
            _refresh_group_facts(group, resolver, touched)


def _import_one(group: Group, prepared: Prepared, resolver: IdentityResolver, result: ImportResult,
                touched: set[int], latest: dt.date) -> bool:
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
            previous = sql.imported_hash(group.pk, transcript.day)
            if previous == digest:
                return _skip(result, report, len(transcript.messages))
            resolver.refresh()
            day_counts = _import_day(group, prepared, moments, resolver, result.run.pk, touched,
                                     fresh=previous is None)
    except (IntegrityError, DatabaseError, ValueError, OverflowError) as error:
        resolver.reload()
        resolver.stats.__dict__.update(before)
        logger.exception("import of %s failed", prepared.label)
        return _fail(result, report, f"{prepared.label}:0: could not be stored: {error}")
    for name, value in day_counts.items():
        setattr(counts, name, getattr(counts, name) + value)
    after = asdict(resolver.stats)
    counts.members_created += after["members_created"] - before["members_created"]
    counts.names_created += after["names_created"] - before["names_created"]
    counts.members_merged += after["members_merged"] - before["members_merged"]
    report.update(status="imported", messages=len(transcript.messages),
                  shares=day_counts["shares_found"], sign_ins=day_counts["sign_ins_found"])
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


def _import_day(group: Group, prepared: Prepared, moments: list[dt.datetime], resolver: IdentityResolver,
                run_id: int, touched: set[int], *, fresh: bool) -> dict[str, int]:
    """Store one day, its messages at ``moments`` (``message_moments``: checked). ``fresh``:
    the group has nothing imported for that day yet (fewer queries)."""
    transcript, label, digest = prepared.transcript, prepared.label, prepared.digest
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
    _memberships_ensure(group, first_seen, resolver)
    touched.update(s for s in senders if s is not None)

    keys = prepared.keys
    existing = {} if fresh else dict(Message.objects.filter(group=group, source_day=day).order_by().values_list("key", "id"))
    wanted = set(keys)
    stale = [pk for key, pk in existing.items() if key not in wanted]
    if stale:
        Message.objects.filter(pk__in=stale).delete()
    stored = sql.db_datetimes(day, transcript.messages, moments)
    rows = [
        (group.pk, sender_id, m.sender[:200], when, m.kind, m.text, m.url, day, label[-255:], m.line, key, run_id)
        for m, when, sender_id, key in zip(transcript.messages, stored, senders, keys, strict=True)
        if key not in existing
    ]
    sql.messages_insert(rows)

    sql.day_recorded(group.pk, day, len(keys))
    talks = _talks_found(transcript, prepared.talks, moments, senders, lambda: _message_ids(group, day, keys))
    shares_found, sign_ins_found = talks_import_day(group=group, day=day, talks=talks, import_run=run_id, fresh=fresh)
    sql.file_imported(group.pk, day, digest, label[-500:], run_id, len(keys), timezone.now())
    return {
        "messages_created": len(rows),
        "messages_unchanged": len(keys) - len(rows),
        "messages_removed": len(stale),
        "shares_found": shares_found,
        "sign_ins_found": sign_ins_found,
    }


def _message_ids(group: Group, day: dt.date, keys: list[str]) -> list[int]:
    ids = sql.message_ids(group.pk, day)
    return [ids[key] for key in keys]


def _talks_found(transcript: Transcript, talks: list[DetectedTalk], moments: list[dt.datetime],
                 senders: list[int | None], load_ids: Callable[[], list[int]]) -> list[TalkFound]:
    found = []
    message_ids = load_ids() if talks else []
    for talk in talks:
        speaker_id = senders[talk.start_index]
        if speaker_id is None:
            continue
        tz = moments[0].tzinfo if moments else None
        scheduled = (
            dt.datetime.combine(transcript.day, talk.announced_start, tzinfo=tz) if talk.announced_start else None
        )
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


def _memberships_ensure(group: Group, first_seen: dict[int, dt.datetime], resolver: IdentityResolver) -> None:
    """Every member seen in a group's record has a membership there, joined when first seen."""
    if resolver.joined is None:
        resolver.joined = dict(Membership.objects.filter(group=group).values_list("member_id", "joined_at"))
    have = resolver.joined
    new = {member_id: moment for member_id, moment in first_seen.items() if member_id not in have}
    if new:
        Membership.objects.bulk_create([Membership(group=group, member_id=m, joined_at=t) for m, t in new.items()])
        created = Membership.objects.filter(group=group, member_id__in=list(new)).values_list("id", "member_id")
        MembershipPeriod.objects.bulk_create([MembershipPeriod(membership_id=pk, joined_at=new[m]) for pk, m in created])
        have.update(new)
    if resolver.pending is None:
        resolver.pending = set(
            Membership.objects.filter(group=group, status=MembershipStatus.PENDING).values_list("member_id", flat=True)
        )
    # An accepted applicant seen in the record has joined the group: the membership becomes active.
    for member_id in resolver.pending & first_seen.keys():
        membership_join(membership=Membership.objects.get(group=group, member_id=member_id),
                        joined_at=first_seen[member_id])
        resolver.pending.discard(member_id)
        have[member_id] = min(filter(None, [have.get(member_id), first_seen[member_id]]))
    earlier = {m: t for m, t in first_seen.items() if m not in new and (have[m] is None or t < have[m])}
    for member_id, moment in earlier.items():
        Membership.objects.filter(group=group, member_id=member_id).update(joined_at=moment)
        have[member_id] = moment


def _refresh_group_facts(group: Group, resolver: IdentityResolver, touched: set[int]) -> None:
    """After a run: message facts of the members it touched, share facts, and group nicknames."""
    membership_facts_refresh(group_id=group.pk, member_ids=touched)
    membership_share_facts_refresh(group_id=group.pk)
    nicknames = resolver.group_nicknames()
    changed = []
    for membership in Membership.objects.filter(group=group, member_id__in=list(nicknames)).only("id", "member_id", "nickname"):
        nickname = nicknames[membership.member_id]
        if membership.nickname != nickname:
            membership.nickname = nickname
            changed.append(membership)
    rows_update(changed, ["nickname"])
    # A member out of the uploader's reach keeps the name they are known by on the site.
    _display_names_update({member_id: name for member_id, name in resolver.display_names().items()
                           if not resolver.out_of_reach(member_id)})


def _display_names_update(names: dict[int, str]) -> None:
    members = Member.objects.filter(pk__in=list(names)).only("id", "display_name", "name", "company", "position", "city")
    changed = []
    for member in members:
        nickname = names[member.pk]
        if parse_nickname(nickname) is None and member.display_name != nickname and member.display_name != ME:
            continue  # keep an earlier well-formed display name over a bare one
        if member_parts_update(member=member, nickname=nickname):
            changed.append(member)
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


@transaction.atomic
def import_run_undo(*, run_id: int, user=None) -> dict[str, int]:
    """Undo a run as a whole: what it created goes (messages, talks, sign-ins, names, the
    members left with nothing), the days it imported are forgotten, facts are recomputed."""
    run = ImportRun.objects.select_for_update().get(pk=run_id)
    if run.status == ImportStatus.UNDONE:
        raise ValueError(f"Import run {run_id} was already undone.")
    days = list(ImportedFile.objects.filter(run=run).values_list("day", flat=True))
    counts = {
        "sign_ins": SignIn.objects.filter(import_run=run.pk).delete()[0],
        "shares": Share.objects.filter(import_run=run.pk, origin=Origin.IMPORT).delete()[0],
        "messages": Message.objects.filter(import_run=run.pk).delete()[0],
        "names": Name.objects.filter(import_run=run.pk).delete()[0],
    }
    Share.objects.filter(group=run.group, day__in=days, origin=Origin.WEB, status=ShareStatus.DELIVERED).update(
        status=ShareStatus.SCHEDULED
    )
    orphans = Member.objects.filter(import_run=run.pk, messages__isnull=True, shares__isnull=True, names__isnull=True)
    counts["members"] = orphans.count()
    Membership.objects.filter(member__in=orphans).delete()
    orphans.delete()
    ImportedFile.objects.filter(run=run).delete()
    for day in days:
        remaining = Message.objects.filter(group=run.group, source_day=day).count()
        if remaining:
            RecordedDay.objects.filter(group=run.group, day=day).update(message_count=remaining)
        else:
            RecordedDay.objects.filter(group=run.group, day=day).delete()
    membership_facts_refresh(group_id=run.group_id)
    membership_share_facts_refresh(group_id=run.group_id)
    run.status = ImportStatus.UNDONE
    run.undone_at = timezone.now()
    run.save(update_fields=["status", "undone_at"])
    return counts


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
