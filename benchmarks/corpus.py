"""The importer on the real corpus (``../shared/corpus``): its speed, and how right the record is.

Each run imports both groups' transcripts into a fresh, migrated database in its own process
(``benchmarks._corpus_child``), timing the imports only (what ``manage.py import_transcripts``
does, without Python's and Django's start-up), then imports them again (every file unchanged).
The first run also measures the record against the maintainers' write-ups
(``benchmarks.corpus_report``) and prints it: write-ups found, topics, announced talks with the
right speaker, sign-ins, shares on days without a write-up, quote pairs linked, wrong merges.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from . import Figure, Goal
from .import_speed import REPO, PostgresDatabases, SqliteDatabases, child_env, migrate, run_process

CORPUS = REPO.parent / "shared" / "corpus"
IMPORT_GOAL = 25_000  # stored messages/s on the real corpus, both groups
REIMPORT_GOAL = 500_000  # messages/s when every file is unchanged
DEFAULT_REPEAT = 5
WRITE_UPS_GOAL = 0.95
QUOTES_LINKED_GOAL = 0.90
WRONG_MERGES_GOAL = 0.01


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def print_report(report: dict, out) -> None:
    """The measures, and every item behind them, to be read."""
    for slug, measures in report["groups"].items():
        print(f"\n== {slug} ==", file=out)
        print(f"write-ups with a transcript here: {measures['write_ups']}; a share on the title's day: "
              f"{measures['strict']} ({_percent(measures['strict'], measures['write_ups']):.0f}%); within a day: "
              f"{measures['near']}; topic like the title: {measures['topics_alike']}/{measures['strict']}", file=out)
        for miss in measures["missed"]:
            print(f"  missed {miss['day']} {miss['title']} ({miss['write_up']}); beside it: "
                  + ("; ".join(f"{s['day']} {s['speaker']}: {s['topic']}" for s in miss["adjacent"]) or "nothing"),
                  file=out)
        announced = measures["announced"]
        print(f"announced talks (standard form): {announced['count']}, found with the right speaker: "
              f"{announced['right_speaker']}", file=out)
        for item in announced["not_right"]:
            shares = "; ".join(f"{s['speaker']} ({s['status']})" for s in item["shares"]) or "no share"
            print(f"  {item['day']} @{item['name']} {item['topic']} {item['start']} — shares: {shares}", file=out)
        signed = [row["sign_ins"] for row in measures["sign_ins"]]
        print(f"shares: {len(signed)}, sign-ins: {sum(signed)} (per share: {', '.join(map(str, signed))})", file=out)
        print(f"shares on days without a write-up: {len(measures['without_write_up'])}", file=out)
        for row in measures["without_write_up"]:
            print(f"  {row['day']} {row['speaker']}: {row['topic']} [{row['status']}, topic from "
                  f"{row['topic_source'] or '?'}, {row['sign_ins']} sign-ins]", file=out)
        print(f"quote pairs: {measures['quote_pairs']}, linked: {measures['quote_pairs_linked']} "
              f"(quotes whose message was not found: {measures['quotes_unfound']})", file=out)
        for pair in measures["quote_pairs_not_linked"]:
            print(f"  not linked: 「{pair['quoted_name']}」 ← {pair['sender']} ({pair['day']})", file=out)
        print(f"@mention pairs of known names: {measures['mention_pairs']}, borne by one member (wrong merges): "
              f"{measures['wrong_merges']}", file=out)
        for pair in measures["wrong_merge_examples"]:
            print(f"  wrong merge? {pair['sender']} @{pair['mentioned']} ({pair['day']})", file=out)
    print("\nwrite-ups left out of the recall:", file=out)
    for item in report["left_out"]:
        print(f"  {item['write_up']} ({item['day']}): {item['reason']}", file=out)


def fidelity_figures(report: dict) -> list[Figure]:
    groups = report["groups"].values()
    write_ups = sum(g["write_ups"] for g in groups)
    strict = sum(g["strict"] for g in groups)
    announced = sum(g["announced"]["count"] for g in groups)
    right = sum(g["announced"]["right_speaker"] for g in groups)
    pairs = sum(g["quote_pairs"] for g in groups)
    linked = sum(g["quote_pairs_linked"] for g in groups)
    mentions = sum(g["mention_pairs"] for g in groups)
    wrong = sum(g["wrong_merges"] for g in groups)
    return [
        Figure("corpus.write_ups_found", "real", "%", (_percent(strict, write_ups),),
               Goal(f"≥ {WRITE_UPS_GOAL:.0%}", at_least=100 * WRITE_UPS_GOAL), note=f"{strict}/{write_ups}", digits=1),
        Figure("corpus.announced_right_speaker", "real", "%", (_percent(right, announced),),
               Goal("100%", at_least=100), note=f"{right}/{announced}", digits=1),
        Figure("corpus.quote_pairs_linked", "real", "%", (_percent(linked, pairs),),
               Goal(f"≥ {QUOTES_LINKED_GOAL:.0%}", at_least=100 * QUOTES_LINKED_GOAL), note=f"{linked}/{pairs}",
               digits=1),
        Figure("corpus.wrong_merges", "real", "%", (_percent(wrong, mentions),),
               Goal(f"≤ {WRONG_MERGES_GOAL:.0%}", below=100 * WRONG_MERGES_GOAL + 1e-9), note=f"{wrong}/{mentions}",
               digits=2),
    ]


def run(*, database: str, repeat: int | None, emit, log, out) -> None:
    if not (CORPUS / "curated").is_dir():
        log(f"corpus: skipped, the shared corpus is not at {CORPUS}")
        return
    root = Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    databases = (
        SqliteDatabases(root) if database == "sqlite" or database.startswith("sqlite:")
        else PostgresDatabases(database, root)
    )
    try:
        migrate(databases, log)
        first_speeds, again_speeds, floor_speeds, report = [], [], [], None
        for n in range(1, (repeat or DEFAULT_REPEAT) + 1):
            url, var_dir = databases.fresh()
            args = ["-m", "benchmarks._corpus_child", str(CORPUS), "--again", "--floor"] + (["--report"] if n == 1 else [])
            output = json.loads(run_process(args, child_env(url, var_dir), "corpus import").strip().splitlines()[-1])
            databases.discard(var_dir)
            first, again = output["first"], output["again"]
            if first["error_count"]:
                log(f"WARNING: {first['error_count']} files failed, e.g. " + "; ".join(first["errors"][:3]))
            created = first["counts"]["messages_created"]
            first_speeds.append(created / first["seconds"])
            again_speeds.append(again["counts"]["messages_unchanged"] / again["seconds"])
            log(f"corpus run {n}: {created:,} messages in {first['seconds']:.2f}s "
                f"({first_speeds[-1]:,.0f} msg/s); again {again['seconds']:.3f}s ({again_speeds[-1]:,.0f} msg/s)")
            if output.get("floor"):
                floor = output["floor"]
                floor_speeds.append(floor["messages"] / floor["seconds"])
                log(f"corpus run {n}: the messages alone written again in {floor['seconds']:.2f}s "
                    f"({floor_speeds[-1]:,.0f} msg/s)")
            report = report or output.get("report")
        print_report(report, out)
        emit([
            Figure("corpus.import", "real", "msg/s", tuple(first_speeds),
                   Goal(f"≥ {IMPORT_GOAL:,} msg/s", at_least=IMPORT_GOAL), note="both groups, stored messages"),
            Figure("corpus.again_unchanged", "real", "msg/s", tuple(again_speeds),
                   Goal(f"≥ {REIMPORT_GOAL:,} msg/s", at_least=REIMPORT_GOAL)),
            *([Figure("corpus.messages_write_floor", "real", "msg/s", tuple(floor_speeds), None,
                      note="the stored messages alone, written again by sqlite3: the ceiling of corpus.import")]
              if floor_speeds else []),
            *fidelity_figures(report),
        ])
    finally:
        databases.close()
        shutil.rmtree(root, ignore_errors=True)
