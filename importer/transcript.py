"""Reading one day's chat transcript (plain Python, no Django).

The format is described in ``docs/TRANSCRIPT_FORMAT.md`` of the shared material: a
Jekyll front matter, then per message a header ``> HH:MM:SS  NICKNAME``, a blank line
of three spaces, the content on one line and another blank line.

Parsing is strict where a wrong guess would corrupt data (no front matter, no or bad
``date``, an impossible time, a file cut in the middle of a message, binary input)
and tolerant elsewhere: odd lines become warnings or continuation lines, never a
crash. Everything is done with precompiled regular expressions and cheap string
tests, because the importer has to read tens of thousands of messages per second.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass, field, replace

from community.dates import record_day_problem
from community.names import is_well_formed_nickname, name_core, normalize_name


class TranscriptError(ValueError):
    """Bad input; ``str()`` gives ``"FILENAME:LINE: reason"``."""

    def __init__(self, reason: str, *, line: int = 0, filename: str = ""):
        self.reason = reason
        self.line = line
        self.filename = filename
        super().__init__(f"{filename or '<transcript>'}:{line}: {reason}")


@dataclass(frozen=True)
class Quote:
    """A WeChat reply's quote: ``name`` sent ``text``. When the quoted message was itself a reply
    (``「A：「B：…」 - - - text」 - - - reply``), ``text`` is that message's own text (its reply part)
    and ``inner`` the quote it carried."""

    name: str
    text: str
    inner: Quote | None = None


@dataclass(frozen=True)
class RawMessage:
    line: int
    time: datetime.time
    sender: str
    kind: str
    text: str
    url: str = ""
    mentions: tuple[str, ...] = ()
    quote: Quote | None = None
    account_id: str = ""
    ordinal: int = 0
    alias: str = ""

    def __init__(self, line: int, time: datetime.time, sender: str, kind: str, text: str,
                 url: str = "", mentions: tuple[str, ...] = (), quote: Quote | None = None,
                 account_id: str = "", ordinal: int = 0, alias: str = ""):
        # Same signature as the generated __init__, without eleven frozen
        # object.__setattr__ calls: the parser builds tens of thousands per second.
        self.__dict__.update({
            "line": line, "time": time, "sender": sender, "kind": kind, "text": text,
            "url": url, "mentions": mentions, "quote": quote, "account_id": account_id,
            "ordinal": ordinal, "alias": alias,
        })


@dataclass
class Transcript:
    day: datetime.date
    title: str
    author_hint: str
    front_matter: dict[str, str]
    messages: list[RawMessage]
    warnings: list[str] = field(default_factory=list)
    merged_pairs: list[tuple[str, str, int]] = field(default_factory=list)
    day_line: int = 0  # the line of the front matter's ``date``


KINDS = ("text", "image", "link", "file", "sticker", "empty")
NO_AUTHOR = "PaymentGroup"

# --- decoding -------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_transcript(data: bytes, *, filename: str = "") -> str:
    """Bytes to text: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).

    Empty input, NUL bytes and bytes that are neither are rejected.
    """
    if not data or not data.strip():
        raise TranscriptError("empty file", line=1, filename=filename)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise TranscriptError("binary data (NUL byte), not a transcript", line=line,
                              filename=filename)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            line = data.count(b"\n", 0, utf8_error.start) + 1
            raise TranscriptError("not UTF-8 or GBK/GB18030 text", line=line,
                                  filename=filename) from None
    # Control characters mean binary data (GB18030 in particular maps almost any
    # byte string to *something*); a stray one or two are tolerated.
    if _CONTROL.search(text) and len(_CONTROL.findall(text)) > max(2, len(text) // 1000):
        raise TranscriptError("binary data, not a transcript", line=1, filename=filename)
    return text


# --- entities -------------------------------------------------------------------

_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\xa0"}


def _entity(m: re.Match) -> str:
    name = m.group(1)
    if name[0] != "#":
        return _NAMED[name]
    try:
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(code) if 0 < code < 0x110000 else m.group(0)
    except ValueError:
        return m.group(0)


def unescape(s: str, times: int = 2) -> str:
    """Decode HTML entities, repeating until stable but at most ``times`` rounds.

    The export escaped twice (``&`` -> ``&amp;amp;``), so text is decoded at most
    twice: ``&amp;amp;`` -> ``&``, while a member's literal ``&amp;amp;amp;`` keeps
    one level (``&amp;``). Only entities with a ``;`` are decoded, so ``a&b`` and
    ``?x=1&para=2`` are left alone.
    """
    for _ in range(times):
        if "&" not in s:
            break
        decoded = _ENTITY.sub(_entity, s)
        if decoded == s:
            break
        s = decoded
    return s


# URLs carry one more level (WeChat's link XML escaped "&" before the export did):
# decode them until stable, at most three rounds.
_URL_ROUNDS = 3

# --- lines ----------------------------------------------------------------------

_HEADER = re.compile(r"> (\d{1,2}):(\d{2}):(\d{2})(?: {1,2}(.*))?$")
_HEADER_START = re.compile(r"> \d")
_FRONT_KEY = re.compile(r"\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]|$)")
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")

_IMAGE = re.compile(r"!\[([^\]]*)\]\((\S*)\)$")
_LINK = re.compile(r"\[(.*)\]\(([A-Za-z][\w+.-]*://\S*|www\.\S*)\)$")
_BARE_URL = re.compile(r"(?:https?|ftp)://\S+$|www\.[\w-]+\.\S+$", re.IGNORECASE)
_FILE = re.compile(
    r"<?([^<>\\/\n]{1,200}\.(?:pdf|docx?|xlsx?|xlsm|pptx?|ppsx?|key|numbers|pages|zip|rar|"
    r"7z|gz|tgz|tar|txt|md|csv|rtf|vsdx?|xmind|mmap|epub|mobi|wps|et|dps|apk|ipa))>?$",
    re.IGNORECASE,
)
_FILE_EXTS = frozenset(
    "pdf doc docx xls xlsx xlsm ppt pptx pps ppsx key numbers pages zip rar 7z gz tgz tar "
    "txt md csv rtf vsd vsdx xmind mmap epub mobi wps et dps apk ipa".split()
)
_FAST_MESSAGE = re.compile(
    r"> (\d\d:\d\d:\d\d)  ([^\n]*)\n"
    r"(?:[ \t]*\n)*"
    r"(?:(?!> \d)([^\n]*\S[^\n]*)\n(?:[ \t]*\n)*)?"
)
_BLANKS = re.compile(r"(?:[ \t]*\n)*")
_STICKER = re.compile(r"(?:\[[\u4e00-\u9fffA-Za-z]{1,8}\]\s*)+$")
# A quote: 「NAME：TEXT」 then a line of dashes and the reply. The colon may be full-width or ASCII,
# blanks may pad the name and the text, and TEXT may itself be a quote (a reply quoted).
_QUOTE_HEAD = re.compile(r"「\s*([^：:「」\n]{1,80}?)\s*[：:]")
_QUOTE_END = re.compile(r"」\s*(?:-\s*){3,}")
# Today's export tools write the quote inside the reply's text (EXPORT_FORMATS.md): WeFlow
# "reply[引用 NAME：TEXT]", MemoTrace "reply\n引用：NAME: TEXT". (Their JSON carries it as the fields
# quotedSender and quotedContent: ``Quote(quotedSender, quotedContent)``.)
_QUOTE_BRACKET = re.compile(r"(.*?)\s*\[引用\s*([^：:\[\]\n]{1,80}?)\s*[：:]\s*(.*)\]\s*$", re.DOTALL)
_QUOTE_LINE = re.compile(r"(.*?)\s*\n\s*引用\s*[：:]\s*([^：:\n]{1,80}?)\s*[：:]\s*(.*)$", re.DOTALL)
# The same quote with its corner brackets lost by the export as "?": "? NAME: TEXT ? - - - - reply".
_QUOTE_LOST = re.compile(r"\?\s*([^：:?「」\n]{1,80}?)\s*[：:]\s*(.*?)\s*\?\s*(?:-\s*){3,}(.*)$")
_ACCOUNT_ID = re.compile(r"(wxid_[A-Za-z0-9_-]{4,}|[A-Za-z][A-Za-z0-9_-]{3,30}):$")
_HAS_DIGIT = re.compile(r"\d")
# A mention ends at the '?' the export left of WeChat's special space, at a space,
# or at the end. The '?' form may hold spaces ("@降峰 百度金融pm 北京?") when short.
_MENTION_Q = re.compile(r"@([^@?\s][^@?\n]{0,40}?)\?")
_MENTION_WORD = re.compile(r"@([^@?\s]+)")
_NOT_IN_MENTION = re.compile(r"[，。！？：；、（）「」“”《》,;!]|\s{2}")
_MENTION_TRIM = " \t,.:;，。：；!！、)）"


def _mentions(text: str) -> tuple[str, ...]:
    found: list[str] = []
    pos = 0
    n = len(text)
    while True:
        at = text.find("@", pos)
        if at < 0 or at >= n - 1:
            break
        if at > 0 and (text[at - 1].isascii() and text[at - 1].isalnum()):
            pos = at + 1  # an e-mail address, not a mention
            continue
        name = ""
        end = at + 1
        m = _MENTION_Q.match(text, at)
        if m:
            candidate = m.group(1)
            if candidate.count(" ") <= 3 and not _NOT_IN_MENTION.search(candidate):
                name = candidate
                end = m.end()
        if not name:
            m = _MENTION_WORD.match(text, at)
            if m:
                name = m.group(1)
                end = m.end()
        name = name.strip(_MENTION_TRIM)
        if name:
            found.append(name)
        pos = max(end, at + 1)
    return tuple(found)


def mentions_in(text: str) -> tuple[str, ...]:
    """The names a text message mentions (``@name``), as the parser reads them."""
    return _mentions(text) if "@" in text else ()


def _classify(content: str) -> tuple[str, str, str, tuple[str, ...], Quote | None, str]:
    """(kind, text, url, mentions, quote, account_id) for one content line."""
    first = content[0]
    if first == "!":
        m = _IMAGE.match(content)
        if m:
            return "image", "", unescape(m.group(2), _URL_ROUNDS), (), None, ""
    elif first == "[":
        m = _LINK.match(content)
        if m:
            return ("link", unescape(m.group(1)), unescape(m.group(2), _URL_ROUNDS),
                    (), None, "")
        if _STICKER.match(content):
            return "sticker", content, "", (), None, ""
    elif first == "「":
        found = _quote(content)
        if found:
            quote, reply = found
            if not reply:
                return "text", "", "", (), quote, ""
            kind, text, url, mentions, _, account = _classify(reply)
            return kind, text, url, mentions, quote, account
    elif first == "?":
        m = _QUOTE_LOST.match(content)
        if m:
            quote = Quote(unescape(m.group(1).strip()), unescape(m.group(2).strip()))
            reply = m.group(3).strip()
            if not reply:
                return "text", "", "", (), quote, ""
            kind, text, url, mentions, _, account = _classify(reply)
            return kind, text, url, mentions, quote, account
    last = content[-1]
    if last == ":":
        m = _ACCOUNT_ID.match(content)
        if m and (content.startswith("wxid_") or _HAS_DIGIT.search(content)):
            return "text", content, "", (), None, m.group(1)
    if first in "hHfFwW" and _BARE_URL.match(content):
        return "link", "", unescape(content, _URL_ROUNDS), (), None, ""
    dot = content.rfind(".", -9)
    if dot > 0 and len(content) <= 210 and content[dot + 1:].rstrip(">").lower() in _FILE_EXTS:
        m = _FILE.match(content)
        if m:
            return "file", unescape(m.group(1).strip()), "", (), None, ""
    text = unescape(content) if "&" in content else content
    quote = None
    if "引用" in text:
        found = quote_in_text(text)
        if found is not None:
            quote, text = found
    mentions = _mentions(text) if "@" in text else ()
    return "text", text, "", mentions, quote, ""


def quote_in_text(text: str) -> tuple[Quote, str] | None:
    """(quote, reply) of a reply whose text carries its quote as today's export tools write it:
    ``reply[引用 NAME：TEXT]`` (WeFlow) or ``reply`` then a line ``引用：NAME: TEXT`` (MemoTrace)."""
    m = _QUOTE_BRACKET.match(text) if "[引用" in text else None
    if m is None and "\n" in text:
        m = _QUOTE_LINE.match(text)
    if m is None or not m.group(2).strip():
        return None
    return Quote(m.group(2).strip(), m.group(3).strip()), m.group(1).strip()


def _quote(content: str) -> tuple[Quote, str] | None:
    """(quote, reply) of a reply message ``「NAME：TEXT」 - - - reply``, or None.

    The quote ends at the first ``」`` followed by dashes where the brackets opened since its
    ``「`` are closed (a nested quote's own end is inside it); without such a point, at the first
    ``」`` followed by dashes."""
    head = _QUOTE_HEAD.match(content)
    if head is None:
        return None
    start = head.end()
    chosen = None
    for end in _QUOTE_END.finditer(content, start):
        inside = content[start:end.start()]
        if inside.count("「") == inside.count("」"):
            chosen = end
            break
        if chosen is None:
            chosen = end
    if chosen is None:
        return None
    text = content[start:chosen.start()].strip()
    name = unescape(head.group(1).strip())
    reply = content[chosen.end():].strip()
    inner = _quote(text) if text.startswith("「") else None
    if inner is not None:
        return Quote(name, unescape(inner[1]), inner[0]), reply
    return Quote(name, unescape(text)), reply


def _strip_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _front_matter(lines: list[str], filename: str) -> tuple[dict[str, str], dict[str, int], int]:
    """(values, line numbers, index of the first body line)."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].strip() != "---":
        # A file of blank lines (or none) is named at its last line.
        raise TranscriptError("missing front matter (expected a '---' line)",
                              line=min(start + 1, len(lines)), filename=filename)
    values: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line.strip() == "---":
            return values, numbers, i + 1
        m = _FRONT_KEY.match(line)
        if m:
            key = m.group(1).lower()
            values[key] = _strip_quotes(m.group(2))
            numbers[key] = i + 1
    raise TranscriptError("front matter not closed (no second '---' line)",
                          line=start + 1, filename=filename)


def _parse_day(values: dict[str, str], numbers: dict[str, int], end_line: int,
               filename: str, latest_day: datetime.date | None) -> datetime.date:
    raw = values.get("date", "")
    if not raw:
        raise TranscriptError("front matter has no 'date'", line=numbers.get("date", end_line),
                              filename=filename)
    m = _DATE.match(raw)
    try:
        if not m:
            raise ValueError
        day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise TranscriptError(f"invalid date {raw!r}", line=numbers["date"],
                              filename=filename) from None
    problem = record_day_problem(day, latest=latest_day)
    if problem:
        raise TranscriptError(problem, line=numbers["date"], filename=filename)
    return day


def _fuller(a: str, b: str) -> bool:
    """True when nickname ``a`` is the fuller of the two (the one to keep)."""
    wa, wb = is_well_formed_nickname(a), is_well_formed_nickname(b)
    if wa != wb:
        return wa
    if (a == "我") != (b == "我"):
        return b == "我"
    return len(a) >= len(b)


def _related(a: str, b: str) -> bool:
    ka, kb = normalize_name(a), normalize_name(b)
    if not ka or not kb:
        return False
    if ka.startswith(kb) or kb.startswith(ka):
        return True
    return name_core(a) == name_core(b)


def _collapse_pairs(messages: list[RawMessage], warnings: list[str],
                    where: str) -> tuple[list[RawMessage], list[tuple[str, str, int]]]:
    """Collapse the doubled messages of a file merged from two phones' exports.

    A candidate is two consecutive messages with the same time and content under two
    different names. Two people can post the same "签到" in the same second, so a
    candidate is collapsed only when the file as a whole is a merged one (at least a
    quarter of its messages in candidates) or when the two names are visibly the
    same person (same name core, or one extends the other).
    """
    candidates: list[int] = []
    i = 0
    n = len(messages)
    while i + 1 < n:
        a, b = messages[i], messages[i + 1]
        if (a.time == b.time and a.sender != b.sender and a.kind == b.kind
                and a.text == b.text and a.url == b.url and a.quote == b.quote):
            candidates.append(i)
            i += 2
        else:
            i += 1
    if not candidates:
        return messages, []
    merged_file = len(candidates) * 2 >= max(4, n // 4)
    if merged_file:
        warnings.append(f"{where}: {len(candidates)} doubled messages: file merged from "
                        "two exports, pairs collapsed")
    result: list[RawMessage] = []
    pairs: list[tuple[str, str, int]] = []
    chosen = {i for i in candidates
              if merged_file or _related(messages[i].sender, messages[i + 1].sender)}
    i = 0
    while i < n:
        if i in chosen:
            a, b = messages[i], messages[i + 1]
            keep, other = (a, b) if _fuller(a.sender, b.sender) else (b, a)
            result.append(replace(keep, line=a.line, alias=other.sender))
            pairs.append((keep.sender, other.sender, a.line))
            i += 2
        else:
            result.append(messages[i])
            i += 1
    return result, pairs


def _records_slow(lines: list[str], body: int, filename: str, where_file: str,
                  warnings: list[str]) -> tuple[list[tuple[int, datetime.time, str]],
                                                list[str | None]]:
    """Line by line, tolerant of odd lines: the general path."""
    # Headers as (line, time, sender) and, in parallel, each message's content.
    heads: list[tuple[int, datetime.time, str]] = []
    contents: list[str | None] = []
    # A message's extra lines, joined once at the end (adding each to a growing string was
    # quadratic: a file of tens of thousands of stray lines took minutes).
    extra: dict[int, list[str]] = {}
    header_match = _HEADER.match
    time_cache: dict[str, datetime.time] = {}
    last = len(lines) - 1
    while last >= body and not lines[last]:
        last -= 1
    for index in range(body, last + 1):
        line = lines[index]
        first = line[:1]
        if first == " " or not first:
            if not line or line.isspace():
                continue  # the export's three-blank separator lines
        elif first == ">" and line[1:2] == " ":
            m = header_match(line)
            if m:
                stamp = line[2:10]
                t = time_cache.get(stamp)
                if t is None:
                    try:
                        t = datetime.time(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                    except ValueError:
                        raise TranscriptError(
                            f"invalid time {m.group(1)}:{m.group(2)}:{m.group(3)}",
                            line=index + 1, filename=filename) from None
                    time_cache[stamp] = t
                sender = m.group(4)
                sender = sender.rstrip() if sender else ""
                if not sender:
                    warnings.append(f"{where_file}:{index + 1}: message without a sender")
                heads.append((index + 1, t, sender))
                contents.append(None)
                if index == last:
                    # The file ends on a header: the export stopped in mid-message.
                    raise TranscriptError(
                        "file truncated after a message header (no content follows)",
                        line=index + 1, filename=filename)
                continue
            if index == last and _HEADER_START.match(line):
                raise TranscriptError("file truncated in a message header",
                                      line=index + 1, filename=filename)
        stripped = line.strip()
        if not stripped:
            continue  # only tabs or ideographic spaces: a separator too (an empty content crashed _classify)
        if not heads:
            warnings.append(f"{where_file}:{index + 1}: text before the first message ignored")
            continue
        previous = contents[-1]
        if previous is None:
            contents[-1] = stripped
        else:
            warnings.append(f"{where_file}:{index + 1}: extra content line joined to the "
                            "message above")
            extra.setdefault(len(contents) - 1, [previous]).append(stripped)

    for position, parts in extra.items():
        contents[position] = "\n".join(parts)
    return heads, contents


def _records_fast(text: str, offset: int, first_line: int,
                  time_of: dict[str, datetime.time]) -> tuple[
                      list[tuple[int, datetime.time, str]], list[str | None]] | None:
    """One regular expression per message, for files exactly in the export's layout.

    Returns ``None`` as soon as anything is unusual (a one-space header, an extra
    line, an empty last message, a bad time...): the caller then takes the
    line-by-line path, which knows how to report or tolerate it.
    """
    heads: list[tuple[int, datetime.time, str]] = []
    contents: list[str | None] = []
    match = _FAST_MESSAGE.match
    count = text.count
    n = len(text)
    if not text.endswith("\n"):
        return None
    m = _BLANKS.match(text, offset)
    line = first_line + count("\n", offset, m.end())
    pos = m.end()
    content: str | None = None
    while pos < n:
        m = match(text, pos)
        if m is None:
            return None
        stamp, sender, content = m.groups()
        t = time_of.get(stamp)
        if t is None:
            try:
                t = datetime.time(int(stamp[:2]), int(stamp[3:5]), int(stamp[6:]))
            except ValueError:
                return None
            time_of[stamp] = t
        if content is not None:
            content = content.strip()
        heads.append((line, t, sender.rstrip()))
        contents.append(content or None)
        end = m.end()
        line += count("\n", pos, end)
        pos = end
    if not heads or content is None or not heads[-1][2] or not all(h[2] for h in heads):
        return None
    return heads, contents


def parse_transcript(text: str, *, filename: str = "",
                     latest_day: datetime.date | None = None) -> Transcript:
    """Parse a transcript's text; raise ``TranscriptError`` on input it must not guess.

    A ``date`` before ``community.dates.EARLIEST_DAY``, or after ``latest_day`` when given
    (the group's ``latest_record_day``), is such input: the error names the ``date`` line."""
    if not text or not text.strip():
        raise TranscriptError("empty file", line=1, filename=filename)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    where_file = filename or "<transcript>"
    warnings: list[str] = []

    values, numbers, body = _front_matter(lines, filename)
    day = _parse_day(values, numbers, body, filename, latest_day)
    title = values.get("title", "")
    author = values.get("author", "")
    author_hint = "" if author == NO_AUTHOR else author

    base = os.path.basename(filename)
    m = _FILE_DATE.search(base) if base else None
    if m:
        try:
            file_day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            file_day = None
        if file_day and file_day != day:
            warnings.append(f"{where_file}:{numbers['date']}: date {day.isoformat()} "
                            f"disagrees with file name date {file_day.isoformat()}; "
                            "using the front matter date")

    # Raw messages as (line, time, sender, [content lines]).
    time_of: dict[str, datetime.time] = {}
    offset = sum(len(x) + 1 for x in lines[:body])
    records = _records_fast(text, offset, body + 1, time_of)
    if records is None:
        records = _records_slow(lines, body, filename, where_file, warnings)
    heads, contents = records

    messages: list[RawMessage] = []
    append = messages.append
    for (line_no, t, sender), content in zip(heads, contents, strict=True):
        if content is None:
            append(RawMessage(line_no, t, sender, "empty", ""))
        else:
            kind, body_text, url, mentions, quote, account = _classify(content)
            append(RawMessage(line_no, t, sender, kind, body_text, url, mentions, quote,
                              account))

    declared = values.get("lines", "")
    if declared:
        try:
            expected = int(declared)
        except ValueError:
            warnings.append(f"{where_file}:{numbers['lines']}: 'lines' is not a number: "
                            f"{declared!r}")
        else:
            if expected != len(messages):
                warnings.append(f"{where_file}:{numbers['lines']}: 'lines' says {expected} "
                                f"but the body has {len(messages)} messages")

    messages, pairs = _collapse_pairs(messages, warnings, where_file)

    seen: dict[tuple, int] = {}
    for i, msg in enumerate(messages):
        key = (msg.time, msg.sender, msg.text, msg.url)
        count = seen.get(key, 0)
        seen[key] = count + 1
        if count:
            messages[i] = replace(msg, ordinal=count)

    return Transcript(day=day, title=title, author_hint=author_hint, front_matter=values,
                      messages=messages, warnings=warnings, merged_pairs=pairs,
                      day_line=numbers["date"])


def message_moments(transcript: Transcript, tz: datetime.tzinfo, *, latest_day: datetime.date | None,
                    filename: str = "") -> list[datetime.datetime]:
    """Each message's moment: its time on the transcript's day, in the group's zone ``tz``.

    A moment whose day (in ``tz``) cannot be a day of the record (``record_day_problem``:
    before ``community.dates.EARLIEST_DAY``, or after ``latest_day``), or that cannot be
    placed in time at all, is a ``TranscriptError`` naming that message (its line, time and
    sender): nothing of the file may be stored then."""
    day = transcript.day
    combine = datetime.datetime.combine
    moments = [combine(day, m.time, tzinfo=tz) for m in transcript.messages]
    for message, moment in zip(transcript.messages, moments, strict=True):
        try:
            # Storing a moment moves it to UTC: a day at the edge of the calendar overflows there.
            moment.astimezone(datetime.UTC)
            problem = record_day_problem(moment.date(), latest=latest_day)
        except OverflowError:
            problem = "out of the calendar's range"
        if problem:
            raise TranscriptError(
                f"message at {message.time.isoformat()} from {message.sender or '?'}: {problem}",
                line=message.line, filename=filename)
    return moments


def read_transcript(path) -> Transcript:
    """Read and parse the transcript file at ``path``."""
    filename = os.fspath(path)
    with open(filename, "rb") as f:
        data = f.read()
    return parse_transcript(decode_transcript(data, filename=filename), filename=filename)
