"""GET /api/memberships/: a group's memberships for its admins and staff (``?group=``), and
anyone's own (``?mine=true``)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from community.models import MembershipPeriod, MembershipRole, MembershipStatus
from tests.factories import ROLES, at, client_for, make_cast, make_membership, make_user

pytestmark = pytest.mark.django_db

URL = reverse("api:membership-list")


@pytest.fixture
def cast():
    cast = make_cast()
    speaker = cast.speaker.membership
    speaker.joined_at, speaker.exempt_until, speaker.exempt_reason = at("2018-01-02", "09:00"), dt.date(2018, 8, 1), "出国"
    speaker.save()
    MembershipPeriod.objects.create(membership=speaker, joined_at=at("2017-03-01", "10:00"),
                                    left_at=at("2017-06-30", "23:30"), left_reason=MembershipStatus.LEFT)
    MembershipPeriod.objects.create(membership=speaker, joined_at=at("2018-01-02", "09:00"))
    return cast


def row(person, **fields) -> dict:
    membership = person.membership
    return {
        "id": membership.pk, "group": membership.group.slug,
        "member": {"id": membership.member_id, "display_name": membership.member.display_name},
        "nickname": membership.nickname, "role": membership.role, "status": membership.status,
        "joined_at": None, "left_at": None, "periods": [], "exempt_until": None, "exempt_reason": "", **fields,
    }


SPEAKER = {
    "joined_at": "2018-01-02T09:00:00+08:00", "exempt_until": "2018-08-01", "exempt_reason": "出国",
    "periods": [
        {"joined_at": "2017-03-01T10:00:00+08:00", "left_at": "2017-06-30T23:30:00+08:00", "left_reason": "left"},
        {"joined_at": "2018-01-02T09:00:00+08:00", "left_at": None, "left_reason": ""},
    ],
}


def test_membership_list_of_a_group_for_its_admins(cast):
    response = client_for(cast, "admin").get(URL, {"group": "prodarch"})

    assert response.json() == {"count": 3, "next": None, "previous": None, "results": [
        row(cast.admin), row(cast.speaker, **SPEAKER), row(cast.member),
    ]}


@pytest.mark.parametrize("role", ROLES)
def test_membership_list_of_a_group_permissions(cast, role):
    response = client_for(cast, role).get(URL, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    if role in ("admin", "staff"):
        assert (response.status_code, response.json()["count"]) == (200, 3)
    else:
        assert (response.status_code, response.json()) == (403, {"detail": (
            "Authentication credentials were not provided." if role == "anonymous"
            else "Only the group's admins see its memberships.")})


@pytest.mark.parametrize("role", ROLES)
def test_membership_list_mine_permissions(cast, role):
    response = client_for(cast, role).get(URL, {"mine": "true"})

    if role == "anonymous":
        assert response.status_code == 403
    else:
        own = [] if role == "staff" else [getattr(cast, role).membership.pk]
        assert (response.status_code, [item["id"] for item in response.json()["results"]]) == (200, own)


def test_membership_list_mine_in_every_group_or_one(cast):
    make_membership(cast.other_group, cast.speaker.member, nickname="东衡@开发群", role=MembershipRole.ADMIN,
                    status=MembershipStatus.LEFT)
    client = client_for(cast, "speaker")

    everywhere = client.get(URL, {"mine": "1"}).json()["results"]
    here = client.get(URL, {"mine": "true", "group": "devarch"}).json()["results"]

    assert [(item["group"], item["role"], item["status"]) for item in everywhere] == [
        ("prodarch", "member", "active"), ("devarch", "admin", "left")]
    assert [item["group"] for item in here] == ["devarch"]
    assert everywhere[0] == row(cast.speaker, **SPEAKER)


def test_membership_list_mine_without_a_member_is_empty():
    client = Client()
    client.force_login(make_user())

    assert client.get(URL, {"mine": "true"}).json()["results"] == []


@pytest.mark.parametrize(("params", "errors"), [
    ({}, {"group": ["Give a group, or mine=true for your own memberships."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"mine": "true", "group": "nope"}, {"group": ["No group has this slug."]}),
    ({"group": "prodarch", "role": "king"}, {"role": ["Select a valid choice. king is not one of the available choices."]}),
    ({"group": "prodarch", "status": "gone"}, {"status": [
        "Select a valid choice. gone is not one of the available choices."]}),
])
def test_membership_list_bad_parameters_are_400_naming_the_field(cast, params, errors):
    response = client_for(cast, "admin").get(URL, params, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def test_membership_list_filters_by_role_and_status(cast):
    left = make_membership(cast.group, status=MembershipStatus.LEFT)
    client = client_for(cast, "admin")

    assert [item["id"] for item in client.get(URL, {"group": "prodarch", "role": "owner"}).json()["results"]] == [
        cast.admin.membership.pk]
    assert [item["id"] for item in client.get(URL, {"group": "prodarch", "status": "left"}).json()["results"]] == [
        left.pk]


@pytest.mark.parametrize("items", [1, 3])
def test_membership_list_query_count(cast, django_assert_num_queries, items):
    for n in range(items):
        membership = make_membership(cast.other_group, nickname=f"新{n}")
        MembershipPeriod.objects.create(membership=membership, joined_at=at("2018-01-01"), left_at=at("2018-02-01"))
        MembershipPeriod.objects.create(membership=membership, joined_at=at("2018-03-01"))
    client = client_for(cast, "other_admin")

    # session, user, the group with the user's member and role, the FilterSet's group, count, memberships, periods
    with django_assert_num_queries(7):
        response = client.get(URL, {"group": "devarch", "status": "active"})

    assert response.json()["count"] == items + 2
