"""Words for the talk search: what a text is indexed under and what a query asks for.

Plain Python (no Django), testable on strings. Chinese is segmented with jieba
(``cut_for_search`` for texts, which also yields the shorter words inside a long one;
the precise ``cut`` for queries, so a query asks for the fewest, longest words); every
other script is split into runs of letters and digits. Everything is NFKC-normalised
(full-width letters and digits become ASCII) and lowercased. A query word matches every
indexed term that starts with it ("settle" finds "settlement"), so terms are compared as
code points, which makes a prefix a range: ``[word, prefix_end(word))``.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

MAX_TERM_LENGTH = 64  # the column's width; longer runs are noise (hashes, base64, ids)

# Han ideographs (basic block, extension A, compatibility, extension B and later).
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of Han characters, or a run of other letters and digits (no underscore).
_RUN = re.compile(rf"[{_HAN}]+|(?:(?![{_HAN}])[^\W_])+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
# As in ``shares.archive``: a URL ends at whitespace, quotes, brackets, CJK punctuation (，。）)
# or a Han character (the record often runs a sentence on right after a link).
_URL = re.compile(rf"(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\uff00-\uffef{_HAN}]+", re.IGNORECASE)
# WeChat's text emoji: [捂脸], [强], [OK] — the name of a face, not something said.
_WECHAT_EMOJI = re.compile(r"\[[^\[\]\s]{1,4}\]")
_HOST_NOISE = {"www", "com", "cn", "net", "org", "http", "https", "html", "htm"}

# Words too common to say anything about a talk (Chinese particles and English function
# words); left out of the index and of queries alike.
STOP_WORDS = frozenset(
    "的 了 是 在 和 与 及 或 也 就 都 着 之 吗 呢 吧 啊 哦 嗯 呀 哈 个 把 被 么 嘛 啦 "
    "a an and are as at be but by for from has have i in is it its of on or that the this to was were will with".split()
)

_jieba = None
_jieba_lock = threading.Lock()


def _segmenter():
    """jieba, imported and initialised once per process, on first use, without its start-up
    chatter on stderr (it loads its dictionary the first time: about a second)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba = jieba
    return _jieba


def normalize(text: str) -> str:
    """NFKC (full-width forms become ASCII, compatibility ideographs their usual form), lowercased."""
    return unicodedata.normalize("NFKC", text).lower()


def _is_han(run: str) -> bool:
    """A run (see ``_RUN``) is either all Han or has none: its first character tells."""
    return _HAN_CHAR.match(run) is not None


def _host_words(url: str) -> list[str]:
    """The words of a URL worth finding it by: its host name's labels ("mp.weixin.qq.com" →
    mp, weixin, qq), not its path (ids and hashes)."""
    raw = url if "://" in url else "http://" + url
    try:
        host = urlsplit(raw).hostname or ""
    except ValueError:
        return []
    return [label for label in host.split(".") if label and label not in _HOST_NOISE]


def _runs(text: str) -> Iterator[str]:
    """The normalised runs of letters and digits of a text, its URLs reduced to their host name."""
    text = _WECHAT_EMOJI.sub(" ", text)
    position = 0
    for match in _URL.finditer(text):
        yield from _RUN.findall(normalize(text[position:match.start()]))
        yield from _host_words(normalize(match.group(0)))
        position = match.end()
    yield from _RUN.findall(normalize(text[position:]))


def _keep(term: str) -> bool:
    if term in STOP_WORDS or len(term) > MAX_TERM_LENGTH:
        return False
    # A single letter or digit says nothing; a single Han character may (风, 险).
    return len(term) > 1 or _is_han(term)


def text_terms(text: str) -> set[str]:
    """Every term a text is indexed under: Chinese words as ``jieba.cut_for_search`` finds
    them (long words and the words inside them), other words whole; normalised, without stop
    words, single letters, emoji, punctuation or URL paths."""
    terms: set[str] = set()
    for run in _runs(text):
        if _is_han(run):
            terms.update(word for word in _segmenter().cut_for_search(run, HMM=True) if _keep(word))
        elif _keep(run):
            terms.add(run)
    return terms


def _query_word(word: str) -> str:
    # An English plural asks for its singular too: "payments" → prefix "payment" (not "redis",
    # "status", "business").
    if len(word) > 3 and word.isascii() and word.isalpha() and word.endswith("s") and not word.endswith(("ss", "is", "us")):
        return word[:-1]
    return word


def query_terms(query: str) -> list[str]:
    """What a query asks for, in order, each once: Chinese words by jieba's precise cut (the
    fewest, longest words), where consecutive single characters are put back together (jieba
    splits a short query of jargon, 清分 → 清/分, that it keeps whole in a sentence); other
    words whole, an English plural as its singular. A talk matches when it has, for every
    one of them, a term that starts with it (or, see ``word_characters``, its characters)."""
    found: list[str] = []
    for run in _runs(query):
        if not _is_han(run):
            found.append(_query_word(run))
            continue
        pending = ""
        for word in _segmenter().cut(run, HMM=True):
            if len(word) == 1 and word not in STOP_WORDS:
                pending += word
                continue
            if pending:
                found.append(pending)
                pending = ""
            found.append(word)
        if pending:
            found.append(pending)
    return list(dict.fromkeys(word for word in found if _keep(word)))


def word_characters(word: str) -> list[str]:
    """For a short Chinese query word (2 to 4 characters), its characters other than stop
    words: a text where jieba cut that word into single characters (清分实践 → 清/分/实践) has
    each of them as a term of its own. Empty for any other word."""
    if not (2 <= len(word) <= 4 and _is_han(word)):
        return []
    return [character for character in dict.fromkeys(word) if character not in STOP_WORDS]


def prefix_end(term: str) -> str:
    """The smallest string greater than every string that starts with ``term`` (in code point
    order): ``prefix_end("settle") == "settlf"``, so a prefix is ``[term, prefix_end(term))``."""
    for cut in range(len(term) - 1, -1, -1):
        if ord(term[cut]) < 0x10FFFF:
            return term[:cut] + chr(ord(term[cut]) + 1)
    raise ValueError("no string follows this prefix")


def snippet_spans(text: str, words: Iterable[str], *, width: int = 120) -> list[tuple[str, bool]]:
    """A short piece of ``text`` around the first of ``words`` it contains (case-insensitive),
    as (piece, is_match) pairs, with "…" where the text was cut. Empty when no word occurs.
    The pieces are raw text: the caller escapes them."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return []
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    text = " ".join(text.split())  # one line
    first = pattern.search(text)
    if first is None:
        return []
    start = max(0, first.start() - width // 3)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    window = text[start:end]
    spans: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    position = 0
    for match in pattern.finditer(window):
        if match.start() > position:
            spans.append((window[position:match.start()], False))
        spans.append((match.group(0), True))
        position = match.end()
    if position < len(window):
        spans.append((window[position:], False))
    if end < len(text):
        spans.append(("…", False))
    return spans
