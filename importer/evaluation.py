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

Against that gold the detector (``importer.detection``) is measured on the corpus, each
measure a function here so that the tests and a command print the same figures:

* ``recall``: write-ups with a share on their title's day in their group (strict), with the
  share's own messages showing the write-up (matched), or on a day beside it (adjacent);
* ``recall`` on ``without_announcements`` days: the same with every announcement removed,
  as if nobody had announced the talks (the detector must then find them by their frame);
* ``topic_agreement``: the topic of the write-up's share against the write-up's title;
* ``announced_talks``: every announcement of the standard form (found by a regular
  expression of its own, ``STANDARD_ANNOUNCEMENT``, independent of the detector) with the
  share the detector made of it, and whether its speaker is the member a reader of the
  transcript saw give the talk (``SPEAKER_READINGS``);
* ``extras``: the shares on days without a write-up, each with the verdict of a reader
  (``EXTRA_VERDICTS``: a real talk that was not written up, or false);
* ``sign_in_summary``: the sign-ins counted per group.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from importer.detection import DetectedTalk, detect_shares
from importer.detection.cues import bigrams, names_match
from importer.transcript import RawMessage, read_transcript

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


# --- the detector on the corpus -------------------------------------------------------------

GROUPS = ("proddev", "prodarch")


@dataclass(frozen=True)
class CorpusDay:
    group: str
    day: datetime.date
    messages: Sequence[RawMessage]
    author_hint: str = ""


def read_corpus(corpus_dir: Path, groups: Sequence[str] = GROUPS) -> list[CorpusDay]:
    """Every transcript of the groups' folders, parsed, in order of group and day."""
    days = []
    for group in groups:
        for path in sorted((Path(corpus_dir) / group).glob("*.markdown")):
            transcript = read_transcript(path)
            days.append(CorpusDay(group, transcript.day, transcript.messages, transcript.author_hint))
    return days


def day_texts(corpus: Iterable[CorpusDay]) -> dict[datetime.date, list[DayText]]:
    texts: dict[datetime.date, list[DayText]] = {}
    for c in corpus:
        texts.setdefault(c.day, []).append(day_text(c.group, c.day, c.messages))
    return texts


Found = dict[tuple[str, datetime.date], list[DetectedTalk]]


def detect_corpus(corpus: Iterable[CorpusDay]) -> Found:
    """The shares the detector finds on every day."""
    return {(c.group, c.day): detect_shares(c.messages, author_hint=c.author_hint) for c in corpus}


def prepare_corpus(corpus: Iterable[CorpusDay],
                   prepare: Callable[[Sequence[RawMessage]], Sequence[RawMessage]]) -> list[CorpusDay]:
    """The corpus with every day's messages changed by ``prepare`` (``without_announcements``)."""
    return [CorpusDay(c.group, c.day, prepare(c.messages), c.author_hint) for c in corpus]


def delivered(found: Found) -> Found:
    return {key: [t for t in talks if t.delivered] for key, talks in found.items()}


def similar(topic: str, title: str) -> bool:
    """A topic like a title: at least two pairs of characters in common."""
    return len(bigrams(topic) & bigrams(title)) >= 2


# A share *shows* a write-up when the write-up's lines or images are among the share's own
# messages (its talk and Q&A), as a day shows it (``Evidence.shows``).
def share_text(group: str, day: datetime.date, messages: Sequence[RawMessage], talk: DetectedTalk) -> DayText:
    return day_text(group, day, messages[talk.start_index:talk.qa_end_index + 1])


def share_shows(write_up: WriteUp, text: DayText) -> bool:
    lines = sum(1 for line in write_up.lines if line in text.letters)
    return lines >= SHOWN_MIN_LINES or len(write_up.images & text.images) >= SHOWN_MIN_IMAGES


@dataclass
class Recall:
    group: str
    gold: list[GoldTalk] = field(default_factory=list)
    strict: list[GoldTalk] = field(default_factory=list)     # a share on the title's day
    matched: list[GoldTalk] = field(default_factory=list)    # ... whose own messages show the write-up
    adjacent: list[GoldTalk] = field(default_factory=list)   # strict, or a share on a day beside it

    @property
    def missed(self) -> list[GoldTalk]:
        return [g for g in self.gold if g not in self.strict]

    def line(self) -> str:
        n = len(self.gold) or 1
        return (f"{self.group}: strict {len(self.strict)}/{len(self.gold)} ({len(self.strict) / n:.0%}), "
                f"the write-up's own share {len(self.matched)}/{len(self.gold)}, "
                f"with a day beside {len(self.adjacent)}/{len(self.gold)}; missed: "
                + (", ".join(f"{g.day} {g.write_up.topic}" for g in self.missed) or "none"))


def recall(gold: Sequence[GoldTalk], found: Found, corpus: Iterable[CorpusDay]) -> dict[str, Recall]:
    """Per group (and ``"all"``), the write-ups found: strict, matched and adjacent (a share on
    the day before or after that has no write-up of its own or whose topic is like the title)."""
    messages = {(c.group, c.day): c.messages for c in corpus}
    gold_days = {(g.group, g.day) for g in gold}
    result = {group: Recall(group) for group in sorted({g.group for g in gold})}
    result["all"] = Recall("all")
    for g in gold:
        talks = [t for t in found.get((g.group, g.day), []) if t.delivered]
        hits = [result[g.group], result["all"]]
        for r in hits:
            r.gold.append(g)
        if talks:
            for r in hits:
                r.strict.append(g)
                r.adjacent.append(g)
            if any(share_shows(g.write_up, share_text(g.group, g.day, messages[g.group, g.day], t)) for t in talks):
                for r in hits:
                    r.matched.append(g)
            continue
        for near in (g.day - datetime.timedelta(days=1), g.day + datetime.timedelta(days=1)):
            others = [t for t in found.get((g.group, near), []) if t.delivered]
            if any((g.group, near) not in gold_days or similar(t.topic, g.write_up.topic) for t in others):
                for r in hits:
                    r.adjacent.append(g)
                break
    return result


def topic_agreement(gold: Sequence[GoldTalk], found: Found, corpus: Iterable[CorpusDay]
                    ) -> list[tuple[GoldTalk, DetectedTalk, bool]]:
    """For each write-up with a share on its day: the share whose messages show it (else the
    day's first), and whether its topic is like the write-up's title."""
    messages = {(c.group, c.day): c.messages for c in corpus}
    pairs = []
    for g in gold:
        talks = [t for t in found.get((g.group, g.day), []) if t.delivered]
        if not talks:
            continue
        own = [t for t in talks if share_shows(g.write_up, share_text(g.group, g.day, messages[g.group, g.day], t))]
        talk = (own or talks)[0]
        pairs.append((g, talk, similar(talk.topic, g.write_up.topic)))
    return pairs


# --- announcements of the standard form ----------------------------------------------------------

# "今天请到一位朋友，@NAME 给大家做分享，主题是“TOPIC” 开始时间为【19:30】" with its variants of
# spaces, quotes and brackets; written here, apart from the detector's own patterns. The one
# regular expression of the standard form: the corpus report (``benchmarks.corpus_report``) uses it
# too. NAME ends at the export's "?" or at a blank before the honorific or "给大家"; it may hold two
# blanks ("@LS电商 广州 Feng").
STANDARD_ANNOUNCEMENT = re.compile(
    r"今[天晚]\S{0,3}请到[^@]{0,30}@(?P<mention>[^@?？\s]+?(?:\s(?!童鞋|同学|给大家|老师)[^@?？\s]+?){0,2})"
    r"(?=\?|？|\s|童鞋|同学|给大家)"
    r".{0,30}?分享.{0,12}?主题(?:内容)?(?:是|为)?\s*[“\"]?\s*(?P<topic>.+?)\s*[”\"]?\s*[，,。；;]?\s*"
    r"开始时间(?:为|是)?\s*[【\[]?\s*(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})"
)


@dataclass
class AnnouncedTalk:
    group: str
    day: datetime.date
    index: int                   # the (last) post of the announcement
    mention: str
    topic: str
    start: datetime.time
    share: DetectedTalk | None   # the detector's share for it
    reading: str = ""            # "right", "wrong" or "" (no reading)
    actual: str = ""             # the speaker a reader saw give the talk


def standard_announcements(messages: Sequence[RawMessage]) -> list[tuple[int, str, str, datetime.time]]:
    """(index, mention, topic, start) of each announcement of the standard form, one per mentioned
    name (a repost or correction replaces the earlier post)."""
    found: dict[str, tuple[int, str, str, datetime.time]] = {}
    for i, msg in enumerate(messages):
        if msg.kind != "text" or "请到" not in msg.text:
            continue
        m = STANDARD_ANNOUNCEMENT.search(msg.text)
        if m is None:
            continue
        try:
            start = datetime.time(int(m.group("hour")), int(m.group("minute")))
        except ValueError:
            continue
        mention = m.group("mention").strip()
        key = next((k for k in found if names_match(k, mention)), mention)
        found.pop(key, None)
        found[mention] = (i, mention, m.group("topic").strip(), start)
    return sorted(found.values())


# Readings of the transcripts: for each announced talk (group, day, announced start), the moment
# (HH:MM:SS) of a message that the member who actually gave the talk posted in it -- so the check
# names nobody. Read by hand: the announcement, who started presenting at (or, postponed, after)
# the announced time, their opening, and, where the header name differs from the @mentioned
# one, what ties the two (a self-introduction, the host's welcome, later @mentions of the speaker
# under the announced name). A talk announced but not given that day would read "".
SPEAKER_READINGS: dict[tuple[str, str, str], str] = {
    ("proddev", "2017-07-05", "19:30"): "19:30:51",
    ("proddev", "2017-07-06", "19:30"): "19:27:14",
    ("proddev", "2017-07-11", "19:30"): "19:27:56",
    ("proddev", "2017-07-13", "19:30"): "19:21:37",
    ("proddev", "2017-07-14", "19:00"): "19:01:29",
    ("proddev", "2017-07-18", "19:00"): "19:03:47",
    ("proddev", "2017-07-19", "19:30"): "19:29:18",
    ("proddev", "2017-07-22", "19:30"): "19:29:59",
    ("proddev", "2017-07-24", "19:30"): "19:36:18",
    ("proddev", "2017-07-25", "19:30"): "19:30:26",
    ("proddev", "2017-07-26", "19:00"): "19:00:14",
    ("proddev", "2017-07-27", "19:30"): "19:29:45",
    ("proddev", "2017-07-28", "21:30"): "21:30:36",
    ("proddev", "2017-07-31", "19:30"): "21:30:59",
    ("proddev", "2017-08-01", "20:30"): "20:29:48",
    ("proddev", "2017-08-02", "20:30"): "20:32:07",
    ("proddev", "2017-08-03", "18:00"): "18:02:20",
    ("proddev", "2017-08-04", "20:00"): "19:59:50",
    ("proddev", "2017-08-07", "20:00"): "20:00:44",
    ("proddev", "2017-08-08", "17:00"): "16:59:40",
    ("proddev", "2017-08-09", "19:30"): "19:41:16",
    ("proddev", "2017-08-10", "19:30"): "19:16:01",
    ("proddev", "2017-08-16", "21:30"): "21:31:42",
    ("proddev", "2017-08-17", "21:30"): "21:30:57",
    ("proddev", "2017-08-18", "21:30"): "21:29:44",
    ("proddev", "2017-08-29", "19:45"): "19:45:08",
    ("proddev", "2017-09-04", "21:30"): "21:31:32",
    ("proddev", "2017-09-07", "20:00"): "19:59:28",
    ("prodarch", "2017-12-18", "19:30"): "19:32:33",
    ("prodarch", "2017-12-21", "19:30"): "19:32:56",
    ("prodarch", "2017-12-22", "20:00"): "20:00:52",
    ("prodarch", "2017-12-23", "19:30"): "19:39:16",
    ("prodarch", "2017-12-27", "19:30"): "19:30:03",
    ("prodarch", "2017-12-28", "19:30"): "19:28:42",
    ("prodarch", "2017-12-29", "19:30"): "19:31:08",
    ("prodarch", "2017-12-30", "18:35"): "18:37:02",
    ("prodarch", "2017-12-31", "19:30"): "19:27:50",
    ("prodarch", "2018-01-01", "19:30"): "19:30:23",
    ("prodarch", "2018-01-03", "18:10"): "18:11:21",
    ("prodarch", "2018-01-04", "17:30"): "17:18:56",
    ("prodarch", "2018-01-05", "18:00"): "18:00:19",
    ("prodarch", "2018-01-06", "18:00"): "18:00:12",
    ("prodarch", "2018-01-07", "19:30"): "19:31:27",
    ("prodarch", "2018-01-08", "19:30"): "19:20:44",
    ("prodarch", "2018-01-09", "19:00"): "19:00:19",
    ("prodarch", "2018-01-11", "19:30"): "19:24:29",
    ("prodarch", "2018-01-12", "19:50"): "19:50:59",
    ("prodarch", "2018-01-13", "19:30"): "19:31:05",
    ("prodarch", "2018-01-14", "19:00"): "18:55:48",
    ("prodarch", "2018-01-15", "18:00"): "18:00:26",
    ("prodarch", "2018-01-16", "10:30"): "10:38:06",
    ("prodarch", "2018-01-17", "18:30"): "18:42:05",
    ("prodarch", "2018-01-18", "18:25"): "18:26:05",
    ("prodarch", "2018-01-20", "19:30"): "19:30:48",
    ("prodarch", "2018-01-21", "19:30"): "19:30:20",
    ("prodarch", "2018-01-22", "20:00"): "19:34:53",
    ("prodarch", "2018-01-24", "18:40"): "18:42:58",
    ("prodarch", "2018-01-25", "19:30"): "19:30:57",
    ("prodarch", "2018-01-27", "20:30"): "20:31:22",
    ("prodarch", "2018-01-28", "19:30"): "19:28:34",
    ("prodarch", "2018-01-29", "19:30"): "19:23:44",
    ("prodarch", "2018-01-30", "18:40"): "20:41:11",
    ("prodarch", "2018-01-31", "20:30"): "20:32:03",
}


def announced_talks(corpus: Iterable[CorpusDay], found: Found,
                    readings: Mapping[tuple[str, str, str], str] = SPEAKER_READINGS) -> list[AnnouncedTalk]:
    """Every standard announcement with the share the detector made of it and, where a reading
    exists, whether the share's speaker is the one who gave the talk."""
    result = []
    for c in corpus:
        shares = found.get((c.group, c.day), [])
        for index, mention, topic, start in standard_announcements(c.messages):
            share = next((s for s in shares if s.first_announcement_index is not None
                          and s.first_announcement_index <= index <= s.announcement_index), None)
            if share is None:
                share = next((s for s in shares if s.speaker_mention and names_match(s.speaker_mention, mention)), None)
            talk = AnnouncedTalk(c.group, c.day, index, mention, topic, start, share)
            key = (c.group, c.day.isoformat(), start.isoformat()[:5])
            if key in readings:
                moment = readings[key]
                if not moment:
                    talk.actual = ""
                    talk.reading = "right" if share is not None and not share.delivered else "wrong"
                else:
                    senders = [m.sender for m in c.messages if m.time.isoformat() == moment]
                    talk.actual = senders[0] if senders else "?"
                    talk.reading = "right" if share is not None and share.delivered and \
                        share.speaker == talk.actual else "wrong"
            result.append(talk)
    return result


# --- shares on days without a write-up --------------------------------------------------------

# Readings of the transcripts: for each share found on a group's day without a write-up, a moment
# inside the share's talk (HH:MM), whether it is a real talk, and one line of evidence.
EXTRA_VERDICTS: dict[tuple[str, str], list[tuple[str, bool, str]]] = {
    ("proddev", "2017-06-17"): [("19:40", True, "unannounced evening talk on credit scoring: self-introduction, "
                                 "slides, a sign-off, members thank the speaker (its write-up is dated the day before)")],
    ("proddev", "2017-06-26"): [("19:50", True, "announced talk (host's call, sign-ins): 90 messages on adjustments "
                                 "and error handling, sign-off")],
    ("proddev", "2017-07-05"): [("19:40", True, "announced talk on card acquiring abroad: 120 messages with slides, "
                                 "sign-off")],
    ("proddev", "2017-07-11"): [("19:40", True, "announced talk on instalment loans for a wedding platform: opening, "
                                 "slides, sign-off, thanks")],
    ("proddev", "2017-07-13"): [("19:30", True, "announced talk on how type II bank accounts are used: long texts, "
                                 "sign-off, thanks")],
    ("proddev", "2017-07-19"): [("19:40", True, "announced talk on an accounting system: 100 messages with slides, "
                                 "sign-off")],
    ("proddev", "2017-07-24"): [("19:40", True, "announced talk on payment routing: self-introduction, parts one "
                                 "to three, sign-off")],
    ("proddev", "2017-07-25"): [("19:40", True, "announced talk on a hotel-booking transaction system: "
                                 "self-introduction, slides, sign-off")],
    ("proddev", "2017-07-28"): [("21:40", True, "announced talk (21:30) on maternity e-commerce; the write-up dated "
                                 "the day before is of this talk")],
    ("proddev", "2017-08-01"): [("20:40", True, "announced talk on fresh-food B2B commerce: opening, slides, "
                                 "sign-off")],
    ("proddev", "2017-08-04"): [("20:10", True, "announced talk on P2P custody accounts: opening, 49 messages, "
                                 "slides")],
    ("proddev", "2017-08-07"): [("20:10", True, "announced talk on refunds: self-introduction, outline, slides, "
                                 "sign-off, thanks")],
    ("proddev", "2017-08-09"): [("19:50", True, "announced talk on a payment engine: opening, 22 slides, thanks")],
    ("proddev", "2017-08-10"): [("19:20", True, "announced talk on banks' P2P platforms: numbered points, "
                                 "sign-off")],
    ("proddev", "2017-09-07"): [("20:10", True, "announced talk on a bank's payment system: opening, sign-off, "
                                 "thanks")],
    ("prodarch", "2017-12-22"): [("20:05", True, "announced talk on taxes in payments, given by the guest the host "
                                  "welcomes: long texts and a PDF, thanks")],
    ("prodarch", "2017-12-23"): [("19:45", True, "announced talk on idempotency and consistency: opening, slides, "
                                  "sign-off")],
    ("prodarch", "2018-01-18"): [("18:26", True, "announced talk on micro-loans: one long text and a flow chart, "
                                  "then an hour of the speaker's answers")],
    ("prodarch", "2018-01-22"): [("19:40", True, "announced talk given as a document the host linked; the speaker "
                                  "introduces it and answers questions")],
    ("prodarch", "2018-01-24"): [("18:50", True, "announced talk on payment-password design: the speaker introduces "
                                  "themselves as today's speaker, slides, sign-off")],
}


@dataclass
class Extra:
    group: str
    day: datetime.date
    talk: DetectedTalk
    start: datetime.time
    real: bool | None            # None: nobody has read it yet
    evidence: str = ""


def extras(gold: Sequence[GoldTalk], found: Found, corpus: Iterable[CorpusDay],
           verdicts: Mapping[tuple[str, str], list[tuple[str, bool, str]]] = EXTRA_VERDICTS) -> list[Extra]:
    """The talks found on group days without a write-up, each with its reader's verdict."""
    gold_days = {(g.group, g.day) for g in gold}
    result = []
    for c in corpus:
        if (c.group, c.day) in gold_days:
            continue
        for talk in found.get((c.group, c.day), []):
            if not talk.delivered:
                continue
            first = c.messages[talk.start_index].time
            last = c.messages[talk.end_index].time
            extra = Extra(c.group, c.day, talk, first, None)
            for moment, real, evidence in verdicts.get((c.group, c.day.isoformat()), []):
                if first.isoformat()[:5] <= moment <= last.isoformat()[:5]:
                    extra.real, extra.evidence = real, evidence
                    break
            result.append(extra)
    return result


# --- as if nobody had announced the talks -------------------------------------------------------

# The host's announcement of the day's talk, in any of its forms (a talk today, a guest or an
# invitation, sharing; or a start time for the sharing): removed by ``without_announcements``.
ANNOUNCEMENT_LIKE = re.compile(
    r"(?:今[天晚日]|晚上|今夜).{0,20}(?:请到|邀请|嘉宾|有请|由\s*@|是[^。！!？?]{1,16}做分享).{0,80}分享|"
    r"(?:今[天晚日]|晚上|今夜).{0,20}(?:由\s*@|是[^。！!？?]{1,16}做分享)|"
    r"分享预告|分享嘉宾|分享.{0,40}开始时间|开始时间.{0,40}分享"
)


def without_announcements(messages: Sequence[RawMessage]) -> list[RawMessage]:
    """The day's messages without the host's announcements (and their reposts and corrections)."""
    return [m for m in messages if not (m.kind == "text" and ANNOUNCEMENT_LIKE.search(m.text))]


# --- sign-ins -----------------------------------------------------------------------------------


def sign_in_summary(found: Found) -> dict[str, tuple[int, int, int]]:
    """Per group: (shares, shares with sign-ins, sign-ins)."""
    summary: dict[str, tuple[int, int, int]] = {}
    for (group, _), talks in found.items():
        shares, with_sign_ins, sign_ins = summary.get(group, (0, 0, 0))
        summary[group] = (shares + len(talks), with_sign_ins + sum(1 for t in talks if t.sign_ins),
                          sign_ins + sum(len(t.sign_ins) for t in talks))
    return summary
