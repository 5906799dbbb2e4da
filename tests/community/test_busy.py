"""A database busy past its timeout answers 503 with Retry-After (a page, or JSON for the API), never 500.

The database is held for real by a second connection: on SQLite one holding the database's write
lock, which a request's write waits for until the connection's busy timeout; on PostgreSQL one
holding a table lock, which the request waits for until its ``lock_timeout``."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import time

import pytest
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from rest_framework.authtoken.models import Token

from community.busy import is_database_busy
from tests.factories import make_group, make_person, make_user


def touch_session(request):
    request.session["seen"] = True  # saved by the session middleware, after the view
    return HttpResponse("ok")


# This module is also the URLconf of the test that needs a view of its own.
urlpatterns = [path("touch-session/", touch_session), path("", include("config.urls"))]


@contextlib.contextmanager
def database_held(table: str):
    """Another connection holds ``table`` (written, not committed) until the block ends."""
    if connection.vendor == "sqlite":
        other = sqlite3.connect(connection.settings_dict["NAME"], uri=True, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute(f'DELETE FROM "{table}" WHERE 0')  # takes the table's write lock
        other.execute(f'INSERT INTO "{table}" SELECT * FROM "{table}" WHERE 0')
    else:
        import psycopg

        other = psycopg.connect(**connection.get_connection_params())
        other.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
    try:
        yield
    finally:
        other.rollback()
        other.close()


@pytest.fixture
def short_wait(settings):
    settings.DATABASE_BUSY_TIMEOUT = 1  # PostgreSQL's lock_timeout for web requests (SQLite's is the connection's)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "title", "text"), [
    ("en", "The site is busy", "Try again in a few seconds."),
    ("zh-hans", "网站正忙", "请过几秒再试。"),
])
def test_a_login_the_database_is_too_busy_for_answers_503_with_a_page_in_the_visitors_language(
        short_wait, language, title, text):
    make_user("zhou")
    started = time.monotonic()
    with database_held("auth_user"):
        response = Client().post("/accounts/login/", {"username": "zhou", "password": "pw-for-tests-1"},
                                 HTTP_ACCEPT_LANGUAGE=language)
    waited = time.monotonic() - started
    html = response.content.decode()
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert f"<h1>{title}</h1>" in html and text in html
    assert 'class="site-header"' in html  # the site's layout
    if connection.vendor == "postgresql":
        assert waited >= 1  # it waited for the lock, for the busy timeout (then gave up: the 503 above)


@pytest.mark.django_db(transaction=True)
def test_an_api_write_the_database_is_too_busy_for_answers_503_in_json(short_wait):
    member = make_person(make_group(slug="prodarch"), "李东衡-关天数据-产品-上海")
    token = Token.objects.create(user=member.user)
    day = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    # A valid registration, so that the request reaches its write (reads are not held on SQLite).
    with database_held("shares_share"):
        response = Client(HTTP_AUTHORIZATION=f"Token {token.key}").post(
            "/api/shares/", {"group": "prodarch", "topic": "风控", "preferred_days": [day]},
            content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Retry-After"], response.json()) == (503, "5", {
        "detail": "The site is busy with a long task (an import, for example) and could not complete your request. "
                  "Try again in a few seconds."})


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("tests.community.test_busy")
def test_a_session_the_database_is_too_busy_to_save_after_the_view_answers_503(short_wait):
    with database_held("django_session"):
        # (Not re-raised into the test, as Django's test client does with exceptions it hears of.)
        response = Client(raise_request_exception=False).get("/touch-session/", HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert "<h1>The site is busy</h1>" in response.content.decode()


@pytest.mark.django_db
def test_other_database_errors_are_not_taken_for_a_busy_database():
    with pytest.raises(DatabaseError) as caught:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
    assert is_database_busy(caught.value) is False
    assert is_database_busy(OperationalError("disk I/O error")) is False
    assert is_database_busy(ValueError("database is locked")) is False


@pytest.mark.django_db
def test_an_unreachable_database_lets_healthz_answer_503_not_500(client, monkeypatch, settings, tmp_path):
    settings.BROKER = type(settings.BROKER)(celery="", redis=f"unix://{tmp_path / 'none.sock'}")

    def unreachable():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", unreachable)
    response = client.get("/healthz")
    assert (response.status_code, response.json()["checks"]["database"]) == (
        503, "error: OperationalError: connection refused")
