import pytest
from django.urls import reverse

from community.api.pagination import Pagination
from community.models import MembershipRole, MembershipStatus, Name, NameSource
from tests.factories import at, make_group, make_member, make_membership, make_user

pytestmark = pytest.mark.django_db

URL = reverse("api:member-list")


def make_name(member, name, *, group=None, source=NameSource.HEADER):
    return Name.objects.create(member=member, group=group, name=name, normalized=name.lower(), source=source)


def test_member_list_shows_every_field_in_the_group_time_zone(staff_client):
    group = make_group(slug="prodarch", time_zone="Asia/Shanghai")
    member = make_member("李东衡", company="关天数据", city="上海")
    make_name(member, "李东衡-关天数据-产品-上海", group=group)
    make_name(member, "Donald", group=group)
    make_name(member, "Donald", source=NameSource.ROSTER)
    make_membership(
        group, member, role=MembershipRole.ADMIN, nickname="李东衡-关天数据-产品-上海", message_count=42,
        last_message_at=at("2018-05-20", "21:05"), shares_given=2, sign_in_count=7,
    )

    response = staff_client.get(URL, {"group": "prodarch"})

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": member.pk,
                "display_name": "李东衡",
                "names": ["Donald", "李东衡-关天数据-产品-上海"],
                "company": "关天数据",
                "city": "上海",
                "nickname": "李东衡-关天数据-产品-上海",
                "role": "admin",
                "status": "active",
                "message_count": 42,
                "last_message_at": "2018-05-20T21:05:00+08:00",
                "shares_given": 2,
                "sign_ins": 7,
            }
        ],
    }


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


def test_member_list_filtered_by_display_name_or_any_known_name(staff_client):
    group = make_group(slug="prodarch")
    by_display_name = make_member("Alice Wang")
    by_name = make_member("王五")
    make_name(by_name, "alice-财付通")
    make_name(by_name, "Alice 王")  # two matching names, still one row
    make_membership(group, by_display_name, nickname="a")
    make_membership(group, by_name, nickname="b")
    make_membership(group, make_member("赵六"), nickname="c")

    response = staff_client.get(URL, {"group": "prodarch", "name": "ALICE"})

    assert [member["id"] for member in response.json()["results"]] == [by_display_name.pk, by_name.pk]
    assert response.json()["count"] == 2


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


def test_member_list_non_staff_forbidden(client):
    group = make_group(slug="prodarch")
    user = make_user()
    make_membership(group, make_member(user=user), role=MembershipRole.OWNER)
    client.force_login(user)

    response = client.get(URL, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_member_list_staff_allowed(staff_client):
    make_group(slug="prodarch")

    response = staff_client.get(URL, {"group": "prodarch"})

    assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.parametrize("members", [1, 3])
def test_member_list_query_count(staff_client, django_assert_num_queries, members):
    group = make_group(slug="prodarch")
    for n in range(members):
        member = make_member()
        make_name(member, f"名字{n}")
        make_name(member, f"别名{n}")
        make_membership(group, member, last_message_at=at("2018-05-20"))

    # session, user, group lookup, count, memberships with groups and members, members' names
    with django_assert_num_queries(6):
        response = staff_client.get(URL, {"group": "prodarch", "name": "名"})

    assert len(response.json()["results"]) == members
