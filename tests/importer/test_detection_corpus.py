"""Talk detection against the maintainers' hand-made write-ups (../shared/corpus).

Gold: the curated posts' titles ``"YYYYMMDD-topic"``, leaving out posts that are a
day's discussion rather than a talk (``交流记录``, ``聊天记录``, ``未整理``, or a list of
topics ending in ``等``). A few write-ups carry the date of the day before or after the
talk (the transcript of 2017-06-07 says the talk was postponed, the 信用评分模型 talk of
the 06-16 write-up was given on 06-17), so besides the strict recall we also count a
talk found on an adjacent day that has no write-up of its own, or whose topic shares
words with the title.
"""

import datetime
import re
from pathlib import Path

import pytest

from importer.detection import detect_talks
from importer.transcript import read_transcript

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
TITLE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.MULTILINE)
GOLD_DATE = re.compile(r"(\d{8})\s*[-—：:]?\s*(?:专题[：:])?\s*(.*)")
NOT_A_TALK = re.compile(r"交流记录|聊天记录|未整理")

pytestmark = pytest.mark.slow


def gold_talks():
    gold = {}
    for path in sorted((CORPUS / "curated").glob("*.markdown")):
        title = TITLE.search(path.read_text(encoding="utf-8")).group(1)
        m = GOLD_DATE.match(title)
        if not m or NOT_A_TALK.search(title) or m.group(2).strip().endswith("等"):
            continue
        gold[datetime.datetime.strptime(m.group(1), "%Y%m%d").date()] = m.group(2).strip()
    return gold


def detected_talks():
    found = {}
    for path in sorted((CORPUS / "proddev").glob("*.markdown")):
        transcript = read_transcript(path)
        found[transcript.day] = detect_talks(transcript.messages, author_hint=transcript.author_hint)
    return found


def bigrams(text):
    chars = [c for c in text.casefold() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def similar(topic, title):
    return len(bigrams(topic) & bigrams(title)) >= 2


@pytest.fixture(scope="module")
def corpus():
    if not (CORPUS / "curated").is_dir() or not (CORPUS / "proddev").is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return gold_talks(), detected_talks()


def test_corpus_recall_of_curated_talk_days(corpus):
    gold, found = corpus
    strict = [day for day in gold if found.get(day)]
    tolerant = []
    for day, title in gold.items():
        if found.get(day):
            tolerant.append(day)
            continue
        for near in (day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)):
            talks = found.get(near, [])
            if any(near not in gold or similar(t.topic, title) for t in talks):
                tolerant.append(day)
                break
    extra = {day: talks for day, talks in found.items() if talks and day not in gold}
    print(f"strict recall {len(strict) / len(gold):.2f} ({len(strict)}/{len(gold)}), "
          f"with adjacent days {len(tolerant) / len(gold):.2f} ({len(tolerant)}/{len(gold)}); "
          f"{sum(len(t) for t in extra.values())} talks on {len(extra)} days without a write-up: "
          + ", ".join(f"{day} {t.topic or t.speaker}" for day, talks in sorted(extra.items()) for t in talks))
    assert len(tolerant) / len(gold) >= 0.9
    assert len(strict) / len(gold) >= 0.85


def test_corpus_topics_look_like_the_titles(corpus):
    gold, found = corpus
    pairs = [(title, talk.topic) for day, title in gold.items() for talk in found.get(day, [])[:1]]
    alike = [p for p in pairs if similar(p[1], p[0])]
    print(f"topics like the title: {len(alike)}/{len(pairs)}")
    assert len(alike) / len(pairs) >= 0.6


def test_corpus_talks_are_well_formed(corpus):
    _, found = corpus
    for talks in found.values():
        for talk in talks:
            assert talk.start_index <= talk.end_index <= talk.qa_end_index
            assert len({hit.sender for hit in talk.sign_ins}) == len(talk.sign_ins)
            assert talk.speaker


def test_corpus_days_have_at_most_two_talks(corpus):
    _, found = corpus
    assert max(len(talks) for talks in found.values()) <= 2
