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
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
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
    if args.report:
        from benchmarks.corpus_report import corpus_report

        output["report"] = corpus_report(args.corpus, list(present))
    json.dump(output, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
