"""A busy database answers 503, never 500.

A request waits for a busy database up to ``DATABASE_BUSY_TIMEOUT`` seconds: on SQLite the
connection's busy timeout (settings), on PostgreSQL ``lock_timeout`` (and
``statement_timeout``, ``DATABASE_STATEMENT_TIMEOUT``), which ``DatabaseBusyMiddleware`` sets
on the web's connections only, so that workers and commands keep waiting for each other as
before. When the wait runs out, the database's error ("database is locked", a lock or
statement timeout, a deadlock) becomes a 503 with ``Retry-After``: a page in the site's layout
and the visitor's language that says to try again, or JSON for the API (the API's exception
handler, ``community.api.exceptions``, answers the same for its views).
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import got_request_exception
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# PostgreSQL's errors of a busy database: lock_not_available (lock_timeout), query_canceled
# (statement_timeout), deadlock_detected, serialization_failure, too_many_connections.
BUSY_SQLSTATES = {"55P03", "57014", "40P01", "40001", "53300"}
# SQLite's: the busy timeout ran out ("database is locked"), or a table is locked by another
# connection of a shared cache ("database table is locked").
BUSY_MESSAGES = ("database is locked", "database table is locked")


def is_database_busy(error: BaseException | None) -> bool:
    """The database gave up waiting: the error of a busy database, not of a bug."""
    if not isinstance(error, OperationalError):
        return False
    if getattr(error.__cause__, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return any(text in str(error) for text in BUSY_MESSAGES)


def busy_message() -> str:
    return gettext("The site is busy with a long task (an import, for example) and could not complete your "
                   "request. Try again in a few seconds.")


def busy_response(request) -> HttpResponse:
    """The 503 of a busy database, in the visitor's language: JSON under ``/api/``, else a page."""
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language_from_request(request)
    with translation.override(language):
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": busy_message()}, status=503)
        else:
            response = HttpResponse(_busy_page(request), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _busy_page(request) -> str:
    context = {"retry_after": RETRY_AFTER_SECONDS, "message": busy_message()}
    try:
        return render_to_string("503.html", context, request=request)
    except DatabaseError:
        # Drawing the layout reads the visitor's session and login: when even that fails, the
        # page is drawn for an anonymous visitor, from nothing the database holds.
        return render_to_string("503.html", {**context, "user": AnonymousUser(), "messages": []})


def web_timeouts_set() -> None:
    """On PostgreSQL, bound the web request's waits: ``lock_timeout`` and ``statement_timeout``
    on its connection, set through the driver once per connection (and again inside a
    transaction, which may roll the setting back: in tests)."""
    if connection.vendor != "postgresql":
        return
    connection.ensure_connection()
    raw = connection.connection
    timeouts = (settings.DATABASE_BUSY_TIMEOUT * 1000, settings.DATABASE_STATEMENT_TIMEOUT * 1000)
    done = getattr(connection, "web_timeouts", None)
    if done and done[0] is raw and done[1] == timeouts and not connection.in_atomic_block:
        return
    with raw.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                       [str(timeouts[0]), str(timeouts[1])])
    connection.web_timeouts = (raw, timeouts)


def _mark_busy(sender, request=None, **kwargs) -> None:
    # Django's handler turned an exception raised outside the view (a session saved by its
    # middleware) into a 500: note on the request that it was the database being busy.
    if request is not None and is_database_busy(sys.exc_info()[1]):
        request.database_busy = True


class DatabaseBusyMiddleware:
    """A request the database is too busy for answers 503 (``busy_response``), wherever the
    error arose below this middleware: in the view (``process_exception``) or in a middleware
    after it (marked by ``got_request_exception``, its 500 replaced)."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_busy, dispatch_uid="community.busy.mark_busy")

    def __call__(self, request):
        try:
            web_timeouts_set()
        except DatabaseError:
            pass  # the database is unreachable: the view says so (/healthz answers 503)
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "database_busy", False):
            logger.warning("%s %s: the database is busy, answered 503", request.method, request.path)
            return busy_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_busy(exception):
            return None
        logger.warning("%s %s: the database is busy (%s), answered 503", request.method, request.path, exception)
        return busy_response(request)
