import pytest
from django.urls import reverse

from community.api.pagination import Pagination
from community.models import Name, NameSource, Visibility
from shares.models import Share, ShareStatus
from tests.factories import at, make_group, make_member, make_share, make_sign_in, make_user

pytestmark = pytest.mark.django_db

URL = reverse("api:share-list")


def make_name(member, name, *, group=None, source=NameSource.HEADER):
    return Name.objects.create(member=member, group=group, name=name, normalized=name.lower(), source=source)


def test_share_list_shows_every_field_in_the_group_time_zone(staff_client):
    group = make_group(slug="prodarch", time_zone="Asia/Shanghai")
    speaker = make_member("李东衡-关天数据-产品-上海")
    make_name(speaker, "李东衡-关天数据-产品-上海", group=group)
    make_name(speaker, "Donald", group=group)
    make_name(speaker, "Donald", group=None, source=NameSource.ROSTER)
    share = make_share(group, speaker, topic="新疆本地市场的多元化金融业务", start=at("2018-05-20", "19:30"),
                       visibility=Visibility.PUBLIC)
    make_sign_in(share, make_member())
    Share.objects.filter(pk=share.pk).update(sign_in_count=1)

    response = staff_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": share.pk,
                "group": "prodarch",
                "date": "2018-05-20",
                "topic": "新疆本地市场的多元化金融业务",
                "topic_source": "announcement",
                "given_in": None,
                "speaker": {
                    "id": speaker.pk,
                    "display_name": "李东衡-关天数据-产品-上海",
                    "names": ["Donald", "李东衡-关天数据-产品-上海"],
                },
                "status": "delivered",
                "scheduled_for": "2018-05-20T19:30:00+08:00",
                "started_at": "2018-05-20T19:30:00+08:00",
                "ended_at": "2018-05-20T20:30:00+08:00",
                "visibility": "public",
                "origin": "import",
                "sign_in_count": 1,
            }
        ],
    }


def test_share_list_times_follow_each_group_time_zone(staff_client):
    group = make_group(time_zone="Europe/Paris")
    make_share(group, make_member(), status=ShareStatus.SCHEDULED, start=at("2030-01-07", "19:30"))

    share = staff_client.get(URL).json()["results"][0]

    assert (share["date"], share["scheduled_for"], share["started_at"], share["ended_at"]) == (
        "2030-01-07", "2030-01-07T12:30:00+01:00", None, None,
    )


def test_share_list_ordered_by_day_descending_then_id(staff_client):
    group = make_group()
    speaker = make_member()
    older = make_share(group, speaker, start=at("2018-05-20"))
    newer_first = make_share(group, speaker, start=at("2018-06-02"))
    newer_second = make_share(group, speaker, start=at("2018-06-02", "21:00"))
    proposed = Share.objects.create(group=group, speaker=speaker, topic="待定", status=ShareStatus.PROPOSED)

    ids = [share["id"] for share in staff_client.get(URL).json()["results"]]

    assert ids == [newer_first.pk, newer_second.pk, older.pk, proposed.pk]


def test_share_list_filtered_by_group_slug(staff_client):
    speaker = make_member()
    wanted = make_share(make_group(slug="prodarch"), speaker)
    make_share(make_group(slug="payments"), speaker)

    response = staff_client.get(URL, {"group": "prodarch"})

    assert [share["id"] for share in response.json()["results"]] == [wanted.pk]


def test_share_list_unknown_group_slug_is_400(staff_client):
    make_share(make_group(slug="prodarch"), make_member())

    response = staff_client.get(URL, {"group": "nope"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json() == {"group": ["No group has this slug."]}


def test_share_list_filtered_by_status_speaker_dates_and_visibility(staff_client):
    group = make_group()
    speaker, other = make_member(), make_member()
    wanted = make_share(group, speaker, start=at("2018-06-02"), visibility=Visibility.PUBLIC)
    make_share(group, speaker, start=at("2018-05-20"), visibility=Visibility.PUBLIC)  # before date_from
    make_share(group, speaker, start=at("2018-07-01"), visibility=Visibility.PUBLIC)  # after date_to
    make_share(group, other, start=at("2018-06-03"), visibility=Visibility.PUBLIC)  # another speaker
    make_share(group, speaker, start=at("2018-06-04"), visibility=Visibility.HIDDEN)  # hidden
    make_share(group, speaker, start=at("2018-06-05"), visibility=Visibility.PUBLIC, status=ShareStatus.CANCELLED)

    response = staff_client.get(URL, {
        "status": "delivered", "speaker": speaker.pk, "date_from": "2018-06-01", "date_to": "2018-06-30",
        "visibility": "public",
    })

    assert [share["id"] for share in response.json()["results"]] == [wanted.pk]


def test_share_list_page_size_from_query(staff_client):
    group = make_group()
    speaker = make_member()
    for day in ("2018-05-20", "2018-05-21", "2018-05-22"):
        make_share(group, speaker, start=at(day))

    page = staff_client.get(URL, {"page_size": 2}).json()

    assert (page["count"], len(page["results"]), page["next"]) == (3, 2, "http://testserver/api/shares/?page=2&page_size=2")


def test_share_list_page_size_clamped_to_500(staff_client):
    group = make_group()
    speaker = make_member()
    for day in ("2018-05-20", "2018-05-21", "2018-05-22"):
        make_share(group, speaker, start=at(day))

    page = staff_client.get(URL, {"page_size": 1000}).json()

    assert Pagination.max_page_size == 500
    assert (page["count"], len(page["results"]), page["next"]) == (3, 3, None)


def _shares_of_every_kind():
    group = make_group()
    speaker = make_member()
    public_talk = make_share(group, speaker, start=at("2018-05-20"), visibility=Visibility.PUBLIC)
    make_share(group, speaker, start=at("2018-05-21"))  # members-only talk
    make_share(group, speaker, start=at("2018-05-22"), visibility=Visibility.HIDDEN)
    make_share(group, speaker, status=ShareStatus.SCHEDULED, start=at("2030-01-07"), visibility=Visibility.PUBLIC)
    return public_talk


def test_share_list_anonymous_sees_public_talks_only(client):
    public_talk = _shares_of_every_kind()

    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert [share["id"] for share in response.json()["results"]] == [public_talk.pk]


def test_share_list_login_of_no_group_sees_public_talks_only(client):
    public_talk = _shares_of_every_kind()
    client.force_login(make_user())

    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert [share["id"] for share in response.json()["results"]] == [public_talk.pk]


def test_share_list_staff_allowed(staff_client):
    response = staff_client.get(URL)

    assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.parametrize("shares", [1, 3])
def test_share_list_query_count(staff_client, django_assert_num_queries, shares):
    group = make_group(slug="prodarch")
    for n in range(shares):
        speaker = make_member()
        make_name(speaker, f"名字{n}")
        make_name(speaker, f"别名{n}")
        make_share(group, speaker, start=at(f"2018-05-2{n}"))

    # session, user, group lookup, count, shares with groups and speakers, speakers' names
    with django_assert_num_queries(6):
        response = staff_client.get(URL, {"group": "prodarch"})

    assert len(response.json()["results"]) == shares
