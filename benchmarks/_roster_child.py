"""One roster import, timed, in its own process: ``python -m benchmarks._roster_child --rows N``.

Started by ``benchmarks.roster_speed`` with ``DATABASE_URL`` and ``VAR_DIR`` pointing at a
throw-away migrated database. Imports a generated member list of N rows
(``importer.generator.large_roster_csv``) into the group ``bench`` through ``roster_import``,
as ``manage.py import_roster`` does, then the same list again (every row known: only the
names' counts change, each kept in the run's journal first). Prints one JSON object: the
seconds of each import, its longest chunk (resolution, transaction and the pause after it),
and its longest transaction (from the group's lock taken to the commit: the longest any other
writer waited for it), timed by a hook on the writer's first step in the transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._roster_child")
    parser.add_argument("--rows", type=int, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction

    from importer import services
    from importer.generator import large_roster_csv
    from importer.services import Source, roster_import

    transactions: list[float] = []
    holds = services._RosterWriter._plan_holds

    def timed_holds(writer, plan):
        # The first step inside a chunk's transaction: the clock runs from here to its commit.
        started = time.perf_counter()
        transaction.on_commit(lambda: transactions.append(time.perf_counter() - started))
        return holds(writer, plan)

    services._RosterWriter._plan_holds = timed_holds
    data = large_roster_csv(args.rows)
    runs = []
    for what in ("first", "again"):
        transactions.clear()
        ticks = [time.perf_counter()]
        result = roster_import(group_slug="bench", source=Source.from_bytes("members.csv", data),
                               progress=lambda _index, _text, ticks=ticks: ticks.append(time.perf_counter()))
        ticks.append(time.perf_counter())
        if not result.ok:
            raise SystemExit(f"the {what} import failed: {result.errors[:3]}")
        # Each chunk is one transaction, from one progress call to the next (the first also parses the file).
        chunks = [b - a for a, b in zip(ticks[1:-1], ticks[2:-1], strict=False)] or [ticks[-1] - ticks[0]]
        runs.append({"what": what, "seconds": ticks[-1] - ticks[0], "longest_chunk": max(chunks),
                     "longest_transaction": max(transactions), "chunks": len(ticks) - 2, "report": result.files[0]})
    print(json.dumps({"rows": args.rows, "runs": runs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
