"""API throttling: anonymous clients get 60 requests a minute, then 429 with Retry-After and a
plain message; the counts live in the default cache, which is Redis shared by every web
process when Redis is the cache."""

import math
import pickle
import time

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.urls import reverse
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.factories import make_user

pytestmark = pytest.mark.django_db

# The documentation page: an API view anyone may read, so anonymous requests reach the throttle
# (on the other endpoints the permission check refuses them first, before counting).
DOCS = reverse("api:docs")
GROUPS = reverse("api:group-list")


def retry_after(response) -> int:
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


def test_the_61st_anonymous_request_in_a_minute_is_throttled():
    assert AnonRateThrottle().rate == "60/minute"
    client = Client()
    started = time.monotonic()

    statuses = [client.get(DOCS).status_code for _ in range(60)]
    throttled = client.get(DOCS)
    elapsed = time.monotonic() - started

    assert statuses == [200] * 60
    # The wait is what is left of the minute of the first request (less on a busy machine, where
    # the sixty requests themselves take seconds).
    assert retry_after(throttled) >= 59 - math.ceil(elapsed)


@pytest.fixture
def user_rate_of_four(monkeypatch):
    """Four requests a minute for a logged-in user (600 in the settings), to reach the limit fast."""
    assert UserRateThrottle().rate == "600/minute"
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**UserRateThrottle.THROTTLE_RATES, "user": "4/minute"})


def test_a_throttled_request_is_told_when_to_retry(user_rate_of_four):
    client = Client()
    client.force_login(make_user())

    statuses = [client.get(GROUPS).status_code for _ in range(4)]
    throttled = client.get(GROUPS, HTTP_ACCEPT_LANGUAGE="en")

    wait = retry_after(throttled)
    assert statuses == [200] * 4
    assert throttled.json() == {"detail": (
        "Too many requests: this API takes a limited number of requests a minute from each client. "
        f"Try again in {wait} second{'s' if wait > 1 else ''}.")}


def test_throttle_counts_are_shared_through_redis(settings, embedded_redis, user_rate_of_four):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": embedded_redis}}
    user = make_user()
    first, second = Client(), Client()  # two clients of one user, as two web processes would serve them
    first.force_login(user)
    second.force_login(user)

    statuses = [client.get(GROUPS).status_code for _ in range(2) for client in (first, second)]
    # Another web process has its own connection to Redis: drop this one's.
    caches.close_all()
    throttled = second.get(GROUPS)

    assert statuses == [200] * 4
    retry_after(throttled)
    key = f"throttle_user_{user.pk}"
    assert len(RedisCache(embedded_redis, {}).get(key)) == 4  # another process's cache object reads the count
    raw = redis.Redis.from_url(embedded_redis)
    assert raw.keys("*throttle*") == [f":1:{key}".encode()]
    assert len(pickle.loads(raw.get(f":1:{key}"))) == 4
