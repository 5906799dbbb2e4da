"""GET /api/messages/?group=: a group's record for its members, admins and staff; filters by
member, time range (in the group's time zone), kind and text; pages of up to 500; the index."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from community.api.messages import messages_of_groups
from community.filters import MessageFilter
from community.models import Message, MessageKind, StoredImage
from tests.factories import ROLES, at, client_for, make_cast, make_group, make_message

pytestmark = pytest.mark.django_db

URL = reverse("api:message-list")


@pytest.fixture
def cast():
    cast = make_cast()
    speaker = cast.speaker.member
    # 23:59:59 on May 19th in Shanghai is 15:59:59 UTC: the group's day is the 19th.
    cast.late = make_message(cast.group, speaker, at("2018-05-19", "23:59:59"), "晚安 <b>各位</b>")
    cast.link = make_message(cast.group, cast.member.member, at("2018-05-20", "19:30"), "清结算",
                             kind=MessageKind.LINK, url="https://example.com/a?b=1&c=2")
    cast.image = make_message(cast.group, None, at("2018-05-20", "19:31"), "", kind=MessageKind.IMAGE,
                              sender_name="已退群的人", url="https://img.example.com/x.png")
    StoredImage.objects.create(message=cast.image, file="images/2018/05/20180520_193100.png")
    cast.next_day = make_message(cast.group, speaker, at("2018-05-21", "00:00"), "早")
    make_message(cast.other_group, cast.outsider.member, at("2018-05-20", "19:30"), "别的群")
    return cast


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_message_list_shows_every_field_in_the_group_time_zone_oldest_first(cast):
    response = client_for(cast, "member").get(URL, {"group": "prodarch"})

    speaker = {"id": cast.speaker.member.pk, "display_name": "李东衡-关天数据-产品-上海"}
    assert response.json() == {"count": 4, "next": None, "previous": None, "results": [
        {"id": cast.late.pk, "group": "prodarch", "sender": speaker, "sender_name": "李东衡-关天数据-产品-上海",
         "sent_at": "2018-05-19T23:59:59+08:00", "kind": "text", "text": "晚安 <b>各位</b>", "url": "", "image": None},
        {"id": cast.link.pk, "group": "prodarch",
         "sender": {"id": cast.member.member.pk, "display_name": "王芳-云汇支付-架构"}, "sender_name": "王芳-云汇支付-架构",
         "sent_at": "2018-05-20T19:30:00+08:00", "kind": "link", "text": "清结算",
         "url": "https://example.com/a?b=1&c=2", "image": None},
        {"id": cast.image.pk, "group": "prodarch", "sender": None, "sender_name": "已退群的人",
         "sent_at": "2018-05-20T19:31:00+08:00", "kind": "image", "text": "", "url": "https://img.example.com/x.png",
         "image": f"http://testserver/images/{cast.image.pk}/"},
        {"id": cast.next_day.pk, "group": "prodarch", "sender": speaker, "sender_name": "李东衡-关天数据-产品-上海",
         "sent_at": "2018-05-21T00:00:00+08:00", "kind": "text", "text": "早", "url": "", "image": None},
    ]}


@pytest.mark.parametrize("role", ROLES)
def test_message_list_permissions(cast, role):
    response = client_for(cast, role).get(URL, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    if role in ("anonymous", "outsider", "other_admin"):
        assert (response.status_code, response.json()) == (403, {"detail": (
            "Authentication credentials were not provided." if role == "anonymous"
            else "Only the group's members read its messages.")})
    else:
        assert ids(response) == [cast.late.pk, cast.link.pk, cast.image.pk, cast.next_day.pk]


@pytest.mark.parametrize(("params", "expected"), [
    ({"member": "speaker"}, ["late", "next_day"]),
    ({"kind": "link"}, ["link"]),
    ({"text": "清结"}, ["link"]),
    ({"text": "<B>"}, ["late"]),
    # A day is taken in the group's zone: the 20th starts at 00:00 in Shanghai (16:00 UTC on the 19th).
    ({"since": "2018-05-20"}, ["link", "image", "next_day"]),
    ({"until": "2018-05-20"}, ["late", "link", "image"]),
    ({"since": "2018-05-20", "until": "2018-05-20"}, ["link", "image"]),
    # A moment without an offset is in the group's zone; with one, as given; both ends included.
    ({"since": "2018-05-20T19:30", "until": "2018-05-20T19:31:00"}, ["link", "image"]),
    ({"since": "2018-05-20T11:30:30+00:00"}, ["image", "next_day"]),
    ({"until": "2018-05-19T15:59:59Z"}, ["late"]),
])
def test_message_list_filters(cast, params, expected):
    if params.get("member") == "speaker":
        params = {**params, "member": cast.speaker.member.pk}

    response = client_for(cast, "member").get(URL, {"group": "prodarch", **params})

    assert ids(response) == [getattr(cast, name).pk for name in expected]


@pytest.mark.parametrize(("params", "errors"), [
    ({}, {"group": ["This filter is required."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"group": "prodarch", "member": "王芳"}, {"member": ["Enter a number."]}),
    ({"group": "prodarch", "kind": "voice"}, {"kind": ["Select a valid choice. voice is not one of the available choices."]}),
    ({"group": "prodarch", "since": "yesterday"}, {"since": [
        "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS][+08:00])."]}),
    ({"group": "prodarch", "until": "2018-02-30"}, {"until": [
        "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time (YYYY-MM-DDTHH:MM[:SS][+08:00])."]}),
    ({"group": "prodarch", "since": "0001-01-01"}, {"since": ["Enter a moment between the years 1970 and 2100."]}),
])
def test_message_list_bad_parameters_are_400_naming_the_field(cast, params, errors):
    response = client_for(cast, "member").get(URL, params, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def test_message_list_pages_of_up_to_500(cast):
    Message.objects.bulk_create([
        Message(group=cast.group, sender_name="机器人", sent_at=at("2018-06-01", f"{n // 60:02d}:{n % 60:02d}"),
                text=str(n), key=f"bulk-{n}")
        for n in range(500)
    ])
    client = client_for(cast, "member")

    page = client.get(URL, {"group": "prodarch", "page_size": 1000}).json()
    second = client.get(URL, {"group": "prodarch", "page_size": 1000, "page": 2}).json()

    assert (page["count"], len(page["results"]), page["next"]) == (
        504, 500, "http://testserver/api/messages/?group=prodarch&page=2&page_size=1000")
    assert [item["text"] for item in second["results"]] == ["496", "497", "498", "499"]


@pytest.mark.parametrize("items", [1, 3])
def test_message_list_query_count(django_assert_num_queries, items):
    cast = make_cast()
    for n in range(items):
        message = make_message(cast.group, cast.speaker.member, at("2018-05-20", f"19:3{n}"), f"第{n}条",
                               kind=MessageKind.IMAGE)
        StoredImage.objects.create(message=message, file=f"images/2018/05/{n}.png")
    make_message(make_group(), cast.speaker.member, at("2018-05-20"))
    client = client_for(cast, "member")

    # session, user, the group with the user's member and role, the FilterSet's group, count, the page
    with django_assert_num_queries(7):
        response = client.get(URL, {"group": "prodarch", "member": cast.speaker.member.pk, "kind": "image"})

    assert response.json()["count"] == items


def test_message_list_reads_a_group_through_its_time_index(cast):
    # Enough rows, in two groups, for the planner to prefer an index to a scan and a sort.
    for group in (cast.group, cast.other_group):
        Message.objects.bulk_create([
            Message(group=group, sender_name="机器人", sent_at=at("2018-01-01") + dt.timedelta(minutes=n),
                    text=str(n), key=f"bulk-{n}") for n in range(5000)
        ])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE community_message")
    index = next(index.name for index in Message._meta.indexes if index.fields == ["group", "sent_at"])
    filterset = MessageFilter({"group": "prodarch", "since": "2018-01-02"}, queryset=messages_of_groups())
    assert filterset.is_valid()

    plan = filterset.qs[:50].explain()

    assert index in plan
