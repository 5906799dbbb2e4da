"""One import, in its own process: ``python -m benchmarks._import_child FOLDER --group SLUG``.

Started by ``benchmarks.import_speed`` with ``DATABASE_URL`` and ``VAR_DIR`` pointing at a
throw-away database, so the process's peak memory is that of this one import. Prints one
JSON object on stdout: seconds spent in ``transcripts_import``, its counts, and the peak
resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """The process's peak resident set size (VmHWM on Linux, ru_maxrss elsewhere), in MB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._import_child")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--group", required=True)
    parser.add_argument("--profile", type=Path, help="write cProfile statistics of the import to this file")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from importer.services import transcript_sources, transcripts_import

    sources = transcript_sources([args.folder])
    rss_before = peak_rss_mb()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result = transcripts_import(group_slug=args.group, sources=sources)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    json.dump(
        {
            "seconds": seconds,
            "files": len(sources),
            "counts": result.run.counts,
            "errors": result.errors[:5],
            "error_count": len(result.errors),
            "peak_rss_mb": peak_rss_mb(),
            "rss_before_import_mb": rss_before,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
