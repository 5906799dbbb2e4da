"""What ``shares`` holds about a member, for a privacy export: the shares they gave (or will)
and their sign-ins. Registered with ``community.privacy`` from ``SharesConfig.ready()``.

Nothing to erase here: a share names its speaker through the member row, which the erasure
anonymises, and the share's history keeps the speaker's id only."""

from __future__ import annotations

from community.models import Member
from community.privacy import moment, register_member_exporter

from .models import Share, SignIn


def member_shares(member: Member) -> list[dict]:
    """The shares ``member`` gave or registered, oldest first (one query)."""
    return [
        {"group": row.group.slug, "topic": row.topic, "abstract": row.abstract, "status": row.status,
         "visibility": row.visibility, "day": moment(row.day), "scheduled_for": moment(row.scheduled_for),
         "started_at": moment(row.started_at), "ended_at": moment(row.ended_at)}
        for row in Share.objects.filter(speaker=member).select_related("group").order_by("day", "id")
    ]


def member_sign_ins(member: Member) -> list[dict]:
    """The sign-ins of ``member``: which share, when (one query)."""
    return [
        {"group": row.share.group.slug, "share": row.share.topic, "signed_at": moment(row.signed_at),
         "origin": row.origin}
        for row in SignIn.objects.filter(member=member).select_related("share__group").order_by("signed_at", "id")
    ]


register_member_exporter("shares", member_shares)
register_member_exporter("sign_ins", member_sign_ins)
