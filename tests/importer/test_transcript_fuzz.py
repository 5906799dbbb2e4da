"""Fuzzing the transcript parser (hypothesis): whatever the bytes, reading a file either gives a
transcript or raises ``TranscriptError`` saying ``file:line: reason`` — never another exception.
Inputs: random bytes and text, generated transcripts (``importer.generator``) with garbled lines,
huge lines, many stray lines, odd Unicode. That reading stays linear is checked by comparing the
time of a file with that of one eight times its size, in the same run (no wall-clock budget: a
loaded machine slows both alike); the parser's speed itself is a benchmark's figure."""

from __future__ import annotations

import datetime
import functools
import re
import time
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.generator import CorpusGenerator
from importer.transcript import KINDS, Transcript, TranscriptError, decode_transcript, parse_transcript

FILENAME = "2019-04-02-WeChat.markdown"
ERROR = re.compile(rf"^{re.escape(FILENAME)}:(\d+): (.+)$", re.S)
# Growth, not speed: a file GROWTH times as big must read in less than GROWTH_RATIO times the
# time. Linear reading takes about GROWTH times as long; a quadratic path GROWTH² = 256 times. The
# room between (4x linear) is for a machine busy with other work (24x failed once at 30x).
GROWTH = 16
GROWTH_RATIO = 4 * GROWTH


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ODD = [
    "\u202e", "\u200b", "\ufeff", "\u0301", "\U0001f600", "\u3000", "\x85", "\u2028", "\u2029", "\r", "\t",
    "\x0b", "\x0c", "\x1c", "&#x1F600;", "&amp;amp;", "&#0;", "&#1114112;", "> ", ">", "---", "   ", "\\",
    "＞ 10:00:00  全角", "> 99:99:99  x", "> 10:00:00", "> 1:2:3  y", "date: 2019-13-45", "\ud800",
]


@functools.cache
def generated_days() -> tuple[str, ...]:
    """A few real-looking days (talks, sign-ins, quotes, links, merged-export pairs)."""
    generator = CorpusGenerator(seed=7, members=40)
    return tuple(day.text for day in generator.days(start=datetime.date(2019, 4, 2), count=4, messages_per_day=60))


def read(data: bytes) -> Transcript | TranscriptError:
    """Decode and parse as the importer does; the outcome, checked for shape."""
    try:
        outcome: Transcript | TranscriptError = parse_transcript(decode_transcript(data, filename=FILENAME),
                                                                 filename=FILENAME)
    except TranscriptError as error:
        outcome = error
    # Line numbers as an editor shows them: CR, LF and CRLF each end a line.
    lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
    if isinstance(outcome, TranscriptError):
        match = ERROR.match(str(outcome))
        assert match, str(outcome)
        assert 1 <= int(match.group(1)) == outcome.line <= lines
        assert match.group(2) == outcome.reason and outcome.reason.strip() == outcome.reason != ""
    else:
        assert all(message.kind in KINDS for message in outcome.messages)
        numbers = [message.line for message in outcome.messages]
        assert numbers == sorted(numbers) and all(1 <= n <= lines for n in numbers)
        assert all(isinstance(warning, str) and warning.startswith(f"{FILENAME}:") for warning in outcome.warnings)
    return outcome


def text_bytes(text: str) -> bytes:
    # Lone surrogates cannot be UTF-8: they arrive as the bytes a broken encoder would write.
    return text.encode("utf-8", "surrogatepass")


def test_generated_days_parse_cleanly():
    # The base of the mutations below is valid: what fails there is the mutation's doing.
    outcomes = [read(text.encode()) for text in generated_days()]
    assert [type(outcome) for outcome in outcomes] == [Transcript] * 4
    assert all(len(outcome.messages) > 0 for outcome in outcomes)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data):
    read(data)


@FUZZ
@given(st.text(max_size=2048))
def test_random_text(text):
    read(text_bytes(text))


@FUZZ
@given(st.text(max_size=2048))
def test_random_text_after_a_valid_front_matter(text):
    read(text_bytes(f"---\ntitle: x\ndate: 2019-04-02 12:00:00\n---\n{text}"))


@st.composite
def garbled_days(draw):
    """A generated day with lines deleted, duplicated, swapped, cut, replaced by garbage or odd
    Unicode, huge lines inserted, or the file truncated."""
    lines = draw(st.sampled_from(generated_days())).split("\n")
    garbage = st.one_of(st.text(max_size=80), st.sampled_from(ODD), st.builds("".join, st.lists(st.sampled_from(ODD))))
    for _ in range(draw(st.integers(1, 8))):
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "cut", "replace", "insert", "huge", "odd"]))
        if operation == "delete" and len(lines) > 1:
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, lines[index])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif operation == "cut":
            lines[index] = lines[index][: draw(st.integers(0, max(0, len(lines[index]) - 1)))]
        elif operation == "replace":
            lines[index] = draw(garbage)
        elif operation == "insert":
            lines.insert(index, draw(garbage))
        elif operation == "huge":
            lines.insert(index, draw(st.sampled_from(["字", "a", "&amp;", "@x ", "> "])) * 50_000)
        else:
            position = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:position] + draw(st.sampled_from(ODD)) + lines[index][position:]
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
    try:
        return text.encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "strict")
    except UnicodeEncodeError:
        return text_bytes(text)


@FUZZ
@given(garbled_days())
def test_garbled_generated_days(data):
    read(data)


@FUZZ
@given(garbled_days(), st.binary(min_size=1, max_size=64), st.floats(0, 1))
def test_generated_days_with_random_bytes_spliced_in(data, noise, where):
    position = int(len(data) * where)
    read(data[:position] + noise + data[position:])


def reading_seconds(data: bytes, repeat: int = 5) -> float:
    """The fastest of ``repeat`` reads: the least disturbed by whatever else the machine does."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        read(data)
        best = min(best, time.perf_counter() - started)
    return best


def assert_linear(make: Callable[[int], bytes], small: int) -> None:
    small_seconds = reading_seconds(make(small))
    big_seconds = reading_seconds(make(small * GROWTH))
    assert big_seconds < GROWTH_RATIO * small_seconds, (
        f"{GROWTH}× the input took {big_seconds / small_seconds:.1f}× the time "
        f"({small_seconds:.3f}s → {big_seconds:.3f}s): not linear")


def stray_lines(count: int) -> bytes:
    body = "".join(f"第{n}行 多出来的内容\n" for n in range(count))
    return f"---\ndate: 2019-04-02 12:00:00\n---\n> 10:00:00  小鹿  \n   \n{body}".encode()


def a_header_every_line(count: int) -> bytes:
    body = "".join(f"> 10:{n // 60 % 60:02d}:{n % 60:02d}  成员{n}  \n   \nx{n}  \n   \n" for n in range(count))
    return f"---\ndate: 2019-04-02 12:00:00\n---\n{body}".encode()


def test_many_stray_lines_are_joined_to_their_message():
    outcome = read(stray_lines(100_000))
    assert (len(outcome.messages), outcome.messages[0].text.count("\n"), len(outcome.warnings)) == (1, 99_999, 99_999)


def test_many_stray_lines_read_in_linear_time():
    # 100,000 lines joined to one message: once quadratic (minutes), now a fraction of a second.
    assert_linear(stray_lines, 6_250)


def test_a_header_every_line_reads_every_message():
    outcome = read(a_header_every_line(50_000))
    assert (len(outcome.messages), outcome.warnings) == (50_000, [])


def test_a_header_every_line_reads_in_linear_time():
    assert_linear(a_header_every_line, 3_125)


def test_content_of_only_tabs_or_ideographic_spaces_is_a_separator():
    # Found by the fuzzing: such a line reached the classifier empty and raised IndexError.
    outcome = read("---\ndate: 2019-04-02 12:00:00\n---\n> 10:00:00  小鹿  \n   \n\u3000\t\n   \n".encode())
    assert [(message.line, message.sender, message.kind, message.text) for message in outcome.messages] == [
        (4, "小鹿", "empty", "")]


def test_errors_name_the_file_and_line():
    # Examples of each kind of error the fuzzing meets, with their exact message.
    cases = {
        b"": "2019-04-02-WeChat.markdown:1: empty file",
        b"---\ndate: 2019\x00": "2019-04-02-WeChat.markdown:2: binary data (NUL byte), not a transcript",
        b"hello\n": "2019-04-02-WeChat.markdown:1: missing front matter (expected a '---' line)",
        b"---\ntitle: x\n": "2019-04-02-WeChat.markdown:1: front matter not closed (no second '---' line)",
        b"---\ndate: 2019-02-30\n---\n": "2019-04-02-WeChat.markdown:2: invalid date '2019-02-30'",
        b"---\ndate: 2019-04-02\n---\n> 25:00:00  x  \n   \nhi\n": "2019-04-02-WeChat.markdown:4: invalid time 25:00:00",
        b"---\ndate: 2019-04-02\n---\n> 10:00:00  x  \n": (
            "2019-04-02-WeChat.markdown:4: file truncated after a message header (no content follows)"),
    }
    assert {data: str(read(data)) for data in cases} == cases
