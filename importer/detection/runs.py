"""A day's messages as *runs*: stretches of one sender's messages that follow each other
closely (plain Python, no Django).

A talk is such a run. What tells a talk from the other long runs of a day (a busy
exchange, a pasted digest, a member answering questions) is its profile: how long and how
dense it is, how much of the stretch its sender holds, long texts, images and numbered
points, and how few of its messages answer somebody. Everything here is computed once per
day or once per candidate run, so detection stays linear in the number of messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from importer.transcript import RawMessage

from .cues import is_numbered, is_question, is_reply, is_sign_in, opening_strength, sign_off_kind

# Two messages of one sender belong to one run when at most RUN_MAX_GAP minutes and at most
# RUN_MAX_OTHERS substantive messages of others separate them.
RUN_MAX_GAP = 12
RUN_MAX_OTHERS = 3
# A run has at least this many messages.
RUN_MIN_MESSAGES = 3

# Weights of a message in a run, in characters: a text counts its length; an image or a file
# stands for an explained slide or a document.
IMAGE_WEIGHT = 120
FILE_WEIGHT = 300
OTHER_WEIGHT = 20
# A text of this many characters or more is a "long text" (a paragraph of a talk, not a chat line).
LONG_TEXT_CHARS = 50


_KIND_WEIGHT = {"image": IMAGE_WEIGHT, "file": FILE_WEIGHT}


class Day:
    """One day's messages with the per-message facts every step needs, computed once."""

    def __init__(self, messages: Sequence[RawMessage]):
        self.messages = messages
        minutes: list[float] = []
        sign_in: list[bool] = []
        substantive: list[bool] = []
        weights: list[int] = []
        # prefix[i]: substantive messages before index i (others between two indices in O(1)).
        prefix = [0]
        count = 0
        time_minutes: dict = {}
        for m in messages:
            t = m.time
            minute = time_minutes.get(t)
            if minute is None:
                minute = time_minutes[t] = t.hour * 60 + t.minute + t.second / 60
            minutes.append(minute)
            kind = m.kind
            if kind == "text":
                text = m.text
                signed = is_sign_in(text)
                useful = not signed and bool(text.strip("?？ "))
                weights.append(len(text))
            else:
                signed = False
                useful = kind != "sticker" and kind != "empty"
                weights.append(_KIND_WEIGHT.get(kind, OTHER_WEIGHT))
            sign_in.append(signed)
            substantive.append(useful)
            count += useful
            prefix.append(count)
        self.minutes = minutes
        self.sign_in = sign_in
        self.substantive = substantive
        self.weights = weights
        self.prefix = prefix
        self._sign_offs: dict[int, int] = {}
        self._openings: dict[int, int] = {}
        self._replies: dict[int, bool] = {}
        # Facts about runs, remembered by the steps that weigh a run more than once.
        self.memo: dict[tuple, object] = {}

    def __len__(self) -> int:
        return len(self.messages)

    def substantive_between(self, a: int, b: int) -> int:
        """Substantive messages strictly between indices ``a`` and ``b``."""
        return self.prefix[b] - self.prefix[a + 1] if b > a else 0

    def weight(self, i: int) -> int:
        return self.weights[i]

    def run(self, sender: str, indices: list[int], others: int, lead: list[int] | None = None) -> Run:
        weights = self.weights
        return Run(sender, indices, others, sum(weights[i] for i in indices), lead or [])

    def reply(self, i: int) -> bool:
        """Whether message ``i`` is addressed to someone (``cues.is_reply``), remembered."""
        found = self._replies.get(i)
        if found is None:
            msg = self.messages[i]
            found = self._replies[i] = msg.kind == "text" and is_reply(msg.text, msg.quote is not None)
        return found

    def opening(self, i: int) -> int:
        """``cues.opening_strength`` of message ``i`` (0 for anything but text), remembered."""
        found = self._openings.get(i)
        if found is None:
            msg = self.messages[i]
            found = self._openings[i] = opening_strength(msg.text) if msg.kind == "text" else 0
        return found

    def sign_off(self, i: int) -> int:
        """``cues.sign_off_kind`` of message ``i`` (0 for anything but text), remembered."""
        found = self._sign_offs.get(i)
        if found is None:
            msg = self.messages[i]
            found = self._sign_offs[i] = sign_off_kind(msg.text) if msg.kind == "text" else 0
        return found

    def names_of(self, i: int) -> tuple[str, ...]:
        """The names a message was sent under (two in a file merged from two phones)."""
        msg = self.messages[i]
        return (msg.sender, msg.alias) if msg.alias else (msg.sender,)


@dataclass
class Run:
    sender: str
    indices: list[int]
    others: int  # others' substantive messages between the run's messages
    weight: int  # its messages' weights summed (see the *_WEIGHT constants)
    # The sender's messages just before the run that were cut off as pre-talk chatter: they may
    # still hold the talk's opening words ("今天由我来分享…", then the host's go).
    lead: list[int] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.indices[0]

    @property
    def end(self) -> int:
        return self.indices[-1]

    @property
    def size(self) -> int:
        return len(self.indices)

    def after(self, day: Day, index: int) -> Run | None:
        """The part of the run after ``index`` (None when fewer than RUN_MIN_MESSAGES remain)."""
        if self.start > index:
            return self
        kept = [i for i in self.indices if i > index]
        if len(kept) < RUN_MIN_MESSAGES:
            return None
        return day.run(self.sender, kept, self.others)

    def head(self, count: int) -> list[int]:
        """The run's first ``count`` messages, after the chatter cut off before it."""
        return self.lead + self.indices[:count]


def find_runs(day: Day) -> list[Run]:
    """Every run of the day (any sender), in no particular order."""
    messages, minutes, substantive = day.messages, day.minutes, day.substantive
    by_sender: dict[str, list[int]] = {}
    for i, msg in enumerate(messages):
        if substantive[i]:
            by_sender.setdefault(msg.sender, []).append(i)
    found: list[Run] = []
    for sender, indices in by_sender.items():
        if len(indices) < RUN_MIN_MESSAGES:
            continue
        current = [indices[0]]
        others = 0
        for prev, i in zip(indices, indices[1:], strict=False):
            between = day.substantive_between(prev, i)
            if between <= RUN_MAX_OTHERS and minutes[i] - minutes[prev] <= RUN_MAX_GAP:
                current.append(i)
                others += between
            else:
                if len(current) >= RUN_MIN_MESSAGES:
                    found.append(day.run(sender, current, others))
                current, others = [i], 0
        if len(current) >= RUN_MIN_MESSAGES:
            found.append(day.run(sender, current, others))
    return found


@dataclass
class Profile:
    """What a run looks like, for telling a talk from other long runs."""

    size: int
    weight: int          # characters, images and files weighted (see the *_WEIGHT constants)
    heaviest: int        # weight of its heaviest message
    long_texts: int      # texts of LONG_TEXT_CHARS or more
    images: int
    numbered: int        # messages that open with a number or an ordinal ("2、", "第三部分", "其次")
    replies: int         # messages addressed to someone (quote, leading @mention)
    questions: int       # others' questions posted inside the run's stretch
    duration: float      # minutes from its first to its last message
    dominance: float     # its share of the substantive messages in its stretch
    burst: int           # most characters of text it posted within BURST_MINUTES


# The window in which ``Profile.burst`` counts characters (a paste arrives within it).
BURST_MINUTES = 1


def _burst(day: Day, run: Run) -> int:
    """Most characters of text the run posted within any BURST_MINUTES (two pointers: linear)."""
    texts = [i for i in run.indices if day.messages[i].kind == "text"]
    best = total = 0
    first = 0
    for i in texts:
        total += len(day.messages[i].text)
        while day.minutes[i] - day.minutes[texts[first]] > BURST_MINUTES:
            total -= len(day.messages[texts[first]].text)
            first += 1
        best = max(best, total)
    return best


def profile(day: Day, run: Run) -> Profile:
    messages = day.messages
    weights = [day.weights[i] for i in run.indices]
    long_texts = images = numbered = replies = 0
    for i in run.indices:
        msg = messages[i]
        if msg.kind == "image":
            images += 1
        elif msg.kind == "text":
            text = msg.text
            long_texts += len(text) >= LONG_TEXT_CHARS
            numbered += is_numbered(text)
            replies += day.reply(i)
    questions = sum(
        1 for i in range(run.start + 1, run.end)
        if day.substantive[i] and messages[i].sender != run.sender and messages[i].kind == "text"
        and is_question(messages[i].text)
    )
    return Profile(
        size=run.size,
        weight=sum(weights),
        heaviest=max(weights),
        long_texts=long_texts,
        images=images,
        numbered=numbered,
        replies=replies,
        questions=questions,
        duration=day.minutes[run.end] - day.minutes[run.start],
        dominance=run.size / (run.size + run.others),
        burst=_burst(day, run),
    )


# A run worth considering at all after an announcement (the announcement already says a talk
# is coming: a few long messages are enough, e.g. a short text and a document).
RELAXED_MIN_MESSAGES = 3
RELAXED_MIN_WEIGHT = 300
RELAXED_MIN_DOMINANCE = 0.4
# A run that looks like a talk on its own.
TALK_MIN_MESSAGES = 5
TALK_MIN_WEIGHT = 500
TALK_MIN_DOMINANCE = 0.55


def talk_like(day: Day, run: Run, *, relaxed: bool = False) -> bool:
    dominance = run.size / (run.size + run.others)
    if relaxed:
        return (run.size >= RELAXED_MIN_MESSAGES and dominance >= RELAXED_MIN_DOMINANCE
                and run.weight >= RELAXED_MIN_WEIGHT)
    return (run.size >= TALK_MIN_MESSAGES and dominance >= TALK_MIN_DOMINANCE
            and run.weight >= TALK_MIN_WEIGHT)
