"""The talk archive: reads for the talk and day pages, and the pure helpers that turn a
record's messages into something readable.

Everything a message carries (text, URL, sender name) is data: it is escaped here, and
only http(s) URLs ever become links; images from elsewhere are never embedded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from community.models import Group, Membership, Message, MessageKind, Name, RecordedDay

from .models import Share, ShareStatus, SignIn, TalkMessage, TalkPart

# A pause longer than this in the speaker's messages starts a new paragraph.
PARAGRAPH_GAP = dt.timedelta(minutes=3)

# An http(s) URL up to whitespace, quotes, angle brackets or CJK punctuation (，。）】 …),
# which the record often puts right after a link.
_URL = re.compile(r"https?://[^\s<>\"'\u3000-\u303f\uff00-\uffef]+", re.IGNORECASE)
# Trailing punctuation that ends a sentence rather than the URL.
_TRAILING = ".,;:!?)]}"


# --- Pure helpers ---

def is_http_url(url: str) -> bool:
    """True for an absolute http or https URL with a host; anything else (``javascript:``,
    ``data:``, relative paths) is never put in an ``href``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def link_html(url: str, text: str | None = None) -> SafeString:
    """A link that opens nothing on the page's behalf; the URL and the text are escaped.
    A URL that is not http(s) is shown as plain text."""
    label = escape(url if text is None else text)
    if not is_http_url(url):
        return label
    return mark_safe(f'<a href="{escape(url.strip())}" rel="nofollow noopener">{label}</a>')  # noqa: S308 - escaped above


def text_html(text: str) -> SafeString:
    """The text escaped, with its http(s) URLs made into links (``rel="nofollow noopener"``)
    and its line breaks kept as ``<br>``. Nothing else of the text becomes markup."""
    pieces = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        pieces.append(escape(text[position:match.start()]))
        pieces.append(link_html(url))
        position = end
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308 - every piece is escaped


@dataclass(frozen=True)
class Piece:
    """One message as it is shown: ``kind`` is the message's kind, ``html`` its safe rendering."""

    kind: str
    text: str
    url: str
    html: SafeString


def message_piece(message: Message) -> Piece:
    """How a message reads on a page. Images are a placeholder (the word "image" and a link to
    the original), never an ``<img>``; links and files show their title and an http(s) link."""
    url = message.url if is_http_url(message.url) else ""
    if message.kind == MessageKind.IMAGE:
        html = mark_safe('<span class="muted">[image' + (" " + link_html(url) if url else "") + "]</span>")  # noqa: S308
    elif message.kind in (MessageKind.LINK, MessageKind.FILE):
        label = message.text or message.url
        html = link_html(url, label) if url else escape(label)
        if message.kind == MessageKind.FILE:
            html = mark_safe(f'<span class="muted">[file]</span> {html}')  # noqa: S308 - escaped above
    elif message.kind == MessageKind.STICKER:
        html = mark_safe('<span class="muted">[sticker]</span>')
    else:
        html = text_html(message.text)
    return Piece(kind=message.kind, text=message.text, url=url, html=html)


def sender_label(message: Message) -> str:
    """The sender's display name when the record knows who it was, else the name in the record."""
    return message.sender.display_name if message.sender_id and message.sender else message.sender_name


@dataclass
class Block:
    """A paragraph of the talk (``kind`` "talk") or an interruption set apart ("interruption")."""

    kind: str
    sender: str
    sender_id: int | None
    started_at: dt.datetime
    ended_at: dt.datetime
    pieces: list[Piece] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [piece.text for piece in self.pieces]


def talk_blocks(parts: Iterable[TalkMessage], *, speaker_id: int, gap: dt.timedelta = PARAGRAPH_GAP) -> list[Block]:
    """The talk and its interruptions as blocks, in the order of the messages given (Q&A and
    empty messages are left out). Consecutive messages of the speaker within ``gap`` of each
    other are one paragraph; a message by anyone else, or marked as an interruption, is set
    apart, and consecutive ones by the same person are one aside."""
    blocks: list[Block] = []
    for part in parts:
        message = part.message
        if part.part == TalkPart.QA or message.kind == MessageKind.EMPTY:
            continue
        is_talk = part.part == TalkPart.TALK and message.sender_id == speaker_id
        kind = "talk" if is_talk else "interruption"
        last = blocks[-1] if blocks else None
        if (
            last is not None and last.kind == kind and last.sender_id == message.sender_id
            and last.sender == sender_label(message) and message.sent_at - last.ended_at <= gap
        ):
            last.pieces.append(message_piece(message))
            last.ended_at = message.sent_at
            continue
        blocks.append(Block(kind=kind, sender=sender_label(message), sender_id=message.sender_id,
                            started_at=message.sent_at, ended_at=message.sent_at, pieces=[message_piece(message)]))
    return blocks


@dataclass(frozen=True)
class Line:
    """One message on a list (Q&A, the day's discussion, the day page)."""

    message: Message
    sender: str
    piece: Piece
    part: str = ""
    share: Share | None = None
    heading: str = ""  # "talk" or "qa" on the first message of a talk or of its Q&A


def message_lines(messages: Iterable[Message]) -> list[Line]:
    return [Line(message=m, sender=sender_label(m), piece=message_piece(m)) for m in messages if m.kind != MessageKind.EMPTY]


def day_lines(messages: Iterable[Message]) -> list[Line]:
    """A day's messages with the talks marked: each message carries its part and share (from
    the ``visible_parts`` prefetched on it), and the first message of a talk and of its Q&A
    carries a heading."""
    lines = []
    section: tuple[int, str] | None = None
    for message in messages:
        if message.kind == MessageKind.EMPTY:
            continue
        parts = getattr(message, "visible_parts", [])
        part = parts[0] if parts else None
        heading = ""
        if part is not None:
            current = (part.share_id, "qa" if part.part == TalkPart.QA else "talk")
            if current != section:
                heading = current[1]
            section = current
        lines.append(Line(message=message, sender=sender_label(message), piece=message_piece(message),
                          part=part.part if part else "", share=part.share if part else None, heading=heading))
    return lines


def local_day_bounds(group: Group, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The start of the day and of the next one, in the group's time zone."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=group.tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=group.tz)


# --- Selectors ---

def _speaker_nickname() -> Subquery:
    return Subquery(
        Membership.objects.filter(group_id=OuterRef("group_id"), member_id=OuterRef("speaker_id")).values("nickname")[:1]
    )


def talks_for_page(*, visible: QuerySet[Share], group: Group) -> QuerySet[Share]:
    """The group's delivered shares among ``visible`` (``shares_visible_to``), ready for the
    talk page: speaker, nickname, the speaker's names, sign-ins with their members and the
    talk's messages (in order, with their senders) loaded."""
    return (
        visible.filter(group=group, status=ShareStatus.DELIVERED)
        .select_related("group", "speaker")
        .annotate(speaker_nickname=_speaker_nickname())
        .prefetch_related(
            Prefetch("speaker__names", queryset=Name.objects.only("id", "member_id", "name").order_by("name", "id")),
            Prefetch("sign_ins", queryset=SignIn.objects.select_related("member").order_by("signed_at", "id")),
            Prefetch("talk_messages", queryset=TalkMessage.objects.select_related("message__sender")
                     .order_by("message__sent_at", "message_id")),
        )
    )


def talk_neighbours(*, visible: QuerySet[Share], share: Share) -> tuple[Share | None, Share | None]:
    """The delivered talks of the same group just before and after ``share`` (by start, then
    id) among ``visible``; a talk without a start has none."""
    if share.started_at is None:
        return None, None
    talks = visible.filter(group_id=share.group_id, status=ShareStatus.DELIVERED, started_at__isnull=False).only(
        "id", "topic", "day", "started_at", "group_id")
    earlier = Q(started_at__lt=share.started_at) | Q(started_at=share.started_at, id__lt=share.pk)
    later = Q(started_at__gt=share.started_at) | Q(started_at=share.started_at, id__gt=share.pk)
    return (talks.filter(earlier).order_by("-started_at", "-id").first(),
            talks.filter(later).order_by("started_at", "id").first())


def day_discussion(*, share: Share) -> QuerySet[Message]:
    """The messages of the talk's day (in the group's time zone) that are not part of its talk
    or Q&A, in order, with their senders."""
    day = share.day or share.started_at.astimezone(share.group.tz).date()
    start, end = local_day_bounds(share.group, day)
    return (
        Message.objects.filter(group_id=share.group_id, sent_at__gte=start, sent_at__lt=end)
        .exclude(talk_parts__share=share)
        .select_related("sender")
        .order_by("sent_at", "id")
    )


def day_messages(*, group: Group, day: dt.date, visible: QuerySet[Share]) -> QuerySet[Message]:
    """Every message of the group on ``day`` (group time zone), in order, with its sender and
    ``visible_parts``: its places in talks among ``visible`` shares, with the share loaded."""
    start, end = local_day_bounds(group, day)
    parts = TalkMessage.objects.filter(share__in=visible.values("pk")).select_related("share").order_by("share_id")
    return (
        Message.objects.filter(group=group, sent_at__gte=start, sent_at__lt=end)
        .select_related("sender")
        .prefetch_related(Prefetch("talk_parts", queryset=parts, to_attr="visible_parts"))
        .order_by("sent_at", "id")
    )


def recorded_day_neighbours(*, group: Group, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The group's recorded days just before and after ``day``."""
    days = RecordedDay.objects.filter(group=group)
    return (days.filter(day__lt=day).order_by("-day").values_list("day", flat=True).first(),
            days.filter(day__gt=day).order_by("day").values_list("day", flat=True).first())
