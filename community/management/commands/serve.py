"""Run the whole application in the foreground: broker, Celery worker, Celery beat, web server.

Every part runs with the settings of this machine: ``DEBUG`` off unless ``DEBUG=1`` is set, and
the secret key from ``SECRET_KEY`` or else the one generated once into ``var/secret-key``.

Each part is its own process in its own session, watched by this command. The embedded
broker is restarted if it dies; if another part dies, everything is stopped. Ctrl-C (or
SIGTERM) stops every part and waits for it, so no process is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand

from community.broker import embedded_cache_url, start_embedded_redis


@dataclass
class Part:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, start_new_session=True, stdin=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Command(BaseCommand):
    help = "Start the broker (embedded unless REDIS_URL is set), a Celery worker, Celery beat and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--celery-concurrency", type=int, default=2)

    def handle(self, *args, port, host, web_workers, celery_concurrency, **options):
        self.stopping = False
        python = sys.executable
        parts = [
            Part("worker", [python, "-m", "celery", "-A", "config", "worker", "-l", "INFO",
                            "--concurrency", str(celery_concurrency), "--without-gossip", "--without-mingle"]),
            Part("beat", [python, "-m", "celery", "-A", "config", "beat", "-l", "INFO",
                          "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME]),
            Part("web", [python, "-m", "gunicorn", "config.wsgi", "--bind", f"{host}:{port}",
                         "--workers", str(web_workers), "--access-logfile", "-", "--graceful-timeout", "5"]),
        ]
        broker: subprocess.Popen | None = None
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._request_stop)
        if settings.DEBUG:
            self.stderr.write("DEBUG is on: error pages show tracebacks and settings to every visitor (unset DEBUG "
                              "for a demo).")
        try:
            if not settings.REDIS_URL:
                self.stdout.write("Starting the embedded Redis broker (var/redis.sock)…")
                broker = start_embedded_redis(settings.VAR_DIR)
                # The web processes share their cache (throttle counts, failed logins) in it too,
                # in a database of its own; the parts inherit this environment.
                os.environ.setdefault("CACHE_URL", embedded_cache_url(settings.VAR_DIR))
            for part in parts:
                self.stdout.write(f"Starting {part.name}: {' '.join(part.argv[2:6])}…")
                part.start()
            self.stdout.write(self.style.SUCCESS(f"Serving on http://{'localhost' if host == '0.0.0.0' else host}:{port}/ — Ctrl-C stops everything."))
            while not self.stopping:
                time.sleep(0.5)
                if broker is not None and broker.poll() is not None and not self.stopping:
                    self.stderr.write("The embedded broker stopped; restarting it.")
                    broker = start_embedded_redis(settings.VAR_DIR)
                for part in parts:
                    if not part.alive() and not self.stopping:
                        self.stderr.write(f"{part.name} exited with status {part.process.returncode}; stopping.")
                        self.stopping = True
                        self.exit_status = 1
        finally:
            self._stop_all([part.process for part in parts])
            self._stop_all([broker])  # last, so the worker can ack what it holds
            self.stdout.write("Stopped: broker, worker, beat and web server.")
        sys.exit(getattr(self, "exit_status", 0))

    def _request_stop(self, signum, frame):
        self.stopping = True

    def _stop_all(self, processes: list[subprocess.Popen | None]) -> None:
        running = [p for p in processes if p is not None and p.poll() is None]
        for process in running:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
