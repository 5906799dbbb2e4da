"""Talk detection against the maintainers' hand-made write-ups (../shared/corpus).

Gold (``importer.evaluation``): each write-up counts once, on the day its title gives, in
the group whose transcript shows its talk (its lines and images are found there). Write-ups
of a day's discussion, of days with no transcript here, or of talks no transcript here
shows (given in a group whose transcript is not in the corpus) are left out, each with its
evidence, printed. Every measure of ``importer.evaluation`` is printed on every run (``-s``
shows it): recall (strict, the write-up's own share, a day beside), the same recall with the
announcements removed, topics, the speakers of the announced talks, the shares on days
without a write-up with a reader's verdict, and the sign-ins.
"""

from pathlib import Path

import pytest

from importer import evaluation
from importer.detection import TOPIC_SOURCES

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus():
    missing = [name for name in ("curated", *evaluation.GROUPS) if not (CORPUS / name).is_dir()]
    if missing:
        pytest.skip(f"shared corpus not found at {CORPUS} (missing {', '.join(missing)})")
    days = evaluation.read_corpus(CORPUS)
    gold, left_out = evaluation.gold_talks(evaluation.read_write_ups(CORPUS / "curated"), evaluation.day_texts(days))
    found = evaluation.detect_corpus(days)
    return days, gold, left_out, found


@pytest.fixture(scope="module")
def unannounced(corpus):
    days = evaluation.prepare_corpus(corpus[0], evaluation.without_announcements)
    return days, evaluation.detect_corpus(days)


def test_gold_counts_each_write_up_by_its_title_and_lists_the_left_out(corpus):
    _, gold, left_out, _ = corpus
    print("\nleft out of the recall:\n" + "\n".join(f"  {x.write_up.name} ({x.write_up.day}): {x.reason}"
                                                     for x in left_out))
    write_ups = evaluation.read_write_ups(CORPUS / "curated")
    # Every write-up is either gold or left out with a reason, once.
    assert sorted(w.name for w in write_ups) == sorted([g.write_up.name for g in gold] + [x.write_up.name for x in left_out])
    assert all(x.reason for x in left_out)
    # Two groups have transcripts, and each has gold talks.
    assert {g.group for g in gold} == set(evaluation.GROUPS)


def test_corpus_recall_of_curated_talks(corpus):
    days, gold, _, found = corpus
    result = evaluation.recall(gold, found, days)
    print("\nrecall:\n" + "\n".join("  " + r.line() for r in result.values()))
    everything = result["all"]
    assert len(everything.strict) / len(everything.gold) >= 0.95
    assert len(everything.adjacent) / len(everything.gold) >= 0.97
    assert len(everything.matched) / len(everything.gold) >= 0.9
    assert all(len(r.strict) / len(r.gold) >= 0.9 for r in result.values())


def test_corpus_recall_when_nobody_announces_the_talks(corpus, unannounced):
    # The same days with every announcement removed: the talks must be found by their frame.
    _, gold, _, _ = corpus
    days, found = unannounced
    result = evaluation.recall(gold, found, days)
    print("\nrecall without announcements:\n" + "\n".join("  " + r.line() for r in result.values()))
    assert not [t for talks in found.values() for t in talks if "announcement" in t.signals]
    everything = result["all"]
    assert len(everything.strict) / len(everything.gold) >= 0.92
    # And nothing new on the other days: every share found there was found (and read) with the announcements.
    extras = evaluation.extras(gold, found, days)
    print(f"  {len(extras)} shares on days without a write-up; not judged: "
          + (", ".join(f"{e.group} {e.day} {e.start}" for e in extras if e.real is None) or "none"))
    assert [e for e in extras if e.real is not True] == []


def test_corpus_topics_look_like_the_titles(corpus):
    days, gold, _, found = corpus
    pairs = evaluation.topic_agreement(gold, found, days)
    alike = [p for p in pairs if p[2]]
    print(f"\ntopics like the title: {len(alike)}/{len(pairs)}; unlike:\n" + "\n".join(
        f"  {g.group} {g.day} {g.write_up.topic!r} vs {t.topic!r} ({t.topic_source})" for g, t, ok in pairs if not ok))
    assert len(alike) / len(pairs) >= 0.9


def test_corpus_announced_talks_have_the_speaker_who_gave_them(corpus):
    days, _, _, found = corpus
    talks = evaluation.announced_talks(days, found)
    messages = {(d.group, d.day): d.messages for d in days}

    def shown(a):
        if a.share is None:
            return "no share"
        if not a.share.delivered:
            return "announced, not given"
        start = messages[a.group, a.day][a.share.start_index].time
        return f"given from {start} by {a.share.speaker} ({a.reading or 'not read'})"

    print(f"\n{len(talks)} announcements of the standard form:\n" + "\n".join(
        f"  {a.group} {a.day} {a.start} @{a.mention}: {shown(a)}" for a in talks))
    assert [a for a in talks if a.share is None] == []
    assert [(a.group, a.day) for a in talks if a.reading != "right"] == []
    # Most speakers write under a name that matches the announced one; the others are why the
    # speaker is found by the talk at the announced time, not by the name.
    assert sum(1 for a in talks if a.share.speaker_mention == a.mention or a.mention in a.share.speaker_mention) == len(talks)


def test_corpus_shares_on_days_without_a_write_up(corpus):
    days, gold, _, found = corpus
    extras = evaluation.extras(gold, found, days)

    def verdict(e):
        return "not read yet" if e.real is None else ("real" if e.real else "FALSE") + f": {e.evidence}"

    print(f"\n{len(extras)} shares on days without a write-up:\n" + "\n".join(
        f"  {e.group} {e.day} {e.start} {e.talk.topic or '(no topic)'} -- {verdict(e)}" for e in extras))
    not_real = [e for e in extras if e.real is not True]
    assert len(not_real) <= 0.1 * len(extras)


def test_corpus_sign_ins(corpus):
    *_, found = corpus
    summary = evaluation.sign_in_summary(found)
    print("\nsign-ins: " + "; ".join(f"{group}: {shares} shares, {with_sign_ins} with sign-ins, {count} sign-ins"
                                       for group, (shares, with_sign_ins, count) in sorted(summary.items())))
    for talks in found.values():
        for talk in talks:
            assert len({hit.sender for hit in talk.sign_ins}) == len(talk.sign_ins)
    assert all(count > 0 for _, _, count in summary.values())


def test_corpus_shares_are_well_formed(corpus):
    *_, found = corpus
    for talks in found.values():
        for talk in talks:
            assert talk.topic_source in TOPIC_SOURCES
            assert (talk.topic_source == "none") == (talk.topic == "")
            if talk.delivered:
                assert talk.start_index <= talk.end_index <= talk.qa_end_index
                assert talk.speaker
            else:
                assert (talk.speaker, talk.start_index, talk.end_index, talk.qa_end_index) == ("", None, None, None)
                assert talk.announcement_index is not None


def test_corpus_days_have_at_most_two_talks(corpus):
    *_, found = corpus
    assert max(len([t for t in talks if t.delivered]) for talks in found.values()) <= 2
