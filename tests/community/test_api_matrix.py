"""Every community API endpoint and method, for each of the seven roles: the exact status, and
for a write that is refused, nothing changed. ``ENDPOINTS`` names every (method, URL name)
this part of the API serves (the schema and its documentation page are public by design and
left out, as ``tests/test_api_matrix_complete.py`` expects)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import reverse

from community.models import Flag, FlagRule, Group, Member, MemberMerge
from tests.factories import ROLES, make_cast, make_member, make_membership

pytestmark = pytest.mark.django_db

ADMINS = {"admin", "staff"}
MEMBERS = {"member", "speaker", "admin", "staff"}
LOGGED_IN = set(ROLES) - {"anonymous"}


@dataclass
class Case:
    url: Callable  # the cast → the URL
    allowed: set[str]
    status: int = 200
    # Refused, but logged in: 403, or 404 where the resource's existence must not leak.
    refused: int = 403
    body: Callable | None = None  # the cast → the JSON body of a write
    state: Callable = field(default=lambda cast: None)  # what a write changes


def flag_state(cast):
    return Flag.objects.get(pk=cast.flag.pk).status


def merge_state(cast):
    return Member.objects.filter(pk=cast.dup.member_id).exists(), MemberMerge.objects.count()


CASES = {
    ("GET", "api:group-list"): Case(lambda cast: reverse("api:group-list"), LOGGED_IN),
    ("GET", "api:group-detail"): Case(lambda cast: reverse("api:group-detail", args=["prodarch"]), LOGGED_IN),
    ("PATCH", "api:group-detail"): Case(
        lambda cast: reverse("api:group-detail", args=["prodarch"]), ADMINS,
        body=lambda cast: {"silence_days": 90, "reason": "矩阵"},
        state=lambda cast: Group.objects.get(pk=cast.group.pk).silence_days,
    ),
    ("GET", "api:member-list"): Case(lambda cast: reverse("api:member-list") + "?group=prodarch", MEMBERS),
    ("GET", "api:member-detail"): Case(
        lambda cast: reverse("api:member-detail", args=[cast.speaker.member.pk]), MEMBERS, refused=404),
    ("POST", "api:member-merge"): Case(
        lambda cast: reverse("api:member-merge", args=["prodarch"]), ADMINS, status=201,
        body=lambda cast: {"into": cast.keep.member_id, "other": cast.dup.member_id, "reason": "同一个人"},
        state=merge_state,
    ),
    ("GET", "api:membership-list"): Case(lambda cast: reverse("api:membership-list") + "?group=prodarch", ADMINS),
    ("GET", "api:message-list"): Case(lambda cast: reverse("api:message-list") + "?group=prodarch", MEMBERS),
    ("GET", "api:flag-list"): Case(lambda cast: reverse("api:flag-list") + "?group=prodarch", ADMINS),
    ("POST", "api:flag-decide"): Case(
        lambda cast: reverse("api:flag-decide", args=[cast.flag.pk]), ADMINS, refused=404,
        body=lambda cast: {"decision": "dismiss", "reason": "矩阵"}, state=flag_state,
    ),
}

ENDPOINTS = list(CASES)


@pytest.fixture
def cast():
    cast = make_cast()
    cast.keep = make_membership(cast.group, make_member("刘一"), nickname="刘一-快钱-产品")
    cast.dup = make_membership(cast.group, make_member("刘一 (2)"), nickname="刘一")
    silent = make_membership(cast.group, nickname="钱八")
    cast.flag = Flag.objects.create(group=cast.group, membership=silent, rule=FlagRule.SILENT,
                                    evidence_key="2018-04-01", as_of=dt.date(2018, 6, 30))
    return cast


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_api_permission_matrix(cast, method, name, role):
    case = CASES[(method, name)]
    client = Client()
    if role != "anonymous":
        client.force_login(getattr(cast, role).user)
    before = case.state(cast)

    body = {"data": json.dumps(case.body(cast)), "content_type": "application/json"} if case.body else {}
    response = client.generic(method, case.url(cast), **body)

    expected = case.status if role in case.allowed else 403 if role == "anonymous" else case.refused
    assert response.status_code == expected
    if case.body is not None and role not in case.allowed:
        assert case.state(cast) == before
    elif case.body is not None:
        assert case.state(cast) != before
