"""``manage.py backup PATH``: a consistent copy of the database at PATH, and the media files
(stored images) in ``PATH.media.tar`` beside it.

SQLite: Python's ``sqlite3`` online backup API (consistent while the web server, the worker
and beat keep writing). PostgreSQL: ``pg_dump --format=custom`` (one snapshot). ``restore``
reads both back (see its module)."""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections


def media_archive(path: Path) -> Path:
    """Where the media files of the backup at ``path`` go."""
    return path.with_name(path.name + ".media.tar")


def database_vendor(alias: str) -> str:
    return connections[alias].vendor


def pg_program(name: str) -> str:
    """``pg_dump``/``pg_restore``: on the PATH, else beside the newest PostgreSQL server's binaries."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    raise CommandError(f"{name} was not found: install the PostgreSQL client programs.")


def pg_environment(alias: str) -> tuple[list[str], dict[str, str]]:
    """The connection as libpq arguments and environment (the password never on the command line)."""
    config = settings.DATABASES[alias]
    options = config.get("OPTIONS", {})
    environ = dict(os.environ)
    for key, variable in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        # A Unix socket directory comes as ?host=… in DATABASE_URL, hence in OPTIONS.
        value = config.get(key) or options.get(key.lower())
        if value:
            environ[variable] = str(value)
    return ["--dbname", config["NAME"]], environ


def sqlite_connection(alias: str) -> sqlite3.Connection:
    """The raw connection Django holds (an in-memory test database included)."""
    connection = connections[alias]
    connection.ensure_connection()
    return connection.connection


class Command(BaseCommand):
    help = "Back up the database (SQLite or PostgreSQL) to PATH and the media files to PATH.media.tar."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, *args, path: Path, database: str, **options):
        path = path.resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        vendor = database_vendor(database)
        if vendor == "sqlite":
            path.unlink(missing_ok=True)
            target = sqlite3.connect(path)
            try:
                sqlite_connection(database).backup(target)
            finally:
                target.close()
        elif vendor == "postgresql":
            arguments, environ = pg_environment(database)
            result = subprocess_run([pg_program("pg_dump"), "--format=custom", "--file", str(path), *arguments], environ)
            if result.returncode:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No backup for a {vendor} database.")
        media = Path(settings.MEDIA_ROOT)
        with tarfile.open(media_archive(path), "w") as archive:
            if media.is_dir():
                archive.add(media, arcname=".")
        self.stdout.write(f"Backed up the {vendor} database to {path} and the media files to {media_archive(path)}.")


def subprocess_run(command: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=environ, capture_output=True, text=True)
