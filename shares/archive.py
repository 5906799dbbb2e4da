"""The talk archive: reads for the talk and day pages, and the pure helpers that turn a
record's messages into something readable.

Everything a message carries (text, URL, sender name) is data: it is escaped here, and
only http(s) URLs ever become links; images from elsewhere are never embedded.
"""

from __future__ import annotations

import datetime as dt
import html as _html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.utils.safestring import SafeString

from community.models import (
    Group,
    Member,
    Membership,
    Message,
    MessageKind,
    Name,
    RecordedDay,
    StoredImage,
    Visibility,
)

# One definition of a safe URL, for the pages and the export.
from .export import Item, Passage, TalkExport, is_http_url
from .models import Share, ShareStatus, SignIn, TalkMessage, TalkPart
from .selectors import messages_outside_unseen_talks

# The mark in ``Share.edited_fields`` of a talk an admin deleted as false (``talk_delete``).
DELETED = "deleted"

# A pause longer than this in the speaker's messages starts a new paragraph.
PARAGRAPH_GAP = dt.timedelta(minutes=3)

# An http(s) URL up to whitespace, quotes, angle brackets or CJK punctuation (，。）】 …),
# which the record often puts right after a link.
_URL = re.compile(r"https?://[^\s<>\"'\u3000-\u303f\uff00-\uffef]+", re.IGNORECASE)
# Trailing punctuation that ends a sentence rather than the URL.
_TRAILING = ".,;:!?)]}"


# --- Pure helpers ---

def _safe(html: str) -> SafeString:
    """HTML the caller built from escaped parts, marked safe (``SafeString`` directly:
    ``mark_safe``'s lazy-aware wrapper is measurable over a long talk's thousands of pieces)."""
    return SafeString(html)


def escape(text: str) -> str:
    """``&<>"'`` escaped, as Django's ``escape`` does, as a plain string (the callers mark the
    finished HTML safe once; Django's lazy-aware wrapper cost a third of a long talk's page)."""
    return _html.escape(str(text))


def link_html(url: str, text: str | None = None) -> SafeString:
    """A link that opens nothing on the page's behalf; the URL and the text are escaped.
    A URL that is not http(s) is shown as plain text."""
    label = escape(url if text is None else text)
    if not is_http_url(url):
        return _safe(label)  # noqa: S308 - escaped above
    return _safe(f'<a href="{escape(url.strip())}" rel="nofollow noopener">{label}</a>')  # noqa: S308 - escaped above


def text_html(text: str) -> SafeString:
    """The text escaped, with its http(s) URLs made into links (``rel="nofollow noopener"``)
    and its line breaks kept as ``<br>``. Nothing else of the text becomes markup."""
    if "://" not in text:  # most messages: nothing to link
        return _safe(escape(text).replace("\n", "<br>"))  # noqa: S308 - escaped
    pieces = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        pieces.append(escape(text[position:match.start()]))
        pieces.append(link_html(url))
        position = end
    pieces.append(escape(text[position:]))
    return _safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308 - every piece is escaped


@dataclass(slots=True)
class Piece:
    """One message as it is shown: ``kind`` is the message's kind, ``html`` its safe rendering."""

    kind: str
    text: str
    url: str
    html: SafeString
    sent_at: dt.datetime | None = None


def stored_image_id(message: Message | MessageRow) -> int | None:
    """The id of the app's stored copy of an image message, if there is one (a row carries it;
    a model instance must have ``stored_image`` loaded with ``select_related``)."""
    if isinstance(message, MessageRow):
        return message.stored_image_id
    cached = message._state.fields_cache.get("stored_image")
    return cached.pk if cached is not None else None


def message_piece(message: Message | MessageRow) -> Piece:
    """How a message reads on a page. An image shows the app's stored copy when one was uploaded
    (served by the app, ``/images/ID/``), else a placeholder with a link to the original: an
    image from elsewhere is never embedded. Links and files show their title and an http(s) link."""
    url = message.url if message.url and is_http_url(message.url) else ""
    if message.kind == MessageKind.IMAGE:
        if stored_image_id(message) is not None:
            html = _safe(f'<img class="stored-image" src="/images/{int(message.id)}/" alt="[image]" loading="lazy">')
        else:
            html = _safe('<span class="muted">[image' + (" " + link_html(url) if url else "") + "]</span>")  # noqa: S308
    elif message.kind in (MessageKind.LINK, MessageKind.FILE):
        label = message.text or message.url
        html = link_html(url, label) if url else _safe(escape(label))  # noqa: S308 - escaped
        if message.kind == MessageKind.FILE:
            html = _safe(f'<span class="muted">[file]</span> {html}')  # noqa: S308 - escaped above
    elif message.kind == MessageKind.STICKER:
        html = _safe('<span class="muted">[sticker]</span>')
    else:
        html = text_html(message.text)
    return Piece(kind=message.kind, text=message.text, url=url, html=html, sent_at=message.sent_at)


@dataclass(slots=True)
class MessageRow:
    """A message as the archive's pages read it: the columns they show, without a model object
    (a long talk has thousands; building three model instances for each was most of the page)."""

    id: int
    sender_id: int | None
    sender_name: str
    sender_display: str | None
    sent_at: dt.datetime
    kind: str
    text: str
    url: str
    stored_image_id: int | None = None


@dataclass(slots=True)
class PartRow:
    """A message's place in a talk (``TalkMessage`` as rows): ``part`` and the ``message``."""

    part: str
    message: MessageRow


MESSAGE_COLUMNS = (
    "id", "sender_id", "sender_name", "sender__display_name", "sent_at", "kind", "text", "url", "stored_image__id",
)


def message_rows(messages: QuerySet[Message]) -> list[MessageRow]:
    """The messages of a queryset (ordered as it is) as ``MessageRow``s, in one query."""
    return [MessageRow(*row) for row in messages.values_list(*MESSAGE_COLUMNS)]


def talk_rows(*, share: Share) -> list[PartRow]:
    """The talk's messages (talk, interruptions, Q&A) in order, as rows: two queries.

    The messages are looked up within the talk's day of the record, through the (group, sent)
    index: joined on the talk alone, PostgreSQL chose to scan every message of the database, and
    a list of thousands of ids costs as much to send. A talk with a message outside its day (the
    importer makes none; a hand correction could) is read by id instead."""
    parts = dict(TalkMessage.objects.filter(share_id=share.pk).values_list("message_id", "part"))
    if not parts:
        return []
    start, end = local_day_bounds(share.group, talk_day(share))
    messages = Message.objects.filter(
        group_id=share.group_id, sent_at__gte=start, sent_at__lt=end, talk_parts__share_id=share.pk,
    ).order_by("sent_at", "id")
    rows = message_rows(messages)
    if len(rows) != len(parts):
        rows = message_rows(Message.objects.filter(pk__in=list(parts)).order_by("sent_at", "id"))
    return [PartRow(parts[row.id], row) for row in rows]


def sender_label(message: Message | MessageRow) -> str:
    """The sender's display name when the record knows who it was, else the name in the record."""
    if isinstance(message, MessageRow):
        return message.sender_display or message.sender_name
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

    @property
    def html(self) -> SafeString:
        """The block's messages, each already safe, side by side."""
        return _safe(" ".join(piece.html for piece in self.pieces))  # noqa: S308 - pieces are escaped


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


def lines_html(lines: Iterable[Line], *, tz=None) -> SafeString:
    """A list's ``<li>`` items (sender, text and, with ``tz``, the time), rendered here rather
    than in the template: the day's discussion under a talk has hundreds."""
    items = []
    for line in lines:
        time = ""
        if tz is not None:
            moment = line.message.sent_at
            time = (f'<time class="muted" datetime="{moment.isoformat()}">'
                    f'{moment.astimezone(tz).strftime("%H:%M")}</time> ')
        items.append(f'<li>{time}<span class="sender">{escape(line.sender)}:</span> <span>{line.piece.html}</span></li>')
    return _safe("".join(items))  # noqa: S308 - sender and text are escaped


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


def talk_day(share: Share) -> dt.date:
    """The day of the record a talk belongs to: its day, else the day it started (group time)."""
    return share.day or share.started_at.astimezone(share.group.tz).date()


# --- Selectors ---

def _speaker_nickname() -> Subquery:
    return Subquery(
        Membership.objects.filter(group_id=OuterRef("group_id"), member_id=OuterRef("speaker_id")).values("nickname")[:1]
    )


def talks_for_page(*, visible: QuerySet[Share], group: Group) -> QuerySet[Share]:
    """The group's delivered shares among ``visible`` (``shares_visible_to``), ready for the
    talk page: speaker, nickname, the speaker's names and sign-ins with their members loaded
    (the talk's messages are read as rows by ``talk_rows``)."""
    return (
        visible.filter(group=group, status=ShareStatus.DELIVERED)
        .select_related("group", "speaker")
        .annotate(speaker_nickname=_speaker_nickname())
        .prefetch_related(
            Prefetch("speaker__names", queryset=Name.objects.only("id", "member_id", "name").order_by("name", "id")),
            Prefetch("sign_ins", queryset=SignIn.objects.select_related("member").only(
                "id", "share_id", "member_id", "signed_at", "member__id", "member__display_name",
            ).order_by("signed_at", "id")),
        )
    )


def _neighbour(talks: QuerySet[Share], *, before: bool, field: str) -> Subquery:
    if before:
        side = Q(started_at__lt=OuterRef("started_at")) | Q(started_at=OuterRef("started_at"), id__lt=OuterRef("pk"))
        order = ("-started_at", "-id")
    else:
        side = Q(started_at__gt=OuterRef("started_at")) | Q(started_at=OuterRef("started_at"), id__gt=OuterRef("pk"))
        order = ("started_at", "id")
    return Subquery(talks.filter(side).order_by(*order).values(field)[:1])


def _talk_messages(aggregate) -> Subquery:
    return Subquery(TalkMessage.objects.filter(share_id=OuterRef("pk")).order_by().values("share_id")
                    .annotate(value=aggregate).values("value"))


def talk_for_page(*, visible: QuerySet[Share], group: Group, pk: int) -> Share | None:
    """The share ``pk`` of ``talks_for_page``, with what else the talk page needs read in the
    same query: ``talk_signature`` (the number, last and sum of its message ids and the time of
    its latest stored image: it changes whenever its messages or their images do) and ``previous`` / ``next``: the delivered talks of the group just
    before and after it among ``visible`` (by start, then id; none for a talk without a start),
    as shares with only their id and topic. None when ``visible`` has no such talk."""
    talks = visible.filter(group_id=OuterRef("group_id"), status=ShareStatus.DELIVERED, started_at__isnull=False)
    share = (
        talks_for_page(visible=visible, group=group).filter(pk=pk)
        .annotate(
            talk_count=_talk_messages(Count("id")), talk_last=_talk_messages(Max("message_id")),
            talk_total=_talk_messages(Sum("message_id")),
            # A copy of an image stored (or replaced) later changes what the talk shows. Read from the
            # stored images' side: there are few, where a talk has thousands of messages.
            talk_images=Subquery(
                StoredImage.objects.filter(message_id__in=TalkMessage.objects.filter(
                    share_id=OuterRef(OuterRef("pk"))).values("message_id"))
                .order_by("-uploaded_at").values("uploaded_at")[:1]),
            previous_id=_neighbour(talks, before=True, field="id"),
            previous_topic=_neighbour(talks, before=True, field="topic"),
            next_id=_neighbour(talks, before=False, field="id"),
            next_topic=_neighbour(talks, before=False, field="topic"),
        )
        .first()
    )
    if share is None:
        return None
    images = share.talk_images.timestamp() if share.talk_images else None
    share.talk_signature = f"{share.talk_count or 0}:{share.talk_last}:{share.talk_total}:{images}"
    share.previous = Share(pk=share.previous_id, group=group, topic=share.previous_topic) if share.previous_id else None
    share.next = Share(pk=share.next_id, group=group, topic=share.next_topic) if share.next_id else None
    return share


@dataclass(frozen=True)
class DayDiscussion:
    """The messages of a talk's day that are not part of its talk or Q&A (``messages``, in
    order, with their senders), and the bounds of that day."""

    start: dt.datetime
    end: dt.datetime
    messages: QuerySet[Message]


def day_discussion(*, share: Share, visible: QuerySet[Share]) -> DayDiscussion:
    """The messages of the talk's day (in the group's time zone) that are not part of its talk
    or Q&A, nor of another talk that is not among ``visible`` (``shares_visible_to`` the
    viewer: a hidden talk's text stays hidden from whoever may not see it)."""
    start, end = local_day_bounds(share.group, talk_day(share))
    messages = (
        Message.objects.filter(group_id=share.group_id, sent_at__gte=start, sent_at__lt=end)
        # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join on (share, message).
        .filter(~Exists(TalkMessage.objects.filter(share_id=share.pk, message_id=OuterRef("pk"))))
        .select_related("sender")
        .order_by("sent_at", "id")
    )
    messages = messages_outside_unseen_talks(messages, group=share.group, visible=visible)
    return DayDiscussion(start=start, end=end, messages=messages)


def day_messages(*, group: Group, day: dt.date, visible: QuerySet[Share]) -> QuerySet[Message]:
    """Every message of the group on ``day`` (group time zone) except those of its talks not
    among ``visible`` (``shares_visible_to`` the viewer: a hidden talk's text stays hidden from
    whoever may not see it), in order, with its sender and ``visible_parts``: its places in
    talks among ``visible`` shares, with the share loaded."""
    start, end = local_day_bounds(group, day)
    parts = TalkMessage.objects.filter(share__in=visible.values("pk")).select_related("share").order_by("share_id")
    messages = (
        Message.objects.filter(group=group, sent_at__gte=start, sent_at__lt=end)
        .select_related("sender", "stored_image")
        .prefetch_related(Prefetch("talk_parts", queryset=parts, to_attr="visible_parts"))
        .order_by("sent_at", "id")
    )
    return messages_outside_unseen_talks(messages, group=group, visible=visible)


def recorded_day_neighbours(*, group: Group, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The group's recorded days just before and after ``day``."""
    days = RecordedDay.objects.filter(group=group)
    return (days.filter(day__lt=day).order_by("-day").values_list("day", flat=True).first(),
            days.filter(day__gt=day).order_by("day").values_list("day", flat=True).first())


def recorded_day_deleted_talks(*, group: Group, day: dt.date) -> list[Share]:
    """The talks of the group's day that an admin deleted (for admins: to see and undo it)."""
    shares = Share.objects.filter(group=group, day=day, status=ShareStatus.CANCELLED).order_by("started_at", "id")
    return [share for share in shares.only("id", "topic", "edited_fields", "started_at") if DELETED in share.edited_fields]


# --- The export and the corrections ---

def talks_for_export(*, visible: QuerySet[Share], group: Group) -> QuerySet[Share]:
    """The group's delivered shares among ``visible``, with the speaker loaded: what the
    Markdown export needs besides the talk's messages (``talk_rows``)."""
    return visible.filter(group=group, status=ShareStatus.DELIVERED).select_related("group", "speaker")


def _passage(kind: str, sender: str, pieces: Iterable[Piece], group: Group) -> Passage:
    return Passage(kind=kind, sender=sender, items=[
        Item(kind=piece.kind, text=piece.text, url=piece.url, sent_at=piece.sent_at.astimezone(group.tz))
        for piece in pieces
    ])


def talk_export(*, share: Share, parts: list[PartRow], discussion: Iterable[Message | MessageRow] | None) -> TalkExport:
    """The talk as the export reads it: paragraphs and interruptions as on the page
    (``talk_blocks``), the Q&A and, when given, the day's discussion, in the group's time zone."""
    group = share.group
    started = share.started_at or share.scheduled_for
    return TalkExport(
        topic=share.topic,
        speaker=share.speaker.display_name,
        company=share.speaker.company,
        group=group.name,
        start=started.astimezone(group.tz) if started else None,
        day=talk_day(share),
        public=share.visibility == Visibility.PUBLIC,
        talk=[_passage(block.kind, block.sender, block.pieces, group)
              for block in talk_blocks(parts, speaker_id=share.speaker_id)],
        qa=[_passage("line", line.sender, [line.piece], group)
            for line in message_lines(part.message for part in parts if part.part == TalkPart.QA)],
        discussion=None if discussion is None else [
            _passage("line", line.sender, [line.piece], group) for line in message_lines(discussion)
        ],
    )


def talk_speakers(group: Group) -> QuerySet[Member]:
    """Everyone the group has had as a member (active or not), with ``group_nickname``: who a
    delivered talk can be given to."""
    memberships = Membership.objects.filter(group=group)
    return (
        Member.objects.filter(pk__in=memberships.values("member_id"))
        .annotate(group_nickname=Subquery(memberships.filter(member_id=OuterRef("pk")).values("nickname")[:1]))
        .order_by("group_nickname", "id")
    )


@dataclass(frozen=True)
class Boundaries:
    """The messages that now begin the talk, begin its Q&A and end it (ids; None when unknown)."""

    start: int | None
    qa: int | None
    end: int | None


def talk_boundaries(*, share: Share, lines: list[Line]) -> Boundaries:
    """Where the talk begins, its Q&A begins and it ends, read from the day's ``lines``."""
    own = [line for line in lines if line.share is not None and line.share.pk == share.pk]
    talk = [line for line in own if line.part != TalkPart.QA]
    qa = [line for line in own if line.part == TalkPart.QA]
    return Boundaries(
        start=talk[0].message.pk if talk else None,
        qa=qa[0].message.pk if qa else None,
        end=own[-1].message.pk if own else None,
    )
