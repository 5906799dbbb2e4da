"""Import the real corpus in its own process: ``python -m benchmarks._corpus_child CORPUS [--report]``.

Started by ``benchmarks.corpus`` with ``DATABASE_URL`` and ``VAR_DIR`` pointing at a throw-away
database. Imports every group folder of the corpus (``proddev``, ``prodarch``) as
``manage.py import_transcripts`` does, timing the imports only (not Python's or Django's
start-up); then, with ``--report``, measures the record against the curated write-ups
(``benchmarks.corpus_report``). Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

GROUPS = {"proddev": "支付产品技术交流群", "prodarch": "支付产品架构交流群"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._corpus_child")
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--report", action="store_true", help="measure the record against the write-ups")
    parser.add_argument("--again", action="store_true", help="import twice: time the second (unchanged) import")
    parser.add_argument("--floor", action="store_true",
                        help="SQLite: time writing the imported messages alone, with no other work")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from importer.services import transcript_sources, transcripts_import

    present = {slug: name for slug, name in GROUPS.items() if (args.corpus / slug).is_dir()}
    sources = {slug: transcript_sources([args.corpus / slug]) for slug in present}
    rounds = 2 if args.again else 1
    timings = []
    for _ in range(rounds):
        seconds = 0.0
        counts = {"messages_created": 0, "messages_unchanged": 0, "files_failed": 0}
        errors: list[str] = []
        for slug, name in present.items():
            started = time.perf_counter()
            result = transcripts_import(group_slug=slug, group_name=name, sources=sources[slug])
            seconds += time.perf_counter() - started
            for key in counts:
                counts[key] += result.run.counts[key]
            errors += result.errors
        timings.append({"seconds": seconds, "counts": counts, "errors": errors[:5], "error_count": len(errors)})
    output = {"groups": list(present), "first": timings[0], "again": timings[1] if args.again else None}
    if args.floor:
        output["floor"] = messages_write_floor()
    if args.report:
        from benchmarks.corpus_report import corpus_report

        output["report"] = corpus_report(args.corpus, list(present))
    json.dump(output, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def messages_write_floor() -> dict | None:
    """The least time storing the corpus's messages can take here: the rows the import stored, written
    again into an empty copy of the message table (its indexes and the app's SQLite settings), a
    transaction per group and day as the import does, by the ``sqlite3`` module alone (no parsing,
    no identity, no Django). None on PostgreSQL."""
    import sqlite3
    import tempfile

    from django.db import connection

    from community.models import Message

    if connection.vendor != "sqlite":
        return None
    table = Message._meta.db_table
    columns = [f.column for f in Message._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [table])
        schema = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY group_id, source_day, id')
        rows = cursor.fetchall()
    days: dict[tuple, list] = {}
    group_at, day_at = columns.index("group_id"), columns.index("source_day")
    for row in rows:
        days.setdefault((row[group_at], row[day_at]), []).append(row)
    with tempfile.TemporaryDirectory() as folder:
        target = sqlite3.connect(Path(folder) / "floor.sqlite3", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536", "temp_store=MEMORY",
                       "wal_autocheckpoint=10000"):
            target.execute(f"PRAGMA {pragma}")
        for statement in schema:  # the table and its indexes; no foreign keys to check (no other tables)
            target.execute(statement)
        insert = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        started = time.perf_counter()
        for day_rows in days.values():
            target.execute("BEGIN IMMEDIATE")
            target.executemany(insert, day_rows)
            target.execute("COMMIT")
        seconds = time.perf_counter() - started
        target.close()
    return {"seconds": seconds, "messages": len(rows), "transactions": len(days)}


if __name__ == "__main__":
    raise SystemExit(main())
