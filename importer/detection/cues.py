"""What single messages say about a talk: sign-ins, announcements, calls, openings, sign-offs,
outlines, thanks, topics and names (plain Python, no Django).

Each cue is a precompiled regular expression or a small predicate on one message's text;
``importer.detection`` combines them with the rhythm of the day (who posts, how long, how
densely). The cues are the shapes a talk takes in these groups (``TRANSCRIPT_FORMAT.md``,
"Talks inside a day"), written as general patterns -- a greeting, an intent to present, a
closing formula -- not as phrases copied from particular days.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from community.names import name_core, normalize_name

# --- sign-ins ---------------------------------------------------------------------

_STICKER_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]")
_NOISE = re.compile(r"[\s\?？!！。，,、.~～…:：;；+＋=\-—_*#()（）\"“”'‘’]+")
_SIGN_IN_WORD = re.compile(r"签到|报到|补签|签个到")
_NOT_SIGN_IN = re.compile(r"停止|开始|怎么|如何|什么|吗|么|呢|请大家|大家|时间|手势|红包|没有|不用|别")
# A sign-in is a short message: the word, maybe a sticker or a few words ("自己签到").
SIGN_IN_MAX_CHARS = 40
SIGN_IN_MAX_CORE = 10


def is_sign_in(text: str) -> bool:
    """True for a member's own sign-in: ``签到``, ``签到！``, ``签到[呲牙]``, ``签到+1``,
    ``报到``, ``补签到[OK]``, ``自己签到``; False for calls and questions about signing
    in (``停止签到``, ``现在开始签到``, ``怎么签到``) and for longer messages.

    A bare ``[OK]`` is a sign-in only inside a sign-in window; ``detect_talks``
    handles that, so it is False here.
    """
    if not text or len(text) > SIGN_IN_MAX_CHARS or ("签" not in text and "报到" not in text):
        return False
    core = _NOISE.sub("", _STICKER_CODE.sub("", text))
    if not core or not _SIGN_IN_WORD.search(core):
        return False
    if _NOT_SIGN_IN.search(core):
        return False
    return len(core) <= SIGN_IN_MAX_CORE


def is_ok_gesture(kind: str, text: str) -> bool:
    """``[OK]`` (the 2017 sign-in gesture) alone, perhaps repeated or with punctuation."""
    if kind != "sticker" and kind != "text":
        return False
    return len(text) <= 12 and text.startswith("[OK]") and not _NOISE.sub("", _STICKER_CODE.sub("", text))


# --- the host's part: announcement, sign-in call, invitation ------------------------

_ANNOUNCE = re.compile(
    r"(?:今[天晚日]|晚上|今夜).{0,16}?(?:请到|邀请|分享嘉宾|嘉宾是|嘉宾为|"
    r"是.{1,12}?做分享|由.{1,12}?分享)"
)
_SELF_ANNOUNCED = re.compile(r"(?:由|是|轮到)我|我(?:来|为|给|和|跟|今天|今晚)")
_ANNOUNCE_NOT = re.compile(r"有分享吗|有没有分享|分享吗|是谁[？?]?$")
CORRECTION = re.compile(r"更正|修正|纠正|更改|改为")
_ANNOUNCE_MENTION = re.compile(
    r"@\s*(.+?)\s*(?:\?|？|童鞋|同学|老师|给大家|给我们|为大家|为我们|来做|来给|来为|来跟|"
    r"做分享|分享|[，,。；;！!]|\s{2}|$)"
)
# A mention running longer, or on into these words, has run past the name.
ANNOUNCED_MENTION_MAX_CHARS = 30
_NOT_A_NAME = re.compile(r"主题|题目|分享|开始|签到|时间|今天|今晚|大家")
_QUOTED = r"[“\"「『《【]\s*(.+?)\s*[”\"」』》】]"
_ANNOUNCED_TOPIC = [
    re.compile(r"(?:主题|题目)(?:内容)?(?:是|为)?\s*[：:]?\s*" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊)(?:一下|的是|一些)?\s*" + _QUOTED),
    re.compile(r"带来主题为\s*(.+?)\s*的分享"),
    re.compile(r"(?:主题|题目)(?:内容)?(?:是|为)?\s*[：:]?\s*(.+?)\s*(?:[，,。；;！!\s]|开始时间|大家欢迎|欢迎|"
               r"先发|大家先|据说|$)"),
    re.compile(r"给大家分享(?:一下|下)?\s*(.+?)\s*(?:[。，,；;！!]|$)"),
]
# --- the announced start: a clock time in one of these places of the announcement ---
# A clock time: "20:00", "20：00", "8点", "8点半", "8点15(分)", "八点", "八点半", "八点一刻", "8点整".
_CN_NUMBER = "零一二两三四五六七八九十"
_CLOCK = (
    rf"(?<![\d{_CN_NUMBER}])(?P<hour>\d{{1,2}}|[{_CN_NUMBER}]{{1,3}})\s*"
    rf"(?:[:：]\s*(?P<minute>\d{{2}})|点\s*(?:(?P<half>半)|(?P<quarter>[一三])刻|"
    rf"(?P<point_minute>\d{{1,2}}|[{_CN_NUMBER}]{{1,3}})\s*分?|整)?)"
    rf"(?![\d{_CN_NUMBER}])"  # the whole number: never "7点1" of "7点15"
)
# Words that put a clock time in the evening ("今晚八点": 20:00, whenever the announcement was
# posted); anywhere in the announcement, they put its start there ("今晚…7点半开始": 19:30).
_EVENING_WORDS = "今晚|今天晚上|今日晚上|晚上|今夜"
_EVENING = rf"(?P<evening>{_EVENING_WORDS})"
EVENING_ANNOUNCEMENT = re.compile(_EVENING_WORDS)
# A time that is the sign-in's, not the talk's ("今晚7点15签到").
_NOT_SIGN_IN_TIME = r"(?!\s*(?:开始)?(?:签到|领红包|发红包))"
# The labelled start: "开始时间为【20:00】", "开始时间：北京时间 20:30", "开始时间为晚上8点".
START_LABELLED = re.compile(
    rf"开始时间(?:为|是)?\s*[：:]?\s*[【\[（(]?\s*(?:北京时间|北京)?\s*{_EVENING}?\s*{_CLOCK}")
# A time that the talk starts at: "大概8:30开始", "20:00准时开始", "8点半开讲" (not "7点开始签到").
START_THEN_BEGINS = re.compile(rf"{_EVENING}?\s*{_CLOCK}\s*(?:准时)?(?:开始|开讲)(?!签到)")
# The talk moved to a time: "分享提前到18:30", "分享改到晚上8点", "分享时间调整为20:30" (a few
# words between, none of them the topic's or the speaker's: "分享主题为5点建议" gives no time).
START_MOVED = re.compile(
    rf"(?:分享|开始)(?:时间)?(?:(?!主题|题目|内容|嘉宾)[^，,。；;！!？?\d]){{0,4}}?(?:到|至|为|在)\s*{_EVENING}?\s*"
    rf"{_CLOCK}{_NOT_SIGN_IN_TIME}")
# A time of this evening: "今晚八点", "晚上8点半", "今晚20:00" (not the sign-in's "今晚7点15签到").
START_EVENING = re.compile(rf"{_EVENING}\s*(?:的)?\s*{_CLOCK}{_NOT_SIGN_IN_TIME}")
# Read in this order: the first that matches gives the start.
START_SIGNALS = (START_LABELLED, START_THEN_BEGINS, START_MOVED, START_EVENING)


def _cn_number(text: str) -> int | None:
    """A small number in digits or Chinese numerals (一…十二, 两, 二十, 二十三, 三十): None otherwise."""
    if text.isdigit():
        return int(text)
    digits = {c: n for n, c in enumerate("零一二三四五六七八九")} | {"两": 2}
    if "十" in text:
        tens, _, ones = text.partition("十")
        if (tens and tens not in digits) or (ones and ones not in digits) or len(text) > 3:
            return None
        return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)
    return digits[text] if len(text) == 1 and text in digits else None


def announced_start(text: str) -> datetime.time | None:
    """The start an announcement gives (``START_SIGNALS``): an hour before noon in an
    announcement of this evening (``EVENING_ANNOUNCEMENT``: "今晚八点", "今晚…7点半开始") is in
    the evening; otherwise as written (the caller moves "8:30" posted in the evening to 20:30).
    None when it gives no time."""
    evening = EVENING_ANNOUNCEMENT.search(text) is not None
    for signal in START_SIGNALS:
        m = signal.search(text)
        if m is None:
            continue
        hour = _cn_number(m.group("hour"))
        if m.group("minute"):
            minute = int(m.group("minute"))
        elif m.group("half"):
            minute = 30
        elif m.group("quarter"):
            minute = 15 if m.group("quarter") == "一" else 45
        elif m.group("point_minute"):
            minute = _cn_number(m.group("point_minute"))
        else:
            minute = 0
        if hour is None or minute is None or hour > 23 or minute > 59:
            continue
        if evening and hour < 12:
            hour += 12
        return datetime.time(hour, minute)
    return None

# An announcement is one message of at most this many characters (longer ones are
# digests or pasted documents that happen to contain the words).
ANNOUNCEMENT_MAX_CHARS = 800

INVITATION = re.compile(
    r"开始分享|请.{0,6}嘉宾.{0,6}开始|有请|开始吧|分享吧|可以开始|请@.{1,40}?(?:开始|分享)|"
    r"邀请@.{1,40}?开始"
)
# Asking for a talk some other time ("@NAME 什么时候给大家分享一下？") invites nothing now.
_NOT_NOW = re.compile(r"什么时候|改天|下次|有空|有机会|以后|哪天|明天|下周|期待")
# Every invitation holds one of these characters (a cheap test before the patterns).
_MAY_INVITE = re.compile(r"[请讲开分介说]")
# The host addressing the speaker by @mention with one of these words invites the talk
# ("@NAME 讲讲吧", "@NAME 开始吧").
_INVITING_WORD = re.compile(r"讲讲|讲一下|讲一讲|开讲|开始|分享|介绍一下|说说")
SIGN_IN_CALL = re.compile(
    r"开始签到|签个到|签到时间|签到手势|先签到|请.{0,8}签到|红包签到|签到红包|来签到|"
    r"回复\s*\[OK\]|\[OK\]\s*签到|报个到"
)
STOP_SIGN_IN = re.compile(r"停止签到|签到结束|结束签到")
# Host's messages are short: a longer message is discussion that happens to use the words.
HOST_MESSAGE_MAX_CHARS = 300


@dataclass
class Announcement:
    """One announcement of a talk; reposts and corrections are folded into it."""

    index: int          # the post that counts (the last repost or correction)
    first_index: int    # the first post (sign-ins are counted from here)
    mention: str
    topic: str
    start: datetime.time | None
    host: str           # the sender of the first post


def parse_announcement(index: int, sender: str, text: str, mentions: Sequence[str] = ()) -> Announcement | None:
    """The announcement in ``text``, or None: a talk today, its speaker (@mention) or topic.
    ``mentions`` are the message's @mentions as the transcript parser read them: the name
    found here runs on to the announcement's next words ("@Summer 梁夏-丰瑞祥 给大家…", a
    nickname with a space), and where that overshoots into the announcement itself ("@NAME
    题目是…"), the parser's mention is the name."""
    if len(text) > ANNOUNCEMENT_MAX_CHARS or "分享" not in text or _ANNOUNCE_NOT.search(text):
        return None
    if not _ANNOUNCE.search(text):
        return None
    m = _ANNOUNCE_MENTION.search(text)
    mention = m.group(1).strip(" ?？") if m else ""
    parsed = next((p for p in mentions if mention.startswith(p)), "")
    if parsed and (len(mention) > ANNOUNCED_MENTION_MAX_CHARS or _NOT_A_NAME.search(mention[len(parsed):])):
        mention = parsed
    if not mention and _SELF_ANNOUNCED.search(text):
        return None  # the speaker's own opening ("今天由我为大家分享…"), not a host's announcement
    topic = topic_from(text, _ANNOUNCED_TOPIC)
    if not mention and not topic:
        return None
    return Announcement(index, index, mention, topic, announced_start(text), sender)


def is_announcement_like(text: str) -> bool:
    """Loose test used to cut a run: the host's words about today's talk."""
    return bool(_ANNOUNCE.search(text))


def invites(text: str, mentions: Sequence[str], speaker_names: Sequence[str]) -> bool:
    """Whether a (short) message invites the talk: a go-ahead, or an @mention of the speaker
    with a word asking them to present."""
    if len(text) >= HOST_MESSAGE_MAX_CHARS or not _MAY_INVITE.search(text) or _NOT_NOW.search(text):
        return False
    if INVITATION.search(text):
        return True
    return bool(mentions) and _INVITING_WORD.search(text) is not None and any(
        names_match(m, s) for m in mentions for s in speaker_names)


# --- the speaker's part: opening, outline, numbered points, sign-off ------------------

# A greeting alone opens many runs (and some discussions); an intent to present opens talks.
_GREETING = re.compile(r"大家好|大家(?:早上|上午|中午|下午|晚上)好|各位好|各位(?:早上|上午|下午|晚上)好|晚上好|"
                       r"^(?:hi|hello|hey)\b|^嗨",
                       re.IGNORECASE)
_INTENT = re.compile(
    r"(?:今天|今晚|本次|这次|本期|下面|接下来|现在)[^。！!？?]{0,14}(?:分享|介绍|讲|聊聊|交流)|"
    r"(?:分享|讲|介绍)的?(?:主题|题目|话题|内容)|主题[是为：:]|题目[是为：:]|"
    r"(?:给|和|跟|为)(?:大家|各位)(?:做|带来)?(?:一[个次下]|个)?(?:分享|介绍|讲)|"
    r"开始(?:今天的|今晚的|我的|本次)?分享|(?:我|我们|咱们)(?:就|先|现在)?(?:正式)?开始(?:了|吧|啦|[，,。!！~～]|$)|"
    r"分享(?:正式)?开始|自我介绍|(?:我是|我叫|本人)[^。！!？?]{1,30}?(?:来自|就职|负责|从事|工作|目前|现在|经理|架构师|工程师|总监|CTO|PM|PD)"
)
_OUTLINE_MARK = re.compile(
    r"第[一二三四五六七八九十\d]{1,2}(?:部分|点|个方面|方面|章|节|讲|块|个问题)|"
    r"(?:^|(?<=[\s：:。；;，,]))(?:[一二三四五六七八九十]{1,2}[、.．]|\d{1,2}[、．)）]|\d{1,2}\.(?!\d)|[（(]\d{1,2}[)）])"
)
_NUMBERED_START = re.compile(
    r"^\s*(?:第[一二三四五六七八九十\d]{1,2}(?:部分|点|个方面|方面|章|节|步|个问题)|[一二三四五六七八九十]{1,2}[、.．]|"
    r"\d{1,2}[、．)）]|\d{1,2}\.(?!\d)|[（(]\d{1,2}[)）]|[（(][一二三四五六七八九十]{1,2}[)）]|首先|其次|然后|最后|另外)"
)
# Sign-offs, from the strongest: closing the sharing itself ("以上是我今天的分享", "分享完毕",
# a line of dashes), closing a part or the content ("以上就是…", "讲完了", "就介绍到这"), and
# only thanking everyone ("谢谢大家"). A talk may close parts on its way ("以上就是第一部分"),
# so only the first kind ends it outright.
_SHARING_CLOSED = re.compile(
    r"(?:以上|今天|本次|本期|我的|这次|今晚).{0,12}分享.{0,10}(?:完毕|结束|到这|到此|就这些|就是这些|这么多|为止)|"
    r"以上.{0,10}分享|分享完毕|分享结束|分享到这|分享就到|就分享到这|分割线|^\s*[-—_=*~～]{6,}\s*$"
)
_CONTENT_CLOSED = re.compile(
    r"(?:以上|今天|本次|本期|我的|这次|今晚).{0,12}(?:内容|介绍).{0,10}"
    r"(?:完毕|结束|到这|到此|就这些|就是这些|这么多|就是以上|为止)|"
    r"以上是我|以上就是|以上是今天|讲完了|我就讲到这|就讲到这|就介绍到这"
)
_THANKING_ALL = re.compile(r"谢谢大家|感谢大家|谢谢各位|感谢各位")
SIGN_OFF_SHARING, SIGN_OFF_CONTENT, SIGN_OFF_THANKS = 3, 2, 1


def sign_off_kind(text: str) -> int:
    """SIGN_OFF_SHARING, SIGN_OFF_CONTENT, SIGN_OFF_THANKS or 0 (see above)."""
    if _SHARING_CLOSED.search(text):
        return SIGN_OFF_SHARING
    if _CONTENT_CLOSED.search(text):
        return SIGN_OFF_CONTENT
    return SIGN_OFF_THANKS if _THANKING_ALL.search(text) else 0


# Others' reactions to a talk: thanks for the sharing, praise of it.
_THANKS_FOR_SHARING = re.compile(
    r"(?:谢谢|感谢|多谢|辛苦)[^，,。！!？]{0,24}?(?:分享|讲解|老师|嘉宾|干货)|"
    r"分享[得的]?(?:很|非常|太|真)?(?:棒|好|精彩|赞|实用|干货)|受益匪浅|收获(?:很大|满满|颇丰)|干货满满|精彩"
)
_QUESTION = re.compile(r"[?？]\s*$|[?？](?!\S*$)|吗|请问|请教|怎么|如何|为什么|为啥|是不是|有没有|能否|哪")
_REPLY_START = re.compile(r"^\s*@")


def opening_strength(text: str) -> int:
    """2 for an intent to present (``今天和大家分享…``, ``我是…，来自…``), 1 for a greeting
    alone, 0 otherwise."""
    if _INTENT.search(text):
        return 2
    return 1 if _GREETING.search(text) else 0


def outline_marks(text: str) -> int:
    """How many outline markers (``第一部分``, ``一、``, ``1.``, ``（1）``) a message holds."""
    return len(_OUTLINE_MARK.findall(text))


def is_numbered(text: str) -> bool:
    """A numbered point: a message that starts with ``第二部分``, ``3、``, ``（一）``, ``首先``…"""
    return _NUMBERED_START.match(text) is not None


def thanks_for_sharing(text: str) -> bool:
    return _THANKS_FOR_SHARING.search(text) is not None


def is_question(text: str) -> bool:
    return _QUESTION.search(text) is not None


def is_reply(text: str, has_quote: bool) -> bool:
    """A message addressed to someone: a quote reply or a message that opens with an @mention."""
    return has_quote or _REPLY_START.match(text) is not None


# --- topics -------------------------------------------------------------------------

_OPENING_TOPIC = [
    re.compile(r"(?:分享|讲|介绍|聊)的?(?:主题|题目|话题|内容)(?:主要)?(?:是|为)?(?:关于)?"
               r"\s*[：:]?\s*" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊|主题|题目)[^，,。！!；;]{0,8}?" + _QUOTED),
    re.compile(r"(?:分享|讲|介绍|聊)的?(?:主题|题目|话题)(?:主要)?(?:是|为)(?:关于)?\s*[：:]?\s*"
               r"([^，,。；;！!：:\s].{1,39}?)\s*(?:[，,。；;！!]|相关的|$)"),
    re.compile(r"(?:主题|题目)\s*[：:是为]\s*([^，,。；;！!：:\s].{1,39}?)\s*(?:[，,。；;！!]|$)"),
    re.compile(r"(?:今天|今晚|本次|这次)(?:我|我们)?(?:主要)?(?:是)?(?:想|来|由我)?(?:和|跟|给|为)?(?:大家)?"
               r"(?:分享|介绍|聊聊|讲讲|讲)(?:一下|一些|的是|下|点)?(?:关于)?\s*([^，,。；;！!：:\s].{1,39}?)\s*"
               r"(?:[，,。；;！!]|相关|的内容|$)"),
    re.compile(r"(?:给|和|跟|为)(?:大家|各位)(?:做|带来)?(?:一[个次下]|个)?(?:分享|介绍|讲)(?:一下|一些|的是|下)?(?:关于)?\s*"
               r"([^，,。；;！!：:\s].{1,39}?)\s*(?:[，,。；;！!]|相关|的内容|$)"),
    re.compile(r"(?:分享|介绍|讲)(?:也)?(?:主要)?(?:是)?(?:围绕|关于)(?:着)?\s*([^，,。；;！!：:\s].{1,29}?)\s*(?:来进行|进行|展开|来讲|[，,。；;！!]|$)"),
]
_HOST_TOPIC = _ANNOUNCED_TOPIC
_TOPIC_TRIM = " \t\"'“”《》「」『』【】()（）:：,，。.;；!！?？~～-—"
# A topic of more than this many characters (unquoted) is a sentence, not a title.
TOPIC_MAX_CHARS = 30
TOPIC_KEEP_CHARS = 60
# Words that make an outline's lead-in a sentence about the outline, not its title.
# An outline gives the title only at the very start of the talk (later lists are the talk's points).
OUTLINE_TITLE_SCAN = 2
_NOT_A_TITLE = re.compile(r"以下|如下|几个|几部分|部分|方面|大纲|目录|分为|包括|内容|大家好|我是|我叫|谢谢|感谢|开始|今天|今晚")


def _clean_topic(topic: str) -> str:
    topic = topic.strip(_TOPIC_TRIM).removeprefix("的").strip(_TOPIC_TRIM)
    for suffix in ("相关的", "相关知识", "相关"):
        if topic.endswith(suffix) and len(topic) > len(suffix) + 2:
            topic = topic[: -len(suffix)]
    return topic.strip(_TOPIC_TRIM)[:TOPIC_KEEP_CHARS]


def topic_from(text: str, patterns: Sequence[re.Pattern]) -> str:
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            topic = _clean_topic(m.group(1))
            quoted = pattern.pattern.endswith(_QUOTED)
            if 2 <= len(topic) and (quoted or len(topic) <= TOPIC_MAX_CHARS) and "@" not in topic:
                return topic
    return ""


def topic_from_opening(texts: Sequence[str]) -> str:
    """The topic a speaker gives in their first messages: what follows ``分享``/``主题``,
    else the title an outline starts with (``支付路由 第一部分…第二部分…``)."""
    for text in texts:
        topic = topic_from(text, _OPENING_TOPIC)
        if topic:
            return topic
    for position, text in enumerate(texts[:OUTLINE_TITLE_SCAN]):
        if outline_marks(text) < 2:
            continue
        first = _OUTLINE_MARK.search(text)
        lead = text[: first.start()] if first else ""
        # The title is the last clause before the outline ("大家好。清分系统设计 一、…").
        clauses = [c for c in re.split(r"[，,。！!；;：:\s]+", lead) if c]
        title = _clean_topic(clauses[-1]) if clauses else ""
        if not title and position > 0:
            title = _clean_topic(texts[position - 1])  # a title posted alone just before
        if 2 <= len(title) <= TOPIC_MAX_CHARS and not _NOT_A_TITLE.search(title) and "@" not in title:
            return title
    return ""


def topic_from_host(text: str) -> str:
    return topic_from(text, _HOST_TOPIC)


def bigrams(text: str) -> set[str]:
    chars = [c for c in text.casefold() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


# --- names --------------------------------------------------------------------------

_COMPACT = re.compile(r"[\W_]+")
# Without separators, one name must be at least this long to match as the start of another
# (``周一帆青松`` / ``周一帆-青松科技-架构``; ``周一`` alone proves nothing).
COMPACT_PREFIX_MIN_CHARS = 4


@lru_cache(maxsize=65536)
def names_match(a: str, b: str) -> bool:
    """Whether two names plausibly denote one person (header name vs group nickname):
    equal keys, one the start of the other (``鸽子`` / ``鸽子-支付产品-上海``), the same
    personal-name part, one's personal name among the other's parts (parts reordered:
    ``云栈支付-赵启明-深圳`` / ``赵启明-云栈支付-架构-深圳``), or the same letters without the
    separators (``赵启明云栈支付`` / ``赵启明-云栈支付-架构-深圳``)."""
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
    if (len(ca) >= 2 and ca in parts_b) or (len(cb) >= 2 and cb in parts_a):
        return True
    compact_a, compact_b = _COMPACT.sub("", ka), _COMPACT.sub("", kb)
    short, long_ = sorted((compact_a, compact_b), key=len)
    return len(short) >= COMPACT_PREFIX_MIN_CHARS and long_.startswith(short)


@lru_cache(maxsize=65536)
def names_alike(a: str, b: str) -> bool:
    """A weaker likeness, a hint only: the same nickname but for one differing part (a typo
    in the personal name, ``赵启铭-云栈支付-架构-深圳`` / ``赵启明-云栈支付-架构-深圳``). Two
    colleagues can be alike, so this never decides alone."""
    pa, pb = normalize_name(a).split("-"), normalize_name(b).split("-")
    if len(pa) < 3 or len(pa) != len(pb):
        return False
    differing = [(x, y) for x, y in zip(pa, pb, strict=True) if x != y]
    return len(differing) == 1 and len(differing[0][0]) == len(differing[0][1])
