"""Login throttling: 5 failures for a username (any address) or 20 from an address (any
username) within 15 minutes lock further attempts for 15 minutes, on the site's login page
and the admin's, with the same message whether the username exists or not."""

from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from community import security
from community.security import LoginThrottle
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed logins. Try again in 15 minutes."
WRONG = "Please enter a correct username and password. Note that both fields may be case-sensitive."


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(security, "login_throttle", lambda: LoginThrottle(clock=clock))
    return clock


@pytest.fixture
def wangfang():
    return make_user("wangfang", password="right-password-1")


def attempt(username: str, password: str, *, ip: str = "203.0.113.7", url: str = "/accounts/login/"):
    """One login attempt from ``ip``: (logged in?, the form's errors in English)."""
    client = Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(url, {"username": username, "password": password})
    logged_in = "_auth_user_id" in client.session
    errors = [] if response.status_code == 302 else list(response.context["form"].non_field_errors())
    return logged_in, errors


def fail(username: str, times: int, **options) -> list:
    return [attempt(username, "wrong-guess", **options) for _ in range(times)]


def test_sixth_attempt_with_the_right_password_is_refused(clock, wangfang):
    assert fail("wangfang", 4) == [(False, [WRONG])] * 4
    # The fifth failure locks the username: the page says so at once.
    assert fail("wangfang", 1) == [(False, [LOCKED])]
    assert attempt("wangfang", "right-password-1") == (False, [LOCKED])


def test_lock_expires_after_fifteen_minutes(clock, wangfang):
    fail("wangfang", 5)
    clock.advance(14 * 60 + 59)
    assert attempt("wangfang", "right-password-1") == (False, ["Too many failed logins. Try again in 1 minute."])
    clock.advance(1)
    assert attempt("wangfang", "right-password-1") == (True, [])


def test_failures_older_than_fifteen_minutes_do_not_count(clock, wangfang):
    fail("wangfang", 4)
    clock.advance(16 * 60)
    assert fail("wangfang", 4) == [(False, [WRONG])] * 4
    assert attempt("wangfang", "right-password-1") == (True, [])


def test_other_usernames_are_not_locked(clock, wangfang):
    make_user("lisi", password="right-password-2")
    fail("wangfang", 5)
    assert attempt("lisi", "right-password-2") == (True, [])


def test_unknown_username_gets_the_same_answers(clock):
    # Wrong, then locked, exactly as for an account that exists: the lock reveals nothing.
    assert fail("nobody-here", 6) == [(False, [WRONG])] * 4 + [(False, [LOCKED])] * 2


def test_username_is_counted_whatever_its_case_and_spaces(clock, wangfang):
    fail("WangFang", 3)
    fail(" wangfang ", 2)
    assert attempt("wangfang", "right-password-1") == (False, [LOCKED])


def test_success_clears_the_usernames_failures(clock, wangfang):
    fail("wangfang", 4)
    assert attempt("wangfang", "right-password-1") == (True, [])
    assert fail("wangfang", 4) == [(False, [WRONG])] * 4
    assert attempt("wangfang", "right-password-1") == (True, [])


def test_twenty_failures_from_one_address_lock_that_address(clock, wangfang):
    for n in range(20):
        fail(f"guess{n}", 1, ip="198.51.100.9")
    assert attempt("wangfang", "right-password-1", ip="198.51.100.9") == (False, [LOCKED])
    # The username itself is not locked: from elsewhere it logs in.
    assert attempt("wangfang", "right-password-1", ip="203.0.113.50") == (True, [])


def test_nineteen_failures_from_one_address_do_not_lock_it(clock, wangfang):
    for n in range(19):
        fail(f"guess{n}", 1, ip="198.51.100.9")
    assert attempt("wangfang", "right-password-1", ip="198.51.100.9") == (True, [])


def test_admin_login_is_throttled_too(clock):
    make_user("operator", password="right-password-3", staff=True)
    fail("operator", 5, url="/admin/login/")
    assert attempt("operator", "right-password-3", url="/admin/login/") == (False, [LOCKED])
    # One count for both forms: the site's login page is locked as well.
    assert attempt("operator", "right-password-3") == (False, [LOCKED])


def test_failures_on_the_site_lock_the_admin_login(clock):
    make_user("operator", password="right-password-3", staff=True)
    fail("operator", 5)
    assert attempt("operator", "right-password-3", url="/admin/login/") == (False, [LOCKED])


def test_session_for_the_api_cannot_be_had_while_locked(clock, wangfang):
    # The API's session authentication reads the session the login forms open: none while locked.
    fail("wangfang", 5)
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert client.login(username="wangfang", password="right-password-1") is False
    assert client.get("/api/flags/").status_code == 403


def test_behind_the_proxy_the_address_it_appended_is_counted(clock, settings, wangfang):
    settings.LOGIN_THROTTLE_BEHIND_PROXY = True
    for n in range(20):
        # The client forges the first entry; the proxy appends the real address.
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.9")
        client.post("/accounts/login/", {"username": f"guess{n}", "password": "x"})
    results = []
    for forwarded in ("198.51.100.9", "203.0.113.50"):
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        client.post("/accounts/login/", {"username": "wangfang", "password": "right-password-1"})
        results.append("_auth_user_id" in client.session)
    assert results == [False, True]


def test_counts_are_shared_through_redis(embedded_redis):
    # Two web processes: two cache clients on one Redis server see the same failures.
    clock = Clock()
    first = LoginThrottle(cache=RedisCache(embedded_redis, {}), clock=clock)
    second = LoginThrottle(cache=RedisCache(embedded_redis, {}), clock=clock)
    for throttle in (first, second, first, second):
        throttle.failure("wangfang", "203.0.113.7")
    assert (first.locked_for("wangfang", ""), second.locked_for("wangfang", "")) == (0, 0)
    second.failure("wangfang", "203.0.113.7")
    assert (first.locked_for("wangfang", ""), second.locked_for("wangfang", "")) == (900, 900)
