"""Days and ids a page cannot have are a 400 or a 404, never a 500: the three addresses of the
issue (a day in year 1, a member id over 2^64, a week in year 9999) and their neighbours. The
fuzz tests (``tests/test_pages_fuzz.py``, ``tests/test_api_hostile.py``) ask every page and
operation the same."""

import datetime as dt
import json
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from community.models import MessageKind, StoredImage
from shares.models import Share, ShareStatus
from tests.factories import at, client_for, make_cast, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = make_cast()
    make_message(world.group, world.member.member, at("2018-05-20", "19:30"), "清结算")
    return world


def shanghai_today() -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()


@pytest.mark.parametrize(("day", "status"), [
    ("0001-01-01", 404), ("9999-12-31", 404), ("1999-12-31", 404), ("2000-01-01", 200), ("2018-05-20", 200),
    ("tomorrow", 200), ("the day after tomorrow", 404),
])
def test_the_day_page_answers_404_for_a_day_no_record_can_have(world, day, status):
    offsets = {"tomorrow": 1, "the day after tomorrow": 2}
    if day in offsets:
        day = (shanghai_today() + dt.timedelta(days=offsets[day])).isoformat()

    response = client_for(world, "member").get(f"/g/prodarch/days/{day}/")

    assert response.status_code == status


TOO_LARGE = "Ensure this value is less than or equal to 9223372036854775807."


@pytest.mark.parametrize(("member", "errors"), [
    ("99999999999999999999", [TOO_LARGE]),
    ("9223372036854775808", [TOO_LARGE]),
    ("-1", ["Ensure this value is greater than or equal to 1."]),
    ("1.5", ["Ensure that there are no more than 0 decimal places."]),
    # django-filter's own bound on numbers is said too.
    ("1e309", [TOO_LARGE, "Ensure this value is less than or equal to 1e+50."]),
])
def test_the_messages_api_answers_400_for_a_member_id_no_row_can_have(world, member, errors):
    response = client_for(world, "member").get(reverse("api:message-list"), {"group": "prodarch", "member": member},
                                               HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, {"member": errors})


def test_the_messages_api_takes_the_largest_id(world):
    response = client_for(world, "member").get(reverse("api:message-list"),
                                               {"group": "prodarch", "member": str(2**63 - 1)})

    assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_the_week_text_answers_400_for_a_week_out_of_range_and_shows_this_week(world, start):
    response = client_for(world, "admin").get(reverse("shares:week_text", args=["prodarch"]), {"start": start},
                                              HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    today = shanghai_today()
    assert response.context["week_start"] == today - dt.timedelta(days=today.weekday())
    assert [str(message) for message in response.context["messages"]] == [
        "Pick a day between 2000-01-01 and 2100-12-31."]


@pytest.mark.parametrize("start", ["2000-01-01", "2100-12-31"])
def test_the_week_text_takes_the_edges_of_the_range(world, start):
    response = client_for(world, "admin").get(reverse("shares:week_text", args=["prodarch"]), {"start": start})

    assert response.status_code == 200


@pytest.mark.parametrize("message_id", ["99999999999999999999", "9223372036854775808"])
def test_a_stored_image_id_beyond_64_bits_is_404(world, message_id):
    image = make_message(world.group, None, at("2018-05-20", "19:31"), "", kind=MessageKind.IMAGE)
    StoredImage.objects.create(message=image, file="images/2018/05/x.png")

    response = client_for(world, "member").get(f"/images/{message_id}/")

    assert response.status_code == 404


# --- Days in a share's writes (bodies, not addresses: the same overflow) ---

def api(client, name, pk=None, body=None):
    return client.post(reverse(name, args=[pk] if pk else []), data=json.dumps(body), content_type="application/json",
                       HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize(("date", "time"), [("0001-01-01", "00:00"), ("9999-12-31", "23:30"), ("1999-12-31", "19:30"),
                                            ("2101-01-01", "19:30")])
def test_scheduling_a_share_on_a_day_out_of_range_is_400_and_the_share_page_stays_readable(world, date, time):
    share = Share.objects.create(group=world.group, speaker=world.speaker.member, topic="跨境收单",
                                 status=ShareStatus.PROPOSED)

    response = api(client_for(world, "admin"), "api:share-schedule", share.pk, {"date": date, "time": time})

    assert (response.status_code, response.json()) == (400, {"date": ["Pick a day between 2000-01-01 and 2100-12-31."]})
    assert Share.objects.filter(pk=share.pk).values_list("status", "day", "version").get() == (
        ShareStatus.PROPOSED, None, 1)
    page = client_for(world, "admin").get(reverse("shares:share_detail", args=["prodarch", share.pk]))
    assert page.status_code == 200


def test_the_schedule_form_refuses_a_day_out_of_range(world):
    share = Share.objects.create(group=world.group, speaker=world.speaker.member, topic="跨境收单",
                                 status=ShareStatus.PROPOSED)

    response = client_for(world, "admin").post(reverse("shares:share_schedule", args=["prodarch", share.pk]),
                                               {"day": "0001-01-01", "time": "00:00", "overlap_reason": ""},
                                               HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == [
        "Pick a day between 2000-01-01 and 2100-12-31."]
    assert Share.objects.get(pk=share.pk).status == ShareStatus.PROPOSED


def test_a_preferred_day_out_of_range_is_400(world):
    response = api(client_for(world, "member"), "api:share-list", body={
        "group": "prodarch", "topic": "支付路由", "preferred_days": ["9999-12-31"]})

    assert (response.status_code, response.json()) == (
        400, {"preferred_days": ["Pick a day between 2000-01-01 and 2100-12-31."]})
    assert not Share.objects.filter(topic="支付路由").exists()
