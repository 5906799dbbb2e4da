"""Writes of shares, talks and sign-ins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Min
from django.utils import timezone

from community.models import Group, Member, Membership
from community.services import register_member_mover

from .models import Origin, Share, ShareRevision, ShareStatus, SignIn, TalkMessage, TalkPart

# Fields an admin may correct on an imported share; once edited, re-import keeps them.
IMPORT_FIELDS = ("topic", "speaker", "scheduled_for", "started_at", "ended_at", "boundaries")


@dataclass
class TalkFound:
    """A talk found in one day of the record, in terms of the database's rows."""

    speaker_id: int
    topic: str
    scheduled_for: dt.datetime | None
    started_at: dt.datetime
    ended_at: dt.datetime
    talk_ids: list[int] = field(default_factory=list)
    interruption_ids: list[int] = field(default_factory=list)
    qa_ids: list[int] = field(default_factory=list)
    sign_ins: list[tuple[int, dt.datetime, int]] = field(default_factory=list)  # member, when, message


def share_snapshot(share: Share) -> dict:
    return {
        "topic": share.topic,
        "abstract": share.abstract,
        "status": share.status,
        "speaker": share.speaker_id,
        "day": share.day.isoformat() if share.day else None,
        "scheduled_for": share.scheduled_for.isoformat() if share.scheduled_for else None,
        "started_at": share.started_at.isoformat() if share.started_at else None,
        "ended_at": share.ended_at.isoformat() if share.ended_at else None,
        "visibility": share.visibility,
    }


def share_revision_record(*, share: Share, action: str, author=None, note: str = "") -> ShareRevision:
    """Keep a full snapshot of the share as it is now (version = share.version)."""
    return ShareRevision.objects.create(
        share=share, version=share.version, author=author, action=action, note=note[:300], snapshot=share_snapshot(share)
    )


def talks_import_day(*, group: Group, day: dt.date, talks: list[TalkFound], import_run: int | None,
                     fresh: bool = False) -> tuple[int, int]:
    """Make the day's shares match the talks found in its record.

    A talk attaches to the share the web schedule already has for that group, day and
    speaker, or to the share an earlier import made; otherwise a delivered share with
    origin ``import`` is created. Fields an admin edited by hand are kept. Imported
    shares of that day that are no longer found are deleted unless an admin edited them.
    ``fresh``: nothing of that day was imported before (no old talk rows to replace).
    Returns (shares found, sign-ins recorded)."""
    existing = list(
        Share.objects.filter(group=group, day=day).exclude(status=ShareStatus.CANCELLED).order_by("id")
    )
    matched: set[int] = set()
    sign_in_total = 0
    for talk in talks:
        share = _matching_share(existing, matched, talk)
        if share is None:
            share = Share.objects.create(
                group=group, speaker_id=talk.speaker_id, topic=talk.topic[:300], status=ShareStatus.DELIVERED,
                day=day, scheduled_for=talk.scheduled_for, started_at=talk.started_at, ended_at=talk.ended_at,
                visibility=group.imported_share_visibility, origin=Origin.IMPORT, import_run=import_run,
            )
            share_revision_record(share=share, action="imported")
        else:
            _update_from_talk(share, talk)
        matched.add(share.pk)
        created = share.import_run == import_run and share.origin == Origin.IMPORT and share.version == 1
        if "boundaries" not in share.edited_fields:
            if not (fresh and created):
                TalkMessage.objects.filter(share=share).delete()
            _talk_messages_insert(
                [(share.pk, i, TalkPart.TALK) for i in talk.talk_ids]
                + [(share.pk, i, TalkPart.INTERRUPTION) for i in talk.interruption_ids]
                + [(share.pk, i, TalkPart.QA) for i in talk.qa_ids]
            )
        sign_in_total += _replace_imported_sign_ins(share, talk, import_run, new=fresh and created)
    for share in existing:
        if share.pk not in matched and share.origin == Origin.IMPORT and not share.edited_fields:
            share.delete()
    return len(talks), sign_in_total


def _talk_messages_insert(rows: list[tuple[int, int, str]]) -> None:
    """One prepared statement for a talk's hundreds of rows (on the import's hot path)."""
    if not rows:
        return
    table = connection.ops.quote_name(TalkMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (share_id, message_id, part) VALUES (%s, %s, %s)", rows)


def _matching_share(existing: list[Share], matched: set[int], talk: TalkFound) -> Share | None:
    for share in existing:
        if share.pk not in matched and share.speaker_id == talk.speaker_id:
            return share
    # An admin reassigned the speaker by hand: the imported share of that day is still this talk.
    for share in existing:
        if share.pk not in matched and share.origin == Origin.IMPORT and "speaker" in share.edited_fields:
            return share
    return None


def _update_from_talk(share: Share, talk: TalkFound) -> None:
    before = share_snapshot(share)
    edited = set(share.edited_fields)
    if share.origin == Origin.IMPORT and "topic" not in edited:
        share.topic = talk.topic[:300]
    if "scheduled_for" not in edited and share.scheduled_for is None:
        share.scheduled_for = talk.scheduled_for
    if "started_at" not in edited:
        share.started_at = talk.started_at
    if "ended_at" not in edited:
        share.ended_at = talk.ended_at
    share.status = ShareStatus.DELIVERED
    if share_snapshot(share) != before:
        share.version += 1
        share.updated_at = timezone.now()
        share.save()
        share_revision_record(share=share, action="delivered (import)")


def _replace_imported_sign_ins(share: Share, talk: TalkFound, import_run: int | None, *, new: bool) -> int:
    on_web: set[int] = set()
    if not new:  # a share just created has no sign-in yet
        SignIn.objects.filter(share=share, origin=Origin.IMPORT).delete()
        on_web = set(SignIn.objects.filter(share=share).values_list("member_id", flat=True))
    rows = []
    seen = set(on_web)
    for member_id, signed_at, message_id in talk.sign_ins:
        if member_id in seen:
            continue
        seen.add(member_id)
        rows.append(SignIn(share=share, member_id=member_id, signed_at=signed_at, origin=Origin.IMPORT,
                           message_id=message_id, import_run=import_run))
    SignIn.objects.bulk_create(rows)
    count = len(seen)
    if share.sign_in_count != count:
        Share.objects.filter(pk=share.pk).update(sign_in_count=count)
        share.sign_in_count = count
    return len(rows)


def membership_share_facts_refresh(*, group_id: int) -> None:
    """Recompute, for every membership of the group, the share facts the rules read:
    shares given, next scheduled share and sign-ins. Three aggregate queries and one bulk update."""
    given = dict(
        Share.objects.filter(group_id=group_id, status=ShareStatus.DELIVERED)
        .values_list("speaker_id").annotate(n=Count("id")).values_list("speaker_id", "n")
    )
    upcoming = dict(
        Share.objects.filter(group_id=group_id, status=ShareStatus.SCHEDULED, scheduled_for__gte=timezone.now())
        .values_list("speaker_id").annotate(first=Min("scheduled_for")).values_list("speaker_id", "first")
    )
    signed = dict(
        SignIn.objects.filter(share__group_id=group_id)
        .values_list("member_id").annotate(n=Count("id")).values_list("member_id", "n")
    )
    changed = []
    for membership in Membership.objects.filter(group_id=group_id).only(
        "id", "member_id", "shares_given", "next_share_at", "sign_in_count"
    ):
        facts = (given.get(membership.member_id, 0), upcoming.get(membership.member_id), signed.get(membership.member_id, 0))
        if (membership.shares_given, membership.next_share_at, membership.sign_in_count) != facts:
            membership.shares_given, membership.next_share_at, membership.sign_in_count = facts
            changed.append(membership)
    Membership.objects.bulk_update(changed, ["shares_given", "next_share_at", "sign_in_count"], batch_size=500)


def _move_member_rows(into: Member, other: Member) -> None:
    """On a member merge: shares and sign-ins move too (a sign-in both had for a share counts once)."""
    both = list(
        SignIn.objects.filter(member=other, share__sign_ins__member=into).values_list("share_id", flat=True)
    )
    SignIn.objects.filter(member=other, share_id__in=both).delete()
    Share.objects.filter(pk__in=both).update(sign_in_count=F("sign_in_count") - 1)
    SignIn.objects.filter(member=other).update(member=into)
    Share.objects.filter(speaker=other).update(speaker=into)


register_member_mover(_move_member_rows)

