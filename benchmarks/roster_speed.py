"""The roster benchmark: a member list of 100,000 rows imported, then imported again.

For each run a fresh migrated database (as for ``import``) gets the list through
``roster_import`` in a child process (``benchmarks._roster_child``): the first import creates
every member, name and membership; the second finds every row known. Figures: the median
seconds of each; the longest transaction of each (a chunk of at most 1,000 rows written: the
longest a web request writing beside the import waits for the database), and the longest chunk
(its resolution, which runs outside the transaction, its transaction, and on SQLite the pause
after it).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from . import Figure, Goal
from .import_speed import PostgresDatabases, SqliteDatabases, child_env, migrate, run_process, size_label

DEFAULT_ROWS = 100_000


def run(*, sizes: list[int] | None, database: str, repeat: int | None, emit, log) -> None:
    repeat = repeat or 3
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as folder:
        root = Path(folder)
        databases = SqliteDatabases(root) if database == "sqlite" else PostgresDatabases(database, root)
        try:
            migrate(databases, log)
            for rows in sizes or [DEFAULT_ROWS]:
                samples = []
                for attempt in range(repeat):
                    url, var_dir = databases.fresh()
                    log(f"roster: {rows:,} rows, run {attempt + 1}/{repeat} ...")
                    output = run_process(["-m", "benchmarks._roster_child", "--rows", str(rows)],
                                         child_env(url, var_dir), "roster import")
                    sample = json.loads(output.strip().splitlines()[-1])
                    log("  " + ", ".join(f"{r['what']} {r['seconds']:.1f}s (longest transaction "
                                         f"{r['longest_transaction']:.2f}s, longest chunk {r['longest_chunk']:.2f}s, "
                                         f"{r['chunks']} chunks)" for r in sample["runs"]))
                    samples.append(sample)
                    databases.discard(var_dir)
                emit(figures_for(rows, samples))
        finally:
            databases.close()


def figures_for(rows: int, samples: list[dict]) -> list[Figure]:
    size = size_label(rows)

    def values(what: str, key: str) -> tuple[float, ...]:
        return tuple(r[key] for s in samples for r in s["runs"] if r["what"] == what)

    first = values("first", "seconds")
    return [
        Figure("roster.first", size, "s", first, digits=1,
               note=f"{rows / min(first):,.0f} rows/s at best; every row a new member"),
        Figure("roster.again", size, "s", values("again", "seconds"), digits=1,
               note="every row known: names' counts updated, each journaled first"),
        Figure("roster.first_longest_transaction", size, "s", values("first", "longest_transaction"),
               Goal("< 1 s (what a web write waits at most)", below=1.0), digits=2),
        Figure("roster.again_longest_transaction", size, "s", values("again", "longest_transaction"),
               Goal("< 1 s (what a web write waits at most)", below=1.0), digits=2),
        Figure("roster.first_longest_chunk", size, "s", values("first", "longest_chunk"), digits=2,
               note="resolution (outside the transaction), transaction, pause"),
        Figure("roster.again_longest_chunk", size, "s", values("again", "longest_chunk"), digits=2),
    ]
