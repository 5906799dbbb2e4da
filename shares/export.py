"""A talk as Markdown, in the shape of the write-ups the groups' maintainers made by hand
(``../shared/corpus/curated/``): front matter, ``## 一、专题分享`` (the talk), ``## 二、Q&A``
and, for members, ``## 三、自由讨论`` (the rest of the day).

Plain Python (no Django import), testable on strings. Everything a message carries is data:
the text is escaped so that it cannot become markup on the page where the write-up is
published — HTML (``<`` ``>`` ``&``), Liquid (``{`` ``}``, Jekyll runs it before Markdown),
inline Markdown that links or formats (``[`` ``]`` ``*`` ``_`` `` ` `` ``|`` ``~`` ``$`` ``\\``)
and, at the start of a line, whatever would open a block (``#``, ``-``, ``+``, ``=``, ``:``,
``1.``, indentation). Only http(s) URLs become links or images.

The headings are in Chinese whatever the reader's language: the write-ups are published in
the groups' language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

TALK_HEADING = "## 一、专题分享"
QA_HEADING = "## 二、Q&A"
DISCUSSION_HEADING = "## 三、自由讨论"
NOTHING = "（无）"
IMAGE_PLACEHOLDER = "（图片）"
FILE_LABEL = "（文件）"
STICKER_PLACEHOLDER = "（表情）"

# An http(s) URL up to whitespace, control characters, quotes, angle brackets, braces (Liquid),
# backslashes, backticks, pipes, square brackets or CJK punctuation (，。）】 …), which the record often puts
# right after a link.
URL = re.compile(r"https?://[^\s<>\"'{}\\`|\[\]\x00-\x1f\x7f\u3000-\u303f\uff00-\uffef]+", re.IGNORECASE)
# Trailing punctuation that ends a sentence rather than the URL.
_TRAILING = ".,;:!?)]}"

# Characters replaced by an HTML entity: markup (HTML) and Liquid tags ({{ }}, {% %}).
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;"}
# Characters that format or link inline, escaped with a backslash (CommonMark and kramdown).
_BACKSLASHED = set("\\`*_[]|~$")
# At the start of a line (after the escaping above): headings, list items, thematic breaks,
# setext underlines, kramdown definitions; and ordered list items ("1." / "1)").
_BLOCK_START = set("#-+=:")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
# Characters percent-encoded in a link's destination: they would end it or be read as markup.
_URL_UNSAFE = " ()<>\"'\\{}`|[]^"


def is_http_url(url: str) -> bool:
    """True for an absolute http or https URL with a host; anything else (``javascript:``,
    ``data:``, relative paths) is never made a link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def md_escape(text: str) -> str:
    """Text that reads as itself in Markdown, on one line: entities for ``& < > { }``,
    backslashes before inline Markdown. Line breaks are not handled here (see ``md_lines``)."""
    out = []
    for char in text:
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def md_line_start(line: str) -> str:
    """``line`` (already escaped) without leading blanks (indented code) and with whatever
    would open a block at its start escaped."""
    line = line.lstrip(" \t")
    if line[:1] in _BLOCK_START:
        return "\\" + line
    return _ORDERED.sub(r"\1\\\2", line, count=1)


def md_url(url: str) -> str:
    """An http(s) URL for a link's destination: characters that would end it or read as markup
    are percent-encoded."""
    return "".join(quote(char, safe="") if char in _URL_UNSAFE or ord(char) < 32 else char for char in url.strip())


def md_text_line(line: str) -> str:
    """One line of a message: escaped, with its http(s) URLs as autolinks (``<https://…>``)."""
    pieces = []
    position = 0
    for match in URL.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        if not is_http_url(url):
            continue
        pieces.append(md_escape(line[position:match.start()]))
        # An autolink: URL matches hold no blank, "<", ">", quote, brace or backslash to escape.
        pieces.append(f"<{url}>")
        position = match.start() + len(url)
    pieces.append(md_escape(line[position:]))
    return "".join(pieces)


def md_lines(text: str) -> list[str]:
    """A message's text as escaped Markdown lines (blank lines dropped: a message never ends a
    paragraph or a quote). Each line is safe at the start of a Markdown line."""
    return [md_line_start(md_text_line(line)) for line in text.splitlines() if line.strip()]


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar on one line, with HTML and Liquid characters as entities."""
    text = " ".join(text.split())
    text = "".join(_ENTITIES.get(char, char) for char in text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- The write-up ---

@dataclass(frozen=True)
class Item:
    """One message: its kind ("text", "image", "link", "file", "sticker"), text, URL and the
    moment it was sent, in the group's time zone."""

    kind: str
    text: str
    url: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class Passage:
    """A paragraph of the talk ("talk"), an interruption set apart ("interruption") or one
    line of the Q&A or the discussion ("line")."""

    kind: str
    sender: str
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class TalkExport:
    topic: str
    speaker: str
    company: str
    group: str
    start: dt.datetime | None  # in the group's time zone
    day: dt.date
    public: bool
    talk: list[Passage]
    qa: list[Passage]
    discussion: list[Passage] | None  # None: not shown (the reader is not a member of the group)


def _image(item: Item) -> str:
    if is_http_url(item.url):
        return f"![{item.sent_at:%H%M%S}]({md_url(item.url)})"
    return IMAGE_PLACEHOLDER


def _item_lines(item: Item) -> list[str]:
    """The Markdown lines of one message (an image is one line)."""
    if item.kind == "image":
        return [_image(item)]
    if item.kind in ("link", "file"):
        label = item.text or item.url
        if is_http_url(item.url):
            lines = [f"[{md_escape(' '.join(label.split()))}]({md_url(item.url)})"]
        else:
            lines = md_lines(label) or [""]
        if item.kind == "file":
            lines[0] = FILE_LABEL + lines[0]
        return lines
    if item.kind == "sticker":
        return md_lines(item.text) or [STICKER_PLACEHOLDER]
    return md_lines(item.text)


def _joined(items: Iterable[Item]) -> list[str]:
    """Messages one after another as the page shows them: each one's first line continues the
    line before (after a space), its other lines start new ones."""
    lines: list[str] = []
    for item in items:
        item_lines = _item_lines(item)
        if not item_lines:
            continue
        if lines and lines[-1]:
            lines[-1] = f"{lines[-1]} {item_lines[0]}"
        else:
            lines.append(item_lines[0])
        lines.extend(item_lines[1:])
    return lines


def _paragraph(lines: list[str], prefix: str = "") -> str:
    # Two spaces at the end of a line are a hard line break (CommonMark and kramdown alike).
    return "  \n".join(prefix + line for line in lines)


def _talk_paragraphs(passage: Passage) -> list[str]:
    """A paragraph of the talk: its messages joined; an image stands on its own."""
    paragraphs: list[str] = []
    run: list[Item] = []
    for item in [*passage.items, None]:
        if item is not None and item.kind != "image":
            run.append(item)
            continue
        if run and (lines := _joined(run)):
            paragraphs.append(_paragraph(lines))
        run = []
        if item is not None:
            paragraphs.append(_image(item))
    return paragraphs


def _said(passage: Passage, prefix: str = "") -> str | None:
    """``sender：text`` (with ``prefix`` on every line), or None when nothing is left to show."""
    lines = _joined(passage.items)
    if not lines:
        return None
    lines[0] = f"{md_line_start(md_escape(passage.sender))}：{lines[0]}"
    return _paragraph(lines, prefix)


def _lines_section(heading: str, passages: list[Passage]) -> list[str]:
    said = [text for text in (_said(passage) for passage in passages) if text is not None]
    return [heading, *(said or [NOTHING])]


def talk_markdown(talk: TalkExport) -> str:
    """The write-up: front matter, the talk's paragraphs (interruptions as ``> sender：text``
    quotes, images as ``![HHMMSS](url)`` for http(s) URLs only), the Q&A as ``sender：text``
    lines and, when ``talk.discussion`` is not None, the rest of the day's discussion.
    Blocks are separated by one blank line; the text ends with a newline."""
    start = talk.start
    front = [
        "---",
        "layout: post",
        f"title: {yaml_string(f'{talk.day:%Y%m%d}专题：{talk.topic}')}",
        f"date: {start:%Y-%m-%d %H:%M:%S %z}" if start else f"date: {talk.day:%Y-%m-%d}",
        f"speaker: {yaml_string(talk.speaker)}",
    ]
    if talk.company:
        front.append(f"company: {yaml_string(talk.company)}")
    front += [f"group: {yaml_string(talk.group)}", f"tag: [{'publish' if talk.public else 'hidden'}]", "---"]

    blocks = [TALK_HEADING]
    body = []
    for passage in talk.talk:
        if passage.kind == "talk":
            body.extend(_talk_paragraphs(passage))
        elif (quoted := _said(passage, prefix="> ")) is not None:
            body.append(quoted)
    blocks += body or [NOTHING]
    blocks += _lines_section(QA_HEADING, talk.qa)
    if talk.discussion is not None:
        blocks += _lines_section(DISCUSSION_HEADING, talk.discussion)
    return "\n".join(front) + "\n\n" + "\n\n".join(blocks) + "\n"


_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_SPACE = re.compile(r"[-\s]+")


def _slug(text: str) -> str:
    text = _SLUG_SPACE.sub("-", _SLUG_DROP.sub("", text.lower())).strip("-_")
    return text[:60].strip("-_")


def export_filenames(*, day: dt.date, topic: str, pk: int) -> tuple[str, str]:
    """(an ASCII file name, the file name in the topic's own script):
    ``2017-05-15-<slug of the topic>.md``; the ASCII one is ``2017-05-15-talk-<pk>.md`` when
    the slug is not ASCII, and both are when the topic leaves no slug."""
    fallback = f"{day:%Y-%m-%d}-talk-{pk}.md"
    slug = _slug(topic)
    name = f"{day:%Y-%m-%d}-{slug}.md" if slug else fallback
    return (name if name.isascii() else fallback), name


def content_disposition(*, day: dt.date, topic: str, pk: int) -> str:
    """``attachment`` with an ASCII ``filename`` and, when the topic is not ASCII, the
    RFC 5987 ``filename*`` (UTF-8, percent-encoded) that browsers prefer."""
    ascii_name, unicode_name = export_filenames(day=day, topic=topic, pk=pk)
    header = f'attachment; filename="{ascii_name}"'
    if unicode_name != ascii_name:
        header += f"; filename*=UTF-8''{quote(unicode_name, safe='')}"
    return header
