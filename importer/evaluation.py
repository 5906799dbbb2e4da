"""The maintainers' talk write-ups as gold for talk detection (plain Python, no Django).

``../shared/corpus/curated/`` holds the write-ups the maintainers made by hand: a Jekyll post
each, whose title gives the talk's day and topic (``"20171221-二类户开立和注意事项"``; the
title's date wins over the file name's, and two write-ups can share a day). They cover the
talks of all three groups, while the corpus holds the transcripts of only some groups and
days, so a write-up counts as gold only when a transcript here shows its talk.

A transcript *shows* a write-up's talk when enough of the write-up's content is in it: the
write-ups were made from the chat, so their longer lines and their images (stored under the
moment they were sent, ``20180105_194512.png``) are found in the transcript of the day the
talk was given. That is evidence, computed, not a list kept by hand: a write-up of a talk
given in a group whose transcript is not here finds nothing (or a stray line quoted in
another group's chat).

Every write-up left out of the gold is listed with why: a day's discussion rather than a
talk (its title says so), no transcript of its day, or transcripts of its day that show
none of it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from importer.transcript import RawMessage

# A write-up's line counts as found when its first LINE_PREFIX characters (letters and
# digits only) are in the day's chat; lines shorter than LINE_MIN_CHARS prove nothing
# (headings, "Q：", "谢谢").
LINE_MIN_CHARS = 12
LINE_PREFIX = 25
# A transcript shows a write-up when at least this many of its lines are found in it (one
# line can be a quote of another group's talk pasted into the chat), or one of its images:
# an image is named after the second it was sent in the group, which no other chat shares.
SHOWN_MIN_LINES = 3
SHOWN_MIN_IMAGES = 1
# The talk may have been given the day after (or before) the write-up's date.
ADJACENT_DAYS = 1

_TITLE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.MULTILINE)
_TAG = re.compile(r"^tag:\s*\[(\w+)\]", re.MULTILINE)
_TITLE_DATE = re.compile(r"(\d{8})\s*[-—：:]?\s*(?:专题[：:])?\s*(.*)")
# Titles of write-ups that are a day's discussion, not a talk: "交流记录和专题", "聊天记录…未整理版",
# or a list of the day's topics ending in "等".
_NOT_A_TALK = re.compile(r"交流记录|聊天记录|未整理")
_IMAGE_STAMP = re.compile(r"(20\d{6}_\d{6})")
_MARKDOWN_NOISE = re.compile(r"!\[[^\]]*\]\([^)]*\)|\]\(\S+\)|https?://\S+")
_NOT_WORD = re.compile(r"[\W_]+")


def _letters(text: str) -> str:
    return _NOT_WORD.sub("", text).casefold()


@dataclass(frozen=True)
class WriteUp:
    path: Path
    day: datetime.date
    topic: str
    title: str
    tag: str
    lines: tuple[str, ...]
    images: frozenset[str]

    @property
    def is_talk(self) -> bool:
        return not (_NOT_A_TALK.search(self.title) or self.topic.endswith("等"))

    @property
    def name(self) -> str:
        return self.path.name


def read_write_up(path: Path) -> WriteUp | None:
    """A curated write-up, or None when its title carries no date."""
    text = path.read_text(encoding="utf-8")
    title_match = _TITLE.search(text)
    if title_match is None:
        return None
    title = title_match.group(1).strip()
    m = _TITLE_DATE.match(title)
    if m is None:
        return None
    try:
        day = datetime.datetime.strptime(m.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    tag = _TAG.search(text)
    parts = text.split("---", 2)
    body = parts[2] if len(parts) == 3 else text
    lines = []
    for line in body.splitlines():
        letters = _letters(_MARKDOWN_NOISE.sub("", line))
        if len(letters) >= LINE_MIN_CHARS:
            lines.append(letters[:LINE_PREFIX])
    return WriteUp(path=path, day=day, topic=m.group(2).strip(), title=title,
                   tag=tag.group(1) if tag else "", lines=tuple(lines),
                   images=frozenset(_IMAGE_STAMP.findall(body)))


def read_write_ups(curated_dir: Path) -> list[WriteUp]:
    """Every write-up of the folder whose title has a date, ordered by day, then file name."""
    found = [read_write_up(path) for path in sorted(Path(curated_dir).glob("*.markdown"))]
    return sorted((w for w in found if w is not None), key=lambda w: (w.day, w.name))


@dataclass(frozen=True)
class DayText:
    """What a write-up is compared with: one group's day, as letters and image stamps."""

    group: str
    day: datetime.date
    letters: str
    images: frozenset[str]


def day_text(group: str, day: datetime.date, messages: Iterable[RawMessage]) -> DayText:
    texts, stamps = [], set()
    for message in messages:
        texts.append(message.text)
        if message.quote is not None:
            texts.append(message.quote.text)
        stamps.update(_IMAGE_STAMP.findall(message.url))
    return DayText(group, day, _letters("".join(texts)), frozenset(stamps))


@dataclass(frozen=True)
class Evidence:
    group: str
    day: datetime.date
    lines_found: int
    images_found: int

    @property
    def shows(self) -> bool:
        return self.lines_found >= SHOWN_MIN_LINES or self.images_found >= SHOWN_MIN_IMAGES

    def __str__(self) -> str:
        return f"{self.group} {self.day}: {self.lines_found} lines, {self.images_found} images"


def write_up_evidence(write_up: WriteUp, days: Mapping[datetime.date, list[DayText]], *,
                      window: int | None = ADJACENT_DAYS) -> list[Evidence]:
    """How much of the write-up each transcript of its day and the ``window`` days beside it
    holds (``window=None``: every day of ``days``)."""
    if window is None:
        chosen = sorted(days)
    else:
        chosen = [write_up.day + datetime.timedelta(days=offset) for offset in range(-window, window + 1)]
    evidence = []
    for day in chosen:
        for text in days.get(day, []):
            evidence.append(Evidence(
                group=text.group, day=day,
                lines_found=sum(1 for line in write_up.lines if line in text.letters),
                images_found=len(write_up.images & text.images),
            ))
    return evidence


@dataclass(frozen=True)
class GoldTalk:
    write_up: WriteUp
    group: str
    evidence: Evidence

    @property
    def day(self) -> datetime.date:
        return self.write_up.day


@dataclass(frozen=True)
class LeftOut:
    write_up: WriteUp
    reason: str


def gold_talks(write_ups: Iterable[WriteUp], days: Mapping[datetime.date, list[DayText]]
               ) -> tuple[list[GoldTalk], list[LeftOut]]:
    """The write-ups whose talk a transcript here shows (with the group whose transcript shows
    it best), and every other write-up with the reason it is left out."""
    gold: list[GoldTalk] = []
    left_out: list[LeftOut] = []
    for write_up in write_ups:
        if not write_up.is_talk:
            left_out.append(LeftOut(write_up, f"a day's discussion, not a talk (title {write_up.title!r})"))
            continue
        evidence = write_up_evidence(write_up, days)
        if not evidence:
            left_out.append(LeftOut(write_up, f"no transcript of {write_up.day} or the days beside it"))
            continue
        best = max(evidence, key=lambda e: (e.shows, e.day == write_up.day, e.lines_found + e.images_found))
        if not best.shows:
            seen = "; ".join(str(e) for e in evidence)
            elsewhere = [str(e) for e in write_up_evidence(write_up, days, window=None) if e.shows]
            left_out.append(LeftOut(
                write_up, f"no transcript of its day shows the talk ({len(write_up.lines)} lines, "
                          f"{len(write_up.images)} images in the write-up; found: {seen})"
                          + (f"; shown on another day: {', '.join(elsewhere)}" if elsewhere else "")))
            continue
        gold.append(GoldTalk(write_up, best.group, best))
    return gold, left_out
