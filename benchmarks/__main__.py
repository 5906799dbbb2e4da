"""python -m benchmarks [--only NAME] [--sizes 10k,100k,1M] [--repeat N] [--database sqlite|URL]

Prints one line per figure as it is measured (stdout), progress on stderr, and a summary
table at the end. Exits non-zero only when a benchmark could not run, never because a
figure missed its goal.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import time

from . import Figure, archive_pages, corpus, import_speed, load, roster_speed, rules_speed

BENCHMARKS = {
    "import": "first import, re-import of unchanged files, peak memory, linearity (importer.services)",
    "archive": "talk page (1,500 messages), archive list and search over the imported 100k (shares.search)",
    "rules": "group rules over 1k/100k and 10k memberships/1M messages: seconds and queries (community.flags)",
    "roster": "a member list of 100,000 rows imported, then again: seconds and longest transaction (importer.services)",
    "load": "wrk, 50 connections, against gunicorn: archive, a talk page and the shares API (req/s, p95, errors)",
    "corpus": "the real corpus (../shared/corpus): import speed, and the record against the curated write-ups",
}
DEFAULT_SIZES = "10k,100k"


def verdict(figure: Figure) -> str:
    met = figure.goal.met(figure.value) if figure.goal else None
    return {True: "met", False: "NOT MET", None: ""}[met]


def figure_line(figure: Figure) -> str:
    spread = ""
    if len(figure.samples) > 1:
        spread = f"  [{figure.formatted(min(figure.samples))} … {figure.formatted(max(figure.samples))}]"
    goal = f"  goal {figure.goal.text}" if figure.goal else ""
    mark = f" ({verdict(figure)})" if verdict(figure) else ""
    note = f"  {figure.note}" if figure.note else ""
    return (f"{figure.name:<30} {figure.size:>5}  {figure.formatted():>10} {figure.unit:<10} "
            f"median of {len(figure.samples)}{spread}{goal}{mark}{note}")


def summary_table(figures: list[Figure]) -> str:
    sizes = list(dict.fromkeys(f.size for f in figures))
    names = list(dict.fromkeys((f.name, f.unit) for f in figures))
    by_key = {(f.name, f.size): f for f in figures}
    goals = {f.name: f.goal.text for f in figures if f.goal}
    header = ["figure", "unit", *sizes, "goal"]
    rows = []
    for name, unit in names:
        cells = []
        for size in sizes:
            figure = by_key.get((name, size))
            cells.append("" if figure is None else figure.formatted() + (" !" if verdict(figure) == "NOT MET" else ""))
        rows.append([name, unit, *cells, goals.get(name, "")])
    linear = [by_key[(n, s)] for n, _ in names for s in sizes if n.endswith("seconds_per_10k") and (n, s) in by_key]
    if len(linear) > 1:
        base = linear[0].value
        rows.append(["  relative to " + linear[0].size, "x", *(f"{f.value / base:.2f}" for f in linear), "≈ 1.00"])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        return "  ".join(str(c).ljust(w) if i in (0, 1, len(row) - 1) else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def machine_speed() -> float:
    """Microseconds for ``sum(range(1000))``, best of five rounds: a yardstick printed with the figures."""
    import timeit

    return min(timeit.repeat("sum(range(1000))", number=20_000, repeat=5)) / 20_000 * 1e6


def _interrupt(signum, frame):
    # Terminated (e.g. by `timeout`): unwind like Ctrl-C, so the running child is killed
    # and the temporary databases are removed.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Run the benchmarks and print their figures.")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run only this benchmark")
    parser.add_argument("--sizes",
                        help=f"corpus sizes in messages, comma-separated (default {DEFAULT_SIZES} for import, "
                             f"{import_speed.size_label(archive_pages.DEFAULT_SIZE)} for archive; 1M is opt-in)")
    parser.add_argument("--repeat", type=int, help="runs per size, median reported (default 3, and 1 for 1M and up)")
    parser.add_argument("--database", default="sqlite",
                        help="'sqlite' (a fresh file per run, the default) or a PostgreSQL URL: a fresh database "
                             "is created beside the URL's for every run, then dropped (needs CREATEDB)")
    parser.add_argument("--profile", action="store_true",
                        help="write a cProfile of each size's first import and re-import to var/bench/profiles/")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, what in BENCHMARKS.items():
            print(f"{name:<10} {what}")
        return 0
    try:
        given = [import_speed.parse_size(s) for s in args.sizes.split(",") if s.strip()] if args.sizes else None
    except ValueError as error:
        parser.error(str(error))
    sizes = given or [import_speed.parse_size(s) for s in DEFAULT_SIZES.split(",")]
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    def log(text: str) -> None:
        print(f"  {text}", file=sys.stderr, flush=True)

    figures: list[Figure] = []

    def emit(new: list[Figure]) -> None:
        for figure in new:
            print(figure_line(figure), flush=True)
        figures.extend(new)

    database = "sqlite" if args.database.startswith("sqlite") else "PostgreSQL"
    selected = [args.only] if args.only else list(BENCHMARKS)
    shown = given or (sizes if "import" in selected else [archive_pages.DEFAULT_SIZE])
    print(f"benchmarks on {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{database}; sizes {', '.join(import_speed.size_label(s) for s in shown)}", flush=True)
    print(f"machine speed before: {machine_speed():.1f} µs for sum(range(1000)) (lower is faster; this VM's "
          "speed drifts, so compare figures taken at similar speeds)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    profile_dir = None
    if args.profile:
        profile_dir = import_speed.CACHE / "profiles"
        profile_dir.mkdir(parents=True, exist_ok=True)
    try:
        if "import" in selected:
            import_speed.run(sizes=sizes, repeat=args.repeat, database=args.database, profile_dir=profile_dir,
                             emit=emit, log=log)
        if "archive" in selected:
            archive_pages.run(sizes=given, repeat=args.repeat, database=args.database, emit=emit, log=log)
        if "corpus" in selected:
            corpus.run(database=args.database, repeat=args.repeat, emit=emit, log=log, out=sys.stdout)
        if "rules" in selected:
            rules_speed.run(database=args.database, repeat=args.repeat, emit=emit, log=log)
        if "roster" in selected:
            roster_speed.run(sizes=given if args.only == "roster" else None, database=args.database,
                             repeat=args.repeat, emit=emit, log=log)
        if "load" in selected and args.only != "load" and not shutil.which("wrk"):
            print("load: skipped, wrk is not installed (apt-get install wrk)", file=sys.stderr)
        elif "load" in selected:
            load.run(database=args.database, repeat=args.repeat, emit=emit, log=log)
    except import_speed.BenchmarkError as error:
        print(f"benchmark could not run: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if figures:
            print()
            print(summary_table(figures))
            print(f"\n({time.monotonic() - started:.0f}s; medians; '!' marks a figure that misses its goal; "
                  f"machine speed after: {machine_speed():.1f} µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
