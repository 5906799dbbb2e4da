"""The test database shared with other processes: Celery workers, a child that serves requests.

On PostgreSQL they connect to the test database itself (the test must be transactional, so
that what it wrote is committed). On SQLite the test database lives in this process's memory,
where no other process reaches it: it is copied into a file for them (WAL, as in production),
and copied back once they are done, so that the test reads what they wrote through the ORM.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

from django.db import connection

REPO = Path(__file__).resolve().parents[1]


class SharedDatabase:
    def __init__(self, url: str, path: Path | None):
        self.url, self.path = url, path

    def value(self, sql: str, params: tuple = ()):
        """One value read now, as the other processes see the database."""
        if self.path is None:
            with connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchone()[0]
        reader = sqlite3.connect(self.path, timeout=30)
        try:
            return reader.execute(sql, params).fetchone()[0]
        finally:
            reader.close()


def postgres_url() -> str:
    """The test database's URL, from the connection's parameters (a socket directory is a ``host``)."""
    params = connection.get_connection_params()
    user, password = quote(params.get("user") or ""), quote(params.get("password") or "")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    query = {key: str(params[key]) for key in ("host", "port") if params.get(key)}
    return f"postgres://{credentials}/{params['dbname']}" + (f"?{urlencode(query)}" if query else "")


@contextlib.contextmanager
def shared_database(folder: Path) -> Iterator[SharedDatabase]:
    """The test database as a URL other processes can use, for the block's duration."""
    if connection.vendor == "postgresql":
        yield SharedDatabase(postgres_url(), None)
        return
    path = folder / "shared.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.execute("PRAGMA journal_mode=WAL")
    copy.close()
    try:
        yield SharedDatabase(f"sqlite:///{path}", path)
    finally:
        back = sqlite3.connect(path)
        back.backup(connection.connection)
        back.close()


def process_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the app on the shared database (settings as in development)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_ENV", "REDIS_URL", "CACHE_URL", "DATABASE_URL", "MEDIA_ROOT", "DEBUG"}}
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DATABASE_URL": database_url, "VAR_DIR": str(var_dir),
                "CACHE_URL": "", "LOG_LEVEL": "INFO", "PYTHONPATH": str(REPO), **extra})
    return env
