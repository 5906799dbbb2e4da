"""`manage.py serve` (what `make run` ends with): every part starts, answers, and stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

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


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list child processes")
def test_serve_starts_broker_worker_beat_web_and_ctrl_c_leaves_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="community.settings", PYTHONUNBUFFERED="1")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True, timeout=300)
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
        time.sleep(2)  # let the worker and beat finish starting
        parts = _descendants(serve.pid)
        commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ") for pid in parts if _alive(pid))
        assert "redis-server" in commands
        assert "celery -A community worker" in commands
        assert "celery -A community beat" in commands
        assert "gunicorn community.wsgi" in commands
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
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
