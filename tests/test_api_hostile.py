"""Every API operation with hostile values, parameter by parameter: never a server error.

Schemathesis (``tests/test_api_schema.py``) sends random requests that fit the schema or not;
ten examples per operation rarely reach the values that broke pages before (a member id over
2^63, a day in year 1 or 9999). Here the operations and their parameters are read from the
same schema, and each path parameter, each query parameter and each body field is given each
hostile value in turn while the others stay valid (a real group, a real share), so that the
value reaches the filter, the service and the database. As staff and as a member of the group.
"""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from community.flags import group_flags_evaluate
from community.models import Flag
from importer.models import ImportRun
from shares.models import ShareStatus
from tests.factories import at, make_cast, make_message, make_share, make_sign_in

pytestmark = pytest.mark.django_db

HOSTILE = [
    "-1", "0", "99999999999999999999", "9223372036854775808", "-9223372036854775809", "1e309", "NaN",
    "0001-01-01", "9999-12-31", "10000-01-01", "2018-02-30", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00",
    "x" * 5000,
]
HOSTILE_BODY = [*HOSTILE, -1, 99999999999999999999, 2**63, ["0001-01-01"], ["9999-12-31"], None]

_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict) -> dict:
    if "$ref" in schema:
        return _SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in _SCHEMA["paths"].items()
    for method, operation in operations.items()
    if path not in ("/api/schema/", "/api/docs/")
]


@pytest.fixture
def world(monkeypatch):
    # Hundreds of requests a test: the limits would answer them 429 before they reach anything.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000000/minute", "user": "1000000/minute"})
    cast = make_cast()
    talk = make_share(cast.group, cast.speaker.member, topic="清算", start=at("2018-05-20"))
    make_message(cast.group, cast.speaker.member, at("2018-05-20", "19:31"), "大家好")
    make_sign_in(talk, cast.member.member)
    proposed = make_share(cast.group, cast.member.member, topic="将来的分享", status=ShareStatus.PROPOSED, start=None)
    group_flags_evaluate(group=cast.group)
    run = ImportRun.objects.create(group=cast.group)
    flag = Flag.objects.filter(group=cast.group).first()
    cast.path_values = {
        "slug": cast.group.slug, "id": str(proposed.pk),
    }
    cast.ids = {"/api/import-runs/{id}/": run.pk, "/api/flags/{id}/decide/": flag.pk if flag else 1,
                "/api/members/{id}/": cast.speaker.member.pk}
    cast.bodies = {
        "/api/flags/{id}/decide/": {"decision": "exempt", "until": "2030-01-01", "reason": "休假"},
        "/api/groups/{slug}/": {"reason": "调整"},
        "/api/groups/{slug}/members/merge/": {"into": cast.speaker.member.pk, "other": cast.member.member.pk,
                                              "reason": "同一人"},
        "/api/shares/": {"group": cast.group.slug, "topic": "新的分享", "preferred_days": ["2030-01-01"]},
        "/api/shares/{id}/": {"version": 1},
        "/api/shares/{id}/cancel/": {"reason": "有事"},
        # At midnight: a day in year 1 at 00:00 in Shanghai is before year 1 in UTC.
        "/api/shares/{id}/schedule/": {"date": "2030-01-01", "time": "00:00"},
    }
    return cast


def _client(world, role: str) -> APIClient:
    client = APIClient(raise_request_exception=True)
    client.force_authenticate((world.staff if role == "staff" else world.member).user)
    return client


def _path(world, path: str, **hostile) -> str:
    values = {**world.path_values, "id": str(world.ids.get(path, world.path_values["id"])), **hostile}
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _requests(world, method: str, path: str, operation: dict):
    """(path, query, body) of each request: one hostile value in one place, the rest valid."""
    parameters = operation.get("parameters", [])
    query = {"group": world.group.slug} if any(p["name"] == "group" and p["in"] == "query" for p in parameters) else {}
    body = world.bodies.get(path, {})
    for parameter in parameters:
        for value in HOSTILE:
            if parameter["in"] == "path":
                yield _path(world, path, **{parameter["name"]: value}), query, body
            elif parameter["name"] != "group":
                yield _path(world, path), {**query, parameter["name"]: value}, body
    content = operation.get("requestBody", {}).get("content", {})
    properties = _resolve(content.get("application/json", {}).get("schema", {})).get("properties", {})
    for name in properties:
        for value in HOSTILE_BODY:
            yield _path(world, path), query, {**body, name: value}


def test_every_operation_of_the_schema_is_fuzzed():
    assert {(method, path) for method, path, _ in OPERATIONS} >= {
        ("GET", "/api/messages/"), ("GET", "/api/shares/"), ("POST", "/api/shares/{id}/schedule/"),
        ("GET", "/api/sign-ins/"), ("GET", "/api/members/{id}/"), ("POST", "/api/flags/{id}/decide/"),
    }


@pytest.mark.parametrize("role", ["staff", "member"])
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_no_operation_answers_a_server_error_to_hostile_values(world, role, method, path, operation):
    client = _client(world, role)
    failures = []
    for where, query, body in _requests(world, method, path, operation):
        url = where + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query and method != "GET" else "")
        try:
            if method == "GET":
                response = client.get(where, query)
            else:
                response = client.generic(method, url, data=_json(body), content_type="application/json")
        except Exception as error:  # noqa: BLE001 - every unhandled error is a finding, reported together
            failures.append(f"{method} {where[:100]} {_shown(query, body)}: {type(error).__name__}: {error}"[:400])
            continue
        if response.status_code >= 500:
            failures.append(f"{method} {where[:100]} {_shown(query, body)}: {response.status_code}")
    assert failures == []


def _json(body: dict) -> str:
    return json.dumps(body)


def _shown(query: dict, body: dict) -> str:
    return f"query={ {k: str(v)[:30] for k, v in query.items()} } body={ {k: str(v)[:30] for k, v in body.items()} }"
