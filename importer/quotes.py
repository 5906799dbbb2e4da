"""Quotes as evidence of identity: which message a quote quotes, and so who sent it (plain Python).

A WeChat reply shows the message it answers as ``「NAME：TEXT」`` (``importer.transcript.Quote``;
the other export formats carry the same pair as ``quotedSender``/``quotedContent``,
``[引用 NAME：TEXT]`` or ``引用：NAME: TEXT``). NAME is the name the replier's phone showed for
the quoted person, often not the name the transcript's headers show for them: the quote ties the
two names to one person, once the quoted message is found. It is looked for among the messages
sent before the quote, up to ``QUOTE_LOOKBACK`` earlier, by what is left of the texts once
everything but letters and digits is dropped (whitespace, punctuation, WeChat's bracketed emoji
codes ``[微笑]``, and the ``?``/``??`` the export left of real emoji):

* the same letters: the quoted message (``QUOTE_EXACT``);
* the quote's letters inside the message's, from ``QUOTE_CUT_MIN_LETTERS`` letters on: a quote cut
  short, or the message with something the quote lost (``QUOTE_CUT``);
* a quote of an image (``[图片]``) is of an image sent at most ``QUOTE_MEDIA_WINDOW`` before; a quote
  of a link (``[链接] TITLE``, its title or its URL) of a link with that title or URL (``QUOTE_MEDIA``).

Only the best kind of match counts, and only when all the messages that match that well were
sent by one member: a text two people posted (a repost of an announcement, ``好的``) proves
nothing, and neither does an image when two members posted images just before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property

# A quote is of a message sent at most this long before it (WeChat lets one reply to older
# messages, but the groups reply within days).
QUOTE_LOOKBACK = dt.timedelta(days=7)
# A quote of an image (the quote shows only ``[图片]``) is of an image sent at most this long before.
QUOTE_MEDIA_WINDOW = dt.timedelta(minutes=30)
# A quote matched by containment (cut short, or emoji lost) needs at least this many letters or
# digits: fewer are found in too many unrelated messages.
QUOTE_CUT_MIN_LETTERS = 6
# Stored messages are looked up by a stretch of the quote's text with no blank and no ``?`` in it
# (the parts that survive the export's changes), at most this many characters long.
QUOTE_PROBE_CHARS = 12
QUOTE_PROBE_MIN_CHARS = 2

QUOTE_EXACT, QUOTE_CUT, QUOTE_MEDIA = 3, 2, 1

_EMOJI_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]")
_NOT_LETTER = re.compile(r"[\W_]+")
_MEDIA = re.compile(r"\[(?:图片|动画表情|表情|视频|image|photo|picture)\]", re.IGNORECASE)
_LINK = re.compile(r"\[(?:链接|link)\]\s*", re.IGNORECASE)
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.[\w-]+\.\S+", re.IGNORECASE)
_PROBE_SPLIT = re.compile(r"[\s?？]+")


def letters(text: str) -> str:
    """What a quote and a message are compared on: letters and digits, casefolded, without WeChat's
    bracketed emoji codes."""
    if "[" in text:
        text = _EMOJI_CODE.sub("", text)
    return _NOT_LETTER.sub("", text).casefold()


@dataclass(frozen=True)
class Candidate:
    """A message a quote may be of: when, its sender (a member id), kind, text and link."""

    moment: dt.datetime
    sender: Hashable
    kind: str
    text: str
    url: str
    letters: str = ""

    @classmethod
    def of(cls, moment: dt.datetime, sender: Hashable, kind: str, text: str, url: str) -> Candidate:
        return cls(moment, sender, kind, text, url, letters(text))


@dataclass(frozen=True)
class Wanted:
    """A quote to find: the quoted name and text, and when the reply was sent."""

    name: str
    text: str
    moment: dt.datetime

    @cached_property
    def media(self) -> bool:
        return _MEDIA.fullmatch(self.text.strip()) is not None

    @cached_property
    def url(self) -> str:
        m = _URL.search(self.text)
        return m.group(0) if m else ""

    @cached_property
    def letters(self) -> str:
        return letters(_LINK.sub("", self.text))

    def probe(self) -> str:
        """A stretch of the quote's text that a stored message it quotes holds as it is ("" for none)."""
        text = _LINK.sub("", self.text).strip()
        if self.media or not text:
            return ""
        longest = max(_PROBE_SPLIT.split(text), key=len)
        return longest[:QUOTE_PROBE_CHARS] if len(longest) >= QUOTE_PROBE_MIN_CHARS else ""


def match(wanted: Wanted, candidate: Candidate, quoted: str | None = None) -> int:
    """How well ``candidate`` matches the quote: ``QUOTE_EXACT``, ``QUOTE_CUT``, ``QUOTE_MEDIA``, or 0.
    ``quoted``: the quote's letters, when already computed."""
    if not (wanted.moment - QUOTE_LOOKBACK <= candidate.moment <= wanted.moment):
        return 0
    if wanted.media:
        return QUOTE_MEDIA if (candidate.kind == "image"
                               and candidate.moment >= wanted.moment - QUOTE_MEDIA_WINDOW) else 0
    url = wanted.url
    if url and candidate.url and (candidate.url == url or candidate.url.startswith(url.rstrip(".…"))):
        return QUOTE_MEDIA if candidate.kind == "link" else QUOTE_CUT
    quoted = wanted.letters if quoted is None else quoted
    if not quoted or not candidate.letters:
        return 0
    if candidate.letters == quoted:
        return QUOTE_EXACT
    if len(quoted) >= QUOTE_CUT_MIN_LETTERS and quoted in candidate.letters:
        return QUOTE_CUT
    return 0


@dataclass(frozen=True)
class Found:
    """The quote's message: its sender, and the message itself (None: not found, or ambiguous)."""

    sender: Hashable | None
    message: Candidate | None
    ambiguous: bool = False


def quoted_message(wanted: Wanted, candidates: Iterable[Candidate]) -> Found:
    """The message ``wanted`` quotes among ``candidates`` (messages sent before it): the latest of
    the best matches, when one member sent them all."""
    quoted = wanted.letters
    best, found = 0, []
    for candidate in candidates:
        rank = match(wanted, candidate, quoted)
        if rank > best:
            best, found = rank, [candidate]
        elif rank and rank == best:
            found.append(candidate)
    if not found:
        return Found(None, None)
    senders = {c.sender for c in found}
    if len(senders) != 1 or None in senders:
        return Found(None, None, ambiguous=True)
    latest = max(found, key=lambda c: c.moment)
    return Found(latest.sender, latest)


def quotes_of(quote) -> list:
    """A reply's quotes: its own and, when it quotes a reply, that reply's (``Quote.inner``) and so on."""
    found = []
    while quote is not None and len(found) < 5:
        found.append(quote)
        quote = quote.inner
    return found

