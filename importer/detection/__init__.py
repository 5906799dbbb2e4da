"""Finding the day's shares (分享) and their sign-ins (签到) in one day's messages (plain Python).

How a talk shows in a transcript (see ``TRANSCRIPT_FORMAT.md``, "Talks inside a day"): an
admin may announce it (``今天请到一位朋友，@SPEAKER 给大家做分享，主题是“TOPIC” 开始时间为
【19:30】…``) or call for sign-ins and invite the speaker, or nobody does and a member simply
starts; members sign in, on call or on their own; the speaker posts a long run of messages,
often opening with a greeting and what they will share and closing with a sign-off; others
thank them and ask questions.

The detector works in four steps (``runs``: stretches of one sender's messages):

1. *Announced shares*: announcements (reposts and corrections folded into one, the last
   counts) give the topic, the start and the speaker's group nickname. The speaker is the
   sender of the run that best fits the announcement: one that starts at the announced time,
   opens like a talk, speaks of the announced topic, signs off -- the mentioned name is one
   more piece of evidence, not the rule, because speakers often write under another name.
   An announcement no run fits is a share announced but not given that day (``delivered``
   False).
2. *Unannounced talks*: a long run that holds its stretch (no busy exchange), is no pasted
   digest and no string of answers, and has a talk's frame -- the host's sign-in call or
   invitation, members signing in, an opening, an outline, a sign-off, others thanking the
   speaker -- weighed in points (``FRAME_POINTS`` and the constants below).
3. *Body*: a talk's first message (after the host's go), its last (the sign-off, or the end
   of the run; a pause of the speaker does not end it) and its topic (announcement, the
   speaker's opening, the host's words).
4. *Q&A and sign-ins*, once every talk of the day is known.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from importer.transcript import RawMessage

from . import cues
from .cues import Announcement, is_sign_in, names_alike, names_match
from .runs import LONG_TEXT_CHARS, Day, Run, find_runs, profile, talk_like

__all__ = ["DetectedTalk", "SignInHit", "detect_shares", "detect_talks", "is_sign_in"]


@dataclass
class SignInHit:
    sender: str
    index: int


# Where a talk's topic came from.
TOPIC_SOURCES = ("announcement", "opening", "host", "none")


@dataclass
class DetectedTalk:
    """A share of the day: a talk found in the messages, or one announced and not given.

    Indices are positions in the day's message list. A share announced but not given
    (``delivered`` False) has no speaker run: ``speaker`` is ``""`` and ``start_index``,
    ``end_index`` and ``qa_end_index`` are None; its sign-ins are those posted after the
    announcement."""

    speaker: str                      # the sender of the talk's run (header name)
    speaker_mention: str              # the name the announcement or the host's invitation @mentioned
    topic: str
    announced_start: datetime.time | None
    announcement_index: int | None    # the announcement that counts (the last repost or correction)
    start_index: int | None
    end_index: int | None
    qa_end_index: int | None
    interruption_indices: list[int] = field(default_factory=list)
    sign_ins: list[SignInHit] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    # Index of the first post of the announcement (reposts and corrections follow).
    first_announcement_index: int | None = None
    topic_source: str = "none"        # one of TOPIC_SOURCES
    host: str = ""                    # who announced it, called the sign-ins or invited the speaker
    delivered: bool = True


# --- tunables -------------------------------------------------------------------------------

QA_MAX_GAP = 45               # minutes: a longer silence ends the Q&A
SIGN_IN_LOOKBACK = 90         # minutes: a sign-in call or self sign-ins at most this long before a talk
LOOKBACK_SCAN = 400           # messages: the most a look back before a run reads, whatever the minutes
                              # (keeps detection linear on days packed with messages)
INVITATION_LOOKBACK = 15      # minutes: the host's go at most this long before the talk
THANKS_WINDOW = 20            # minutes after the talk in which others' thanks count as a reaction to it
THANKS_SCAN = 80              # messages scanned for those thanks at most
SAME_TALK_WINDOW = 120        # minutes: the same speaker's next run this soon is the same talk (its rest, Q&A)
TALK_PAUSE_MAX = 35           # minutes: a speaker's pause this short (a question, a break) does not end the talk
OPENING_SCAN = 3              # the talk's first messages that may hold its opening
TOPIC_SCAN = 6                # the talk's first texts that may hold its topic
OUTLINE_SCAN = 4              # the talk's first texts that may hold its outline
TRIM_SCAN = 5                 # the run's first messages that may still be pre-talk chatter
TRIM_PAUSE = 3                # minutes of silence before a restart ("我开始了") that cuts the chatter off

# Announced shares: points a run earns as the announced talk (the best run wins, ties go to
# the run closer to the announced start).
ON_TIME = 20                  # minutes either side of the announced start: "at the announced time"
NEAR_BEFORE, NEAR_AFTER = 45, 90   # minutes before/after the start: still near it
NO_START_WINDOW = 6 * 60      # minutes after an announcement without a start in which its talk is expected
ANNOUNCED_POINTS = {
    # timing: starts within ON_TIME of the announced start, near it, or well before it
    "on_time": 3, "near": 2, "early": -1,
    # evidence of being this talk: the sender is the mentioned member (or alike: a typo), the
    # run opens like a talk (an intent to present, or a greeting), speaks of the announced
    # topic, signs off, or follows the host's go
    "name": 3, "name_alike": 1, "opening_intent": 2, "greeting": 1, "topic": 2, "sign_off": 1, "go": 1,
    # and the rest: the announcer's own run (unless they are the one named), a run that looks
    # like a talk on its own, a run of answers (40% or more of it addressed to someone)
    "announcer": -3, "talk_like": 1, "answering": -1,
}
ANNOUNCED_MIN_POINTS = 3      # the best run must reach this, or the share was not given that day
# A run of the mentioned member counts as a candidate even when thinner than a talk (a few
# lines pointing to a document the host posted), from this weight on.
NAMED_MIN_WEIGHT = 150
TOPIC_MIN_SHARED_BIGRAMS = 2  # the opening speaks of the announced topic: this many character pairs in common
DOCUMENT_WINDOW = 60          # minutes after an announcement in which a posted file can be the talk

# Unannounced talks. Gates first: a run too short, too thin, too brief, shared with others or
# made of one pasted text is not a talk, whatever it says.
UNANNOUNCED_MIN_MESSAGES = 6   # messages in the run
UNANNOUNCED_MIN_WEIGHT = 400   # characters (images and files weighted, see ``runs``)
UNANNOUNCED_MIN_MINUTES = 3    # from its first to its last message
UNANNOUNCED_MIN_DOMINANCE = 0.5  # its share of the substantive messages in its stretch
HEAVIEST_MAX_SHARE = 0.6      # one message holding more of the weight is a pasted digest, not a talk
PASTE_BURST_CHARS = 2000      # characters within a minute (``Profile.burst``): more is a digest pasted in one
                              # go, not a talk typed or read out (the corpus' talks post at most about 1,200)
# Then points: the frame (what the host, the speaker and the others say around the run)...
FRAME_POINTS = {
    "sign_in_call": 2, "invitation": 2, "self_sign_ins": 1,
    "opening_intent": 2, "greeting": 1, "outline": 2, "sign_off": 2,
    "thanks": 1, "thanks_many": 2,
}
SELF_SIGN_INS_MIN = 3         # members signing in on their own before the run: at least this many
THANKS_MANY = 2               # distinct others thanking for the sharing: "thanks_many"
# ... and the content: a lecture (mostly long texts, or numbered points, or slides), size, and
# how much of its stretch the speaker holds (others keep quiet during a talk).
LECTURE_LONG_SHARE = 0.5      # a lecture: at least this share of the run's messages are long texts,
LECTURE_MIN_NUMBERED = 3      # or this many numbered points,
LECTURE_MIN_IMAGES = 3        # or this many slides (images)
BIG_MESSAGES, BIG_WEIGHT = 15, 1200             # "big": at least this many messages and this weight
VERY_BIG_MESSAGES, VERY_BIG_WEIGHT = 30, 2500   # "very_big", a sustained lecture: one more point
HOLDS_DOMINANCE = 0.8         # from this share of its stretch on, the run holds the floor: "holds"
SHARED_DOMINANCE = 0.6        # below this, the stretch is half an exchange: "shared"
CONTENT_POINTS = {"lecture": 1, "big": 1, "very_big": 1, "holds": 1, "shared": -1}
# Penalties: answering questions (others' questions or replies make up this share of the run),
# and the morning, when digests are posted and talks are rare.
ANSWERING_SHARE = 0.3         # others' questions inside the run, or its replies, per message of the run
ANSWERING_POINTS = -2
MORNING_BEFORE = 12 * 60      # minutes since midnight: a run starting earlier is in the morning
MORNING_POINTS = -2
UNANNOUNCED_MIN_FRAME = 2     # a talk needs a frame...
UNANNOUNCED_MIN_POINTS = 4    # ... and enough points in all


def detect_talks(messages: Sequence[RawMessage], *, author_hint: str = "") -> list[DetectedTalk]:
    """The talks given in one day's messages, in order of their start."""
    return [talk for talk in detect_shares(messages, author_hint=author_hint) if talk.delivered]


def detect_shares(messages: Sequence[RawMessage], *, author_hint: str = "") -> list[DetectedTalk]:
    """The day's shares: the talks given (``delivered``) and the talks announced but not given,
    in order of their start (of their announcement, for those not given)."""
    if not messages:
        return []
    day = Day(messages)
    all_runs = find_runs(day)
    by_sender: dict[str, list[Run]] = {}
    for run in sorted(all_runs, key=lambda r: r.start):
        by_sender.setdefault(run.sender, []).append(run)
    detector = _Detector(day, by_sender, author_hint)

    announcements = _announcements(day)
    not_given = detector.announced(announcements, all_runs)
    detector.unannounced(sorted(all_runs, key=lambda r: (-r.weight, r.start)))

    talks = sorted(detector.talks, key=lambda t: t.start_index)
    windows = _finish(day, talks)
    shares = talks + [_not_given(day, ann, talks, windows, announcements) for ann in not_given]
    shares.sort(key=lambda t: t.start_index if t.delivered else t.first_announcement_index)
    return shares


# --- announcements --------------------------------------------------------------------------


def _announcements(day: Day) -> list[Announcement]:
    """Announcements of the day, reposts and corrections folded into the last one."""
    found: list[Announcement] = []
    for i, msg in enumerate(day.messages):
        if msg.kind != "text" or "分享" not in msg.text:
            continue
        ann = cues.parse_announcement(i, msg.sender, msg.text, msg.mentions)
        if ann is None:
            continue
        if ann.start is not None and ann.start.hour < 12 and msg.time.hour >= 12 and ann.start < msg.time:
            # "大概8:30开始" posted in the evening: 20:30, not a time already past.
            ann.start = ann.start.replace(hour=ann.start.hour + 12)
        if found:
            last = found[-1]
            same = (ann.mention and last.mention and names_match(ann.mention, last.mention)) or (
                ann.topic and ann.topic == last.topic)
            if same or cues.CORRECTION.search(msg.text[:20]):
                ann.first_index = last.first_index
                ann.host = last.host
                ann.mention = ann.mention or last.mention
                ann.topic = ann.topic or last.topic
                ann.start = ann.start or last.start
                found[-1] = ann
                continue
        found.append(ann)
    return found


class _Detector:
    def __init__(self, day: Day, by_sender: dict[str, list[Run]], author_hint: str):
        self.day = day
        self.by_sender = by_sender
        self.author_hint = author_hint
        self.talks: list[DetectedTalk] = []
        self.used: list[tuple[int, int]] = []

    def free(self, run: Run) -> bool:
        return all(run.end < a or run.start > b for a, b in self.used)

    def add(self, talk: DetectedTalk) -> None:
        self.talks.append(talk)
        self.used.append((talk.start_index, talk.end_index))

    # -- announced ---------------------------------------------------------------------

    def announced(self, announcements: list[Announcement], all_runs: list[Run]) -> list[Announcement]:
        """Give each announcement its talk, best fits first; returns those left without one."""
        day = self.day
        pairs = []
        for k, ann in enumerate(announcements):
            topic_pairs = cues.bigrams(ann.topic)
            for run in all_runs:
                if run.end <= ann.index:
                    continue
                part = run.after(day, ann.first_index)
                if part is None or part.end <= ann.index:
                    continue
                if not talk_like(day, part, relaxed=True) and not (
                        part.weight >= NAMED_MIN_WEIGHT and ann.mention
                        and any(names_match(n, ann.mention) for n in day.names_of(part.start))):
                    continue
                part = _trim_start(day, part)
                points, distance = self._fit(ann, part, topic_pairs)
                if points >= ANNOUNCED_MIN_POINTS:
                    pairs.append((points, -distance, -part.start, k, part))
        pairs.sort(key=lambda p: p[:3], reverse=True)
        done: set[int] = set()
        for _, _, _, k, part in pairs:
            if k in done or not self.free(part):
                continue
            done.add(k)
            self.add(self._build(part, ["announcement"], announcements[k]))
        left = []
        for k, ann in enumerate(announcements):
            if k in done:
                continue
            document = _document(day, ann)
            if document is not None and self.free(document):
                self.add(self._build(document, ["announcement", "document"], ann))
            else:
                left.append(ann)
        return left

    def _fit(self, ann: Announcement, run: Run, topic_pairs: set[str]) -> tuple[int, float]:
        """Points of ``run`` as the talk of ``ann`` (whose topic has the character pairs
        ``topic_pairs``), and its distance (minutes) to the announced start. A run with no
        evidence of being this talk but its time (its sender named, a talk's opening, the
        topic, a sign-off, the host's go) gets no points: chatting at the announced time does
        not make a member the speaker, whose name the import will then take for theirs."""
        day = self.day
        start = day.minutes[run.start]
        timing = 0
        if ann.start is None:
            distance = start - day.minutes[ann.index]
            timing = ANNOUNCED_POINTS["near"] if distance <= NO_START_WINDOW else 0
        else:
            offset = start - (ann.start.hour * 60 + ann.start.minute)
            distance = abs(offset)
            if distance <= ON_TIME:
                timing = ANNOUNCED_POINTS["on_time"]
            elif -NEAR_BEFORE <= offset <= NEAR_AFTER:
                timing = ANNOUNCED_POINTS["near"]
            elif offset < -NEAR_BEFORE:
                timing = ANNOUNCED_POINTS["early"]
        evidence = 0
        names = day.names_of(run.start)
        named = bool(ann.mention) and any(names_match(n, ann.mention) for n in names)
        if named:
            evidence += ANNOUNCED_POINTS["name"]
        elif ann.mention and any(names_alike(n, ann.mention) for n in names):
            evidence += ANNOUNCED_POINTS["name_alike"]
        opening = max((day.opening(i) for i in run.head(OPENING_SCAN)), default=0)
        evidence += ANNOUNCED_POINTS["opening_intent"] if opening == 2 else ANNOUNCED_POINTS["greeting"] * opening
        on_topic = bool(topic_pairs) and len(
            topic_pairs & cues.bigrams("".join(_head_texts(day, run, TOPIC_SCAN)))) >= min(
            TOPIC_MIN_SHARED_BIGRAMS, len(topic_pairs))
        if on_topic:
            evidence += ANNOUNCED_POINTS["topic"]
        if _sign_off_at(day, run) is not None:
            evidence += ANNOUNCED_POINTS["sign_off"]
        if self._go_before(run, ann):
            evidence += ANNOUNCED_POINTS["go"]
        if not evidence or (timing <= 0 and not named and not on_topic):
            # Nothing but the time, or far from it with neither the name nor the topic.
            return 0, distance
        points = timing + evidence
        if run.sender == ann.host and not named:
            points += ANNOUNCED_POINTS["announcer"]
        if talk_like(day, run):
            points += ANNOUNCED_POINTS["talk_like"]
        key = ("replies", run.start, run.end, run.size)
        replies = day.memo.get(key)
        if replies is None:
            replies = day.memo[key] = sum(1 for i in run.indices if day.reply(i))
        if replies * 10 >= run.size * 4:
            points += ANNOUNCED_POINTS["answering"]
        return points, distance

    def _go_before(self, run: Run, ann: Announcement) -> bool:
        day, messages = self.day, self.day.messages
        start = day.minutes[run.start]
        speaker_names = [*day.names_of(run.start), ann.mention] if ann.mention else list(day.names_of(run.start))
        for i in range(run.start - 1, ann.index, -1):
            if start - day.minutes[i] > INVITATION_LOOKBACK:
                break
            msg = messages[i]
            if msg.sender != run.sender and msg.kind == "text" and (
                    cues.invites(msg.text, msg.mentions, speaker_names)
                    or cues.STOP_SIGN_IN.search(msg.text)):
                return True
        return False

    # -- unannounced -------------------------------------------------------------------

    def unannounced(self, candidates: list[Run]) -> None:
        day = self.day
        for run in candidates:
            # The gates of ``unannounced_points`` that need no profile, first: most runs stop here.
            if (run.size < UNANNOUNCED_MIN_MESSAGES or run.weight < UNANNOUNCED_MIN_WEIGHT
                    or run.size < (run.size + run.others) * UNANNOUNCED_MIN_DOMINANCE or not self.free(run)):
                continue
            run = _trim_start(day, run)
            previous = self._previous_talk_of(run)
            if previous is not None:
                # The same speaker again soon after their talk: its rest or its Q&A, not a new talk.
                continue
            verdict = _unannounced_verdict(day, run)
            if verdict is None:
                continue
            signals, host, invited = verdict
            talk = self._build(run, signals, None, host=host, invited=invited)
            self.add(talk)

    def _previous_talk_of(self, run: Run) -> DetectedTalk | None:
        minutes = self.day.minutes
        for talk in self.talks:
            if talk.speaker == run.sender and talk.end_index < run.start and \
                    minutes[run.start] - minutes[talk.end_index] <= SAME_TALK_WINDOW:
                return talk
        return None

    # -- the talk itself -------------------------------------------------------------------

    def _build(self, run: Run, signals: list[str], ann: Announcement | None, *, host: str = "",
               invited: str = "") -> DetectedTalk:
        day = self.day
        signals = list(signals)
        end, signed_off = self._body_end(run)
        if ann is not None:
            frame = _frame(day, run, end)
            signals += [s for s in frame.signals if s not in signals]
            host = ann.host
        if signed_off and "sign_off" not in signals:
            signals.append("sign_off")
        if self.author_hint and names_match(self.author_hint, run.sender):
            signals.append("author_hint")
        topic, source = "", "none"
        if ann is not None and ann.topic:
            topic, source = ann.topic, "announcement"
        if not topic:
            topic = cues.topic_from_opening(_head_texts(day, run, TOPIC_SCAN))
            source = "opening" if topic else "none"
        if not topic:
            topic = _host_topic(day, run, host)
            source = "host" if topic else "none"
        return DetectedTalk(
            speaker=run.sender,
            speaker_mention=ann.mention if ann is not None else invited,
            topic=topic,
            announced_start=ann.start if ann is not None else None,
            announcement_index=ann.index if ann is not None else None,
            start_index=run.start,
            end_index=end,
            qa_end_index=end,
            signals=signals,
            first_announcement_index=ann.first_index if ann is not None else None,
            topic_source=source,
            host=host,
        )

    def _body_end(self, run: Run) -> tuple[int, bool]:
        """The talk's last message, and whether a sign-off ends it. Without a sign-off, the
        speaker's next runs after a short pause are the rest of the talk when they still read
        like one (long texts, numbered points, slides) or end with a sign-off."""
        day = self.day
        found = _sign_off_found(day, run)
        if found is not None and found[1] == cues.SIGN_OFF_SHARING:
            return _closing_lines(day, run, found[0]), True
        # No sign-off closing the sharing yet: the talk may go on after a pause.
        end = run.end
        for later in self.by_sender.get(run.sender, []):
            if later.start <= end:
                continue
            if day.minutes[later.start] - day.minutes[end] > TALK_PAUSE_MAX or not self.free(later):
                break
            later_found = _sign_off_found(day, later)
            if later_found is not None and (later_found[1] == cues.SIGN_OFF_SHARING or found is None):
                return _closing_lines(day, later, later_found[0]), True
            if not _lecture(day, later):
                break
            end = later.end
        if found is not None:
            return _closing_lines(day, run, found[0]), True
        return end, False


def _head_texts(day: Day, run: Run, count: int) -> list[str]:
    """Texts among the run's first ``count`` messages (and the chatter cut off before them)."""
    messages = day.messages
    return [messages[i].text for i in run.head(count) if messages[i].kind == "text"]


def _sign_off_at(day: Day, run: Run) -> int | None:
    """Index of the run's sign-off, past its opening: the first that closes the sharing, else
    the last that closes the content (parts are closed on the way), else the first thanks to
    everyone in the run's second half."""
    found = _sign_off_found(day, run)
    return found[0] if found is not None else None


def _sign_off_found(day: Day, run: Run) -> tuple[int, int] | None:
    """(index, kind) of the run's sign-off (see ``_sign_off_at``); remembered per run, which
    every announcement of the day weighs again."""
    key = ("sign_off", run.start, run.end, run.size)
    if key not in day.memo:
        day.memo[key] = _find_sign_off(day, run)
    return day.memo[key]


def _find_sign_off(day: Day, run: Run) -> tuple[int, int] | None:
    indices = run.indices
    half = len(indices) // 2
    content = thanks = None
    for pos in range(2, len(indices)):
        kind = day.sign_off(indices[pos])
        if kind == cues.SIGN_OFF_SHARING:
            return indices[pos], kind
        if kind == cues.SIGN_OFF_CONTENT:
            content = indices[pos]
        elif kind == cues.SIGN_OFF_THANKS and pos >= half and thanks is None:
            thanks = indices[pos]
    if content is not None:
        return content, cues.SIGN_OFF_CONTENT
    return (thanks, cues.SIGN_OFF_THANKS) if thanks is not None else None


def _closing_lines(day: Day, run: Run, end: int) -> int:
    """Closing words often take a few more lines ("欢迎提问", "谢谢大家"), posted in a row
    right after the sign-off."""
    for j in run.indices:
        if j <= end:
            continue
        if j != end + 1 or day.minutes[j] - day.minutes[end] > 2:
            break
        end = j
    return end


def _lecture(day: Day, run: Run) -> bool:
    p = profile(day, run)
    return p.replies * 10 < p.size * 3 and (
        p.long_texts >= p.size * LECTURE_LONG_SHARE or p.numbered >= LECTURE_MIN_NUMBERED
        or p.images >= LECTURE_MIN_IMAGES)


def _trim_start(day: Day, run: Run) -> Run:
    """Drop the speaker's pre-talk lines ("可以开始了吗？", "稍等") before the host's go or
    before their own restart after a pause ("我开始了")."""
    messages, minutes = day.messages, day.minutes
    head = run.indices[:TRIM_SCAN]
    go = None
    for i in range(run.start + 1, head[-1]):
        msg = messages[i]
        if msg.sender != run.sender and msg.kind == "text" and len(msg.text) < 200 and (
                cues.INVITATION.search(msg.text) or cues.STOP_SIGN_IN.search(msg.text)
                or cues.is_announcement_like(msg.text)):
            go = i
    restart = None
    for pos in range(1, len(head)):
        i = head[pos]
        if day.opening(i) < 2:
            continue
        if minutes[i] - minutes[head[pos - 1]] < TRIM_PAUSE:
            continue
        if any(day.weight(j) >= LONG_TEXT_CHARS or messages[j].kind != "text" for j in head[:pos]):
            break  # real content before it: not chatter
        restart = i
    cut = max(go if go is not None else -1, restart - 1 if restart is not None else -1)
    if cut < 0:
        return run
    kept = [i for i in run.indices if i > cut]
    if len(kept) < 3:
        return run
    return day.run(run.sender, kept, run.others, lead=[i for i in run.indices if i <= cut][-TRIM_SCAN:])


@dataclass
class _Frame:
    signals: list[str]
    points: int
    host: str
    invited: str


def _frame(day: Day, run: Run, body_end: int) -> _Frame:
    """What the host, the members and the speaker say around a run."""
    messages, minutes = day.messages, day.minutes
    signals = ["long_run"]
    points = 0
    start_minute = minutes[run.start]
    speaker_names = day.names_of(run.start)
    host = invited = ""
    invitation = call = False
    self_sign_ins: set[str] = set()
    for i in range(run.start - 1, max(-1, run.start - 1 - LOOKBACK_SCAN), -1):
        if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
            break
        msg = messages[i]
        if msg.sender == run.sender:
            continue
        if day.sign_in[i] or cues.is_ok_gesture(msg.kind, msg.text):
            self_sign_ins.add(msg.sender)
            continue
        if msg.kind != "text":
            continue
        if (not invitation and start_minute - minutes[i] <= INVITATION_LOOKBACK
                and cues.invites(msg.text, msg.mentions, speaker_names)):
            invitation = True
            invited = _invited_name(msg, speaker_names)
            host = host or msg.sender
        if not call and len(msg.text) < 600 and (
                cues.SIGN_IN_CALL.search(msg.text) or cues.STOP_SIGN_IN.search(msg.text)):
            call = True
            host = msg.sender  # the caller hosts, even when another member gave the go
    if call:
        signals.append("sign_in_call")
        points += FRAME_POINTS["sign_in_call"]
    elif len(self_sign_ins) >= SELF_SIGN_INS_MIN:
        signals.append("self_sign_ins")
        points += FRAME_POINTS["self_sign_ins"]
    if invitation:
        signals.append("invitation")
        points += FRAME_POINTS["invitation"]
    opening = max((day.opening(i) for i in run.head(OPENING_SCAN)), default=0)
    if opening:
        signals.append("opening")
        points += FRAME_POINTS["opening_intent"] if opening == 2 else FRAME_POINTS["greeting"]
    if any(cues.outline_marks(t) >= 2 for t in _head_texts(day, run, OUTLINE_SCAN)):
        signals.append("outline")
        points += FRAME_POINTS["outline"]
    if _sign_off_at(day, run) is not None:
        signals.append("sign_off")
        points += FRAME_POINTS["sign_off"]
    thanking = _thanks_after(day, run, body_end)
    if thanking:
        signals.append("thanks")
        points += FRAME_POINTS["thanks_many"] if thanking >= THANKS_MANY else FRAME_POINTS["thanks"]
    return _Frame(signals, points, host, invited)


def _thanks_after(day: Day, run: Run, body_end: int) -> int:
    """How many others thank for the sharing in the second half of the run or soon after the
    talk's body (thanks that @mention the speaker count twice)."""
    messages, minutes = day.messages, day.minutes
    thanking: set[str] = set()
    speaker_names = day.names_of(run.start)
    count = 0
    first = run.indices[len(run.indices) // 2]
    for i in range(first + 1, min(len(messages), body_end + 1 + THANKS_SCAN)):
        if minutes[i] - minutes[body_end] > THANKS_WINDOW:
            break
        msg = messages[i]
        if msg.sender != run.sender and msg.kind == "text" and msg.sender not in thanking \
                and cues.thanks_for_sharing(msg.text):
            thanking.add(msg.sender)
            # Thanks naming the speaker say whose sharing it was: worth two.
            named = any(names_match(m, n) for m in msg.mentions for n in speaker_names)
            count += 2 if named else 1
    return count


def _unannounced_verdict(day: Day, run: Run) -> tuple[list[str], str, str] | None:
    """(signals, host, invited name) when the run is a talk nobody announced, else None."""
    scored = unannounced_points(day, run)
    if scored is None:
        return None
    frame, points = scored
    if frame.points < UNANNOUNCED_MIN_FRAME or points < UNANNOUNCED_MIN_POINTS:
        return None
    return frame.signals, frame.host, frame.invited


def unannounced_points(day: Day, run: Run) -> tuple[_Frame, int] | None:
    """The run's frame and its points as a talk nobody announced; None when it fails a gate
    (too short, too thin, too brief, shared with others, or one pasted text)."""
    p = profile(day, run)
    if (p.size < UNANNOUNCED_MIN_MESSAGES or p.weight < UNANNOUNCED_MIN_WEIGHT
            or p.duration < UNANNOUNCED_MIN_MINUTES or p.dominance < UNANNOUNCED_MIN_DOMINANCE
            or p.heaviest > p.weight * HEAVIEST_MAX_SHARE or p.burst > PASTE_BURST_CHARS):
        return None
    end = _sign_off_at(day, run)
    frame = _frame(day, run, end if end is not None else run.end)
    points = frame.points
    if (p.long_texts >= p.size * LECTURE_LONG_SHARE or p.numbered >= LECTURE_MIN_NUMBERED
            or p.images >= LECTURE_MIN_IMAGES):
        points += CONTENT_POINTS["lecture"]
    if p.size >= BIG_MESSAGES and p.weight >= BIG_WEIGHT:
        points += CONTENT_POINTS["big"]
    if p.size >= VERY_BIG_MESSAGES and p.weight >= VERY_BIG_WEIGHT:
        points += CONTENT_POINTS["very_big"]
    if p.dominance >= HOLDS_DOMINANCE:
        points += CONTENT_POINTS["holds"]
    elif p.dominance < SHARED_DOMINANCE:
        points += CONTENT_POINTS["shared"]
    if max(p.questions, p.replies) >= p.size * ANSWERING_SHARE:
        points += ANSWERING_POINTS
    if day.minutes[run.start] < MORNING_BEFORE:
        points += MORNING_POINTS
    return frame, points


def _document(day: Day, ann: Announcement) -> Run | None:
    """A talk given as a shared document: a file posted soon after the announcement."""
    messages, minutes = day.messages, day.minutes
    for i in range(ann.index + 1, len(messages)):
        if minutes[i] - minutes[ann.index] > DOCUMENT_WINDOW:
            break
        msg = messages[i]
        if msg.kind == "file" and msg.sender != ann.host:
            indices = [i] + [j for j in range(i + 1, len(messages))
                             if messages[j].sender == msg.sender
                             and minutes[j] - minutes[i] <= 10 and day.substantive[j]]
            return day.run(msg.sender, indices, 0)
    return None


def _host_topic(day: Day, run: Run, host: str) -> str:
    """Topic from what the host said before the talk: their invitation, sign-in call, words
    announcing it, or anything the host (who called the sign-ins or invited) said of its topic."""
    messages, minutes = day.messages, day.minutes
    start_minute = minutes[run.start]
    speaker_names = day.names_of(run.start)
    for i in range(run.start - 1, max(-1, run.start - 1 - LOOKBACK_SCAN), -1):
        if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
            break
        msg = messages[i]
        if msg.kind != "text" or msg.sender == run.sender or len(msg.text) >= cues.ANNOUNCEMENT_MAX_CHARS \
                or ("分享" not in msg.text and "主题" not in msg.text):
            continue
        if (host and msg.sender == host) or cues.SIGN_IN_CALL.search(msg.text) \
                or cues.is_announcement_like(msg.text) or cues.invites(msg.text, msg.mentions, speaker_names):
            topic = cues.topic_from_host(msg.text)
            if topic:
                return topic
    return ""


def _invited_name(msg: RawMessage, speaker_names: Sequence[str]) -> str:
    """The name an invitation @mentions for the speaker: the mention that matches the speaker's
    name, else the only mention of the message (the host inviting one member), else none --
    an invitation naming several members does not say which one is the speaker."""
    for mention in msg.mentions:
        if any(names_match(mention, name) for name in speaker_names):
            return mention
    return msg.mentions[0] if len(msg.mentions) == 1 else ""


# --- Q&A and sign-ins -----------------------------------------------------------------------


def _about(msg: RawMessage, names: set[str]) -> bool:
    """Whether a message mentions or quotes one of ``names``."""
    if msg.quote is not None and any(names_match(msg.quote.name, x) for x in names):
        return True
    return any(names_match(m, x) for m in msg.mentions for x in names)


def _is_sign_in_at(day: Day, i: int) -> bool:
    msg = day.messages[i]
    return day.sign_in[i] or cues.is_ok_gesture(msg.kind, msg.text)


def _collect_sign_ins(day: Day, start: int, end: int) -> list[SignInHit]:
    """The first sign-in of each member in ``start..end`` (inclusive)."""
    seen: set[str] = set()
    hits: list[SignInHit] = []
    for i in range(start, end + 1):
        sender = day.messages[i].sender
        if sender not in seen and _is_sign_in_at(day, i):
            seen.add(sender)
            hits.append(SignInHit(sender, i))
    return hits


def _stop_call(day: Day, start: int, end: int) -> int | None:
    for i in range(start, end + 1):
        msg = day.messages[i]
        if msg.kind == "text" and len(msg.text) < 200 and cues.STOP_SIGN_IN.search(msg.text):
            return i
    return None


def _finish(day: Day, talks: list[DetectedTalk]) -> list[tuple[int, int]]:
    """Q&A ends, interruptions and sign-ins, now that all talks of the day are known; returns
    each talk's sign-in window (first, last index)."""
    messages, minutes = day.messages, day.minutes
    n = len(messages)
    windows: list[tuple[int, int]] = []
    for k, talk in enumerate(talks):
        next_start = talks[k + 1].start_index if k + 1 < len(talks) else n
        prev_end = talks[k - 1].qa_end_index if k else -1
        speaker = talk.speaker
        names = {speaker, talk.speaker_mention} - {""}

        # Q&A: the lively part right after the talk, then later direct questions.
        qa_end = talk.end_index
        j = talk.end_index + 1
        last_related_minute = minutes[talk.end_index]
        while j < next_start and minutes[j] - minutes[j - 1] <= QA_MAX_GAP:
            msg = messages[j]
            if msg.sender == speaker or _about(msg, names):
                qa_end = j
                last_related_minute = minutes[j]
            elif minutes[j] - last_related_minute <= 10 and msg.kind == "text":
                qa_end = j
            j += 1
        while j < next_start:
            msg = messages[j]
            if _about(msg, names):
                qa_end = j
                last_related_minute = minutes[j]
            elif msg.sender == speaker and minutes[j] - last_related_minute <= 30 \
                    and qa_end >= j - 5:
                qa_end = j
                last_related_minute = minutes[j]
            j += 1
        talk.qa_end_index = qa_end
        talk.interruption_indices = [i for i in range(talk.start_index, talk.end_index + 1)
                                     if messages[i].sender != speaker]

        # Sign-in window: from the announcement, or from the host's call or the first member
        # signing in on their own, to the host's stop or the end of the talk.
        if talk.first_announcement_index is not None:
            window_start = talk.first_announcement_index
        else:
            window_start = talk.start_index
            start_minute = minutes[talk.start_index]
            for i in range(talk.start_index - 1, prev_end, -1):
                if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
                    break
                if (messages[i].kind == "text" and cues.SIGN_IN_CALL.search(messages[i].text)) \
                        or _is_sign_in_at(day, i):
                    window_start = i
        window_start = max(window_start, prev_end + 1)
        stop = _stop_call(day, window_start, talk.end_index)
        window_end = stop if stop is not None else talk.end_index
        windows.append((window_start, window_end))
        hits = _collect_sign_ins(day, window_start, window_end)
        talk.sign_ins = hits
        if hits and "sign_in_call" not in talk.signals and "self_sign_ins" not in talk.signals:
            # Members signed in: there was a call, if only in the announcement.
            talk.signals.append("sign_in_call")
    return windows


def _not_given(day: Day, ann: Announcement, talks: list[DetectedTalk], windows: list[tuple[int, int]],
               announcements: list[Announcement]) -> DetectedTalk:
    """An announced share with no talk that day. Its sign-ins are those posted after the
    announcement until the host stops them, the next announcement, or the part of the day
    that belongs to a talk (its sign-in window, body and Q&A) -- those go to the talk."""
    window_start = ann.first_index
    for talk, (first, _) in zip(talks, windows, strict=True):
        if first <= window_start <= talk.qa_end_index:
            window_start = talk.qa_end_index + 1
    limits = [first - 1 for first, _ in windows if first > window_start]
    limits += [a.first_index - 1 for a in announcements if a.first_index > ann.index]
    window_end = min(limits, default=len(day) - 1)
    hits: list[SignInHit] = []
    if window_start <= window_end:
        stop = _stop_call(day, window_start, window_end)
        hits = _collect_sign_ins(day, window_start, stop if stop is not None else window_end)
    return DetectedTalk(
        speaker="",
        speaker_mention=ann.mention,
        topic=ann.topic,
        announced_start=ann.start,
        announcement_index=ann.index,
        start_index=None,
        end_index=None,
        qa_end_index=None,
        sign_ins=hits,
        signals=["announcement", "not_given"],
        first_announcement_index=ann.first_index,
        topic_source="announcement" if ann.topic else "none",
        host=ann.host,
        delivered=False,
    )
