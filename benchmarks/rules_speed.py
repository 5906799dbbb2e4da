"""The group-rules benchmark: one group's memberships evaluated into flags.

For each size (memberships, messages) a fresh migrated database gets one group filled by
``benchmarks._rules_child`` (SQL inserts, then the membership facts refreshed as an import
does), and ``group_flags_evaluate`` is timed in that child: the first run writes the flags,
the runs after it find them unchanged. Figures: median seconds of the first runs and of the
later runs, and the queries of each, which must not grow with the number of members.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from . import Figure, Goal
from .import_speed import PostgresDatabases, SqliteDatabases, child_env, migrate, run_process

SIZES = [(1_000, 100_000), (10_000, 1_000_000)]


def label(members: int, messages: int) -> str:
    return f"{members // 1000}k/{messages // 1_000_000 or ''}{'M' if messages >= 1_000_000 else str(messages // 1000) + 'k'}"


def run(*, database: str, repeat: int | None, emit, log) -> None:
    repeat = repeat or 3
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as folder:
        root = Path(folder)
        databases = SqliteDatabases(root) if database == "sqlite" else PostgresDatabases(database, root)
        try:
            migrate(databases, log)
            for members, messages in SIZES:
                samples = []
                for attempt in range(repeat):
                    url, var_dir = databases.fresh()
                    log(f"rules: {members:,} memberships, {messages:,} messages, run {attempt + 1}/{repeat} ...")
                    output = run_process(
                        ["-m", "benchmarks._rules_child", "--members", str(members), "--messages", str(messages),
                         "--repeat", "3"],
                        child_env(url, var_dir), "rules evaluation",
                    )
                    sample = json.loads(output.strip().splitlines()[-1])
                    log(f"  fill {sample['fill_seconds']:.1f}s, facts {sample['facts_seconds']:.2f}s, "
                        f"flags {sample['flags']}, runs " + ", ".join(f"{r['seconds']:.3f}s/{r['queries']}q" for r in sample["runs"]))
                    samples.append(sample)
                    databases.discard(var_dir)
                emit(figures_for(members, messages, samples))
        finally:
            databases.close()


def figures_for(members: int, messages: int, samples: list[dict]) -> list[Figure]:
    size = label(members, messages)
    big = members >= 10_000
    first = tuple(s["runs"][0]["seconds"] for s in samples)
    again = tuple(r["seconds"] for s in samples for r in s["runs"][1:])
    goal = Goal("< 5 s at 10k/1M", below=5.0, applies=big)
    return [
        Figure("rules_first_run", size, "s", first, goal, digits=3,
               note=f"writes {samples[0]['flags']:,} flags"),
        Figure("rules_run_again", size, "s", again, goal, digits=3, note="nothing new"),
        Figure("rules_queries_first_run", size, "queries", tuple(float(s["runs"][0]["queries"]) for s in samples),
               Goal("does not grow with members"), note="incl. savepoints and batched inserts"),
        Figure("rules_queries_again", size, "queries", tuple(float(r["queries"]) for s in samples for r in s["runs"][1:]),
               Goal("does not grow with members")),
        Figure("facts_refresh", size, "s", tuple(s["facts_seconds"] for s in samples), digits=3,
               note="membership facts from the messages (done by each import, for reference)"),
    ]
