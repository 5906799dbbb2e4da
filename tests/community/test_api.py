"""The members API's basics for staff: the group filter, other filters, pages of it (the rest,
permissions, views and query counts: test_api_members.py)."""

import pytest
from django.urls import reverse

from community.api.pagination import Pagination
from community.models import MembershipRole, MembershipStatus, Name, NameSource
from tests.factories import make_group, make_member, make_membership

pytestmark = pytest.mark.django_db

URL = reverse("api:member-list")


def make_name(member, name, *, group=None, source=NameSource.HEADER):
    return Name.objects.create(member=member, group=group, name=name, normalized=name.lower(), source=source)


def test_member_list_never_spoken_has_null_last_message(staff_client):
    make_membership(make_group(slug="prodarch"), make_member())

    member = staff_client.get(URL, {"group": "prodarch"}).json()["results"][0]

    assert (member["last_message_at"], member["message_count"], member["names"]) == (None, 0, [])


def test_member_list_only_members_of_the_group(staff_client):
    group, other_group = make_group(slug="prodarch"), make_group(slug="payments")
    in_both = make_member("两个群都在")
    make_membership(group, in_both)
    make_membership(other_group, in_both)
    make_membership(other_group, make_member("只在别的群"))

    response = staff_client.get(URL, {"group": "prodarch"})

    assert [member["id"] for member in response.json()["results"]] == [in_both.pk]


def test_member_list_without_group_is_400(staff_client):
    make_membership(make_group(slug="prodarch"), make_member())

    response = staff_client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"group": ["This filter is required."]}


def test_member_list_unknown_group_is_400(staff_client):
    make_membership(make_group(slug="prodarch"), make_member())

    response = staff_client.get(URL, {"group": "nope"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"group": ["No group has this slug."]}


def test_member_list_filtered_by_status_role_company_and_city(staff_client):
    group = make_group(slug="prodarch")
    wanted = make_member("甲", company="蚂蚁金服", city="杭州")
    make_membership(group, wanted, role=MembershipRole.ADMIN)
    make_membership(group, make_member("乙", company="蚂蚁金服", city="杭州"))  # not an admin
    make_membership(group, make_member("丙", company="蚂蚁金服", city="杭州"), role=MembershipRole.ADMIN,
                    status=MembershipStatus.LEFT)
    make_membership(group, make_member("丁", company="财付通", city="杭州"), role=MembershipRole.ADMIN)
    make_membership(group, make_member("戊", company="蚂蚁金服", city="上海"), role=MembershipRole.ADMIN)

    response = staff_client.get(URL, {
        "group": "prodarch", "status": "active", "role": "admin", "company": "蚂蚁", "city": "杭州",
    })

    assert [member["id"] for member in response.json()["results"]] == [wanted.pk]


def test_member_list_page_size_from_query(staff_client):
    group = make_group(slug="prodarch")
    for _ in range(3):
        make_membership(group, make_member())

    page = staff_client.get(URL, {"group": "prodarch", "page_size": 2}).json()

    assert (page["count"], len(page["results"]), page["next"]) == (
        3, 2, "http://testserver/api/members/?group=prodarch&page=2&page_size=2",
    )


def test_member_list_page_size_clamped_to_500(staff_client):
    group = make_group(slug="prodarch")
    for _ in range(3):
        make_membership(group, make_member())

    page = staff_client.get(URL, {"group": "prodarch", "page_size": 1000}).json()

    assert Pagination.max_page_size == 500
    assert (page["count"], len(page["results"]), page["next"]) == (3, 3, None)


def test_member_list_anonymous_forbidden(client):
    make_group(slug="prodarch")

    response = client.get(URL, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_member_list_staff_allowed(staff_client):
    make_group(slug="prodarch")

    response = staff_client.get(URL, {"group": "prodarch"})

    assert (response.status_code, response.json()["count"]) == (200, 0)
