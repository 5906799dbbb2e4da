"""`manage.py serve` (what `make run` ends with): every part starts, answers, and stops on Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

pytestmark = pytest.mark.slow  # starts serve: a broker, a worker, beat and a web server

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _environment(var_dir: Path) -> dict[str, str]:
    """What `make run` gives `manage.py`: no database, broker, key or debug setting of its own."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "CACHE_URL"}}
    env.update(VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="config.settings", PYTHONUNBUFFERED="1")
    return env


@contextlib.contextmanager
def _serving(tmp_path: Path, *commands: str):
    """`manage.py serve` on a free port after the given set-up commands (as `make run` runs them):
    (the process, the port, the environment); stopped afterwards whatever happened."""
    env = _environment(tmp_path)
    for command in ("migrate", *commands):
        subprocess.run([sys.executable, "manage.py", command, "--no-input", "-v", "0"], cwd=REPO, env=env, check=True,
                       timeout=300)
    port = _free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port), "--host", "127.0.0.1",
                              "--web-workers", "1", "--celery-concurrency", "1"],
                             cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert health == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}, (tmp_path / "serve.log").read_text()
        yield serve, port, env
    finally:
        # Ctrl-C, so that serve stops its parts (each in a session of its own): killing it
        # would leave the broker and beat running.
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
        log.close()


def _get(url: str, **headers) -> tuple[int, str]:
    """(status, body) of a GET, error statuses included."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list child processes")
def test_serve_starts_broker_worker_beat_web_and_ctrl_c_leaves_nothing(tmp_path):
    with _serving(tmp_path) as (serve, port, _env):
        time.sleep(2)  # let the worker and beat finish starting
        parts = _descendants(serve.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in parts if _alive(pid))
        assert "redis-server" in commands
        assert "celery -A config worker" in commands
        assert "celery -A config beat" in commands
        assert "gunicorn config.wsgi" in commands
        # The web processes share their cache in the embedded Redis (database 1): an API request's
        # throttle count is kept there, where every gunicorn worker counts.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=30) as response:
            assert response.status == 200
        cache = redis.Redis(unix_socket_path=str(tmp_path / "redis.sock"), db=1)
        assert any(b"throttle_anon" in key for key in cache.keys("*")), cache.keys("*")
        serve.send_signal(signal.SIGINT)
        assert serve.wait(timeout=60) == 0
        time.sleep(0.5)
        assert [pid for pid in parts if _alive(pid)] == []


def test_serve_shows_visitors_no_traceback_nor_urlconf_and_keeps_its_own_key(tmp_path):
    # `make run` is a demo anyone may reach: DEBUG is off unless a developer sets DEBUG=1.
    with _serving(tmp_path, "collectstatic") as (_serve, port, env):
        base = f"http://127.0.0.1:{port}"
        missing = _get(f"{base}/no-such-page/")
        bad_host = _get(f"{base}/", Host="attacker.example")
        # A server error: the database's tables gone from under the running server.
        (tmp_path / "db.sqlite3").rename(tmp_path / "db.sqlite3.away")
        broken = _get(f"{base}/")
        (tmp_path / "db.sqlite3.away").replace(tmp_path / "db.sqlite3")
        stylesheet = _get(f"{base}/static/community/site.css")
        key = (tmp_path / "secret-key").read_text().strip()
        mode = (tmp_path / "secret-key").stat().st_mode & 0o777
        in_use = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c",
                                 "from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)"],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=120).stdout.split()

    assert missing[0] == 404 and "URLconf" not in missing[1] and "config.urls" not in missing[1], missing
    assert bad_host[0] == 400 and "DisallowedHost" not in bad_host[1] and "Traceback" not in bad_host[1], bad_host
    assert broken[0] == 500 and "<h1>Server Error (500)</h1><p></p>" in broken[1], broken
    assert "Traceback" not in broken[1] and "no such table" not in broken[1], broken
    assert stylesheet[0] == 200 and ".site-header" in stylesheet[1]
    assert (len(key) >= 50, key.startswith("django-insecure"), mode) == (True, False, 0o600)
    assert in_use == [key, "False"]
