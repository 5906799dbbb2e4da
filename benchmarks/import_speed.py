"""Import speed: first import, re-import of unchanged files, peak memory and linearity.

For each size a synthetic corpus from ``importer.generator`` (cached under
``var/bench/``) is imported into a fresh, migrated database, each import in its own
process (``benchmarks._import_child``) so peak memory is that of one import. Then the
same files are imported again into the same database: every file is unchanged, so that
run measures the skip path (read, hash, parse, compare).

The developer's database is never touched: every process gets ``VAR_DIR`` and
``DATABASE_URL`` of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from . import Figure, Goal

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "var" / "bench"
GROUP_SLUG = "bench"
SEED = 1
START = date(2018, 1, 1)

FIRST_IMPORT_GOAL = 20_000  # messages/s at 100k, SQLite, 2 cores
REIMPORT_GOAL = 200_000  # messages/s, unchanged files
MEMORY_GOAL_MB = 400  # peak RSS of one import at 1M
GOAL_SIZE_SPEED = 100_000
GOAL_SIZE_MEMORY = 1_000_000


def size_label(messages: int) -> str:
    if messages >= 1_000_000 and messages % 1_000_000 == 0:
        return f"{messages // 1_000_000}M"
    if messages >= 1_000 and messages % 1_000 == 0:
        return f"{messages // 1_000}k"
    return str(messages)


def parse_size(text: str) -> int:
    text = text.strip()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    number = text[:-1] if factor > 1 else text
    try:
        value = int(float(number) * factor)
    except ValueError:
        raise ValueError(f"{text!r} is not a size (use e.g. 10k, 100k, 1M)") from None
    if value <= 0:
        raise ValueError(f"{text!r}: a size must be positive")
    return value


def default_repeat(messages: int) -> int:
    return 1 if messages >= 1_000_000 else 3


# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    folder: Path
    days: int
    messages_per_day: int

    @property
    def messages(self) -> int:
        return self.days * self.messages_per_day


def corpus_plan(messages: int) -> tuple[int, int]:
    """(days, messages per day): ~700 a day like a busy group, ~7000 a day for the 1M corpus."""
    per_day = 7_000 if messages >= 1_000_000 else 700
    return max(1, round(messages / per_day)), min(per_day, messages)


def corpus(messages: int, log) -> Corpus:
    """The corpus for a size, generated once and cached by seed, shape and generator source."""
    from importer import generator

    days, per_day = corpus_plan(messages)
    source_digest = hashlib.sha256(Path(generator.__file__).read_bytes()).hexdigest()[:10]
    folder = CACHE / f"corpus-seed{SEED}-{days}x{per_day}-{source_digest}"
    manifest = folder / "manifest.json"
    if manifest.exists():
        return Corpus(folder=folder, days=days, messages_per_day=per_day)
    log(f"generating {days} days x {per_day} messages into {folder.relative_to(REPO)} ...")
    started = time.perf_counter()
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    generator.write_corpus(partial, seed=SEED, days=days, messages_per_day=per_day, start=START)
    (partial / "manifest.json").write_text(json.dumps(
        {"seed": SEED, "days": days, "messages_per_day": per_day, "start": START.isoformat(),
         "generator": source_digest}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)  # only a complete corpus is ever found under its name
    log(f"generated in {time.perf_counter() - started:.1f}s")
    return Corpus(folder=folder, days=days, messages_per_day=per_day)


# ---------------------------------------------------------------------------------------
# Fresh databases
# ---------------------------------------------------------------------------------------


class SqliteDatabases:
    """A migrated template file, copied into a fresh folder (its own VAR_DIR) for every run."""

    def __init__(self, root: Path):
        self.root = root
        self.template_dir = root / "template"
        self.count = 0

    def template(self) -> tuple[str, Path]:
        return f"sqlite:///{self.template_dir / 'db.sqlite3'}", self.template_dir

    def fresh(self) -> tuple[str, Path]:
        self.count += 1
        var_dir = self.root / f"run-{self.count}"
        var_dir.mkdir(parents=True)
        shutil.copyfile(self.template_dir / "db.sqlite3", var_dir / "db.sqlite3")
        return f"sqlite:///{var_dir / 'db.sqlite3'}", var_dir

    def discard(self, var_dir: Path) -> None:
        shutil.rmtree(var_dir, ignore_errors=True)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Databases created beside the one in the URL (which is only connected to, never changed).

    The template is migrated once; every run gets ``CREATE DATABASE ... TEMPLATE`` of it.
    Needs the CREATEDB privilege. All of them are dropped at the end."""

    def __init__(self, url: str, root: Path):
        self.url = url
        self.root = root
        self.prefix = f"bench_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self.count = 0
        self._execute(f'CREATE DATABASE "{self.prefix}_template"')
        self.created.append(f"{self.prefix}_template")

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url.replace("postgis://", "postgres://", 1), autocommit=True) as connection:
            connection.execute(sql)

    def _url(self, name: str) -> str:
        return urlsplit(self.url)._replace(path="/" + name).geturl()

    def template(self) -> tuple[str, Path]:
        var_dir = self.root / "template"
        var_dir.mkdir(parents=True, exist_ok=True)
        return self._url(f"{self.prefix}_template"), var_dir

    def fresh(self) -> tuple[str, Path]:
        self.count += 1
        name = f"{self.prefix}_run{self.count}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.prefix}_template"')
        self.created.append(name)
        var_dir = self.root / f"run-{self.count}"
        var_dir.mkdir(parents=True)
        return self._url(name), var_dir

    def discard(self, var_dir: Path) -> None:
        shutil.rmtree(var_dir, ignore_errors=True)

    def close(self) -> None:
        for name in reversed(self.created):
            self._execute(f'DROP DATABASE IF EXISTS "{name}"')


# ---------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------


class BenchmarkError(RuntimeError):
    pass


def child_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DJANGO_ENV", "REDIS_URL", "CACHE_URL", "MEDIA_ROOT"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        VAR_DIR=str(var_dir),
        DEBUG="false",  # as in production: Django keeps no query log
        LOG_LEVEL="WARNING",
        PYTHONHASHSEED="0",
    )
    return env


def run_process(args: list[str], env: dict[str, str], what: str) -> str:
    process = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True)
    if process.returncode != 0:
        tail = "\n".join((process.stderr or process.stdout).strip().splitlines()[-25:])
        raise BenchmarkError(f"{what} failed (exit {process.returncode}):\n{tail}")
    return process.stdout


def migrate(databases, log) -> None:
    url, var_dir = databases.template()
    log("migrating a template database ...")
    run_process(["manage.py", "migrate", "--no-input", "-v", "0"], child_env(url, var_dir), "migrate")


def import_once(folder: Path, database_url: str, var_dir: Path, what: str, profile: Path | None = None) -> dict:
    args = ["-m", "benchmarks._import_child", str(folder), "--group", GROUP_SLUG]
    if profile:
        args += ["--profile", str(profile)]
    output = run_process(args, child_env(database_url, var_dir), what)
    return json.loads(output.strip().splitlines()[-1])


@dataclass
class Sample:
    messages: int
    first_seconds: float
    first_peak_mb: float
    again_messages: int
    again_seconds: float
    again_peak_mb: float
    files: int
    files_failed: int


def measure(size: int, repeat: int, databases, log, profile_dir: Path | None) -> tuple[Corpus, list[Sample]]:
    data = corpus(size, log)
    samples = []
    for n in range(1, repeat + 1):
        url, var_dir = databases.fresh()
        profiles = (None, None)
        if profile_dir and n == 1:
            profiles = (profile_dir / f"import-{size_label(size)}.prof", profile_dir / f"reimport-{size_label(size)}.prof")
        first = import_once(data.folder, url, var_dir, f"import of {size_label(size)}", profiles[0])
        log(f"{size_label(size)} run {n}/{repeat}: first import of {first['counts']['messages_created']:,} messages "
            f"in {first['seconds']:.2f}s, re-importing ...")
        again = import_once(data.folder, url, var_dir, f"re-import of {size_label(size)}", profiles[1])
        databases.discard(var_dir)
        sample = Sample(
            messages=first["counts"]["messages_created"], first_seconds=first["seconds"],
            first_peak_mb=first["peak_rss_mb"], again_messages=again["counts"]["messages_unchanged"],
            again_seconds=again["seconds"], again_peak_mb=again["peak_rss_mb"],
            files=first["files"], files_failed=first["counts"]["files_failed"],
        )
        samples.append(sample)
        if first["error_count"]:
            # Measured all the same: the figures count only the messages that were stored.
            log(f"WARNING: {first['error_count']} of {first['files']} files failed to import, e.g. "
                + "; ".join(first["errors"][:3]))
        log(
            f"{size_label(size)} run {n}/{repeat}: {sample.messages:,} messages in {data.days} files, "
            f"first import {sample.first_seconds:.2f}s ({sample.messages / sample.first_seconds:,.0f} msg/s, "
            f"peak {sample.first_peak_mb:.0f} MB), re-import {sample.again_seconds:.2f}s "
            f"({sample.again_messages / sample.again_seconds:,.0f} msg/s, peak {sample.again_peak_mb:.0f} MB)"
            + (f", profiles in {profile_dir}" if profiles[0] else "")
        )
    return data, samples


def figures_for(size: int, data: Corpus, samples: list[Sample]) -> list[Figure]:
    label = size_label(size)
    speed_applies = size == GOAL_SIZE_SPEED
    shape = f"{data.days} days x {data.messages_per_day}/day"
    failed = max(s.files_failed for s in samples)
    if failed:
        shape += f"; {failed} of {samples[0].files} files FAILED to import (not counted)"
    return [
        Figure(
            name="import.first", size=label, unit="msg/s",
            samples=tuple(s.messages / s.first_seconds for s in samples),
            goal=Goal(f"≥ {FIRST_IMPORT_GOAL:,} msg/s at 100k", at_least=FIRST_IMPORT_GOAL, applies=speed_applies),
            note=shape,
        ),
        Figure(
            name="import.again_unchanged", size=label, unit="msg/s",
            samples=tuple(s.again_messages / s.again_seconds for s in samples),
            goal=Goal(f"≥ {REIMPORT_GOAL:,} msg/s", at_least=REIMPORT_GOAL),
        ),
        Figure(
            name="import.first_peak_memory", size=label, unit="MB",
            samples=tuple(s.first_peak_mb for s in samples),
            goal=Goal(f"< {MEMORY_GOAL_MB} MB at 1M", below=MEMORY_GOAL_MB, applies=size == GOAL_SIZE_MEMORY),
        ),
        Figure(
            name="import.again_peak_memory", size=label, unit="MB",
            samples=tuple(s.again_peak_mb for s in samples),
            goal=Goal(f"< {MEMORY_GOAL_MB} MB at 1M", below=MEMORY_GOAL_MB, applies=size == GOAL_SIZE_MEMORY),
        ),
        Figure(
            name="import.first_seconds_per_10k", size=label, unit="s/10k msg",
            samples=tuple(s.first_seconds / s.messages * 10_000 for s in samples),
            goal=Goal("about equal at every size (linear)"), digits=3,
        ),
    ]


def run(*, sizes: list[int], repeat: int | None, database: str, profile_dir: Path | None, emit, log) -> None:
    """Measure every size; ``emit`` is called with each size's figures as soon as they are known."""
    root = Path(tempfile.mkdtemp(prefix="bench-import-"))
    databases = (
        SqliteDatabases(root) if database == "sqlite" or database.startswith("sqlite:")
        else PostgresDatabases(database, root)
    )
    try:
        migrate(databases, log)
        for size in sizes:
            data, samples = measure(size, repeat or default_repeat(size), databases, log, profile_dir)
            emit(figures_for(size, data, samples))
    finally:
        databases.close()
        shutil.rmtree(root, ignore_errors=True)
