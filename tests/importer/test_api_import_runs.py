"""GET /api/import-runs/?group=<slug> and /api/import-runs/<id>/: a group's imports, for its admins and staff."""

import pytest
from django.urls import reverse

from importer.models import ImportKind, ImportRun, ImportStatus
from tests.factories import at, make_cast
from tests.shares.test_api_matrix import client_for

pytestmark = pytest.mark.django_db

LIST = reverse("api:import-run-list")


@pytest.fixture
def cast():
    cast = make_cast()
    cast.run = ImportRun.objects.create(
        group=cast.group, kind=ImportKind.TRANSCRIPTS, status=ImportStatus.FAILED, started_by=cast.admin.user,
        started_at=at("2018-05-21", "09:00"), finished_at=at("2018-05-21", "09:01"),
        counts={"files_read": 2, "files_failed": 1, "messages_created": 40},
        files=[{"file": "2018-05-20.txt", "status": "imported", "day": "2018-05-20", "messages": 40},
               {"file": "2018-05-21.txt", "status": "failed", "messages": 0}],
        warnings=["2018-05-20.txt:12: unknown sender"], errors=["2018-05-21.txt:3: no date line"],
    )
    cast.roster = ImportRun.objects.create(
        group=cast.group, kind=ImportKind.ROSTER, status=ImportStatus.SUCCEEDED, dry_run=True,
        started_by_name="operator", started_at=at("2018-05-22", "10:00"),
    )
    ImportRun.objects.create(group=cast.other_group, started_at=at("2018-05-23", "10:00"))
    return cast


def run_json(cast) -> dict:
    return {
        "id": cast.run.pk, "group": "prodarch", "kind": "transcripts", "status": "failed", "dry_run": False,
        "started_by": cast.admin.user.username,
        "started_at": "2018-05-21T09:00:00+08:00", "finished_at": "2018-05-21T09:01:00+08:00", "undone_at": None,
        "counts": {"files_read": 2, "files_failed": 1, "messages_created": 40},
        "files": [{"file": "2018-05-20.txt", "status": "imported", "day": "2018-05-20", "messages": 40},
                  {"file": "2018-05-21.txt", "status": "failed", "messages": 0}],
        "warnings": ["2018-05-20.txt:12: unknown sender"], "errors": ["2018-05-21.txt:3: no date line"],
    }


def test_import_run_detail_shows_every_field_in_the_group_time_zone(cast):
    response = client_for(cast, "admin").get(reverse("api:import-run-detail", args=[cast.run.pk]))

    assert (response.status_code, response.json()) == (200, run_json(cast))


def test_import_run_list_newest_first_with_the_command_line_operator(cast):
    response = client_for(cast, "admin").get(LIST, {"group": "prodarch"})

    assert response.json() == {"count": 2, "next": None, "previous": None, "results": [
        {"id": cast.roster.pk, "group": "prodarch", "kind": "roster", "status": "succeeded", "dry_run": True,
         "started_by": "operator", "started_at": "2018-05-22T10:00:00+08:00", "finished_at": None, "undone_at": None,
         "counts": {}, "files": [], "warnings": [], "errors": []},
        run_json(cast),
    ]}


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": "roster"}, ["roster"]),
    ({"status": "failed"}, ["run"]),
    ({"kind": "transcripts", "status": "succeeded"}, []),
])
def test_import_run_list_filtered_by_kind_and_status(cast, query, expected):
    response = client_for(cast, "staff").get(LIST, {"group": "prodarch", **query})

    assert [row["id"] for row in response.json()["results"]] == [getattr(cast, name).pk for name in expected]


@pytest.mark.parametrize(("query", "errors"), [
    ({}, {"group": ["This filter is required."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"group": "prodarch", "kind": "pictures"}, {"kind": ["Select a valid choice. pictures is not one of the available choices."]}),
    ({"group": "prodarch", "status": "ok"}, {"status": ["Select a valid choice. ok is not one of the available choices."]}),
])
def test_import_run_list_bad_filter_is_400_naming_the_field(cast, query, errors):
    response = client_for(cast, "admin").get(LIST, query, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def test_import_run_list_of_a_group_one_does_not_run_is_403(cast):
    response = client_for(cast, "other_admin").get(LIST, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (403, {"detail": "Only the group's admins see its imports."})


def test_import_run_list_page_size(cast):
    page = client_for(cast, "admin").get(LIST, {"group": "prodarch", "page_size": 1}).json()

    assert (page["count"], [row["id"] for row in page["results"]], page["next"]) == (
        2, [cast.roster.pk], "http://testserver/api/import-runs/?group=prodarch&page=2&page_size=1",
    )


@pytest.mark.parametrize("runs", [1, 3])
def test_import_run_list_query_count(django_assert_num_queries, runs):
    cast = make_cast()
    for n in range(runs):
        ImportRun.objects.create(group=cast.group, started_by=cast.admin.user, started_at=at(f"2018-05-2{n}"))
    client = client_for(cast, "admin")

    # session, user; the group with the user's member and role (403?); admin groups; the group filter; count;
    # runs with their groups and starters
    with django_assert_num_queries(8):
        response = client.get(LIST, {"group": "prodarch"})

    assert response.json()["count"] == runs
