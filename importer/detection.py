"""Finding talks (分享) and sign-ins (签到) in one day's messages (plain Python).

How a talk shows in a transcript (see ``TRANSCRIPT_FORMAT.md``, "Talks inside a day"):
an admin announces it (from mid 2017: ``今天请到一位朋友，@SPEAKER 给大家做分享，主题是
“TOPIC” 开始时间为【19:30】…``; earlier the host called for sign-ins and invited the
speaker), members sign in, the speaker posts a long run of messages opening with a
greeting and closing with a sign-off, and questions follow.

The detector works in three steps:

1. *Runs*: for every sender, stretches of their own messages that follow each other
   closely (few others in between, no long pause). A talk is such a run.
2. *Announced talks*: announcements (reposts and corrections of one announcement
   are one talk, the last counts) give topic, start time and the speaker's group
   nickname; the speaker is the sender of the best run that matches the mentioned
   name (``community.names``) or, failing that, the best run near the start time.
3. *Unannounced talks*: a long run counts only with other evidence -- a sign-in
   call or an invitation by the host before it, an opening at its start, a sign-off
   at its end. A busy discussion or a news digest has none of these.

Sign-ins are collected from the announcement (or the call for sign-ins) until the
host says ``停止签到`` or the talk ends, first one per sender.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from community.names import name_core, normalize_name
from importer.transcript import RawMessage


@dataclass
class SignInHit:
    sender: str
    index: int


@dataclass
class DetectedTalk:
    speaker: str
    speaker_mention: str
    topic: str
    announced_start: datetime.time | None
    announcement_index: int | None
    start_index: int
    end_index: int
    qa_end_index: int
    interruption_indices: list[int] = field(default_factory=list)
    sign_ins: list[SignInHit] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)
    # Index of the first post of the announcement (reposts and corrections follow).
    first_announcement_index: int | None = None


# --- tunables (minutes, counts) ---------------------------------------------------

RUN_MAX_GAP = 12          # minutes between two messages of one run
RUN_MAX_OTHERS = 3        # others' substantive messages between two of the run
QA_MAX_GAP = 45           # a longer silence ends the Q&A
SIGN_IN_LOOKBACK = 90     # sign-in call at most this long before the talk
INVITATION_LOOKBACK = 15  # invitation at most this long before the talk

# --- sign-ins ---------------------------------------------------------------------

_STICKER_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]")
_NOISE = re.compile(r"[\s\?？!！。，,、.~～…:：;；+＋=\-—_*#()（）\"“”'‘’]+")
_SIGN_IN_WORD = re.compile(r"签到|报到|补签|签个到")
_NOT_SIGN_IN = re.compile(r"停止|开始|怎么|如何|什么|吗|么|呢|请大家|大家|时间|手势|红包|没有|不用|别")


def is_sign_in(text: str) -> bool:
    """True for a member's own sign-in: ``签到``, ``签到！``, ``签到[呲牙]``, ``签到+1``,
    ``报到``, ``补签到[OK]``, ``自己签到``; False for calls and questions about signing
    in (``停止签到``, ``现在开始签到``, ``怎么签到``) and for longer messages.

    A bare ``[OK]`` is a sign-in only inside a sign-in window; ``detect_talks``
    handles that, so it is False here.
    """
    if not text or len(text) > 40:
        return False
    core = _NOISE.sub("", _STICKER_CODE.sub("", text))
    if not core or not _SIGN_IN_WORD.search(core):
        return False
    if _NOT_SIGN_IN.search(core):
        return False
    return len(core) <= 10


def _is_ok_gesture(msg: RawMessage) -> bool:
    if msg.kind != "sticker" and msg.kind != "text":
        return False
    text = msg.text
    return len(text) <= 12 and text.startswith("[OK]") and not _NOISE.sub(
        "", _STICKER_CODE.sub("", text))


# --- announcement, invitation, opening, sign-off ------------------------------------

_ANNOUNCE = re.compile(
    r"(?:今[天晚日]|晚上|今夜).{0,16}?(?:请到|邀请|分享嘉宾|嘉宾是|嘉宾为|"
    r"是.{1,12}?做分享|由.{1,12}?分享)"
)
_ANNOUNCE_NOT = re.compile(r"有分享吗|有没有分享|分享吗|是谁[？?]?$")
_CORRECTION = re.compile(r"更正|修正|纠正|更改|改为")
_ANNOUNCE_MENTION = re.compile(
    r"@\s*(.+?)\s*(?:\?|？|童鞋|同学|老师|给大家|给我们|为大家|为我们|来做|来给|来为|来跟|"
    r"做分享|分享|[，,。；;！!]|\s{2}|$)"
)
_QUOTED = r"[“\"「『《【]\s*(.+?)\s*[”\"」』》】]"
_TOPIC_PATTERNS = [
    re.compile(r"主题(?:内容)?(?:是|为)?\s*[：:]?\s*" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊)(?:一下|的是|一些)?\s*" + _QUOTED),
    re.compile(r"带来主题为\s*(.+?)\s*的分享"),
    re.compile(r"主题(?:内容)?(?:是|为)?\s*[：:]?\s*(.+?)\s*(?:[，,。；;！!\s]|开始时间|大家欢迎|欢迎|"
               r"先发|大家先|据说|$)"),
    re.compile(r"给大家分享\s*(.+?)\s*(?:[。，,；;！!]|$)"),
]
_START = re.compile(r"开始时间(?:为|是)?\s*[【\[（(]?\s*(\d{1,2})\s*[:：]\s*(\d{2})")
_START_ALT = re.compile(r"(\d{1,2})\s*[:：]\s*(\d{2})\s*(?:准时)?开始(?!签到)")

_INVITATION = re.compile(
    r"开始分享|请.{0,6}嘉宾.{0,6}开始|有请|开始吧|分享吧|请@.{1,40}?(?:开始|分享)|"
    r"邀请@.{1,40}?开始"
)
_SIGN_IN_CALL = re.compile(
    r"开始签到|签个到|签到时间|签到手势|先签到|请.{0,8}签到|红包签到|签到红包|来签到|"
    r"回复\s*\[OK\]|\[OK\]\s*签到|报个到"
)
_STOP_SIGN_IN = re.compile(r"停止签到|签到结束|结束签到")

_OPENING = re.compile(
    r"大家好|大家晚上好|各位好|晚上好|^hi\b|^hello|自我介绍|我是|我叫|主题介绍|"
    r"(?:今天|本次|这次|今晚).{0,12}(?:分享|介绍|聊聊|讲讲)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:以上|今天|本次|本期|我的|这次|今晚).{0,12}(?:分享|内容|介绍).{0,10}"
    r"(?:完毕|结束|到这|到此|就这些|就是这些|这么多|就是以上|为止)|"
    r"分享完毕|分享结束|分享到这|分享就到|以上是我|以上就是|以上是今天|讲完了|"
    r"谢谢大家|感谢大家|谢谢各位|感谢各位"
)
_STRONG_SIGN_OFF = re.compile(
    r"(?:以上|今天|本次|本期|我的|这次|今晚).{0,12}(?:分享|内容|介绍).{0,10}"
    r"(?:完毕|结束|到这|到此|就这些|就是这些|这么多|就是以上|为止)|"
    r"分享完毕|分享结束|分享到这|分享就到|以上是我|以上就是|以上是今天|讲完了"
)
_SPEAKER_TOPIC = [
    re.compile(r"(?:分享|讲|介绍|聊)的?(?:主题|题目|话题|内容)(?:主要)?(?:是|为)?(?:关于)?"
               r"\s*[：:]?\s*" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊|主题)[^，,。！!；;]{0,8}?" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊)的?(?:主题|题目|话题)(?:主要)?(?:是|为)(?:关于)?\s*[：:]?\s*"
               r"(.{2,40}?)\s*(?:[，,。；;！!]|相关的|$)"),
    re.compile(r"(?:今天|本次|这次|今晚)(?:主要)?(?:是)?(?:想|来|由我)?(?:和|跟|给|为)?(?:大家)?"
               r"(?:分享|介绍|聊聊|讲讲|讲)(?:一下|一些|的是|下|点)?\s*(.{2,40}?)\s*"
               r"(?:[，,。；;！!]|相关|的内容|$)"),
]
_TOPIC_TRIM = " \t\"'“”《》「」『』【】()（）:：,，。.;；!！?？~～-—"


@dataclass
class _Announcement:
    index: int
    first_index: int
    mention: str
    topic: str
    start: datetime.time | None


@dataclass
class _Run:
    sender: str
    indices: list[int]
    chars: int
    others: int

    @property
    def start(self) -> int:
        return self.indices[0]

    @property
    def end(self) -> int:
        return self.indices[-1]

    @property
    def size(self) -> int:
        return len(self.indices)


def _minutes(t: datetime.time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


def _clean_topic(topic: str) -> str:
    topic = topic.strip(_TOPIC_TRIM).removeprefix("的").strip(_TOPIC_TRIM)
    for suffix in ("相关的", "相关知识", "相关"):
        if topic.endswith(suffix) and len(topic) > len(suffix) + 2:
            topic = topic[: -len(suffix)]
    return topic.strip(_TOPIC_TRIM)[:60]


def _topic_from(text: str, patterns: Sequence[re.Pattern]) -> str:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            topic = _clean_topic(m.group(1))
            quoted = pattern.pattern.endswith(_QUOTED)
            if 2 <= len(topic) and (quoted or len(topic) <= 30) and "@" not in topic:
                return topic
    return ""


def _parse_announcement(index: int, text: str) -> _Announcement | None:
    if len(text) > 800 or "分享" not in text or _ANNOUNCE_NOT.search(text):
        return None
    if not _ANNOUNCE.search(text):
        return None
    m = _ANNOUNCE_MENTION.search(text)
    mention = m.group(1).strip(" ?？") if m else ""
    topic = _topic_from(text, _TOPIC_PATTERNS)
    if not mention and not topic:
        return None
    start = None
    m = _START.search(text) or _START_ALT.search(text)
    if m:
        try:
            start = datetime.time(int(m.group(1)), int(m.group(2)))
        except ValueError:
            start = None
    return _Announcement(index, index, mention, topic, start)


def _announcements(messages: Sequence[RawMessage]) -> list[_Announcement]:
    """Announcements of the day, reposts and corrections folded into the last one."""
    groups: list[_Announcement] = []
    for i, msg in enumerate(messages):
        if msg.kind != "text" or "分享" not in msg.text:
            continue
        found = _parse_announcement(i, msg.text)
        if found is None:
            continue
        if groups:
            last = groups[-1]
            same = (found.mention and last.mention
                    and _names_match(found.mention, last.mention)) or (
                found.topic and found.topic == last.topic)
            if same or _CORRECTION.search(msg.text[:20]):
                found.first_index = last.first_index
                found.mention = found.mention or last.mention
                found.topic = found.topic or last.topic
                found.start = found.start or last.start
                groups[-1] = found
                continue
        groups.append(found)
    return groups


def _names_match(a: str, b: str) -> bool:
    """Whether two names plausibly denote one person (header vs group nickname)."""
    ka, kb = normalize_name(a), normalize_name(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long_ = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    if len(short) >= 2 and long_.startswith(short) and (
            len(long_) == len(short) or not long_[len(short)].isalnum()
            or long_[len(short)] == "-"):
        return True
    ca, cb = name_core(a), name_core(b)
    if len(ca) >= 2 and ca == cb:
        return True
    parts_a, parts_b = set(ka.split("-")), set(kb.split("-"))
    return (len(ca) >= 2 and ca in parts_b) or (len(cb) >= 2 and cb in parts_a)


def _substantive(msg: RawMessage) -> bool:
    if msg.kind in ("sticker", "empty"):
        return False
    if msg.kind == "text" and (is_sign_in(msg.text) or not msg.text.strip("?？ ")):
        return False
    return True


def _weight(msg: RawMessage) -> int:
    if msg.kind == "image":
        return 120
    if msg.kind == "file":
        return 300
    if msg.kind == "text":
        return len(msg.text)
    return 20


def _runs(messages: Sequence[RawMessage], minutes: list[float]) -> list[_Run]:
    """Stretches of one sender's messages with few others in between."""
    substantive = [_substantive(m) for m in messages]
    # Prefix count of substantive messages, to count others between two indices.
    prefix = [0]
    for flag in substantive:
        prefix.append(prefix[-1] + flag)
    by_sender: dict[str, list[int]] = {}
    for i, msg in enumerate(messages):
        if substantive[i]:
            by_sender.setdefault(msg.sender, []).append(i)
    runs: list[_Run] = []
    for sender, indices in by_sender.items():
        if len(indices) < 3:
            continue
        current = [indices[0]]
        others = 0
        for prev, i in zip(indices, indices[1:], strict=False):
            between = prefix[i] - prefix[prev + 1]
            if between <= RUN_MAX_OTHERS and minutes[i] - minutes[prev] <= RUN_MAX_GAP:
                current.append(i)
                others += between
            else:
                runs.append(_Run(sender, current, sum(_weight(messages[j]) for j in current),
                                 others))
                current, others = [i], 0
        runs.append(_Run(sender, current, sum(_weight(messages[j]) for j in current), others))
    return [r for r in runs if r.size >= 3]


def _talk_like(run: _Run, *, relaxed: bool = False) -> bool:
    dominance = run.size / (run.size + run.others)
    if relaxed:
        return run.size >= 3 and run.chars >= 300 and dominance >= 0.4
    return run.size >= 5 and run.chars >= 500 and dominance >= 0.55


def _opening_at(messages: Sequence[RawMessage], run: _Run) -> bool:
    return any(_OPENING.search(messages[i].text) for i in run.indices[:3]
               if messages[i].kind == "text")


def _find_end(messages: Sequence[RawMessage], run: _Run,
              minutes: list[float]) -> tuple[int, bool]:
    """Last message of the talk body within ``run``; True when a sign-off ends it."""
    indices = run.indices
    for pos, i in enumerate(indices):
        msg = messages[i]
        if pos < 2 or msg.kind != "text":
            continue
        if _STRONG_SIGN_OFF.search(msg.text) or (
                _SIGN_OFF.search(msg.text) and pos >= len(indices) // 2):
            end = i
            # Closing words often take a few more lines ("欢迎提问", "谢谢大家"),
            # posted in a row right after the sign-off.
            for j in indices[pos + 1:]:
                if j != end + 1 or minutes[j] - minutes[end] > 2:
                    break
                end = j
            return end, True
    return indices[-1], False


def detect_talks(messages: Sequence[RawMessage], *, author_hint: str = "") -> list[DetectedTalk]:
    """Talks found in one day's messages, in order of their start."""
    if not messages:
        return []
    minutes = [_minutes(m.time) for m in messages]
    runs = _runs(messages, minutes)
    runs.sort(key=lambda r: (-r.chars, r.start))
    announcements = _announcements(messages)
    talks: list[DetectedTalk] = []
    used: list[tuple[int, int]] = []

    def free(run: _Run) -> bool:
        return all(run.end < a or run.start > b for a, b in used)

    # Announced talks.
    for ann in announcements:
        after = [r for r in runs if r.start > ann.first_index and r.end > ann.index
                 and free(r) and _talk_like(r, relaxed=True)]
        named = [r for r in runs if r.start > ann.first_index and r.end > ann.index
                 and free(r) and ann.mention and _names_match(r.sender, ann.mention)
                 and r.chars >= 150]
        chosen = None
        signals = ["announcement"]
        if named:
            chosen = min(named, key=lambda r: _distance(r, ann, minutes))
        else:
            near = [r for r in after if _near_start(r, ann, minutes) and _talk_like(r)]
            if near:
                chosen = max(near, key=lambda r: (_opening_at(messages, r), r.chars))
        if chosen is None:
            chosen = _document(messages, minutes, ann)
            if chosen is not None:
                signals.append("document")
        if chosen is None:
            continue
        talk = _build_talk(messages, minutes, chosen, signals, announcement=ann,
                           author_hint=author_hint)
        talks.append(talk)
        used.append((talk.start_index, talk.end_index))

    # Unannounced talks: a long run with other evidence.
    for run in runs:
        if not free(run) or not _talk_like(run):
            continue
        run = _trim_start(messages, run)
        signals = _evidence(messages, minutes, run)
        strong = [s for s in signals if s in ("invitation", "sign_in_call", "opening",
                                              "sign_off")]
        big = run.size >= 8 and run.chars >= 1000
        if not ((strong and big) or len(strong) >= 2):
            continue
        if "sign_in_call" not in strong and "invitation" not in strong and not (
                "opening" in strong and "sign_off" in strong):
            # Without the host's part, only an explicit talk frame counts.
            continue
        previous = _previous_talk_of(talks, run, minutes)
        if previous is not None:
            # The same speaker again soon after: the rest of the same talk (a pause,
            # a repost), not a new one.
            if "sign_off" in signals and not any(
                    _STRONG_SIGN_OFF.search(messages[i].text)
                    for i in range(previous.start_index, previous.end_index + 1)
                    if messages[i].sender == previous.speaker):
                previous.end_index, _ = _find_end(messages, run, minutes)
                used.append((previous.start_index, previous.end_index))
            continue
        talk = _build_talk(messages, minutes, run, signals, announcement=None,
                           author_hint=author_hint)
        talks.append(talk)
        used.append((talk.start_index, talk.end_index))

    talks.sort(key=lambda t: t.start_index)
    _finish(messages, minutes, talks)
    return talks


def _previous_talk_of(talks: list[DetectedTalk], run: _Run,
                      minutes: list[float]) -> DetectedTalk | None:
    for talk in talks:
        if talk.speaker == run.sender and talk.end_index < run.start and \
                minutes[run.start] - minutes[talk.end_index] <= 120:
            return talk
    return None


def _document(messages: Sequence[RawMessage], minutes: list[float],
              ann: _Announcement) -> _Run | None:
    """A talk given as a shared document: a file posted soon after the announcement."""
    announcer = messages[ann.index].sender
    for i in range(ann.index + 1, len(messages)):
        if minutes[i] - minutes[ann.index] > 60:
            break
        msg = messages[i]
        if msg.kind == "file" and msg.sender != announcer:
            indices = [i] + [j for j in range(i + 1, len(messages))
                             if messages[j].sender == msg.sender
                             and minutes[j] - minutes[i] <= 10 and _substantive(messages[j])]
            return _Run(msg.sender, indices, sum(_weight(messages[j]) for j in indices), 0)
    return None


def _distance(run: _Run, ann: _Announcement, minutes: list[float]) -> tuple:
    if ann.start is None:
        return (0, run.start)
    return (abs(minutes[run.start] - _minutes(ann.start)) > 90, -run.chars)


def _near_start(run: _Run, ann: _Announcement, minutes: list[float]) -> bool:
    if ann.start is None:
        return minutes[run.start] - minutes[ann.index] <= 6 * 60
    return -45 <= minutes[run.start] - _minutes(ann.start) <= 90


def _evidence(messages: Sequence[RawMessage], minutes: list[float], run: _Run) -> list[str]:
    signals = ["long_run"]
    start_minute = minutes[run.start]
    i = run.start - 1
    invitation = sign_in_call = False
    while i >= 0 and start_minute - minutes[i] <= SIGN_IN_LOOKBACK:
        msg = messages[i]
        if msg.kind == "text" and msg.sender != run.sender:
            if (not invitation and start_minute - minutes[i] <= INVITATION_LOOKBACK
                    and len(msg.text) < 300 and _INVITATION.search(msg.text)):
                invitation = True
            if not sign_in_call and len(msg.text) < 600 and (
                    _SIGN_IN_CALL.search(msg.text) or _STOP_SIGN_IN.search(msg.text)):
                sign_in_call = True
        i -= 1
    # The sign-ins themselves are evidence of a call, even an unwritten one.
    if not sign_in_call:
        count = 0
        j = run.start - 1
        while j >= 0 and start_minute - minutes[j] <= SIGN_IN_LOOKBACK and count < 5:
            count += messages[j].kind == "text" and is_sign_in(messages[j].text)
            j -= 1
        sign_in_call = count >= 5
    if sign_in_call:
        signals.append("sign_in_call")
    if invitation:
        signals.append("invitation")
    if _opening_at(messages, run):
        signals.append("opening")
    if any(messages[i].kind == "text" and _STRONG_SIGN_OFF.search(messages[i].text)
           for i in run.indices[2:]):
        signals.append("sign_off")
    return signals


def _build_talk(messages: Sequence[RawMessage], minutes: list[float], run: _Run,
                signals: list[str], *, announcement: _Announcement | None,
                author_hint: str) -> DetectedTalk:
    signals = list(signals)
    if announcement is not None:
        for s in _evidence(messages, minutes, run):
            if s not in signals:
                signals.append(s)
    run = _trim_start(messages, run)
    end, signed_off = _find_end(messages, run, minutes)
    if signed_off and "sign_off" not in signals:
        signals.append("sign_off")
    if author_hint and _names_match(author_hint, run.sender):
        signals.append("author_hint")
    topic = ""
    if announcement is not None:
        topic = announcement.topic
    if not topic:
        opening_texts = [messages[i].text for i in run.indices[:6]
                         if messages[i].kind == "text"]
        for text in opening_texts:
            topic = _topic_from(text, _SPEAKER_TOPIC)
            if topic:
                break
    if not topic:
        topic = _host_topic(messages, minutes, run)
    return DetectedTalk(
        speaker=run.sender,
        speaker_mention=announcement.mention if announcement else _invited_name(
            messages, minutes, run),
        topic=topic,
        announced_start=announcement.start if announcement else None,
        announcement_index=announcement.index if announcement else None,
        start_index=run.start,
        end_index=end,
        qa_end_index=end,
        signals=signals,
        first_announcement_index=announcement.first_index if announcement else None,
    )


def _trim_start(messages: Sequence[RawMessage], run: _Run) -> _Run:
    """Drop the speaker's pre-talk lines ("可以开始了吗？") before the host's go."""
    limit = run.indices[min(4, len(run.indices) - 1)]
    go = None
    for i in range(run.start + 1, limit):
        msg = messages[i]
        if msg.sender != run.sender and msg.kind == "text" and len(msg.text) < 200 and (
                _INVITATION.search(msg.text) or _STOP_SIGN_IN.search(msg.text)
                or _ANNOUNCE.search(msg.text)):
            go = i
    if go is None:
        return run
    kept = [i for i in run.indices if i > go]
    if len(kept) < 3:
        return run
    return _Run(run.sender, kept, run.chars, run.others)


def _host_topic(messages: Sequence[RawMessage], minutes: list[float], run: _Run) -> str:
    """Topic from what the host said before the talk (invitation, sign-in call)."""
    start_minute = minutes[run.start]
    for i in range(run.start - 1, -1, -1):
        if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
            break
        msg = messages[i]
        if msg.kind == "text" and msg.sender != run.sender and "分享" in msg.text:
            topic = _topic_from(msg.text, _TOPIC_PATTERNS)
            if topic:
                return topic
    return ""


def _invited_name(messages: Sequence[RawMessage], minutes: list[float], run: _Run) -> str:
    start_minute = minutes[run.start]
    for i in range(run.start - 1, -1, -1):
        if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
            break
        msg = messages[i]
        if msg.sender != run.sender and msg.mentions and (
                _INVITATION.search(msg.text) or "分享" in msg.text):
            return msg.mentions[0]
    return ""


def _about(msg: RawMessage, names: set[str]) -> bool:
    """Whether a message mentions or quotes one of ``names``."""
    if msg.quote is not None and any(_names_match(msg.quote.name, x) for x in names):
        return True
    return any(_names_match(m, x) for m in msg.mentions for x in names)


def _finish(messages: Sequence[RawMessage], minutes: list[float],
            talks: list[DetectedTalk]) -> None:
    """Q&A ends, interruptions and sign-ins, now that all talks of the day are known."""
    n = len(messages)
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

        # Sign-in window.
        if talk.first_announcement_index is not None:
            window_start = talk.first_announcement_index
        else:
            window_start = talk.start_index
            start_minute = minutes[talk.start_index]
            for i in range(talk.start_index - 1, prev_end, -1):
                if start_minute - minutes[i] > SIGN_IN_LOOKBACK:
                    break
                text = messages[i].text
                if messages[i].kind == "text" and (_SIGN_IN_CALL.search(text)
                                                   or is_sign_in(text)
                                                   or _is_ok_gesture(messages[i])):
                    window_start = i
        window_start = max(window_start, prev_end + 1)
        window_end = talk.end_index
        for i in range(window_start, talk.end_index + 1):
            if messages[i].kind == "text" and _STOP_SIGN_IN.search(messages[i].text) \
                    and len(messages[i].text) < 200:
                window_end = i
                break
        seen: set[str] = set()
        hits: list[SignInHit] = []
        for i in range(window_start, window_end + 1):
            msg = messages[i]
            if msg.sender in seen:
                continue
            if (msg.kind == "text" and is_sign_in(msg.text)) or _is_ok_gesture(msg):
                seen.add(msg.sender)
                hits.append(SignInHit(msg.sender, i))
        talk.sign_ins = hits
        if hits and "sign_in_call" not in talk.signals:
            # Members signed in: there was a call, if only in the announcement.
            talk.signals.append("sign_in_call")
