"""GET /api/shares/ and /api/shares/<id>/: what each user reads, the filters, the talk's content,
constant queries."""

import datetime as dt

import pytest
from django.urls import reverse

from community.models import MessageKind, Visibility
from shares.models import SharePreferredDate, ShareStatus, TalkMessage, TalkPart
from tests.factories import at, make_cast, make_member, make_message, make_share, make_sign_in
from tests.shares.test_api_matrix import client_for

pytestmark = pytest.mark.django_db

LIST = reverse("api:share-list")


def detail_url(share) -> str:
    return reverse("api:share-detail", args=[share.pk])


def add_talk(share, rows):
    """Messages of the talk's day as its talk rows: ``rows`` are (sender, "HH:MM:SS", part, fields)."""
    messages = []
    for sender, time, part, fields in rows:
        message = make_message(share.group, sender, at(share.day.isoformat(), time), **fields)
        TalkMessage.objects.create(share=share, message=message, part=part)
        messages.append(message)
    return messages


@pytest.fixture
def cast():
    return make_cast()


def test_share_detail_of_a_talk_shows_sign_ins_and_the_talk_in_the_group_time_zone(cast):
    speaker, member = cast.speaker.member, cast.member.member
    talk = make_share(cast.group, speaker, topic="新疆本地市场的多元化金融业务", start=at("2018-05-20", "19:30"),
                      abstract="**三点**")
    sign_in = make_sign_in(talk, member, signed_at=at("2018-05-20", "19:25"))
    first, aside, empty, link, question = add_talk(talk, [
        (speaker, "19:30:05", TalkPart.TALK, {"text": "大家好<b>"}),
        (member, "19:31:00", TalkPart.INTERRUPTION, {"text": "[鼓掌]"}),
        (speaker, "19:32:00", TalkPart.TALK, {"text": "", "kind": MessageKind.EMPTY}),
        (speaker, "19:40:00", TalkPart.TALK, {"text": "资料", "kind": MessageKind.LINK,
                                              "url": "javascript:alert(1)"}),
        (None, "20:10:00", TalkPart.QA, {"text": "请问", "sender_name": "未知的人"}),
    ])

    response = client_for(cast, "member").get(detail_url(talk))

    assert response.status_code == 200
    assert response.json() == {
        "id": talk.pk,
        "group": "prodarch",
        "date": "2018-05-20",
        "topic": "新疆本地市场的多元化金融业务",
        "topic_source": "announcement",
        "given_in": None,
        "speaker": {"id": speaker.pk, "display_name": "李东衡-关天数据-产品-上海", "names": []},
        "status": "delivered",
        "scheduled_for": "2018-05-20T19:30:00+08:00",
        "started_at": "2018-05-20T19:30:00+08:00",
        "ended_at": "2018-05-20T20:30:00+08:00",
        "visibility": "members",
        "origin": "import",
        "sign_in_count": 0,
        "abstract": "**三点**",
        "version": 1,
        "preferred_days": [],
        "sign_ins": [{
            "id": sign_in.pk, "share": talk.pk, "group": "prodarch",
            "member": {"id": member.pk, "display_name": "王芳-云汇支付-架构"},
            "signed_at": "2018-05-20T19:25:00+08:00", "source": "web",
        }],
        "talk": [
            {"id": first.pk, "part": "talk", "sender_id": speaker.pk, "sender": "李东衡-关天数据-产品-上海",
             "sent_at": "2018-05-20T19:30:05+08:00", "kind": "text", "text": "大家好<b>", "url": ""},
            {"id": aside.pk, "part": "interruption", "sender_id": member.pk, "sender": "王芳-云汇支付-架构",
             "sent_at": "2018-05-20T19:31:00+08:00", "kind": "text", "text": "[鼓掌]", "url": ""},
            {"id": link.pk, "part": "talk", "sender_id": speaker.pk, "sender": "李东衡-关天数据-产品-上海",
             "sent_at": "2018-05-20T19:40:00+08:00", "kind": "link", "text": "资料", "url": ""},
            {"id": question.pk, "part": "qa", "sender_id": None, "sender": "未知的人",
             "sent_at": "2018-05-20T20:10:00+08:00", "kind": "text", "text": "请问", "url": ""},
        ],
    }
    assert empty.pk not in [row["id"] for row in response.json()["talk"]]


def test_share_detail_talk_times_follow_the_group_time_zone_and_keep_http_links(cast):
    cast.group.time_zone = "Europe/Paris"
    cast.group.save()
    talk = make_share(cast.group, cast.speaker.member, start=at("2018-05-20", "19:30"))
    (link,) = add_talk(talk, [(cast.speaker.member, "19:40:00", TalkPart.TALK,
                               {"text": "资料", "kind": MessageKind.LINK, "url": "https://example.com/a?b=1"})])

    row = client_for(cast, "member").get(detail_url(talk)).json()["talk"][0]

    assert (row["id"], row["sent_at"], row["url"]) == (link.pk, "2018-05-20T13:40:00+02:00", "https://example.com/a?b=1")


def test_share_detail_of_a_proposed_share_shows_preferred_days_and_no_talk(cast):
    share = cast.group.shares.create(speaker=cast.speaker.member, topic="跨境收单", status=ShareStatus.PROPOSED)
    SharePreferredDate.objects.create(share=share, day=dt.date(2030, 1, 9))
    SharePreferredDate.objects.create(share=share, day=dt.date(2030, 1, 7))

    data = client_for(cast, "member").get(detail_url(share)).json()

    assert (data["status"], data["date"], data["scheduled_for"], data["preferred_days"], data["talk"], data["sign_ins"]) == (
        "proposed", None, None, ["2030-01-07", "2030-01-09"], None, [],
    )


@pytest.mark.parametrize(("role", "seen"), [
    ("member", ["member"]), ("speaker", ["speaker"]), ("admin", ["member", "speaker"]), ("staff", ["member", "speaker"]),
])
def test_share_detail_of_a_scheduled_share_lists_every_sign_in_to_admins_only_else_ones_own(cast, role, seen):
    share = make_share(cast.group, cast.speaker.member, status=ShareStatus.SCHEDULED, start=at("2030-01-07"))
    make_sign_in(share, cast.member.member)
    make_sign_in(share, cast.speaker.member)

    data = client_for(cast, role).get(detail_url(share)).json()

    assert [row["member"]["id"] for row in data["sign_ins"]] == [getattr(cast, who).member.pk for who in seen]


def test_share_detail_of_a_public_talk_lists_its_sign_ins_to_anyone(cast):
    talk = make_share(cast.group, cast.speaker.member, visibility=Visibility.PUBLIC)
    make_sign_in(talk, cast.member.member)

    data = client_for(cast, "anonymous").get(detail_url(talk)).json()

    assert [row["member"] for row in data["sign_ins"]] == [
        {"id": cast.member.member.pk, "display_name": "王芳-云汇支付-架构"},
    ]


@pytest.mark.parametrize("messages", [3, 30])
def test_share_detail_query_count_does_not_grow_with_the_talk(cast, django_assert_num_queries, messages):
    talk = make_share(cast.group, cast.speaker.member, start=at("2018-05-20", "19:30"))
    add_talk(talk, [(cast.speaker.member, f"19:{30 + n // 60:02d}:{n % 60:02d}", TalkPart.TALK, {"text": f"第{n}段"})
                    for n in range(messages)])
    for _ in range(messages // 3):
        make_sign_in(talk, make_member())
    client = client_for(cast, "member")

    # session, user, member; groups, admin groups and groups again of the user (visibility); the share;
    # speaker's names, preferred days, sign-ins; the user's membership (admin?); talk rows, their messages
    with django_assert_num_queries(13):
        response = client.get(detail_url(talk))

    assert (len(response.json()["talk"]), len(response.json()["sign_ins"])) == (messages, messages // 3)


@pytest.mark.parametrize("shares", [1, 3])
def test_share_list_query_count_for_a_member(cast, django_assert_num_queries, shares):
    for n in range(shares):
        make_share(cast.group, make_member(), start=at(f"2018-05-2{n}"))
        make_share(cast.group, make_member(), status=ShareStatus.SCHEDULED, start=at(f"2030-01-0{n + 1}"))
    client = client_for(cast, "member")

    # session, user, member; groups, admin groups and groups again (visibility); the group filter; count;
    # shares; names
    with django_assert_num_queries(10):
        response = client.get(LIST, {"group": "prodarch"})

    assert response.json()["count"] == 2 * shares


def test_share_list_filtered_by_year_and_month(cast):
    speaker = cast.speaker.member
    wanted = make_share(cast.group, speaker, start=at("2018-05-20"))
    make_share(cast.group, speaker, start=at("2018-06-20"))
    make_share(cast.group, speaker, start=at("2019-05-20"))

    response = client_for(cast, "member").get(LIST, {"year": "2018", "month": "5"})

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


@pytest.mark.parametrize(("query", "errors"), [
    ({"status": "done"}, {"status": ["Select a valid choice. done is not one of the available choices."]}),
    ({"visibility": "secret"}, {"visibility": ["Select a valid choice. secret is not one of the available choices."]}),
    ({"date_from": "20.5.2018"}, {"date_from": ["Enter a valid date."]}),
    ({"date_to": "2018-13-01"}, {"date_to": ["Enter a valid date."]}),
    ({"speaker": "nobody"}, {"speaker": ["Select a valid choice. That choice is not one of the available choices."]}),
    ({"year": "1999"}, {"year": ["Select a valid choice. 1999 is not one of the available choices."]}),
    ({"month": "13"}, {"month": ["Select a valid choice. 13 is not one of the available choices."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
])
def test_share_list_bad_filter_is_400_naming_the_field(cast, query, errors):
    make_share(cast.group, cast.speaker.member, start=at("2018-05-20"))

    response = client_for(cast, "member").get(LIST, query, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def test_share_list_a_group_one_may_not_see_is_an_empty_list(cast):
    make_share(cast.group, cast.speaker.member, start=at("2018-05-20"))  # members-only

    response = client_for(cast, "outsider").get(LIST, {"group": "prodarch"})

    assert (response.status_code, response.json()["count"]) == (200, 0)


def test_share_list_page_size_up_to_500(cast):
    for day in ("2018-05-20", "2018-05-21", "2018-05-22"):
        make_share(cast.group, cast.speaker.member, start=at(day), visibility=Visibility.PUBLIC)
    client = client_for(cast, "anonymous")

    two = client.get(LIST, {"page_size": 2}).json()
    many = client.get(LIST, {"page_size": 501}).json()

    assert (two["count"], len(two["results"]), two["next"]) == (3, 2, "http://testserver/api/shares/?page=2&page_size=2")
    assert (many["count"], len(many["results"]), many["next"]) == (3, 3, None)


def test_year_filter_keeps_working_after_the_schema_was_read(cast):
    wanted = make_share(cast.group, cast.speaker.member, start=at("2018-05-20"), visibility=Visibility.PUBLIC)
    make_share(cast.group, cast.speaker.member, start=at("2019-05-20"), visibility=Visibility.PUBLIC)
    client = client_for(cast, "anonymous")
    assert client.get(reverse("api:schema")).status_code == 200  # builds the FilterSet's fields once

    shares = client.get(LIST, {"year": "2018"})
    talks = client.get(reverse("talk_list"), {"year": "2018"})

    assert [row["id"] for row in shares.json()["results"]] == [wanted.pk]
    assert [row.share.pk for row in talks.context["rows"]] == [wanted.pk]
