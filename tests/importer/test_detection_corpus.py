"""Talk detection against the maintainers' hand-made write-ups (../shared/corpus).

Gold (``importer.evaluation``): each write-up counts once, on the day its title gives, in
the group whose transcript shows its talk (its lines and images are found there). Write-ups
of a day's discussion, of days with no transcript here, or of talks no transcript here
shows (given in a group whose transcript is not in the corpus) are left out, each with its
evidence, printed. Besides the strict recall (a talk found on the title's day in that
group) we count a talk found on an adjacent day that has no write-up of its own, or whose
topic shares words with the title: a few write-ups carry the day before or after the talk.
"""

import datetime
from collections import defaultdict
from pathlib import Path

import pytest

from importer.detection import detect_talks
from importer.evaluation import day_text, gold_talks, read_write_ups
from importer.transcript import read_transcript

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
GROUPS = ("proddev", "prodarch")

pytestmark = pytest.mark.slow


def bigrams(text):
    chars = [c for c in text.casefold() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def similar(topic, title):
    return len(bigrams(topic) & bigrams(title)) >= 2


@pytest.fixture(scope="module")
def corpus():
    missing = [name for name in ("curated", *GROUPS) if not (CORPUS / name).is_dir()]
    if missing:
        pytest.skip(f"shared corpus not found at {CORPUS} (missing {', '.join(missing)})")
    found, days = {}, defaultdict(list)
    for group in GROUPS:
        for path in sorted((CORPUS / group).glob("*.markdown")):
            transcript = read_transcript(path)
            found[group, transcript.day] = detect_talks(transcript.messages, author_hint=transcript.author_hint)
            days[transcript.day].append(day_text(group, transcript.day, transcript.messages))
    gold, left_out = gold_talks(read_write_ups(CORPUS / "curated"), days)
    return gold, left_out, found


def test_gold_counts_each_write_up_by_its_title_and_lists_the_left_out(corpus):
    gold, left_out, _ = corpus
    print("\nleft out of the recall:\n" + "\n".join(f"  {x.write_up.name} ({x.write_up.day}): {x.reason}"
                                                     for x in left_out))
    write_ups = read_write_ups(CORPUS / "curated")
    # Every write-up is either gold or left out with a reason, once.
    assert sorted(w.name for w in write_ups) == sorted([g.write_up.name for g in gold] + [x.write_up.name for x in left_out])
    assert all(x.reason for x in left_out)
    # Two groups have transcripts, and each has gold talks.
    assert {g.group for g in gold} == set(GROUPS)


def test_corpus_recall_of_curated_talks(corpus):
    gold, _, found = corpus
    gold_days = {(g.group, g.day) for g in gold}
    strict, tolerant = [], []
    for talk in gold:
        if found.get((talk.group, talk.day)):
            strict.append(talk)
            tolerant.append(talk)
            continue
        for near in (talk.day - datetime.timedelta(days=1), talk.day + datetime.timedelta(days=1)):
            talks = found.get((talk.group, near), [])
            if any((talk.group, near) not in gold_days or similar(t.topic, talk.write_up.topic) for t in talks):
                tolerant.append(talk)
                break
    extra = {key: talks for key, talks in found.items() if talks and key not in gold_days}
    for group in GROUPS:
        of_group = [g for g in gold if g.group == group]
        hits = [g for g in strict if g.group == group]
        print(f"{group}: strict {len(hits)}/{len(of_group)}; missed: "
              + ", ".join(f"{g.day} {g.write_up.topic}" for g in of_group if g not in hits))
    print(f"strict recall {len(strict) / len(gold):.2f} ({len(strict)}/{len(gold)}), "
          f"with adjacent days {len(tolerant) / len(gold):.2f} ({len(tolerant)}/{len(gold)}); "
          f"{sum(len(t) for t in extra.values())} talks on {len(extra)} group days without a write-up: "
          + ", ".join(f"{group} {day} {t.topic or t.speaker}" for (group, day), talks in sorted(extra.items()) for t in talks))
    assert len(tolerant) / len(gold) >= 0.9
    assert len(strict) / len(gold) >= 0.9


def test_corpus_topics_look_like_the_titles(corpus):
    gold, _, found = corpus
    pairs = [(g.write_up.topic, talk.topic) for g in gold for talk in found.get((g.group, g.day), [])[:1]]
    alike = [p for p in pairs if similar(p[1], p[0])]
    print(f"topics like the title: {len(alike)}/{len(pairs)}")
    assert len(alike) / len(pairs) >= 0.6


def test_corpus_talks_are_well_formed(corpus):
    _, _, found = corpus
    for talks in found.values():
        for talk in talks:
            assert talk.start_index <= talk.end_index <= talk.qa_end_index
            assert len({hit.sender for hit in talk.sign_ins}) == len(talk.sign_ins)
            assert talk.speaker


def test_corpus_days_have_at_most_two_talks(corpus):
    _, _, found = corpus
    assert max(len(talks) for talks in found.values()) <= 2
