"""The API against its own OpenAPI schema.

The schema is valid and complete (drf-spectacular's validation, no warning), and schemathesis,
reading ``/api/schema/``, generates requests for every operation — valid and invalid
parameters and bodies — sent as staff, as a group admin, as a member and anonymously: no
request gets a server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import GenerationMode

from community.flags import group_flags_evaluate
from shares.models import ShareStatus
from tests.factories import at, make_cast, make_message, make_share, make_sign_in

EXAMPLES_PER_OPERATION = 10


def test_schema_is_valid_and_every_view_is_described(tmp_path):
    # --fail-on-warn: a view without a serializer, an unknown field type or an unresolvable
    # path parameter is a warning, and fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    text = (tmp_path / "schema.yaml").read_text()
    for path in ["/api/shares/", "/api/members/", "/api/flags/{id}/decide/"]:
        assert f"  {path}:" in text


@pytest.fixture
def world(db, monkeypatch):
    # Schemathesis calls the WSGI application itself, not through Django's test client, which
    # keeps a request's end from closing the database connection: inside the test's transaction,
    # Django would close it (not in autocommit) and the next request would find it closed.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield _world(monkeypatch)
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _world(monkeypatch):
    # The fuzzer sends hundreds of requests a minute: the limits would answer most of them 429.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000000/minute", "user": "1000000/minute"})
    cast = make_cast()
    talk = make_share(cast.group, cast.speaker.member, topic="清算", start=at("2018-05-20"))
    make_message(cast.group, cast.speaker.member, at("2018-05-20", "19:31"), "大家好")
    make_sign_in(talk, cast.member.member)
    make_share(cast.group, cast.member.member, topic="将来的分享", status=ShareStatus.PROPOSED, start=None)
    group_flags_evaluate(group=cast.group)
    return cast


def _operations():
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    return operations


def _headers(world, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    token, _ = Token.objects.get_or_create(user=getattr(world, role).user)
    return {"Authorization": f"Token {token.key}"}


@pytest.mark.parametrize("role", ["staff", "admin", "member", "anonymous"])
def test_no_request_gets_a_server_error(world, role):
    """Every operation, with data that fits the schema and data that does not (schemathesis'
    positive and negative modes), as each role: never a 5xx. (The test client of the WSGI app
    re-raises an unhandled exception, which fails the test the same way.)"""
    headers = _headers(world, role)
    for operation in _operations():
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases)
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def call(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} as {role}: {response.status_code}\n{response.text[:2000]}")

        call()
