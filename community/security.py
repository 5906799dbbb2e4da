"""Security hardening: the Content Security Policy on every response, refusals of requests too
large or with null characters, and the throttling of logins and of the public application form.

Login throttling lives in the authentication path (``ThrottledModelBackend``), so that every
form that checks a password — the site's login page, the Django admin's, the session the API
accepts — is covered by the same counts; the password change form counts a wrong old password
as a failed login. Counts are kept in the default cache: Redis when ``REDIS_URL`` is set (or
the embedded one under ``make run``), hence shared by every web process.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.core.cache import cache as default_cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import post_save
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.debug import sensitive_variables

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


# --- Counting in the shared cache ---


# An event is counted in the bucket of its minute: increments are atomic (Redis INCR), and the
# window slides minute by minute.
BUCKET_SECONDS = 60


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SlidingCount:
    """Events per key within the last ``window`` seconds, counted in minute buckets of the cache.

    ``clock`` returns the current time in seconds; the cache's expiry only cleans up."""

    def __init__(self, *, cache, clock: Callable[[], float], window: int):
        self.cache, self.clock, self.window = cache, clock, window
        self.minutes = math.ceil(window / BUCKET_SECONDS)

    def _minutes(self, now: float) -> range:
        current = int(now // BUCKET_SECONDS)
        return range(current - self.minutes + 1, current + 1)

    def _buckets(self, key: str, now: float) -> list[str]:
        return [f"{key}:{minute}" for minute in self._minutes(now)]

    def add(self, key: str) -> tuple[str, int]:
        """Count one event: (its bucket, the events in the window now, this one included)."""
        now = self.clock()
        bucket = f"{key}:{int(now // BUCKET_SECONDS)}"
        # add() then incr(): atomic in Redis and in the local cache, so that concurrent events
        # from several processes are all counted.
        self.cache.add(bucket, 0, timeout=self.window + BUCKET_SECONDS)
        try:
            self.cache.incr(bucket)
        except ValueError:  # Expired between add() and incr().
            self.cache.set(bucket, 1, timeout=self.window + BUCKET_SECONDS)
        return bucket, self.total(key, now=now)

    def remove(self, bucket: str) -> None:
        """Take back an event counted by ``add()`` (gone already if its bucket expired)."""
        try:
            self.cache.decr(bucket)
        except ValueError:
            pass

    def total(self, key: str, *, now: float | None = None) -> int:
        now = self.clock() if now is None else now
        return sum(self.cache.get_many(self._buckets(key, now)).values())

    def seconds_until_below(self, key: str, limit: int) -> int:
        """Seconds until fewer than ``limit`` events are left in the window (0: already)."""
        now = self.clock()
        counts = self.cache.get_many(self._buckets(key, now))
        left = sum(counts.values())
        if left < limit:
            return 0
        for minute in self._minutes(now):  # the oldest bucket first
            left -= counts.get(f"{key}:{minute}", 0)
            if left < limit:
                # That bucket leaves the window when the minute after the window's span begins.
                return max(1, math.ceil((minute + self.minutes) * BUCKET_SECONDS - now))
        return 0

    def clear(self, key: str) -> None:
        self.cache.delete_many(self._buckets(key, self.clock()))


# --- Login throttling ---


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failed logins per key within ``window`` seconds, else locked ``lock`` seconds."""

    scope: str
    failures: int
    window: int
    lock: int


class LoginThrottle:
    """Counts failed logins by username and address together, and by address (any username).

    Locking a username alone would let anyone lock its owner out; a pair locks only the guesser's
    address for that username (and an address that guesses many usernames is locked for all).
    A completed password reset, or any other change of the password, starts the username's
    pairs afresh (``clear_username``): the key of a pair holds the username's generation, which
    that change replaces.

    ``clock`` returns the current time in seconds (``time.time`` by default; tests inject one).
    Lock expiry is decided by the clock, not by the cache's expiry, which only cleans up.
    Usernames and addresses are hashed into the keys, and unknown usernames are counted like
    known ones: the lock says nothing about whether an account exists."""

    def __init__(self, *, cache=None, clock: Callable[[], float] | None = None):
        self.cache = cache or default_cache
        self.clock = clock or time.time
        window, lock = settings.LOGIN_FAILURE_WINDOW_MINUTES * 60, settings.LOGIN_LOCK_MINUTES * 60
        self.limits = {
            "pair": Limit("pair", settings.LOGIN_FAILURES_PER_USERNAME_AND_IP, window, lock),
            "ip": Limit("ip", settings.LOGIN_FAILURES_PER_IP, window, lock),
        }
        self.counts = SlidingCount(cache=self.cache, clock=self.clock, window=window)

    @staticmethod
    def _username(username: str) -> str:
        return username.strip().casefold()

    def _generation_key(self, username: str) -> str:
        return f"login-throttle:generation:{_digest(self._username(username))}"

    def _subjects(self, username: str, ip: str) -> list[tuple[Limit, str]]:
        generation = self.cache.get(self._generation_key(username), "0")
        subjects = [(self.limits["pair"], f"login-throttle:pair:{_digest(generation, self._username(username), ip)}")]
        if ip:
            subjects.append((self.limits["ip"], f"login-throttle:ip:{_digest(ip)}"))
        return subjects

    def locked_for(self, username: str, ip: str) -> int:
        """Seconds left before a login for ``username`` from ``ip`` may be tried again (0: allowed)."""
        now = self.clock()
        keys = [f"{key}:lock" for _limit, key in self._subjects(username, ip)]
        until = max((value for value in self.cache.get_many(keys).values()), default=0)
        return max(0, math.ceil(until - now))

    def failure(self, username: str, ip: str) -> None:
        """Count a failed login; lock the pair or the address once it reached its limit."""
        for limit, key in self._subjects(username, ip):
            _bucket, failures = self.counts.add(key)
            if failures >= limit.failures:
                self.cache.set(f"{key}:lock", self.clock() + limit.lock, timeout=limit.lock)

    def success(self, username: str, ip: str) -> None:
        """A successful login clears the failures of that username from that address (not the
        address's own count)."""
        _limit, key = self._subjects(username, ip)[0]
        self.counts.clear(key)
        self.cache.delete(f"{key}:lock")

    def clear_username(self, username: str) -> None:
        """Forget every failure and lock of ``username``, from every address (the addresses' own
        counts stay). The generation is kept without expiry: it must outlive the pairs it voids."""
        self.cache.set(self._generation_key(username), secrets.token_hex(8), timeout=None)


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
    """Django's username/password backend, refusing attempts while the username at the
    request's address, or the address itself, is locked; counting failures, and clearing the
    username's failures from that address on success.

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
            throttle.success(username, ip)
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


# --- Password change ---


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """Django's password change form, where a wrong old password counts as a failed login of the
    user from the request's address: the same limits, the same lock and the same message. (A
    stolen session must not become a way to guess the password it does not know.)"""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    @sensitive_variables("old_password")
    def clean_old_password(self):
        throttle, username, ip = login_throttle(), self.user.get_username(), client_ip(self.request)
        seconds = throttle.locked_for(username, ip)
        if seconds:
            raise forms.ValidationError(locked_message(seconds), code="login_locked")
        old_password = self.cleaned_data["old_password"]
        if not self.user.check_password(old_password):
            throttle.failure(username, ip)
            seconds = throttle.locked_for(username, ip)
            if seconds:
                raise forms.ValidationError(locked_message(seconds), code="login_locked")
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        throttle.success(username, ip)
        return old_password


class ThrottledPasswordChangeView(PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


# --- A new password ---


def user_password_changed(*, user) -> None:
    """What a new password voids, however it was set (the password change page, a completed
    reset, an operator in the admin or ``changepassword``): the user's API token is revoked, and
    the login locks of their username are lifted at every address (a reset lets the owner in)."""
    from community.api.tokens import api_token_revoke_for_password_change

    api_token_revoke_for_password_change(user=user)
    username = user.get_username()
    transaction.on_commit(lambda: login_throttle().clear_username(username))


def _user_saved(sender, instance, created, raw=False, **kwargs):
    # set_password() keeps the raw password in ``_password`` until save() has told the password
    # validators that it changed (password_validation.password_changed); a hash that Django
    # upgrades at login is saved without it, and is no new password.
    if raw or created or getattr(instance, "_password", None) is None:
        return
    user_password_changed(user=instance)


def connect_password_change_handler() -> None:
    """Called by ``CommunityConfig.ready()``."""
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="community.security.user_saved")


# --- The public application form ---


APPLICATION_WINDOW = 60 * 60


class ApplicationThrottle:
    """At most ``APPLICATIONS_PER_IP_PER_HOUR`` applications from one address within an hour
    (sliding), counted in the default cache like failed logins."""

    def __init__(self, *, cache=None, clock: Callable[[], float] | None = None):
        self.limit = settings.APPLICATIONS_PER_IP_PER_HOUR
        self.counts = SlidingCount(cache=cache or default_cache, clock=clock or time.time, window=APPLICATION_WINDOW)

    @staticmethod
    def _key(ip: str) -> str:
        return f"application-throttle:{_digest(ip)}"

    def reserve(self, ip: str) -> str | None:
        """Count one application from ``ip`` before it is saved (so that concurrent ones are all
        counted): a receipt to ``release()`` if it is not saved after all, or None when the limit
        is reached (nothing counted)."""
        bucket, total = self.counts.add(self._key(ip))
        if total > self.limit:
            self.counts.remove(bucket)
            return None
        return bucket

    def release(self, receipt: str) -> None:
        self.counts.remove(receipt)

    def wait(self, ip: str) -> int:
        """Seconds before ``ip`` may apply again (0: now)."""
        return self.counts.seconds_until_below(self._key(ip), self.limit)


def application_throttle() -> ApplicationThrottle:
    return ApplicationThrottle()


def too_many_applications_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many applications from your address. Try again in %(minutes)d minute.",
        "Too many applications from your address. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


# --- Request size ---


class RequestSizeLimitMiddleware:
    """Refuses a request whose body, as its ``Content-Length`` declares it, is larger than
    ``REQUEST_BODY_MAX_BYTES`` (the largest upload allowed, plus room for the form's other
    fields) with a 413 that says so, before anything reads the body. A body sent without a
    length is not read at all by Django's WSGI handler; a proxy in front should refuse large
    bodies too, before they reach a web process."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then.
        if length <= limit:
            return self.get_response(request)
        with translation.override(translation.get_language_from_request(request)):
            message = gettext("This request is %(size)s: the largest accepted is %(limit)s.") % {
                "size": filesizeformat(length), "limit": filesizeformat(limit)}
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
