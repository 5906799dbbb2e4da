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
from dataclasses import dataclass

from importer.transcript import RawMessage

from .cues import is_numbered, is_question, is_reply, is_sign_in

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


class Day:
    """One day's messages with the per-message facts every step needs, computed once."""

    def __init__(self, messages: Sequence[RawMessage]):
        self.messages = messages
        self.minutes = [m.time.hour * 60 + m.time.minute + m.time.second / 60 for m in messages]
        self.sign_in = [m.kind == "text" and is_sign_in(m.text) for m in messages]
        self.substantive = [
            m.kind not in ("sticker", "empty") and not (m.kind == "text" and (signed or not m.text.strip("?？ ")))
            for m, signed in zip(messages, self.sign_in, strict=True)
        ]
        # prefix[i]: substantive messages before index i (others between two indices in O(1)).
        prefix = [0]
        for flag in self.substantive:
            prefix.append(prefix[-1] + flag)
        self.prefix = prefix

    def __len__(self) -> int:
        return len(self.messages)

    def substantive_between(self, a: int, b: int) -> int:
        """Substantive messages strictly between indices ``a`` and ``b``."""
        return self.prefix[b] - self.prefix[a + 1] if b > a else 0

    def weight(self, i: int) -> int:
        msg = self.messages[i]
        if msg.kind == "text":
            return len(msg.text)
        if msg.kind == "image":
            return IMAGE_WEIGHT
        if msg.kind == "file":
            return FILE_WEIGHT
        return OTHER_WEIGHT

    def names_of(self, i: int) -> tuple[str, ...]:
        """The names a message was sent under (two in a file merged from two phones)."""
        msg = self.messages[i]
        return (msg.sender, msg.alias) if msg.alias else (msg.sender,)


@dataclass
class Run:
    sender: str
    indices: list[int]
    others: int  # others' substantive messages between the run's messages

    @property
    def start(self) -> int:
        return self.indices[0]

    @property
    def end(self) -> int:
        return self.indices[-1]

    @property
    def size(self) -> int:
        return len(self.indices)

    def after(self, index: int) -> Run | None:
        """The part of the run after ``index`` (None when fewer than RUN_MIN_MESSAGES remain)."""
        if self.start > index:
            return self
        kept = [i for i in self.indices if i > index]
        if len(kept) < RUN_MIN_MESSAGES:
            return None
        return Run(self.sender, kept, self.others)


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
                    found.append(Run(sender, current, others))
                current, others = [i], 0
        if len(current) >= RUN_MIN_MESSAGES:
            found.append(Run(sender, current, others))
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


def weight_of(day: Day, run: Run) -> int:
    return sum(day.weight(i) for i in run.indices)


def profile(day: Day, run: Run) -> Profile:
    messages = day.messages
    weights = [day.weight(i) for i in run.indices]
    long_texts = images = numbered = replies = 0
    for i in run.indices:
        msg = messages[i]
        if msg.kind == "image":
            images += 1
        elif msg.kind == "text":
            text = msg.text
            long_texts += len(text) >= LONG_TEXT_CHARS
            numbered += is_numbered(text)
            replies += is_reply(text, msg.quote is not None)
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
                and weight_of(day, run) >= RELAXED_MIN_WEIGHT)
    return (run.size >= TALK_MIN_MESSAGES and dominance >= TALK_MIN_DOMINANCE
            and weight_of(day, run) >= TALK_MIN_WEIGHT)
