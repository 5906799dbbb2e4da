"""The talk archive's pages: a talk as it reads, and a day of the record.

A talk the user may not see is a 404, for anonymous visitors too (no login redirect): the
page does not reveal that a members-only or hidden talk exists. The day page is the raw
record, for members of the group only.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from community.access import access_for, group_member_required, resolve_group
from community.dates import latest_record_day
from community.models import Message, StoredImage
from community.selectors import user_roles

from .archive import (
    day_discussion,
    day_lines,
    day_messages,
    lines_html,
    message_lines,
    message_rows,
    recorded_day_deleted_talks,
    recorded_day_neighbours,
    talk_blocks,
    talk_for_page,
    talk_rows,
)
from .models import TalkMessage, TalkPart
from .selectors import in_unseen_talk, messages_outside_unseen_talks, shares_visible_to

# The talk and its Q&A as rendered, kept this long at most: a talk is read far more often than it
# changes, and its key changes with every change of the talk and of its stored images (a
# sender's new display name shows within this time).
TALK_BODY_SECONDS = 600


def _talk_body(share, signature: str) -> tuple[SafeString, list | None, list | None]:
    """The talk's paragraphs and Q&A as HTML, from the cache when this version of the talk was
    rendered before, else rendered and kept. Also returns the blocks and Q&A lines when it
    rendered them (None from the cache)."""
    key = f"talk-body:{share.pk}:{share.version}:{share.speaker_id}:{signature}:{translation.get_language()}"
    body = cache.get(key)
    if body is not None:
        return SafeString(body), None, None
    parts = talk_rows(share=share) if not signature.startswith("0:") else []
    blocks = talk_blocks(parts, speaker_id=share.speaker_id)
    qa = message_lines(part.message for part in parts if part.part == TalkPart.QA)
    body = render_to_string("shares/archive/_talk_body.html", {"blocks": blocks, "qa_html": lines_html(qa)})
    cache.set(key, str(body), TALK_BODY_SECONDS)
    return SafeString(body), blocks, qa


def _day_discussion(share, signature: str, visible) -> tuple[int, SafeString]:
    """The rest of the talk's day (hundreds of lines, for members) as HTML with its number of
    lines, from the cache while neither the day's messages nor the talk's changed (one small
    aggregate over the day), else read and rendered once and kept.

    The messages of another talk of that day the viewer may not see (``visible``) are left out.
    The cached HTML is the day as a viewer who may see every talk of it reads it: a viewer for
    whom the same aggregate counts messages of an unseen talk neither reads nor writes it."""
    day = day_discussion(share=share, visible=visible)
    in_unseen = in_unseen_talk(group=share.group, visible=visible)
    unseen = {"unseen": Count("id", filter=Q(in_unseen))} if in_unseen is not None else {}
    found = Message.objects.filter(group_id=share.group_id, sent_at__gte=day.start, sent_at__lt=day.end).aggregate(
        n=Count("id"), last=Max("id"), total=Sum("id"), **unseen,
    )
    key = (f"talk-discussion:{share.pk}:{signature}:{found['n']}:{found['last']}:{found['total']}:"
           f"{translation.get_language()}")
    cached = cache.get(key) if not found.get("unseen") else None
    if cached is not None:
        return cached[0], SafeString(cached[1])
    lines = message_lines(message_rows(day.messages))
    html = lines_html(lines, tz=share.group.tz)
    if not found.get("unseen"):
        cache.set(key, (len(lines), str(html)), TALK_BODY_SECONDS)
    return len(lines), html


@require_GET
def talk(request, group_slug: str, pk: int) -> HttpResponse:
    """A delivered talk the user may see: who, when, who signed in, the talk in paragraphs,
    its Q&A, the talks before and after; for members, the rest of that day's discussion."""
    group = resolve_group(request, group_slug)
    roles = user_roles(request.user)
    visible = shares_visible_to(request.user, roles=roles)
    share = talk_for_page(visible=visible, group=group, pk=pk)
    if share is None:
        raise Http404
    access = request.access
    signature = share.talk_signature
    body, blocks, qa = _talk_body(share, signature)
    # The rest of the day, for members only.
    discussion_count, discussion_html = _day_discussion(share, signature, visible) if access.is_member else (None, "")
    speaker = share.speaker
    names = list(dict.fromkeys(name.name for name in speaker.names.all() if name.name != speaker.display_name))
    sign_ins = list(share.sign_ins.all())
    started = share.started_at or share.scheduled_for
    return render(request, "shares/archive/talk.html", {
        "group": group,
        "share": share,
        "speaker_names": names,
        "local_start": started.astimezone(group.tz) if started else None,
        "local_end": share.ended_at.astimezone(group.tz) if share.ended_at else None,
        "sign_ins": sign_ins,
        "talk_body": body,
        "blocks": blocks,
        "qa": qa,
        "previous": share.previous,
        "next": share.next,
        "discussion_count": discussion_count,
        "discussion_html": discussion_html,
    })


@group_member_required
@require_GET
def day(request, group_slug: str, day: dt.date) -> HttpResponse:
    """Every message of a day of the group's record, talks marked; members of the group only.
    A day after tomorrow in the group's time zone is no day of the record: a 404."""
    group, access = request.group, request.access
    if day > latest_record_day(group.tz):
        raise Http404
    previous, following = recorded_day_neighbours(group=group, day=day)
    lines = day_lines(day_messages(group=group, day=day, visible=shares_visible_to(request.user)))
    return render(request, "shares/archive/day.html", {
        "group": group,
        "day": day,
        "lines": lines,
        # Admins see the talks of the day they deleted, to undo a deletion (one query, admins only).
        "deleted_talks": recorded_day_deleted_talks(group=group, day=day) if access.is_admin else [],
        "previous": previous,
        "next": following,
    })


@require_GET
def stored_image(request, message_id: int) -> HttpResponse:
    """The app's copy of an image message, for whoever may read the message: the members of its
    group (unless it is part of a talk hidden from them), and anyone who may see a talk it is
    part of. Others get a 404 (nothing leaks)."""
    # By the message's primary key: an id beyond 64 bits finds nothing (``message_id=`` overflows SQLite).
    image = get_object_or_404(StoredImage.objects.select_related("message__group"), message__pk=message_id)
    message = image.message
    visible = shares_visible_to(request.user)
    if access_for(request.user, message.group).is_member:
        readable = messages_outside_unseen_talks(Message.objects.filter(pk=message.pk), group=message.group,
                                                 visible=visible).exists()
    else:
        readable = TalkMessage.objects.filter(message_id=message.pk, share__in=visible.values("pk")).exists()
    if not readable:
        raise Http404
    response = FileResponse(image.file.open("rb"), content_type=image.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
