"""Every page of the URLconf, with hostile path parameters and query values: never a server error.

The routes are read from the URLconf itself (``config/urls.py`` includes every app), so a new
page is fuzzed without being listed here; the API, which schemathesis and
``tests/test_api_hostile.py`` cover, and Django's own admin are left out. Each route is asked
as staff, a group admin, a member and an anonymous visitor:

* GET with each path parameter hostile in turn (ids beyond 64 bits, zero, a day in year 1 or
  9999, an impossible day, an unknown slug), the others real;
* GET with the real path and every query parameter any page reads set to one hostile value
  (numbers beyond 64 bits, negative numbers, huge page numbers, days in year 1, 9999 and
  10000, impossible days, a long text);
* POST with the real path and the same hostile values for every form field the pages read
  (as staff, who may post every form).

Each role's requests run in a transaction rolled back afterwards, so an erasure or a merge
does not change what the next role finds. An unhandled exception fails the test as a 5xx does;
``/healthz`` answers 503 by design when the broker is down (as in the tests).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from community.flags import group_flags_evaluate
from community.models import Application, Invitation, MessageKind, NameLink, StoredImage
from importer.models import ImportRun
from shares.models import ShareStatus, TalkMessage, TalkPart
from shares.services import share_revision_record
from tests.factories import at, make_cast, make_member, make_membership, make_message, make_share, make_sign_in

pytestmark = pytest.mark.django_db

# Who asks, and with which methods the hostile values are sent: staff may post every form of
# every group (the forms an admin, a speaker or a visitor posts are the same forms); the others'
# reads differ by what they may see.
ROLES = {"staff": ("get", "post"), "admin": ("get",), "member": ("get",), "anonymous": ("get",)}

HOSTILE_INTS = ["0", "99999999999999999999", "9223372036854775807", "9223372036854775808", "18446744073709551616"]
HOSTILE_PATH = {
    "int": HOSTILE_INTS,
    "slug": ["nope", "a" * 300],
    "str": ["x", "9" * 300],
    "archive_day": ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01", "2018-02-30", "0000-00-00"],
    "path": ["x"],
}
HOSTILE_VALUES = [
    "-1", "99999999999999999999", "9223372036854775808", "1e309", "0001-01-01", "9999-12-31", "10000-01-01",
    "2018-02-30", "x" * 5000,
]
# Every name a page reads from its query string or its forms (``grep request.GET`` and the forms).
PARAMETERS = [
    "page", "start", "from", "to", "q", "sort", "status", "role", "position", "city", "company", "group",
    "member", "speaker", "year", "month", "record", "keep", "other", "date_from", "date_to", "share", "kind",
    "since", "until", "next", "day", "time", "version", "names", "rule", "decision", "flags", "reason",
    "topic", "abstract", "visibility", "overlap_reason", "preferred_day_1", "preferred_day_2", "preferred_day_3",
    "qa", "end", "note", "body", "capacity", "silence_days", "share_time", "time_zone", "language", "wechat_id",
    "name", "share_topic", "username", "password", "new_password1", "new_password2", "old_password", "email",
]


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    converters: dict[str, str]

    def path(self, values: dict[str, str]) -> str:
        text = self.route
        for parameter, converter in self.converters.items():
            text = text.replace(f"<{converter}:{parameter}>", values[parameter]).replace(f"<{parameter}>", values[parameter])
        return "/" + text


def _routes(patterns, prefix: str = "", converters: dict | None = None):
    for pattern in patterns:
        route = str(pattern.pattern)
        found = {**(converters or {}), **_converter_names(route)}
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + route, found)
        elif isinstance(pattern, URLPattern):
            yield Route(name=pattern.name or route, route=prefix + route, converters=found)


def _converter_names(route: str) -> dict[str, str]:
    """``{parameter: converter}`` of a route's ``<converter:parameter>`` parts (``str`` when none is named)."""
    names = {}
    for part in route.split("<")[1:]:
        inside = part.split(">", 1)[0]
        converter, _, parameter = inside.rpartition(":")
        names[parameter] = converter or "str"
    return names


PAGES = [route for route in _routes(get_resolver().url_patterns)
         if not route.route.startswith(("api/", "admin/"))]


@dataclass
class World:
    cast: object
    values: dict[str, dict[str, str]]


@pytest.fixture
def world(db):
    cast = make_cast()
    group, speaker = cast.group, cast.speaker.member
    talk = make_share(group, speaker, topic="清算", start=at("2018-05-20"))
    first = make_message(group, speaker, at("2018-05-20", "19:31"), "大家好")
    image = make_message(group, cast.member.member, at("2018-05-20", "19:40"), "", kind=MessageKind.IMAGE)
    StoredImage.objects.create(message=image, file=ContentFile(b"\x89PNG\r\n\x1a\n", name="x.png"))
    TalkMessage.objects.bulk_create([TalkMessage(share=talk, message=first, part=TalkPart.TALK),
                                     TalkMessage(share=talk, message=image, part=TalkPart.QA)])
    make_sign_in(talk, cast.member.member)
    share_revision_record(share=talk, action="imported")
    proposed = make_share(group, cast.member.member, topic="将来的分享", status=ShareStatus.PROPOSED, start=None)
    share_revision_record(share=proposed, action="registered")
    application = Application.objects.create(group=group, name="郑十", company="连连支付", position="产品",
                                             wechat_id="zheng10", share_topic="跨境收单")
    twin = make_member("王芳")
    make_membership(group, twin)
    link = NameLink.objects.create(group=group, member=cast.member.member, other=twin)
    run = ImportRun.objects.create(group=group, started_by=cast.admin.user)
    Invitation.objects.create(member=twin, group=group, token_hash="0" * 64,
                              expires_at=at("2099-01-01"))
    group_flags_evaluate(group=group, as_of=dt.date(2018, 6, 30))
    pks = {
        "talk": talk.pk, "talk_export": talk.pk, "talk_correct": talk.pk, "talk_details": talk.pk,
        "talk_delete": talk.pk, "talk_restore": talk.pk, "application_accept": application.pk,
        "application_decline": application.pk, "name_link_decide": link.pk, "import_run": run.pk,
        "import_run_progress": run.pk, "import_run_requeue": run.pk, "member": twin.pk, "export": twin.pk,
        "erase": twin.pk, "member_profile": speaker.pk,
    }

    def real(route: Route) -> dict[str, str]:
        return {
            "group_slug": group.slug, "pk": str(pks.get(route.name, proposed.pk)), "version": "1",
            "member_id": str(twin.pk), "message_id": str(image.pk), "day": "2018-05-20", "token": "x" * 20,
            "uidb64": "MQ", "slug": group.slug,
        }

    return World(cast=cast, values={route.name: real(route) for route in PAGES})


def _client(world: World, role: str) -> Client:
    client = Client(raise_request_exception=True)
    if role == "staff":
        client.force_login(world.cast.staff.user)
    elif role != "anonymous":
        client.force_login(getattr(world.cast, role).user)
    return client


def _requests(route: Route, real: dict[str, str], methods: tuple[str, ...]):
    """(method, path, data) of every request the route is asked: the hostile query values
    only for a method the route answers (a 405 to the first request of a method skips it)."""
    yield "get", route.path(real), {}
    for parameter, converter in route.converters.items():
        for value in HOSTILE_PATH.get(converter, HOSTILE_PATH["str"]):
            yield "get", route.path({**real, parameter: value}), {}
    for method in methods:
        answered = yield method, route.path(real), {}
        if answered == 405:
            continue
        for value in HOSTILE_VALUES:
            yield method, route.path(real), dict.fromkeys(PARAMETERS, value)


def test_every_page_of_the_urlconf_is_fuzzed():
    names = {route.name for route in PAGES}
    # A sample of what the walk must find, from each app: if the walk broke, it would find nothing.
    assert {"day", "week_text", "group_activity", "member_profile", "talk_list", "import_run", "seats",
            "member_merge", "stored_image", "share_revision", "account_invite"} <= names
    assert len(PAGES) >= 60


@pytest.mark.parametrize("route", PAGES, ids=[route.name for route in PAGES])
def test_no_page_answers_a_server_error_to_hostile_parameters(world, route):
    failures = []
    for role, methods in ROLES.items():
        with transaction.atomic():
            failures += _fuzz(_client(world, role), route, world.values[route.name], role, methods)
            transaction.set_rollback(True)
    assert failures == []


def _fuzz(client: Client, route: Route, real: dict[str, str], role: str, methods: tuple[str, ...]) -> list[str]:
    failures = []
    requests = _requests(route, real, methods)
    answered = None
    while True:
        try:
            method, path, data = requests.send(answered)
        except StopIteration:
            return failures
        where = f"{role}: {method.upper()} {path[:120]} {_shown(data)}"
        answered = None
        try:
            # A savepoint per request: a database error (PostgreSQL's, which aborts the
            # transaction) is undone there and the next request still runs.
            with transaction.atomic():
                answered = getattr(client, method)(path, data).status_code
        except Exception as error:  # noqa: BLE001 - every unhandled error is a finding, reported together
            failures.append(f"{where}: {type(error).__name__}: {error}"[:400])
            continue
        if answered >= 500 and not (route.name == "healthz" and answered == 503):
            failures.append(f"{where}: {answered}")


def _shown(data: dict) -> str:
    if not data:
        return ""
    value = next(iter(data.values()))
    return f"(every parameter = {value[:40]!r})"
