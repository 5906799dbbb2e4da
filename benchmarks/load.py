"""Load: requests per second and latency under 50 concurrent clients, with ``wrk``.

A fresh, migrated database (PostgreSQL when ``--database`` is a PostgreSQL URL, as in
production; SQLite otherwise) gets the 100k corpus through the real importer, the long talk
of the archive benchmark and the search index (``python -m benchmarks.load --setup``, one
child process). Then the app runs as in production: gunicorn (``WORKERS`` sync workers) on
loopback, ``DEBUG`` off, the cache (and so the API's throttling counts) in a real Redis
server (the embedded one, on a Unix socket). ``wrk`` (``CONNECTIONS`` connections, two
threads, ``SECONDS`` s after a short warm-up) requests each target in turn, logged in as a
member of the group — a session cookie for the pages, a token for the API:

- ``archive``: the talk archive's first page (``/talks/``);
- ``talk``: the long talk's page (1,500 messages, 60 sign-ins, 300 lines of discussion);
- ``api_shares``: the shares API's first page (``/api/shares/``).

The API's throttling stays on, with its rates raised for the run (``API_THROTTLE_USER``)
so that the figures are the server's, not the limit's. wrk runs on the same machine as
the server and the database, so all three share its CPUs. ``errors`` counts responses
other than 2xx/3xx plus socket errors and timeouts: it should be 0.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from . import Figure, Goal
from .import_speed import (
    REPO,
    BenchmarkError,
    PostgresDatabases,
    SqliteDatabases,
    child_env,
    corpus,
    default_repeat,
    migrate,
    run_process,
)

GROUP_SLUG = "bench"
SIZE = 100_000
CONNECTIONS = 50
THREADS = 2
SECONDS = 15
WARM_UP_SECONDS = 3
WORKERS = 4
# wrk's own summary has no 95th percentile: this script prints what we report, as JSON.
REPORT_LUA = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "errors": %d, "status_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, errors, summary.errors.status))
end
"""


def wrk_executable() -> str:
    found = shutil.which("wrk")
    if not found:
        raise BenchmarkError("wrk is not installed (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"gunicorn stopped (exit {process.returncode}) before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise BenchmarkError(f"gunicorn did not answer {url} within {timeout:.0f}s")


def _check(url: str, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own loopback server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        if response.status != 200:
            raise BenchmarkError(f"{url}: status {response.status}")


def _wrk(url: str, headers: dict[str, str], seconds: int, script: Path) -> dict:
    args = [wrk_executable(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    process = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 60)
    if process.returncode != 0:
        raise BenchmarkError(f"wrk failed on {url}: {process.stderr.strip() or process.stdout.strip()}")
    report = json.loads(process.stdout.strip().splitlines()[-1])
    report["rps"] = report["requests"] / report["seconds"]
    return report


def _serve_and_measure(url: str, var_dir: Path, setup: dict, root: Path, log) -> dict[str, dict]:
    from community.broker import start_embedded_redis

    redis_socket = var_dir / "cache.sock"
    redis = start_embedded_redis(var_dir / "redis", socket=redis_socket)
    port = _free_port()
    env = child_env(url, var_dir)
    env.update(REDIS_URL=f"unix://{redis_socket}?db=0", API_THROTTLE_USER="100000000/minute",
               API_THROTTLE_ANON="100000000/minute")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
         "--worker-class", "sync", "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=open(var_dir / "gunicorn.log", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    script = root / "report.lua"
    script.write_text(REPORT_LUA)
    page_headers = {"Cookie": f"sessionid={setup['session']}"}
    targets = {
        "archive": ("/talks/", page_headers),
        "talk": (f"/g/{GROUP_SLUG}/talks/{setup['share']}/", page_headers),
        "api_shares": ("/api/shares/", {"Authorization": f"Token {setup['token']}"}),
    }
    try:
        _wait_for(f"{base}/healthz", web)
        measured = {}
        for name, (path, headers) in targets.items():
            _check(base + path, headers)
            _wrk(base + path, headers, WARM_UP_SECONDS, script)
            measured[name] = _wrk(base + path, headers, SECONDS, script)
            report = measured[name]
            log(f"  {name}: {report['rps']:.0f} requests/s, p50 {report['p50_ms']:.1f} ms, "
                f"p95 {report['p95_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms, {report['errors']} errors")
        return measured
    finally:
        for process in (web, redis):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def run(*, repeat: int | None, database: str, emit, log) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-load-"))
    postgres = not (database == "sqlite" or database.startswith("sqlite:"))
    databases = PostgresDatabases(database, root) if postgres else SqliteDatabases(root)
    wrk_executable()
    try:
        migrate(databases, log)
        data = corpus(SIZE, log)
        samples = []
        for n in range(1, (repeat or default_repeat(SIZE)) + 1):
            url, var_dir = databases.fresh()
            log(f"load run {n}: importing 100k messages, the long talk and the index ...")
            output = run_process(["-m", "benchmarks.load", "--setup", str(data.folder)], child_env(url, var_dir),
                                 "load set-up")
            setup = json.loads(output.strip().splitlines()[-1])
            log(f"load run {n}: gunicorn ({WORKERS} workers) and wrk ({CONNECTIONS} connections, {SECONDS}s a target)")
            samples.append(_serve_and_measure(url, var_dir, setup, root, log))
            databases.discard(var_dir)
        emit(figures_for(samples, postgres=postgres))
    finally:
        databases.close()
        shutil.rmtree(root, ignore_errors=True)


def figures_for(samples: list[dict], *, postgres: bool) -> list[Figure]:
    engine = "PostgreSQL" if postgres else "SQLite"
    note = f"{CONNECTIONS} connections, {SECONDS}s, gunicorn {WORKERS} workers, {engine}, wrk on the same 2 CPUs"
    figures = []
    for name in samples[0]:
        runs = [sample[name] for sample in samples]
        figures += [
            Figure(name=f"load.{name}.rps", size="100k", unit="req/s", samples=tuple(r["rps"] for r in runs),
                   note=note),
            Figure(name=f"load.{name}.p95", size="100k", unit="ms", samples=tuple(r["p95_ms"] for r in runs),
                   digits=1, note=f"p50 {sorted(r['p50_ms'] for r in runs)[len(runs) // 2]:.1f} ms"),
            Figure(name=f"load.{name}.errors", size="100k", unit="responses",
                   samples=tuple(float(r["errors"]) for r in runs), goal=Goal("0", below=1),
                   note=f"requests per run: {', '.join(str(r['requests']) for r in runs)}"),
        ]
    return figures


# ---------------------------------------------------------------------------------------
# The set-up child: data, a logged-in member, a token
# ---------------------------------------------------------------------------------------


def setup(folder: Path) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from community.models import Member
    from importer.services import transcript_sources, transcripts_import
    from shares.search import talk_index_refresh

    from .archive_pages import _long_talk

    result = transcripts_import(group_slug=GROUP_SLUG, sources=transcript_sources([folder]))
    if result.errors:
        print(f"{len(result.errors)} files failed, e.g. {result.errors[0]}", file=sys.stderr)
    share, reader_id = _long_talk(GROUP_SLUG)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    talk_index_refresh()
    user = get_user_model().objects.create_user(username="bench-reader", password="bench-password-1")
    Member.objects.filter(pk=reader_id).update(user=user)
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    token = Token.objects.create(user=user)
    print(json.dumps({"share": share.pk, "session": session.session_key, "token": token.key}))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["--setup"] or len(sys.argv) != 3:
        raise SystemExit("run the benchmark with: python -m benchmarks --only load")
    raise SystemExit(setup(Path(sys.argv[2])))
