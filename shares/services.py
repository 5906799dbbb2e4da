"""Writes of shares, talks and sign-ins."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from community.access import access_for
from community.bulk import rows_update
from community.dates import EARLIEST_DAY, LATEST_QUERY_DAY, is_query_day
from community.errors import Conflict
from community.lengths import clip
from community.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Group,
    Member,
    Membership,
    MembershipStatus,
    Message,
    Name,
    NameSource,
    Visibility,
)
from community.names import normalize_name
from community.selectors import seats_of_group
from community.services import register_member_mover

from .archive import DELETED, local_day_bounds, talk_day
from .models import (
    Origin,
    Share,
    SharePreferredDate,
    ShareRevision,
    ShareStatus,
    SignIn,
    TalkMessage,
    TalkPart,
    TopicSource,
)

# Fields an admin may correct on an imported share; once edited, re-import keeps them.
# Fields edited by hand (``Share.edited_fields``): re-import never overwrites them, and never
# deletes a share that has any (an abstract or visibility chosen by hand included).
# "boundaries": the talk's messages were chosen by hand (re-import keeps its talk rows);
# "deleted": an admin deleted the talk as false (re-import does not bring it back).
IMPORT_FIELDS = (
    "topic", "abstract", "visibility", "speaker", "scheduled_for", "started_at", "ended_at", "boundaries", DELETED,
)


@dataclass
class TalkFound:
    """A talk found in one day of the record, in terms of the database's rows; or, with
    ``delivered`` False, a talk announced there and not given (no start, end or talk rows:
    its speaker is the member bearing the announced name, its sign-ins those after the
    announcement)."""

    speaker_id: int
    topic: str
    scheduled_for: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    talk_ids: list[int] = field(default_factory=list)
    interruption_ids: list[int] = field(default_factory=list)
    qa_ids: list[int] = field(default_factory=list)
    sign_ins: list[tuple[int, dt.datetime, int]] = field(default_factory=list)  # member, when, message
    topic_source: str = TopicSource.NONE  # announcement, opening, host or none
    host_id: int | None = None  # who announced it, called the sign-ins or invited the speaker
    delivered: bool = True


def _instant(moment: dt.datetime | None) -> str | None:
    """A moment in UTC, ISO 8601: the same instant reads the same whatever zone it came in
    (the importer's moments are in the group's zone, the database's in UTC)."""
    return moment.astimezone(dt.UTC).isoformat() if moment else None


def share_snapshot(share: Share) -> dict:
    return {
        "topic": share.topic,
        "abstract": share.abstract,
        "status": share.status,
        "speaker": share.speaker_id,
        "day": share.day.isoformat() if share.day else None,
        "scheduled_for": _instant(share.scheduled_for),
        "started_at": _instant(share.started_at),
        "ended_at": _instant(share.ended_at),
        "visibility": share.visibility,
    }


def share_revision_record(*, share: Share, action: str, author=None, note: str = "",
                          extra: dict | None = None) -> ShareRevision:
    """Keep a full snapshot of the share as it is now (version = share.version), with
    ``extra`` keys beside the share's fields (what a deletion removed, to undo it)."""
    return ShareRevision.objects.create(
        share=share, version=share.version, author=author, action=action, note=clip(note, ShareRevision, "note"),
        snapshot={**share_snapshot(share), **(extra or {})},
    )


class ImportJournal(Protocol):
    """What ``talks_import_day`` tells the import run's journal (``importer.journal.RunJournal``)
    before it changes rows, so that undoing the run puts them back: shares cannot import it."""

    def before(self, rows) -> int: ...

    def delete(self, rows) -> dict[str, int]: ...

    def created(self, model, ids) -> int: ...


@dataclass
class DayTalks:
    """What ``talks_import_day`` did: talks found (shares kept or made), sign-ins recorded, and
    per talk ``{"share", "speaker", "speaker_name", "topic", "status"}`` (status: new, changed, unchanged,
    removed — an imported share no talk was found for, in a day replaced — or deleted: found
    again, but an admin deleted it)."""

    shares_found: int = 0
    sign_ins_found: int = 0
    talks: list[dict] = field(default_factory=list)


def talks_import_day(*, group: Group, day: dt.date, talks: list[TalkFound], import_run: int | None,
                     fresh: bool = False, keep_missing: bool = False, journal: ImportJournal | None = None) -> DayTalks:
    """Make the day's shares match the talks found in its record.

    A talk attaches to the share the web schedule already has for that group, day and
    speaker, or to the share an earlier import made (an announced share of the same announced
    start too: the talk announced is given after all, maybe under another name); otherwise a
    share with origin ``import`` is created: delivered, or ``announced`` for a talk announced
    and not given (``TalkFound.delivered`` False). A talk announced and not given never turns a
    delivered share back into an announced one, except in a day replaced (the record says it
    was not given) for an imported share whose talk rows no admin chose. Fields an admin edited by hand are kept, and so are talk
    rows an admin chose ("boundaries"). A share's talk rows become the talk found (only the
    rows that differ are written); its sign-ins found are added to those it has.
    ``fresh``: nothing of that day was imported before (no old rows to compare with).
    ``keep_missing`` (an import that adds to a day): imported shares no talk was found for,
    and imported sign-ins not found again, stay. Otherwise (a day replaced) they are deleted,
    unless an admin edited the share.
    A talk an admin deleted (a cancelled share of that day marked "deleted", see
    ``talk_delete``) stays deleted: the talk found again is skipped, not recreated.
    ``journal``: told of every row changed or deleted before it is, and of rows created
    without an ``import_run`` column, except the rows of shares this run created."""
    if not talks and keep_missing:
        return DayTalks()  # nothing found, nothing to remove: the usual quiet day costs no query
    day_shares = list(Share.objects.filter(group=group, day=day).order_by("id"))
    existing = [share for share in day_shares if share.status != ShareStatus.CANCELLED]
    tombstones = [share for share in day_shares if share.status == ShareStatus.CANCELLED and DELETED in share.edited_fields]
    matched: set[int] = set()
    buried: set[int] = set()
    result = DayTalks()
    for talk in talks:
        share = _matching_share(existing, matched, talk)
        tombstone = _matching_tombstone(tombstones, buried, talk, has_share=share is not None)
        if tombstone is not None:
            buried.add(tombstone.pk)
            result.talks.append(_talk_outcome(tombstone, "deleted"))
            continue
        result.shares_found += 1
        new = share is None
        if new:
            share = Share.objects.create(
                group=group, speaker_id=talk.speaker_id, topic=clip(talk.topic, Share, "topic"), topic_source=talk.topic_source,
                status=ShareStatus.DELIVERED if talk.delivered else ShareStatus.ANNOUNCED, host_id=talk.host_id,
                day=day, scheduled_for=talk.scheduled_for, started_at=talk.started_at, ended_at=talk.ended_at,
                visibility=group.imported_share_visibility, origin=Origin.IMPORT, import_run=import_run,
                sign_in_count=len({member_id for member_id, _at, _message in talk.sign_ins}),
            )
            share_revision_record(share=share, action="imported" if talk.delivered else "announced (import)")
            changed = True
        else:
            mine = import_run is not None and share.import_run == import_run
            changed = _update_from_talk(share, talk, journal if journal is not None and not mine else None,
                                        replacing=not keep_missing)
        matched.add(share.pk)
        mine = import_run is not None and share.import_run == import_run
        watch = journal if journal is not None and not mine else None
        if "boundaries" not in share.edited_fields and (talk.delivered or share.status == ShareStatus.ANNOUNCED):
            changed |= _talk_rows_set(share, talk, new=new, journal=watch)
        added = _sign_ins_import(share, talk, import_run, new=new, prune=not keep_missing, journal=watch)
        result.sign_ins_found += added
        changed |= added > 0
        result.talks.append(_talk_outcome(share, "new" if new else "changed" if changed else "unchanged"))
    if not keep_missing:
        for share in existing:
            if share.pk not in matched and share.origin == Origin.IMPORT and not share.edited_fields:
                result.talks.append(_talk_outcome(share, "removed"))
                if journal is not None and not (import_run is not None and share.import_run == import_run):
                    journal.delete([share])
                else:
                    share.delete()
    if result.talks:
        names = dict(Member.objects.filter(pk__in={t["speaker"] for t in result.talks}).values_list("pk", "display_name"))
        for outcome in result.talks:
            outcome["speaker_name"] = names.get(outcome["speaker"], "")
    return result


def _talk_outcome(share: Share, status: str) -> dict:
    return {"share": share.pk, "speaker": share.speaker_id, "topic": share.topic, "status": status}


def _talk_messages_insert(rows: list[tuple[int, int, str]]) -> None:
    """One prepared statement for a talk's hundreds of rows (on the import's hot path)."""
    if not rows:
        return
    table = connection.ops.quote_name(TalkMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (share_id, message_id, part) VALUES (%s, %s, %s)", rows)


def _sign_ins_insert(rows: list[tuple[int, int, dt.datetime, str, int | None, int | None]]) -> None:
    """Imported sign-ins (share, member, signed at, origin, message, run) with one prepared statement:
    ``bulk_create`` costs more per row than the insert (the import's hot path, as ``_talk_messages_insert``)."""
    if not rows:
        return
    table = connection.ops.quote_name(SignIn._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (share_id, member_id, signed_at, origin, message_id, import_run) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(share, member, adapt(at), origin, message, run) for share, member, at, origin, message, run in rows])


def _talk_rows_set(share: Share, talk: TalkFound, *, new: bool, journal: ImportJournal | None) -> bool:
    """The share's talk rows become the talk found: only rows that differ are deleted or added.
    Returns whether any did."""
    wanted: dict[int, str] = {}
    for ids, part in ((talk.talk_ids, TalkPart.TALK), (talk.interruption_ids, TalkPart.INTERRUPTION),
                      (talk.qa_ids, TalkPart.QA)):
        for message_id in ids:
            wanted.setdefault(message_id, part)
    if new:
        _talk_messages_insert([(share.pk, message_id, part) for message_id, part in wanted.items()])
        return bool(wanted)
    current = {message_id: (pk, part) for pk, message_id, part in
               TalkMessage.objects.filter(share=share).values_list("id", "message_id", "part")}
    stale = [pk for message_id, (pk, part) in current.items() if wanted.get(message_id) != part]
    fresh = [(message_id, part) for message_id, part in wanted.items() if current.get(message_id, (0, ""))[1] != part]
    if stale:
        rows = TalkMessage.objects.filter(pk__in=stale)
        if journal is not None:
            journal.delete(rows)
        else:
            rows.delete()
    if fresh:
        if journal is not None:
            created = TalkMessage.objects.bulk_create(
                [TalkMessage(share=share, message_id=message_id, part=part) for message_id, part in fresh])
            journal.created(TalkMessage, [row.pk for row in created])
        else:
            _talk_messages_insert([(share.pk, message_id, part) for message_id, part in fresh])
    return bool(stale or fresh)


def _matching_share(existing: list[Share], matched: set[int], talk: TalkFound) -> Share | None:
    for share in existing:
        if share.pk not in matched and share.speaker_id == talk.speaker_id:
            return share
    # The same announcement (its start) found again, given now or no longer given: the speaker of
    # a talk not given is the member bearing the announced name, of a talk given the member who
    # gave it, and they may differ.
    if talk.scheduled_for is not None:
        for share in existing:
            if (share.pk not in matched and share.origin == Origin.IMPORT and share.scheduled_for == talk.scheduled_for
                    and (share.status == ShareStatus.ANNOUNCED or not talk.delivered)):
                return share
    # An admin reassigned the speaker by hand: the imported (or delivered) share of that day is
    # still this talk.
    for share in existing:
        if (share.pk not in matched and "speaker" in share.edited_fields
                and (share.origin == Origin.IMPORT or share.status == ShareStatus.DELIVERED)):
            return share
    return None


def _overlaps(share: Share, talk: TalkFound) -> bool:
    if share.started_at is None or talk.started_at is None or talk.ended_at is None:
        return False
    return share.started_at <= talk.ended_at and talk.started_at <= (share.ended_at or share.started_at)


def _same_announcement(share: Share, talk: TalkFound) -> bool:
    """A deleted announced share (imported, never given: no start of its own) and the talk found
    again of the same announced start: the same announcement, whoever the importer now names."""
    return (share.origin == Origin.IMPORT and share.started_at is None and share.scheduled_for is not None
            and share.scheduled_for == talk.scheduled_for)


def _matching_tombstone(tombstones: list[Share], buried: set[int], talk: TalkFound, *, has_share: bool) -> Share | None:
    """The deleted talk that ``talk`` is found again as: one of the same speaker (or whose
    speaker an admin changed) over the same time, or of the same announced start for a deleted
    announced share (it has no time of its own); else, when no live share takes the talk, one
    of the same speaker whatever its time (the record may have moved)."""
    candidates = [
        share for share in tombstones
        if share.pk not in buried and (share.speaker_id == talk.speaker_id or "speaker" in share.edited_fields)
    ]
    for share in candidates:
        if _overlaps(share, talk) or _same_announcement(share, talk):
            return share
    if not has_share:
        for share in candidates:
            if share.speaker_id == talk.speaker_id:
                return share
    return None


def _update_from_talk(share: Share, talk: TalkFound, journal: ImportJournal | None, *, replacing: bool) -> bool:
    """Bring the share's fields not edited by hand to the talk found; the journal keeps the
    share as it was, when (and only when) it changes. Returns whether it did.

    A talk not given (``talk.delivered`` False) makes an open or announced share ``announced``;
    a delivered share stays delivered with its times, unless ``replacing`` (a day replaced by
    its file) an imported share whose talk rows no admin chose."""
    original = copy.copy(share)
    before = (share_snapshot(share), share.topic_source, share.host_id)
    edited = set(share.edited_fields)
    if share.origin == Origin.IMPORT and "topic" not in edited:
        share.topic = clip(talk.topic, Share, "topic")
        share.topic_source = talk.topic_source
    if "speaker" not in edited:
        share.speaker_id = talk.speaker_id
    if "scheduled_for" not in edited and share.scheduled_for is None:
        share.scheduled_for = talk.scheduled_for
    share.host_id = talk.host_id
    given = talk.delivered or (
        share.status == ShareStatus.DELIVERED
        and not (replacing and share.origin == Origin.IMPORT and "boundaries" not in edited))
    if talk.delivered or not given:
        if "started_at" not in edited:
            share.started_at = talk.started_at
        if "ended_at" not in edited:
            share.ended_at = talk.ended_at
    share.status = ShareStatus.DELIVERED if given else ShareStatus.ANNOUNCED
    if (share_snapshot(share), share.topic_source, share.host_id) == before:
        return False
    if journal is not None:
        journal.before([original])
    share.version += 1
    share.updated_at = timezone.now()
    share.save()
    revision = share_revision_record(share=share, action="delivered (import)" if given else "announced (import)")
    if journal is not None:
        journal.created(ShareRevision, [revision.pk])
    return True


def _sign_ins_import(share: Share, talk: TalkFound, import_run: int | None, *, new: bool, prune: bool,
                     journal: ImportJournal | None) -> int:
    """Record the talk's sign-ins found (first one per member) that the share lacks; with
    ``prune``, imported sign-ins not found again go. Returns the sign-ins added."""
    have: dict[int, tuple[int, str]] = {}
    if not new:  # a share just created has no sign-in yet
        have = {member_id: (pk, origin) for pk, member_id, origin in
                SignIn.objects.filter(share=share).values_list("id", "member_id", "origin")}
    found: dict[int, tuple[dt.datetime, int]] = {}
    for member_id, signed_at, message_id in talk.sign_ins:
        found.setdefault(member_id, (signed_at, message_id))
    stale = [pk for member_id, (pk, origin) in have.items() if prune and origin == Origin.IMPORT and member_id not in found]
    if stale:
        rows = SignIn.objects.filter(pk__in=stale)
        if journal is not None:
            journal.delete(rows)
        else:
            rows.delete()
    rows = [(share.pk, member_id, signed_at, Origin.IMPORT.value, message_id, import_run)
            for member_id, (signed_at, message_id) in found.items() if member_id not in have]
    _sign_ins_insert(rows)
    count = len(have) - len(stale) + len(rows)
    if share.sign_in_count != count:
        if journal is not None:
            journal.before([share])  # kept already if the talk changed it: the first image stays
        Share.objects.filter(pk=share.pk).update(sign_in_count=count)
        share.sign_in_count = count
    return len(rows)


# A talk given in another group counts as the announced share's talk when it started this close
# to the announced start (either side); the closest wins.
GIVEN_ELSEWHERE_WINDOW = dt.timedelta(hours=6)


def announced_shares_link(*, day: dt.date, journal: ImportJournal | None = None,
                          import_run: int | None = None) -> set[int]:
    """Link each announced share of ``day`` (any group) to the talk its speaker gave in another
    group that day (``given_in``: the delivered share that started closest to the announced
    start, within ``GIVEN_ELSEWHERE_WINDOW``; any that day when there was no start), and unlink
    those whose talk is no longer there. Set-based: one plain statement when the day has no announced
    share, three or four otherwise, whatever the order the groups' days were imported in.
    ``journal`` keeps the shares an earlier run made before their link changes. Returns the
    groups that announced shares that day (their share facts are to be refreshed)."""
    with connection.cursor() as cursor:  # the usual day has none: one cheap statement, not an ORM query
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(Share._meta.db_table)} WHERE day = %s AND status = %s "
                       "LIMIT 1", [day, ShareStatus.ANNOUNCED])
        if cursor.fetchone() is None:
            return set()
    announced = list(Share.objects.filter(day=day, status=ShareStatus.ANNOUNCED)
                     .only("id", "group_id", "speaker_id", "scheduled_for", "given_in_id", "import_run"))
    if not announced:
        return set()
    talks = list(Share.objects.filter(day=day, status=ShareStatus.DELIVERED,
                                      speaker_id__in={share.speaker_id for share in announced})
                 .only("id", "group_id", "speaker_id", "started_at").order_by("id"))
    def distance(share: Share, talk: Share) -> dt.timedelta:
        if share.scheduled_for is None or talk.started_at is None:
            return dt.timedelta(0)
        return abs(talk.started_at - share.scheduled_for)

    changed = []
    for share in announced:
        candidates = [(distance(share, talk), talk.pk) for talk in talks
                      if talk.speaker_id == share.speaker_id and talk.group_id != share.group_id]
        best = min((c for c in candidates if c[0] <= GIVEN_ELSEWHERE_WINDOW), default=None)
        wanted = best[1] if best is not None else None
        if share.given_in_id != wanted:
            share.given_in_id = wanted
            changed.append(share)
    # Facts to refresh: every announcing group of that day (a talk deleted or removed took its link
    # along already, by ``on_delete``).
    groups = {share.group_id for share in announced}
    if not changed:
        return groups
    if journal is not None:
        theirs = [share.pk for share in changed if import_run is None or share.import_run != import_run]
        if theirs:
            journal.before(Share.objects.filter(pk__in=theirs))
    rows_update(changed, ["given_in"])
    return groups


def membership_share_facts_refresh(*, group_id: int) -> None:
    """Recompute, for every membership of the group, the share facts the rules read:
    shares given (delivered, or announced here and given in another group: ``given_in``),
    next scheduled share, sign-ins, and talks hosted (delivered or announced shares whose
    ``host`` the member is) with the last day hosted. Four aggregate queries and one bulk update."""
    given = dict(
        Share.objects.filter(Q(status=ShareStatus.DELIVERED) | Q(status=ShareStatus.ANNOUNCED, given_in__isnull=False),
                             group_id=group_id)
        .values_list("speaker_id").annotate(n=Count("id")).values_list("speaker_id", "n")
    )
    hosted = {
        host_id: (n, last) for host_id, n, last in
        Share.objects.filter(group_id=group_id, host_id__isnull=False,
                             status__in=[ShareStatus.DELIVERED, ShareStatus.ANNOUNCED])
        .values_list("host_id").annotate(n=Count("id"), last=Max("day")).values_list("host_id", "n", "last")
    }
    upcoming = dict(
        Share.objects.filter(group_id=group_id, status=ShareStatus.SCHEDULED, scheduled_for__gte=timezone.now())
        .values_list("speaker_id").annotate(first=Min("scheduled_for")).values_list("speaker_id", "first")
    )
    signed = dict(
        SignIn.objects.filter(share__group_id=group_id)
        .values_list("member_id").annotate(n=Count("id")).values_list("member_id", "n")
    )
    changed = []
    fields = ["shares_given", "next_share_at", "sign_in_count", "talks_hosted", "last_hosted_on"]
    for membership in Membership.objects.filter(group_id=group_id).only("id", "member_id", *fields):
        member_id = membership.member_id
        facts = (given.get(member_id, 0), upcoming.get(member_id), signed.get(member_id, 0),
                 *hosted.get(member_id, (0, None)))
        if tuple(getattr(membership, name) for name in fields) != facts:
            for name, value in zip(fields, facts, strict=True):
                setattr(membership, name, value)
            changed.append(membership)
    rows_update(changed, fields)


def _move_member_rows(into: Member, other: Member) -> None:
    """On a member merge: shares and sign-ins move too (a sign-in both had for a share counts once)."""
    both = list(
        SignIn.objects.filter(member=other, share__sign_ins__member=into).values_list("share_id", flat=True)
    )
    SignIn.objects.filter(member=other, share_id__in=both).delete()
    Share.objects.filter(pk__in=both).update(sign_in_count=F("sign_in_count") - 1)
    SignIn.objects.filter(member=other).update(member=into)
    Share.objects.filter(speaker=other).update(speaker=into)
    Share.objects.filter(host=other).update(host=into)


register_member_mover(_move_member_rows)



# --- The schedule: registering, scheduling, cancelling, reassigning and editing shares ---

MAX_PREFERRED_DAYS = 3
OPEN_STATUSES = (ShareStatus.PROPOSED, ShareStatus.SCHEDULED)


class ShareConflict(Conflict):
    """The share changed since the caller read it (its version moved on): nothing was written."""


def _is_own(user, member: Member) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and member.user_id is not None and member.user_id == user.pk


def _speaks_for(user, share: Share) -> bool:
    """The user is the share's speaker and an active member of its group: a member whose
    membership is not active (removed, left, pending) edits nothing of the group."""
    return _is_own(user, share.speaker) and access_for(user, share.group).has_membership


# From the most private to the most public.
VISIBILITY_ORDER = (Visibility.HIDDEN, Visibility.MEMBERS, Visibility.PUBLIC)


def visibilities_for_speaker(share: Share) -> list[str]:
    """The visibilities the share's speaker may choose: the one a group admin last chose
    (``admin_visibility``) and the more private ones; any when no admin has chosen."""
    if not share.admin_visibility:
        return list(VISIBILITY_ORDER)
    return list(VISIBILITY_ORDER[:VISIBILITY_ORDER.index(share.admin_visibility) + 1])


def _lock(share: Share) -> None:
    """Reload the share under a row lock, so that the checks below see what the write will change."""
    share.refresh_from_db(from_queryset=Share.objects.select_for_update())


def _has_membership(group: Group, member: Member, *, active: bool) -> bool:
    memberships = Membership.objects.filter(group=group, member=member)
    if active:
        memberships = memberships.filter(status=MembershipStatus.ACTIVE)
    return memberships.exists()


def _changed(share: Share, *, action: str, by, note: str = "", edited: set[str] = frozenset(),
             extra: dict | None = None) -> ShareRevision:
    """Save a change: bump the version, remember the fields an import must keep, record the revision."""
    share.version += 1
    share.updated_at = timezone.now()
    share.edited_fields = sorted(set(share.edited_fields) | (set(edited) & set(IMPORT_FIELDS)))
    share.full_clean(validate_constraints=False)
    share.save()
    return share_revision_record(share=share, action=action, author=by, note=note, extra=extra)


@transaction.atomic
def share_register(*, group: Group, speaker: Member, topic: str, abstract: str = "",
                   preferred_days: list[dt.date] | tuple[dt.date, ...] = (), by, pending_ok: bool = False) -> Share:
    """Register a proposed share (origin web, members only) with up to three preferred days.

    Allowed for the speaker's own login while an active member of the group, or for a group
    admin registering on someone's behalf; the speaker must be an active member of the group
    (or, with ``pending_ok``, an accepted applicant whose membership is pending). A preferred
    day before 2000 or after 2100 is a ``ValidationError`` (code ``preferred_days_out_of_range``).
    Records revision 1, "registered"."""
    access = access_for(by, group)
    if not access.is_admin and not (_is_own(by, speaker) and access.has_membership):
        raise PermissionDenied(_("Only the speaker or a group admin may register this share."))
    if not _has_membership(group, speaker, active=True) and not (
        pending_ok and Membership.objects.filter(group=group, member=speaker, status=MembershipStatus.PENDING).exists()
    ):
        raise ValidationError(_("The speaker is not an active member of this group."), code="not_member")
    days = sorted(set(preferred_days))
    if len(days) > MAX_PREFERRED_DAYS:
        raise ValidationError(
            _("Give at most %(limit)d preferred days."), code="too_many_days", params={"limit": MAX_PREFERRED_DAYS}
        )
    if not all(is_query_day(day) for day in days):
        raise _day_out_of_range("preferred_days_out_of_range")
    share = Share(
        group=group, speaker=speaker, topic=topic.strip(), abstract=abstract, status=ShareStatus.PROPOSED,
        origin=Origin.WEB, visibility=Visibility.MEMBERS, created_by=by,
    )
    share.full_clean(validate_constraints=False)
    share.save()
    SharePreferredDate.objects.bulk_create([SharePreferredDate(share=share, day=day) for day in days])
    share_revision_record(share=share, action="registered", author=by)
    return share


def _day_out_of_range(code: str) -> ValidationError:
    """A day a share cannot have (before 2000, after 2100: far ones overflow its datetimes)."""
    return ValidationError(_("Pick a day between %(earliest)s and %(latest)s."), code=code,
                           params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_QUERY_DAY.isoformat()})


def _same_evening(share: Share, day: dt.date):
    return (
        Share.objects.filter(group_id=share.group_id, day=day, origin=Origin.WEB,
                             status__in=[ShareStatus.SCHEDULED, ShareStatus.DELIVERED])
        .exclude(pk=share.pk).select_related("speaker").order_by("scheduled_for", "id")
    )


def _evening_taken(other: Share) -> ValidationError:
    return ValidationError(
        _("%(day)s already has a share: “%(topic)s” by %(speaker)s (#%(id)s). Give a reason to schedule a second one."),
        code="evening_taken",
        params={"day": other.day.isoformat(), "topic": other.topic, "speaker": other.speaker.display_name, "id": other.pk},
    )


@transaction.atomic
def share_schedule(*, share: Share, day: dt.date, time: dt.time | None = None, by, overlap_reason: str = "") -> Share:
    """Schedule (or reschedule) a proposed or scheduled share on ``day`` at ``time`` in the
    group's time zone (default: the group's usual share time). Group admins only.

    One share per group per evening: when another scheduled or delivered web share has that
    evening, ``overlap_reason`` is required (and kept on the share); otherwise it is cleared.
    A day before 2000 or after 2100 is a ``ValidationError`` (code ``day_out_of_range``).
    Records "scheduled" or "rescheduled"; nothing is recorded when nothing changes. The
    members' share facts (next share) are refreshed."""
    group = share.group
    if not access_for(by, group).is_admin:
        raise PermissionDenied(_("Only a group admin may schedule shares."))
    if not is_query_day(day):
        raise _day_out_of_range("day_out_of_range")
    _lock(share)
    if share.status not in OPEN_STATUSES:
        raise ValidationError(_("Only a proposed or scheduled share can be scheduled."), code="closed")
    start = dt.datetime.combine(day, time or group.share_time, tzinfo=group.tz)
    other = _same_evening(share, day).first()
    overlap_reason = overlap_reason.strip()
    if other is not None and not overlap_reason:
        raise _evening_taken(other)
    reason = overlap_reason if other is not None else ""
    if (share.status, share.day, share.scheduled_for, share.overlap_reason) == (ShareStatus.SCHEDULED, day, start, reason):
        return share
    action = "rescheduled" if share.status == ShareStatus.SCHEDULED else "scheduled"
    share.status, share.day, share.scheduled_for, share.overlap_reason = ShareStatus.SCHEDULED, day, start, reason
    try:
        with transaction.atomic():
            _changed(share, action=action, by=by, note=reason, edited={"scheduled_for"})
    except IntegrityError:
        # Another admin filled the evening between our check and our write.
        other = _same_evening(share, day).first()
        if other is None:
            raise
        raise _evening_taken(other) from None
    membership_share_facts_refresh(group_id=group.pk)
    return share


@transaction.atomic
def share_cancel(*, share: Share, by, reason: str = "") -> Share:
    """Cancel a proposed or scheduled share: a group admin, or the speaker for their own share.
    The day stays on the row for the record. Records "cancelled" with the reason; refreshes
    the members' share facts."""
    if not access_for(by, share.group).is_admin and not _speaks_for(by, share):
        raise PermissionDenied(_("Only the speaker or a group admin may cancel this share."))
    _lock(share)
    if share.status not in OPEN_STATUSES:
        raise ValidationError(_("Only a proposed or scheduled share can be cancelled."), code="closed")
    share.status = ShareStatus.CANCELLED
    _changed(share, action="cancelled", by=by, note=reason.strip())
    membership_share_facts_refresh(group_id=share.group_id)
    return share


@transaction.atomic
def share_reassign(*, share: Share, speaker: Member, by) -> Share:
    """Give the share to another speaker who is (or was) a member of the group. Group admins
    only. Records "reassigned"; an import keeps the new speaker; refreshes the share facts."""
    if not access_for(by, share.group).is_admin:
        raise PermissionDenied(_("Only a group admin may reassign shares."))
    _lock(share)
    if share.status == ShareStatus.CANCELLED:
        raise ValidationError(_("A cancelled share cannot be reassigned."), code="closed")
    if not _has_membership(share.group, speaker, active=share.status in OPEN_STATUSES):
        raise ValidationError(_("The speaker is not an active member of this group."), code="not_member")
    if share.speaker_id == speaker.pk:
        return share
    share.speaker = speaker
    _changed(share, action="reassigned", by=by, edited={"speaker"})
    membership_share_facts_refresh(group_id=share.group_id)
    return share


@transaction.atomic
def share_edit(*, share: Share, topic: str, abstract: str, visibility: str | None = None,
               expected_version: int, by) -> Share:
    """Change a share's topic, abstract and (speaker or admin only) visibility.

    ``expected_version`` is the version the editor saw: when the share has moved on since,
    ``ShareConflict`` is raised and nothing is written. Allowed for group admins and for the
    speaker while an active member of the group (``PermissionDenied`` otherwise). An admin
    may choose any visibility, and a change of it by an admin is kept as ``admin_visibility``;
    the speaker may choose that one or a more private one (``visibilities_for_speaker``), a
    more public one is a ``ValidationError`` (code ``visibility_above_admin``) and nothing is
    written. Records "edited"; nothing is recorded when nothing changes."""
    # Visibility is the speaker's call (or an admin's): the same people who may edit at all.
    is_admin = access_for(by, share.group).is_admin
    if not (is_admin or _speaks_for(by, share)):
        raise PermissionDenied(_("Only the speaker or a group admin may edit this share."))
    _lock(share)
    if share.version != expected_version:
        raise ShareConflict(
            _("Someone changed this share while you were editing it (it is now version %(version)d). "
              "Nothing was saved: check the current text, then save again."),
            code="conflict", params={"version": share.version},
        )
    if share.status == ShareStatus.CANCELLED:
        raise ValidationError(_("A cancelled share cannot be edited."), code="closed")
    if (visibility is not None and not is_admin and visibility in VISIBILITY_ORDER
            and visibility not in visibilities_for_speaker(share)):
        raise ValidationError({"visibility": ValidationError(
            _("An admin chose “%(visibility)s” for this share: choose it or a more private one."),
            code="visibility_above_admin", params={"visibility": Visibility(share.admin_visibility).label},
        )})
    before = {"topic": share.topic, "abstract": share.abstract, "visibility": share.visibility}
    share.topic, share.abstract = topic.strip(), abstract
    if visibility is not None:
        if is_admin and visibility != share.visibility:
            share.admin_visibility = visibility
        share.visibility = visibility
    edited = {name for name, value in before.items() if getattr(share, name) != value}
    if not edited:
        return share
    if "topic" in edited:
        # The topic is now the words of whoever wrote it: no longer the importer's guess.
        share.topic_source = TopicSource.ADMIN if is_admin else TopicSource.SPEAKER
    _changed(share, action="edited", by=by, edited=edited)
    return share


@transaction.atomic
def share_start_correct(*, share: Share, time: dt.time | None, by) -> Share:
    """Correct the start of an announced share: ``time`` on its day (the day it was announced
    for, which stays) in the group's time zone, or None when the announcement gave no time.

    Group admins only (``PermissionDenied``). Only announced shares (``ValidationError``, code
    ``not_announced``): an open share is scheduled (``share_schedule``), a delivered talk's
    times come from its messages. "scheduled_for" joins ``edited_fields`` (re-import keeps
    the admin's start); records "start corrected"; nothing is recorded when nothing changes."""
    if not access_for(by, share.group).is_admin:
        raise PermissionDenied(_("Only a group admin may correct the start of a share."))
    _lock(share)
    if share.status != ShareStatus.ANNOUNCED or share.day is None:
        raise ValidationError(_("Only the start of an announced share can be corrected here."), code="not_announced")
    start = dt.datetime.combine(share.day, time, tzinfo=share.group.tz) if time is not None else None
    if start == share.scheduled_for:
        return share
    share.scheduled_for = start
    _changed(share, action="start corrected", by=by, edited={"scheduled_for"})
    return share


# --- Sign-ins (签到) on the web ---

SIGN_IN_AFTER_START = dt.timedelta(hours=2)
SIGN_IN_STATUSES = (ShareStatus.SCHEDULED, ShareStatus.DELIVERED)


def sign_in_window(*, share: Share) -> tuple[dt.datetime, dt.datetime] | None:
    """When members may sign in to the share: from the group's sign-in lead time before its
    start to two hours after it, or to the moment an admin closed sign-in if that is earlier.
    Both ends are included (a sign-in exactly two hours after the start still counts).
    None when the share has no start or is proposed or cancelled."""
    if share.scheduled_for is None or share.status not in SIGN_IN_STATUSES:
        return None
    start = share.scheduled_for - dt.timedelta(minutes=share.group.sign_in_lead_minutes)
    end = share.scheduled_for + SIGN_IN_AFTER_START
    if share.sign_in_closed_at is not None:
        end = min(end, share.sign_in_closed_at)
    return start, end


def _sign_in_is_open(share: Share, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The share's window when ``now`` is inside it; a ValidationError that says why not otherwise."""
    window = sign_in_window(share=share)
    if window is None:
        raise ValidationError(_("This share has no sign-in."), code="no_sign_in")
    start, end = window
    if now < start:
        raise ValidationError(
            _("Sign-in opens at %(start)s (%(time_zone)s)."), code="too_early",
            params={"start": start.astimezone(share.group.tz).strftime("%Y-%m-%d %H:%M"),
                    "time_zone": share.group.time_zone},
        )
    if now > end:
        raise ValidationError(_("Sign-in for this share is closed."), code="closed")
    return window


def _sign_in_counts_refresh(share: Share, member_id: int) -> None:
    """Recount, from the sign-in rows themselves (web and imported alike), the share's
    sign-ins and the member's sign-ins in the group: one UPDATE each."""
    per_share = (
        SignIn.objects.filter(share_id=OuterRef("pk")).order_by().values("share_id").annotate(n=Count("id")).values("n")
    )
    Share.objects.filter(pk=share.pk).update(sign_in_count=Coalesce(Subquery(per_share), 0))
    per_member = (
        SignIn.objects.filter(share__group_id=OuterRef("group_id"), member_id=OuterRef("member_id"))
        .order_by().values("member_id").annotate(n=Count("id")).values("n")
    )
    Membership.objects.filter(group_id=share.group_id, member_id=member_id).update(
        sign_in_count=Coalesce(Subquery(per_member), 0)
    )


@transaction.atomic
def sign_in_record(*, share: Share, by, now: dt.datetime | None = None) -> SignIn:
    """Sign ``by``'s member in to the share (origin web), once.

    Allowed for an active member of the share's group (the speaker and admins included;
    a login without a member, such as an operator's staff account, is refused with
    ``PermissionDenied``), while ``now`` is inside ``sign_in_window`` (else a
    ``ValidationError`` saying when sign-in opens, or that it is closed). A second sign-in,
    web or imported, is a ``ValidationError`` (code ``already_signed_in``); the database's
    one-per-member constraint backs the check. The share's and the membership's
    ``sign_in_count`` are recounted from all sign-in rows, web and imported."""
    now = now or timezone.now()
    access = access_for(by, share.group)
    if not access.has_membership:
        raise PermissionDenied(_("Only active members of the group can sign in."))
    # The row lock serialises sign-ins to one share, so that the recount below sees them all.
    _lock(share)
    _sign_in_is_open(share, now)
    try:
        with transaction.atomic():
            # Every value is set here and the constraint guards uniqueness: no full_clean round trips.
            sign_in = SignIn.objects.create(share=share, member_id=access.member_id, signed_at=now, origin=Origin.WEB)
    except IntegrityError:
        if not SignIn.objects.filter(share=share, member_id=access.member_id).exists():
            raise
        raise ValidationError(_("You have already signed in."), code="already_signed_in") from None
    _sign_in_counts_refresh(share, access.member_id)
    share.refresh_from_db(fields=["sign_in_count"])
    return sign_in


@transaction.atomic
def sign_in_close(*, share: Share, by, now: dt.datetime | None = None) -> Share:
    """Close sign-in now (group admins only), while it is open: ``sign_in_closed_at`` is set
    and the window ends there. Sign-ins already made stay. The share's version is not bumped
    (closing sign-in must not turn a concurrent edit of the topic into a conflict)."""
    now = now or timezone.now()
    if not access_for(by, share.group).is_admin:
        raise PermissionDenied(_("Only a group admin may close sign-in."))
    _lock(share)
    _sign_in_is_open(share, now)
    share.sign_in_closed_at = now
    Share.objects.filter(pk=share.pk).update(sign_in_closed_at=now)
    return share


@transaction.atomic
def application_accept(*, application: Application, by) -> Share:
    """A group admin accepts someone waiting for a seat: a new member with a pending
    membership of the group, and the share they committed to, registered. Refused when the
    group has no free seat. Audited.

    The WeChat id the applicant typed is a hint for the admin (the seats page shows it, with
    the member of the group who has it, if any), never identity evidence: anyone may type
    anyone's id, so it finds no member and is not stored on the new one. If the applicant
    is someone the group knows, the admin merges the two on the names page, within their
    reach (``community.permissions.members_out_of_reach``)."""
    if not access_for(by, application.group).is_admin:
        raise PermissionDenied(_("Only the group's admins decide applications."))
    application = Application.objects.select_for_update().get(pk=application.pk)
    group = application.group
    if application.status != ApplicationStatus.WAITING:
        raise ValidationError(_("This application was already decided."), code="decided")
    if seats_of_group(group=group)["free"] < 1:
        raise ValidationError(_("The group has no free seat: approve a removal first."), code="full")
    nickname = "-".join(part for part in (application.name, application.company, application.position, application.city) if part)
    member = Member.objects.create(
        display_name=nickname, name=application.name, company=application.company,
        position=application.position, city=application.city,
    )
    # The nickname the person committed to, as a name of the group: the importer links the member
    # when they appear in the record (and their membership becomes active then).
    Name.objects.create(member=member, group=group, name=nickname, normalized=normalize_name(nickname),
                        source=NameSource.MANUAL)
    Membership.objects.create(group=group, member=member, nickname=nickname, status=MembershipStatus.PENDING)
    share = share_register(group=group, speaker=member, topic=application.share_topic,
                           abstract=application.share_abstract, by=by, pending_ok=True)
    application.status, application.decided_by, application.decided_at, application.member = (
        ApplicationStatus.ACCEPTED, by, timezone.now(), member,
    )
    application.save(update_fields=["status", "decided_by", "decided_at", "member"])
    AuditEntry.objects.create(group=group, actor=by, action="application_accepted",
                              target=nickname, details={"member": member.pk, "share": share.pk})
    return share


# --- Corrections of a talk by the group's admins ---

def _talk_admin(share: Share, by) -> None:
    if not access_for(by, share.group).is_admin:
        raise PermissionDenied(_("Only a group admin may correct a talk."))


def _position(message: Message) -> tuple[dt.datetime, int]:
    """A message's place in the record: its moment, then its id (the order of the pages)."""
    return message.sent_at, message.pk


def _hms(group: Group, message: Message) -> str:
    return message.sent_at.astimezone(group.tz).strftime("%H:%M:%S")


@transaction.atomic
def talk_boundaries_set(*, share: Share, start_message: Message, qa_message: Message | None,
                        end_message: Message, by, note: str = "") -> Share:
    """Set which messages of the day are the talk, its interruptions and its Q&A.

    Group admins only (``PermissionDenied``); the share must be delivered. The three messages
    must be of the talk's group and day (in the group's time zone), in order: the talk's first
    message (a message of the speaker) < the Q&A's first message (None: no Q&A) <= the last
    message; and no message in between may belong to another talk. Otherwise a
    ``ValidationError`` says why and nothing is written.

    Then the share's talk rows are exactly: from the start to just before the Q&A, the
    speaker's messages as talk and the others as interruptions; from the Q&A's first message
    to the last, Q&A. ``started_at`` is the first message's moment, ``ended_at`` the last
    message of the talk before the Q&A (as the importer sets them). "boundaries",
    "started_at" and "ended_at" join ``edited_fields`` (re-import keeps the rows and times);
    the version moves on and a "boundaries moved" revision records the new span with ``note``.
    Sign-ins are left alone: they are found before the talk, not inside it. Nothing is
    recorded when nothing changes."""
    _talk_admin(share, by)
    _lock(share)
    group = share.group
    if share.status != ShareStatus.DELIVERED:
        raise ValidationError(_("Only a delivered talk can be corrected."), code="not_delivered")
    day_start, day_end = local_day_bounds(group, talk_day(share))
    chosen = [message for message in (start_message, qa_message, end_message) if message is not None]
    if any(m.group_id != share.group_id or not day_start <= m.sent_at < day_end for m in chosen):
        raise ValidationError(_("Pick messages of this talk's day in the group's record."), code="other_day")
    first, last = _position(start_message), _position(end_message)
    if last < first:
        raise ValidationError(_("The last message comes before the talk's first message."), code="order")
    if qa_message is not None and not first < _position(qa_message) <= last:
        raise ValidationError(
            _("The Q&A must begin after the talk's first message and no later than the last message."), code="order"
        )
    if start_message.sender_id != share.speaker_id:
        raise ValidationError(
            _("The talk must begin with a message of its speaker, %(speaker)s."), code="not_speaker",
            params={"speaker": share.speaker.display_name},
        )
    span = [
        message for message in Message.objects.filter(
            group_id=share.group_id, sent_at__gte=start_message.sent_at, sent_at__lte=end_message.sent_at
        ).only("id", "sent_at", "sender_id").order_by("sent_at", "id")
        if first <= _position(message) <= last
    ]
    qa_from = _position(qa_message) if qa_message is not None else None
    rows: dict[int, str] = {}
    for message in span:
        if qa_from is not None and _position(message) >= qa_from:
            rows[message.pk] = TalkPart.QA
        else:
            rows[message.pk] = TalkPart.TALK if message.sender_id == share.speaker_id else TalkPart.INTERRUPTION
    taken = next((
        row for row in TalkMessage.objects.filter(
            message__group_id=share.group_id, message__sent_at__gte=start_message.sent_at,
            message__sent_at__lte=end_message.sent_at,
        ).exclude(share=share).select_related("share").order_by("message__sent_at", "message_id")
        if row.message_id in rows
    ), None)
    if taken is not None:
        raise ValidationError(
            _("These messages include part of another talk, “%(topic)s” (#%(id)s): correct or delete that talk first."),
            code="overlap", params={"topic": taken.share.topic, "id": taken.share_id},
        )
    talk_messages = [message for message in span if qa_from is None or _position(message) < qa_from]
    started_at, ended_at = start_message.sent_at, talk_messages[-1].sent_at
    current = dict(TalkMessage.objects.filter(share=share).values_list("message_id", "part"))
    if (current == rows and (share.started_at, share.ended_at) == (started_at, ended_at)
            and {"boundaries", "started_at", "ended_at"} <= set(share.edited_fields)):
        return share
    TalkMessage.objects.filter(share=share).delete()
    TalkMessage.objects.bulk_create([TalkMessage(share=share, message_id=pk, part=part) for pk, part in rows.items()])
    share.started_at, share.ended_at = started_at, ended_at
    span_note = f"{_hms(group, start_message)}–{_hms(group, talk_messages[-1])}"
    if qa_message is not None:
        span_note += f", Q&A {_hms(group, qa_message)}–{_hms(group, end_message)}"
    _changed(share, action="boundaries moved", by=by, note=" · ".join(filter(None, [span_note, note.strip()])),
             edited={"boundaries", "started_at", "ended_at"})
    return share


# The revision that deletes a share, by the status it had ("talk deleted" for a delivered talk).
DELETIONS = {ShareStatus.DELIVERED: "talk deleted", ShareStatus.ANNOUNCED: "announced share deleted"}


@transaction.atomic
def talk_delete(*, share: Share, by, reason: str) -> Share:
    """Delete a false talk (or a false announced share): the share is cancelled and marked
    "deleted" in ``edited_fields``,
    so that it leaves the archive's pages and a re-import of that day does not bring it back
    (``talks_import_day`` skips the talk found again).

    Group admins only (``PermissionDenied``); the share must be delivered or announced, and
    ``reason`` is required (``ValidationError`` otherwise, nothing written). Its talk rows and
    its sign-ins (imported and web: they belong to the share) are removed and kept in the
    "talk deleted" revision ("announced share deleted" for an announced share; author, reason
    as the note), so that ``talk_restore`` can bring them back; the messages of the record are
    never touched. The share's sign-in count goes to 0 and the members' share facts (shares
    given, sign-ins) are recomputed."""
    _talk_admin(share, by)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the talk is deleted."), code="reason_required")
    _lock(share)
    if share.status not in (ShareStatus.DELIVERED, ShareStatus.ANNOUNCED):
        raise ValidationError(_("Only a delivered talk or an announced share can be deleted."), code="not_delivered")
    action = DELETIONS[share.status]
    removed = {
        "status": share.status,
        "talk_messages": [
            [message_id, part] for message_id, part in TalkMessage.objects.filter(share=share)
            .order_by("message__sent_at", "message_id").values_list("message_id", "part")
        ],
        "sign_ins": [
            [member_id, signed_at.isoformat(), origin, message_id, import_run]
            for member_id, signed_at, origin, message_id, import_run in SignIn.objects.filter(share=share)
            .order_by("signed_at", "id").values_list("member_id", "signed_at", "origin", "message_id", "import_run")
        ],
    }
    TalkMessage.objects.filter(share=share).delete()
    SignIn.objects.filter(share=share).delete()
    share.status = ShareStatus.CANCELLED
    share.sign_in_count = 0
    _changed(share, action=action, by=by, note=reason, edited={DELETED}, extra={"removed": removed})
    membership_share_facts_refresh(group_id=share.group_id)
    return share


def talk_deletion(share: Share) -> ShareRevision | None:
    """The revision that deleted the talk (with its author), if the share is a deleted talk."""
    if share.status != ShareStatus.CANCELLED or DELETED not in share.edited_fields:
        return None
    return (share.revisions.filter(action__in=DELETIONS.values()).select_related("author__member")
            .order_by("-version").first())


@transaction.atomic
def talk_restore(*, share: Share, by, note: str = "") -> Share:
    """Undo ``talk_delete``: the share is delivered (or announced) again, without the "deleted" mark, with the
    talk rows and sign-ins the deletion removed — those whose message (for talk rows) and
    member still exist and whose messages no other talk has taken since.

    Group admins only (``PermissionDenied``); the share must be a deleted talk, and a web
    share cannot come back on an evening another share has taken since (``ValidationError``,
    nothing written). Records "talk restored"; recomputes the sign-in count and the members'
    share facts."""
    _talk_admin(share, by)
    _lock(share)
    deletion = talk_deletion(share)
    if deletion is None:
        raise ValidationError(_("This talk is not deleted."), code="not_deleted")
    removed = deletion.snapshot.get("removed") or {}
    day_start, day_end = local_day_bounds(share.group, talk_day(share))
    day_messages = set(Message.objects.filter(group_id=share.group_id, sent_at__gte=day_start, sent_at__lt=day_end)
                       .values_list("pk", flat=True))
    taken = set(TalkMessage.objects.filter(message__group_id=share.group_id, message__sent_at__gte=day_start,
                                           message__sent_at__lt=day_end).values_list("message_id", flat=True))
    parts = [(pk, part) for pk, part in removed.get("talk_messages", []) if pk in day_messages and pk not in taken]
    sign_ins = removed.get("sign_ins", [])
    members = set(Member.objects.filter(pk__in={row[0] for row in sign_ins}).values_list("pk", flat=True))
    messages = set(Message.objects.filter(pk__in={row[3] for row in sign_ins if row[3]}).values_list("pk", flat=True))
    rows, seen = [], set()
    for member_id, signed_at, origin, message_id, import_run in sign_ins:
        if member_id in members and member_id not in seen:
            seen.add(member_id)
            rows.append(SignIn(share=share, member_id=member_id, signed_at=dt.datetime.fromisoformat(signed_at),
                               origin=origin, message_id=message_id if message_id in messages else None,
                               import_run=import_run))
    share.status = removed.get("status", ShareStatus.DELIVERED)
    share.sign_in_count = len(rows)
    share.edited_fields = [name for name in share.edited_fields if name != DELETED]
    action = "announced share restored" if share.status == ShareStatus.ANNOUNCED else "talk restored"
    try:
        with transaction.atomic():
            _changed(share, action=action, by=by, note=note.strip())
    except IntegrityError:
        raise ValidationError(
            _("Another share has this evening now: the talk cannot come back."), code="evening_taken"
        ) from None
    TalkMessage.objects.bulk_create([TalkMessage(share=share, message_id=pk, part=part) for pk, part in parts])
    SignIn.objects.bulk_create(rows)
    membership_share_facts_refresh(group_id=share.group_id)
    return share
