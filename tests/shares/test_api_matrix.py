"""Every endpoint and method of the shares, sign-ins and import-runs API over the seven roles:
the exact status, and for a write that is refused, that nothing changed."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Visibility
from importer.models import ImportRun
from shares.models import Share, ShareRevision, ShareStatus, SignIn
from tests.factories import ROLES, at, client_for, make_cast, make_share, make_sign_in

pytestmark = pytest.mark.django_db


def statuses(anonymous, member, outsider, speaker, admin, other_admin, staff) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, member, outsider, speaker, admin, other_admin, staff), strict=True))


# (method, URL name) → the status each role gets. The share the detail and the writes are about is
# the group's members-only scheduled share, whose sign-in is open; the import run is the group's.
EXPECTED = {
    ("GET", "api:share-list"): statuses(200, 200, 200, 200, 200, 200, 200),
    # Registering for the speaker: the speaker themselves, or an admin on their behalf.
    ("POST", "api:share-list"): statuses(403, 403, 403, 201, 201, 403, 201),
    ("GET", "api:share-detail"): statuses(404, 200, 404, 200, 200, 404, 200),
    ("PATCH", "api:share-detail"): statuses(403, 403, 404, 200, 200, 404, 200),
    ("POST", "api:share-schedule"): statuses(403, 403, 404, 403, 200, 404, 200),
    ("POST", "api:share-cancel"): statuses(403, 403, 404, 200, 200, 404, 200),
    # Staff have no member to sign in with.
    ("POST", "api:share-sign-in"): statuses(403, 201, 404, 201, 201, 404, 403),
    ("GET", "api:sign-in-list"): statuses(403, 200, 403, 200, 200, 403, 200),
    ("GET", "api:import-run-list"): statuses(403, 403, 403, 403, 200, 403, 200),
    ("GET", "api:import-run-detail"): statuses(403, 404, 404, 404, 200, 404, 200),
}
ENDPOINTS = list(EXPECTED)


def make_scene() -> SimpleNamespace:
    """The seven-role cast and, in their group, shares of every visibility: a members-only talk,
    a public one, a hidden one and a members-only scheduled share starting in five minutes
    (sign-in open); a members-only talk of the other group; an import run of the group."""
    cast = make_cast()
    speaker = cast.speaker.member
    cast.upcoming = make_share(cast.group, speaker, topic="跨境支付的清算", status=ShareStatus.SCHEDULED,
                               start=timezone.now() + dt.timedelta(minutes=5))
    cast.public_talk = make_share(cast.group, speaker, topic="公开的分享", start=at("2018-05-21"),
                                  visibility=Visibility.PUBLIC)
    cast.talk = make_share(cast.group, speaker, topic="支付清结算", start=at("2018-05-20"))
    cast.other_talk = make_share(cast.other_group, cast.outsider.member, topic="别的群的分享", start=at("2018-05-19"))
    cast.hidden_talk = make_share(cast.group, speaker, topic="隐藏的分享", start=at("2018-05-18"),
                                  visibility=Visibility.HIDDEN)
    make_sign_in(cast.talk, cast.member.member)
    cast.run = ImportRun.objects.create(group=cast.group, started_by=cast.admin.user, status="succeeded")
    return cast


def state() -> tuple:
    """What a write could change: every share, sign-in and revision."""
    return (
        list(Share.objects.order_by("id").values_list("id", "status", "topic", "day", "scheduled_for", "version")),
        list(SignIn.objects.order_by("id").values_list("id", "share_id", "member_id")),
        ShareRevision.objects.count(),
    )


def request_for(cast, method: str, name: str) -> tuple[str, dict]:
    """The URL and body of a valid request to the endpoint, about the scene's scheduled share."""
    today = timezone.now().astimezone(cast.group.tz).date()
    share = cast.upcoming
    args = {"api:share-list": [], "api:sign-in-list": [], "api:import-run-list": [],
            "api:import-run-detail": [cast.run.pk]}.get(name, [share.pk])
    body = {
        ("POST", "api:share-list"): {
            "group": "prodarch", "speaker": cast.speaker.member.pk, "topic": "新的分享",
            "preferred_days": [(today + dt.timedelta(days=3)).isoformat()],
        },
        ("PATCH", "api:share-detail"): {"topic": "新题目", "version": share.version},
        ("POST", "api:share-schedule"): {"date": (today + dt.timedelta(days=7)).isoformat(), "time": "20:00"},
        ("POST", "api:share-cancel"): {"reason": "出差"},
        ("GET", "api:sign-in-list"): {"group": "prodarch"},
        ("GET", "api:import-run-list"): {"group": "prodarch"},
    }.get((method, name), {})
    return reverse(name, args=args), body


def send(client: Client, method: str, url: str, body: dict):
    if method == "GET":
        return client.get(url, body)
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "name"), ENDPOINTS)
def test_api_permission_matrix(method, name, role):
    cast = make_scene()
    url, body = request_for(cast, method, name)
    before = state()

    response = send(client_for(cast, role), method, url, body)

    assert response.status_code == EXPECTED[method, name][role]
    if method == "GET" or response.status_code >= 400:
        assert state() == before
    else:
        assert state() != before


# Which shares each role finds in the list (newest day first): the visibility rules of the pages.
LISTED = {
    "anonymous": ["public_talk"],
    "member": ["upcoming", "public_talk", "talk"],
    "outsider": ["public_talk", "other_talk"],
    "speaker": ["upcoming", "public_talk", "talk", "hidden_talk"],
    "admin": ["upcoming", "public_talk", "talk", "hidden_talk"],
    "other_admin": ["public_talk", "other_talk"],
    "staff": ["upcoming", "public_talk", "talk", "other_talk", "hidden_talk"],
}


@pytest.mark.parametrize("role", ROLES)
def test_share_list_shows_each_role_what_the_pages_show(role):
    cast = make_scene()

    response = client_for(cast, role).get(reverse("api:share-list"))

    assert [row["id"] for row in response.json()["results"]] == [getattr(cast, key).pk for key in LISTED[role]]


# Who reads each share's detail (and its talk): the same rules as the list, share by share.
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", ["upcoming", "public_talk", "talk", "other_talk", "hidden_talk"])
def test_share_detail_found_exactly_when_listed(role, key):
    cast = make_scene()
    share = getattr(cast, key)

    response = client_for(cast, role).get(reverse("api:share-detail", args=[share.pk]))

    if key in LISTED[role]:
        assert (response.status_code, response.json()["id"]) == (200, share.pk)
    else:
        assert (response.status_code, response.json()) == (404, {"detail": "No Share matches the given query."})
