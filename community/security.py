"""Security hardening: the Content Security Policy on every response, and login throttling.

Login throttling lives in the authentication path (``ThrottledModelBackend``), so that every
form that checks a password — the site's login page, the Django admin's, the session the API
accepts — is covered by the same counts. Counts are kept in the default cache: Redis when
``REDIS_URL`` is set, hence shared by every web process.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache as default_cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import ngettext

# --- Content Security Policy ---


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every response that has none: a view that
    sets a stricter policy of its own (the stored images: ``default-src 'none'``) keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


# --- Null characters ---


# Django parses these into ``request.POST`` (the CSRF check reads it too); JSON bodies are the
# API's serializers' to check.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NullCharacterMiddleware:
    """Refuses a request whose query string or form fields hold a NUL character (``%00``) with
    a 400 that says so. No field of this app may hold one, and PostgreSQL refuses them in text:
    without this check any lookup by such a value would end in a server error."""

    message = "Null characters are not allowed in the request's parameters."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_null(request.GET) or (
            request.method == "POST" and request.content_type in FORM_TYPES and self._has_null(request.POST)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": self.message}, status=400)
            return HttpResponseBadRequest(self.message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_null(data) -> bool:
        return any("\x00" in key or any("\x00" in value for value in values) for key, values in data.lists())


# --- Login throttling ---


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed logins per key within ``window`` seconds, else locked ``lock`` seconds."""

    scope: str
    failures: int
    window: int
    lock: int


# A failure is counted in the bucket of its minute: increments are atomic (Redis INCR), and the
# window slides minute by minute.
BUCKET_SECONDS = 60


class LoginThrottle:
    """Counts failed logins by username (any address) and by address (any username).

    ``clock`` returns the current time in seconds (``time.time`` by default; tests inject one).
    Lock expiry is decided by the clock, not by the cache's expiry, which only cleans up.
    The username is hashed into the key, and unknown usernames are counted like known ones:
    the lock says nothing about whether an account exists."""

    def __init__(self, *, cache=None, clock: Callable[[], float] | None = None):
        self.cache = cache or default_cache
        self.clock = clock or time.time
        self.limits = {
            "username": Limit("username", settings.LOGIN_FAILURES_PER_USERNAME, settings.LOGIN_FAILURE_WINDOW,
                              settings.LOGIN_LOCK_SECONDS),
            "ip": Limit("ip", settings.LOGIN_FAILURES_PER_IP, settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_LOCK_SECONDS),
        }

    @staticmethod
    def _key(scope: str, value: str) -> str:
        digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"login-throttle:{scope}:{digest}"

    def _subjects(self, username: str, ip: str) -> list[tuple[Limit, str]]:
        subjects = [(self.limits["username"], self._key("username", username.strip().casefold()))]
        if ip:
            subjects.append((self.limits["ip"], self._key("ip", ip)))
        return subjects

    def _buckets(self, key: str, window: int, now: float) -> list[str]:
        current = int(now // BUCKET_SECONDS)
        return [f"{key}:{minute}" for minute in range(current - math.ceil(window / BUCKET_SECONDS) + 1, current + 1)]

    def locked_for(self, username: str, ip: str) -> int:
        """Seconds left before a login for ``username`` from ``ip`` may be tried again (0: allowed)."""
        now = self.clock()
        keys = [f"{key}:lock" for _limit, key in self._subjects(username, ip)]
        until = max((value for value in self.cache.get_many(keys).values()), default=0)
        return max(0, math.ceil(until - now))

    def failure(self, username: str, ip: str) -> None:
        """Count a failed login; lock the username or the address once it reached its limit."""
        now = self.clock()
        for limit, key in self._subjects(username, ip):
            bucket = f"{key}:{int(now // BUCKET_SECONDS)}"
            # add() then incr(): atomic in Redis and in the local cache, so that concurrent
            # guesses from several processes are all counted.
            self.cache.add(bucket, 0, timeout=limit.window + BUCKET_SECONDS)
            try:
                self.cache.incr(bucket)
            except ValueError:  # Expired between add() and incr().
                self.cache.set(bucket, 1, timeout=limit.window + BUCKET_SECONDS)
            failures = sum(self.cache.get_many(self._buckets(key, limit.window, now)).values())
            if failures >= limit.failures:
                self.cache.set(f"{key}:lock", now + limit.lock, timeout=limit.lock)

    def success(self, username: str) -> None:
        """A successful login clears that username's failures (not its address's)."""
        limit = self.limits["username"]
        key = self._key("username", username.strip().casefold())
        self.cache.delete_many([*self._buckets(key, limit.window, self.clock()), f"{key}:lock"])


def client_ip(request) -> str:
    """The client's address: behind our TLS proxy, the last ``X-Forwarded-For`` entry (the one
    the proxy appended: earlier entries come from the client and prove nothing)."""
    if request is None:
        return ""
    if settings.LOGIN_THROTTLE_BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def login_throttle() -> LoginThrottle:
    return LoginThrottle()


class ThrottledModelBackend(ModelBackend):
    """Django's username/password backend, refusing attempts while the username or the address
    is locked, counting failures and clearing a username's failures on success.

    A refused attempt raises ``PermissionDenied`` (Django then tries no other backend) and
    leaves ``request.login_locked_for`` (seconds) for the login forms' message."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if username is None or password is None:
            return None
        throttle, ip = login_throttle(), client_ip(request)
        seconds = throttle.locked_for(username, ip)
        if seconds:
            if request is not None:
                request.login_locked_for = seconds
            raise PermissionDenied("login locked")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.failure(username, ip)
            # This failure may have been the one that locked: say so right away.
            seconds = throttle.locked_for(username, ip)
            if seconds and request is not None:
                request.login_locked_for = seconds
        else:
            throttle.success(username)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def locked_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed logins. Try again in %(minutes)d minute.",
        "Too many failed logins. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledLoginFormMixin:
    """The login forms' error when the attempt was refused: the lock and how long it lasts,
    whatever the username (the same message for an unknown one)."""

    def get_invalid_login_error(self):
        seconds = getattr(self.request, "login_locked_for", 0)
        if seconds:
            return forms.ValidationError(locked_message(seconds), code="login_locked")
        return super().get_invalid_login_error()


class ThrottledAuthenticationForm(ThrottledLoginFormMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginFormMixin, AdminAuthenticationForm):
    pass


class ThrottledLoginView(LoginView):
    authentication_form = ThrottledAuthenticationForm
