"""Login throttling: 5 failures for a username from one address, or 50 from an address (any
username), within 15 minutes lock further attempts for 15 minutes, on the site's login page
and the admin's, with the same message whether the username exists or not. A wrong old
password on the password change page counts as a failed login; a new password (a completed
reset above all) lifts the username's locks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import mail
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


def test_a_lock_holds_only_the_address_that_guessed(clock, wangfang):
    # Anyone could lock the owner out by guessing from anywhere; now the guesser locks only their
    # own address out of that username.
    assert fail("wangfang", 5, ip="198.51.100.9")[-1] == (False, [LOCKED])
    assert attempt("wangfang", "right-password-1", ip="198.51.100.9") == (False, [LOCKED])
    assert attempt("wangfang", "right-password-1", ip="203.0.113.50") == (True, [])


def test_guessing_from_many_addresses_never_locks_the_owners_address(clock, wangfang):
    for n in range(30):
        fail("wangfang", 5, ip=f"192.0.2.{n}")
    assert attempt("wangfang", "right-password-1", ip="203.0.113.50") == (True, [])


def test_fifty_failures_from_one_address_lock_that_address(clock, wangfang):
    for n in range(50):
        fail(f"guess{n}", 1, ip="198.51.100.9")
    assert attempt("wangfang", "right-password-1", ip="198.51.100.9") == (False, [LOCKED])
    # The username itself is not locked: from elsewhere it logs in.
    assert attempt("wangfang", "right-password-1", ip="203.0.113.50") == (True, [])


def test_forty_nine_failures_from_one_address_do_not_lock_it(clock, wangfang):
    for n in range(49):
        fail(f"guess{n}", 1, ip="198.51.100.9")
    assert attempt("wangfang", "right-password-1", ip="198.51.100.9") == (True, [])


def test_the_limits_are_settings(clock, settings, wangfang):
    settings.LOGIN_FAILURES_PER_USERNAME_AND_IP = 2
    settings.LOGIN_FAILURES_PER_IP = 3
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 5
    settings.LOGIN_LOCK_MINUTES = 30
    assert fail("wangfang", 2) == [(False, [WRONG]), (False, ["Too many failed logins. Try again in 30 minutes."])]
    clock.advance(30 * 60)
    fail("wangfang", 1)
    clock.advance(5 * 60)  # that failure left the five-minute window
    assert fail("wangfang", 1) == [(False, [WRONG])]
    # The third failure from the address in five minutes, for three usernames: the address is locked.
    assert fail("lisi", 1) + fail("zhangsan", 1) == [
        (False, [WRONG]), (False, ["Too many failed logins. Try again in 30 minutes."])]


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
    client.post("/accounts/login/", {"username": "wangfang", "password": "right-password-1"})
    assert client.get("/api/flags/").status_code == 403


def test_behind_the_proxy_the_address_it_appended_is_counted(clock, settings, wangfang):
    settings.LOGIN_THROTTLE_BEHIND_PROXY = True
    for n in range(50):
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
    assert (first.locked_for("wangfang", "203.0.113.7"), second.locked_for("wangfang", "203.0.113.7")) == (0, 0)
    second.failure("wangfang", "203.0.113.7")
    assert (first.locked_for("wangfang", "203.0.113.7"), second.locked_for("wangfang", "203.0.113.7")) == (900, 900)
    assert first.locked_for("wangfang", "203.0.113.50") == 0
    # A new password lifts the lock for both.
    first.clear_username("wangfang")
    assert second.locked_for("wangfang", "203.0.113.7") == 0


# --- A completed password reset lifts the lock ---


def reset_password(user, new_password: str, django_capture_on_commit_callbacks) -> int:
    """The whole reset by e-mail, from an address of its own: the status of the last step."""
    user.email = "wangfang@example.com"
    user.save()
    client = Client(REMOTE_ADDR="192.0.2.77")
    client.post("/accounts/password_reset/", {"email": "wangfang@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link)["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})
    return response.status_code


def test_a_completed_password_reset_lifts_the_lock(clock, wangfang, django_capture_on_commit_callbacks):
    # Someone behind the owner's own address (an office's NAT) locked them out: a reset lets them in.
    fail("wangfang", 5)
    assert reset_password(wangfang, "huangpu-2019-li", django_capture_on_commit_callbacks) == 302
    assert attempt("wangfang", "huangpu-2019-li") == (True, [])
    # And the count starts afresh.
    assert fail("wangfang", 4) == [(False, [WRONG])] * 4


def test_an_unfinished_reset_lifts_nothing(clock, wangfang):
    fail("wangfang", 5)
    wangfang.email = "wangfang@example.com"
    wangfang.save()
    Client().post("/accounts/password_reset/", {"email": "wangfang@example.com"})
    assert len(mail.outbox) == 1
    assert attempt("wangfang", "right-password-1") == (False, [LOCKED])


def test_a_reset_does_not_lift_the_lock_of_an_address(clock, wangfang, django_capture_on_commit_callbacks):
    for n in range(50):
        fail(f"guess{n}", 1)
    assert reset_password(wangfang, "huangpu-2019-li", django_capture_on_commit_callbacks) == 302
    assert attempt("wangfang", "huangpu-2019-li") == (False, [LOCKED])
    assert attempt("wangfang", "huangpu-2019-li", ip="203.0.113.50") == (True, [])


# --- The password change page ---


def change_password(client: Client, old: str, new: str = "huangpu-2019-li"):
    """One try on the password change page: (changed?, the errors of the old password field)."""
    response = client.post("/accounts/password_change/", {
        "old_password": old, "new_password1": new, "new_password2": new,
    }, HTTP_ACCEPT_LANGUAGE="en")
    if response.status_code == 302:
        return True, []
    return False, response.context["form"].errors.get("old_password", [])


OLD_WRONG = "Your old password was entered incorrectly. Please enter it again."


def test_wrong_old_passwords_are_throttled_like_logins(clock, wangfang):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(wangfang)
    assert [change_password(client, "wrong-guess") for _ in range(5)] == [(False, [OLD_WRONG])] * 4 + [
        (False, [LOCKED])]
    # Locked even with the right old password, and the login page from that address too: one count.
    assert change_password(client, "right-password-1") == (False, [LOCKED])
    assert attempt("wangfang", "right-password-1") == (False, [LOCKED])
    # From another address the owner logs in.
    assert attempt("wangfang", "right-password-1", ip="203.0.113.50") == (True, [])
    clock.advance(15 * 60)
    assert change_password(client, "right-password-1") == (True, [])


def test_the_admins_password_change_page_is_throttled_too(clock):
    operator = make_user("operator", password="right-password-3", staff=True)
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(operator)

    def change(old: str):
        response = client.post("/admin/password_change/", {
            "old_password": old, "new_password1": "huangpu-2019-li", "new_password2": "huangpu-2019-li",
        }, HTTP_ACCEPT_LANGUAGE="en")
        return response.status_code, response.context["form"].errors.get("old_password") if response.context else None

    assert [change("wrong-guess") for _ in range(5)] == [(200, [OLD_WRONG])] * 4 + [(200, [LOCKED])]
    assert change("right-password-3") == (200, [LOCKED])
    clock.advance(15 * 60)
    assert change("right-password-3") == (302, None)
    operator.refresh_from_db()
    assert operator.check_password("huangpu-2019-li") is True


def test_failed_logins_lock_the_password_change_page(clock, wangfang):
    fail("wangfang", 5)
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(wangfang)
    assert change_password(client, "right-password-1") == (False, [LOCKED])
    wangfang.refresh_from_db()
    assert wangfang.check_password("right-password-1") is True


def test_the_right_old_password_clears_the_failures_of_that_address(clock, wangfang):
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(wangfang)
    [change_password(client, "wrong-guess") for _ in range(4)]
    # Refused by the new passwords, not by the old one: that counts as knowing the password.
    assert change_password(client, "right-password-1", new="123") == (False, [])
    assert fail("wangfang", 4) == [(False, [WRONG])] * 4


# --- The settings come from the environment ---

REPO = Path(__file__).resolve().parents[2]
NAMES = ["LOGIN_FAILURES_PER_USERNAME_AND_IP", "LOGIN_FAILURES_PER_IP", "LOGIN_FAILURE_WINDOW_MINUTES",
         "LOGIN_LOCK_MINUTES", "APPLICATIONS_PER_IP_PER_HOUR"]


def _settings_in_a_process(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {*NAMES, "LOGIN_FAILURES_PER_USERNAME"}}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    code = f"from django.conf import settings; print(*(getattr(settings, name) for name in {NAMES!r}))"
    return subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_numbers_are_read_from_the_environment():
    assert _settings_in_a_process().stdout.split() == ["5", "50", "15", "15", "5"]
    given = dict(zip(NAMES, ["3", "40", "10", "60", "2"], strict=True))
    assert _settings_in_a_process(**given).stdout.split() == ["3", "40", "10", "60", "2"]


@pytest.mark.slow
def test_the_old_per_username_setting_is_refused_with_its_replacement():
    result = _settings_in_a_process(LOGIN_FAILURES_PER_USERNAME="5")
    assert result.returncode != 0
    assert "LOGIN_FAILURES_PER_USERNAME is gone: logins are locked per username and address together" in result.stderr
