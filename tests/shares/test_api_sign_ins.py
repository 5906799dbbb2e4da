"""GET /api/sign-ins/?group=<slug>: a group's sign-ins as the pages show them to its members,
admins and staff; filters; constant queries."""

import pytest
from django.urls import reverse

from community.models import Visibility
from shares.models import Origin, ShareStatus
from tests.factories import at, make_cast, make_member, make_membership, make_share, make_sign_in
from tests.shares.test_api_matrix import client_for

pytestmark = pytest.mark.django_db

URL = reverse("api:sign-in-list")


@pytest.fixture
def cast():
    """The cast, with sign-ins to a members-only talk, a hidden talk and a scheduled share."""
    cast = make_cast()
    speaker, member = cast.speaker.member, cast.member.member
    cast.talk = make_share(cast.group, speaker, start=at("2018-05-20"))
    cast.hidden = make_share(cast.group, speaker, start=at("2018-06-02"), visibility=Visibility.HIDDEN)
    cast.scheduled = make_share(cast.group, speaker, status=ShareStatus.SCHEDULED, start=at("2030-01-07"))
    cast.member_at_talk = make_sign_in(cast.talk, member, signed_at=at("2018-05-20", "19:20"), origin=Origin.IMPORT)
    cast.speaker_at_talk = make_sign_in(cast.talk, speaker, signed_at=at("2018-05-20", "19:25"))
    cast.member_at_hidden = make_sign_in(cast.hidden, member, signed_at=at("2018-06-02", "19:20"))
    cast.admin_at_scheduled = make_sign_in(cast.scheduled, cast.admin.member, signed_at=at("2030-01-07", "19:20"))
    cast.member_at_scheduled = make_sign_in(cast.scheduled, member, signed_at=at("2030-01-07", "19:21"))
    other_talk = make_share(cast.other_group, cast.outsider.member, start=at("2018-05-20"))
    cast.outsider_at_other = make_sign_in(other_talk, cast.outsider.member)
    return cast


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_sign_in_list_shows_every_field_in_the_group_time_zone(cast):
    response = client_for(cast, "admin").get(URL, {"group": "prodarch", "share": cast.talk.pk})

    assert response.status_code == 200
    assert response.json() == {
        "count": 2, "next": None, "previous": None,
        "results": [
            {"id": cast.speaker_at_talk.pk, "share": cast.talk.pk, "group": "prodarch",
             "member": {"id": cast.speaker.member.pk, "display_name": "李东衡-关天数据-产品-上海"},
             "signed_at": "2018-05-20T19:25:00+08:00", "source": "web"},
            {"id": cast.member_at_talk.pk, "share": cast.talk.pk, "group": "prodarch",
             "member": {"id": cast.member.member.pk, "display_name": "王芳-云汇支付-架构"},
             "signed_at": "2018-05-20T19:20:00+08:00", "source": "import"},
        ],
    }


@pytest.mark.parametrize(("role", "seen"), [
    # Every sign-in of the group, newest first.
    ("admin", ["member_at_scheduled", "admin_at_scheduled", "member_at_hidden", "speaker_at_talk", "member_at_talk"]),
    ("staff", ["member_at_scheduled", "admin_at_scheduled", "member_at_hidden", "speaker_at_talk", "member_at_talk"]),
    # Their own, and those of the talks they may see (the talk page lists them); not who else
    # signed in to a share not yet delivered, nor to a hidden talk.
    ("member", ["member_at_scheduled", "member_at_hidden", "speaker_at_talk", "member_at_talk"]),
    ("speaker", ["member_at_hidden", "speaker_at_talk", "member_at_talk"]),
])
def test_sign_in_list_shows_each_role_what_the_pages_show(cast, role, seen):
    response = client_for(cast, role).get(URL, {"group": "prodarch"})

    assert ids(response) == [getattr(cast, name).pk for name in seen]


def test_sign_in_list_filtered_by_member_and_share_day(cast):
    response = client_for(cast, "admin").get(URL, {
        "group": "prodarch", "member": cast.member.member.pk, "date_from": "2018-05-21", "date_to": "2018-12-31",
    })

    assert ids(response) == [cast.member_at_hidden.pk]


@pytest.mark.parametrize(("query", "errors"), [
    ({}, {"group": ["This filter is required."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"group": "prodarch", "share": "x"}, {"share": ["Select a valid choice. That choice is not one of the available choices."]}),
    ({"group": "prodarch", "member": "0"}, {"member": ["Select a valid choice. That choice is not one of the available choices."]}),
    ({"group": "prodarch", "date_from": "May"}, {"date_from": ["Enter a valid date."]}),
])
def test_sign_in_list_bad_filter_is_400_naming_the_field(cast, query, errors):
    response = client_for(cast, "admin").get(URL, query, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def test_sign_in_list_of_another_group_is_403(cast):
    response = client_for(cast, "outsider").get(URL, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (403, {"detail": "Only the group's members see its sign-ins."})


def test_sign_in_list_page_size(cast):
    page = client_for(cast, "admin").get(URL, {"group": "prodarch", "page_size": 2}).json()

    assert (page["count"], len(page["results"]), page["next"]) == (
        5, 2, "http://testserver/api/sign-ins/?group=prodarch&page=2&page_size=2",
    )


@pytest.mark.parametrize("sign_ins", [1, 3])
def test_sign_in_list_query_count(django_assert_num_queries, sign_ins):
    cast = make_cast()
    talk = make_share(cast.group, cast.speaker.member)
    for _ in range(sign_ins):
        member = make_member()
        make_membership(cast.group, member)
        make_sign_in(talk, member)
    client = client_for(cast, "member")

    # session, user; the group with the user's member and role (403?); the user's groups, then groups and admin
    # groups for the visible talks, admin groups again; the group filter; count; sign-ins with their
    # shares, groups and members
    with django_assert_num_queries(11):
        response = client.get(URL, {"group": "prodarch"})

    assert response.json()["count"] == sign_ins
