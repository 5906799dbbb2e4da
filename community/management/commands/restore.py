"""``manage.py restore PATH``: put back a backup made by ``manage.py backup PATH`` into the
configured database (its current content is replaced) and its media files into MEDIA_ROOT.

Stop the web server, the worker and beat first. SQLite: the backup file is copied in with the
online backup API. PostgreSQL: ``pg_restore --clean --if-exists --no-owner``."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .backup import database_vendor, media_archive, pg_environment, pg_program, sqlite_connection, subprocess_run


class Command(BaseCommand):
    help = "Restore the database and media files from a backup made by 'manage.py backup PATH'."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--database", default="default")

    def handle(self, *args, path: Path, database: str, **options):
        path = path.resolve()
        if not path.is_file():
            raise CommandError(f"No backup at {path}.")
        vendor = database_vendor(database)
        if vendor == "sqlite":
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                source.backup(sqlite_connection(database))
            except sqlite3.DatabaseError as error:
                raise CommandError(f"{path} is not an SQLite backup: {error}") from None
            finally:
                source.close()
        elif vendor == "postgresql":
            arguments, environ = pg_environment(database)
            result = subprocess_run(
                [pg_program("pg_restore"), "--clean", "--if-exists", "--no-owner", *arguments, str(path)], environ)
            if result.returncode:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No restore for a {vendor} database.")
        archive_path = media_archive(path)
        if archive_path.is_file():
            media = Path(settings.MEDIA_ROOT)
            media.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archive_path) as archive:
                archive.extractall(media, filter="data")  # Refuses absolute paths and "..".
        self.stdout.write(f"Restored the {vendor} database from {path}"
                          + (f" and the media files from {archive_path}." if archive_path.is_file() else "."))
