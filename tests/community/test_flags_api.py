"""GET /api/flags/ and POST /api/flags/<id>/decide/: the group's admins and staff only."""

import datetime as dt

import pytest

from community.flags import group_flags_evaluate
from community.models import Flag, RecordedDay
from tests.factories import ROLES, at, client_for, make_cast, make_membership

pytestmark = pytest.mark.django_db

ALLOWED = {"admin", "staff"}


@pytest.fixture
def cast():
    cast = make_cast()
    RecordedDay.objects.bulk_create([
        RecordedDay(group=cast.group, day=dt.date(2018, 1, 1) + dt.timedelta(days=i), message_count=5) for i in range(181)
    ])
    for person in (cast.speaker, cast.member):
        person.membership.last_message_at, person.membership.shares_given = at("2018-06-29"), 1
        person.membership.save()
    cast.silent = make_membership(cast.group, nickname="钱八-易宝-产品", joined_at=at("2018-01-01"),
                                  last_message_at=at("2018-04-01"), shares_given=1)
    group_flags_evaluate(group=cast.group)
    cast.flag = Flag.objects.get(membership=cast.silent)
    return cast


def test_flag_list_shows_every_field(cast):
    response = client_for(cast, "admin").get("/api/flags/", {"group": "prodarch", "status": "open"})
    assert response.status_code == 200
    assert response.json() == {
        "count": 1, "next": None, "previous": None,
        "results": [{
            "id": cast.flag.pk,
            "group": "prodarch",
            "member": {"id": cast.silent.member_id, "display_name": cast.silent.member.display_name,
                       "nickname": "钱八-易宝-产品"},
            "rule": "silent",
            "status": "open",
            "evidence": {
                "last_message": "2018-04-01", "joined": "2018-01-01", "counted_from": "last_message",
                "days_silent": 90, "silence_days": 60, "as_of": "2018-06-30", "shares_given": 1, "next_share": None,
            },
            "created_at": response.json()["results"][0]["created_at"],
        }],
    }
    assert response.json()["results"][0]["created_at"].startswith(str(dt.date.today().year))


@pytest.mark.parametrize("role", ROLES)
def test_flag_list_permissions(cast, role):
    response = client_for(cast, role).get("/api/flags/", {"group": "prodarch"})
    assert response.status_code == (200 if role in ALLOWED else 403)
    if role in ALLOWED:
        assert [row["id"] for row in response.json()["results"]] == [cast.flag.pk]


def test_flag_list_needs_a_known_group(cast):
    client = client_for(cast, "admin")
    assert client.get("/api/flags/").status_code == 400
    assert client.get("/api/flags/", {"group": "nope"}, HTTP_ACCEPT_LANGUAGE="en").json() == {
        "group": ["No group has this slug."]
    }


def test_flag_list_status_filter_and_page_size(cast, django_assert_num_queries):
    client = client_for(cast, "admin")
    assert client.get("/api/flags/", {"group": "prodarch", "status": "approved"}).json()["count"] == 0
    for n in range(2):
        make_membership(cast.group, nickname=f"孙{n}-快钱-产品", joined_at=at("2018-01-01"),
                        last_message_at=at("2018-03-01"), shares_given=1)
    group_flags_evaluate(group=cast.group)
    page = client.get("/api/flags/", {"group": "prodarch", "page_size": 2}).json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (3, 2, True)


def test_flag_list_query_count_does_not_grow(cast, django_assert_max_num_queries):
    client = client_for(cast, "admin")
    with django_assert_max_num_queries(12) as one:
        client.get("/api/flags/", {"group": "prodarch"})
    for n in range(2):
        make_membership(cast.group, nickname=f"孙{n}-快钱-产品", joined_at=at("2018-01-01"),
                        last_message_at=at("2018-03-01"), shares_given=1)
    group_flags_evaluate(group=cast.group)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get("/api/flags/", {"group": "prodarch"}).json()["count"] == 3


@pytest.mark.parametrize("role", ROLES)
def test_decide_permissions(cast, role):
    response = client_for(cast, role).post(f"/api/flags/{cast.flag.pk}/decide/", {"decision": "dismiss", "reason": "ok"},
                                           content_type="application/json")
    # Another group's flag is not even found for a non-admin (no leak of its existence).
    assert response.status_code == (200 if role in ALLOWED else 403 if role == "anonymous" else 404)
    assert Flag.objects.get(pk=cast.flag.pk).status == ("dismissed" if role in ALLOWED else "open")


def test_decide_approve_then_reopen(cast):
    client = client_for(cast, "admin")
    approved = client.post(f"/api/flags/{cast.flag.pk}/decide/", {"decision": "approve"}, content_type="application/json")
    assert approved.json()["status"] == "approved"
    cast.silent.refresh_from_db()
    assert cast.silent.status == "removed"
    reopened = client.post(f"/api/flags/{cast.flag.pk}/decide/", {"decision": "reopen", "reason": "误判"},
                           content_type="application/json")
    assert reopened.json()["status"] == "open"


def test_decide_bad_input_is_a_clear_400(cast):
    client = client_for(cast, "admin")
    url = f"/api/flags/{cast.flag.pk}/decide/"
    assert client.post(url, {"decision": "exempt", "reason": "x"}, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en").json() == {
        "until": ["Required for an exemption."]
    }
    assert client.post(url, {"decision": "dismiss"}, content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en").json() == {
        "detail": "Say why the flag is dismissed."
    }
    assert client.post(url, {"decision": "explode"}, content_type="application/json").status_code == 400
    assert Flag.objects.get(pk=cast.flag.pk).status == "open"
