"""The share writes of the API — register, schedule, cancel, edit, sign in — through the services:
what they write, the 400s naming the field (nothing written), CSRF and token authentication."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from shares.models import Share, ShareRevision, ShareStatus, SignIn
from tests.factories import make_cast, make_share
from tests.shares.test_api_matrix import client_for, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    cast = make_cast()
    cast.today = timezone.now().astimezone(cast.group.tz).date()
    cast.proposed = Share.objects.create(group=cast.group, speaker=cast.speaker.member, topic="跨境收单",
                                         status=ShareStatus.PROPOSED)
    return cast


def post(client, name, pk=None, body=None, method="POST"):
    url = reverse(name, args=[pk] if pk is not None else [])
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json",
                          HTTP_ACCEPT_LANGUAGE="en")


def days_from_today(cast, *offsets) -> list[str]:
    return [(cast.today + dt.timedelta(days=n)).isoformat() for n in offsets]


# --- Register ---


def test_register_own_share(cast):
    response = post(client_for(cast, "member"), "api:share-list", body={
        "group": "prodarch", "topic": " 支付路由 ", "abstract": "要点", "preferred_days": days_from_today(cast, 9, 2),
    })

    share = Share.objects.get(topic="支付路由")
    assert response.status_code == 201
    assert response.json() == {
        "id": share.pk, "group": "prodarch", "date": None, "topic": "支付路由", "topic_source": "speaker", "given_in": None,
        "speaker": {"id": cast.member.member.pk, "display_name": "王芳-云汇支付-架构", "names": []},
        "status": "proposed", "scheduled_for": None, "started_at": None, "ended_at": None,
        "visibility": "members", "origin": "web", "sign_in_count": 0, "abstract": "要点", "version": 1,
        "preferred_days": days_from_today(cast, 2, 9), "sign_ins": [], "talk": None,
    }
    assert list(share.revisions.values_list("action", "author")) == [("registered", cast.member.user.pk)]


def test_admin_registers_for_another_member(cast):
    response = post(client_for(cast, "admin"), "api:share-list", body={
        "group": "prodarch", "speaker": cast.member.member.pk, "topic": "风控", "preferred_days": days_from_today(cast, 1),
    })

    assert (response.status_code, response.json()["speaker"]["id"]) == (201, cast.member.member.pk)


@pytest.mark.parametrize(("role", "change", "errors"), [
    ("member", {"preferred_days": ["2018-05-20"]}, {"preferred_days": ["Pick a day from today on."]}),
    ("member", {"preferred_days": []}, {"preferred_days": ["Ensure this field has at least 1 elements."]}),
    ("member", {"preferred_days": "4 days"}, {"preferred_days": ['Expected a list of items but got type "str".']}),
    ("member", {"topic": ""}, {"topic": ["This field may not be blank."]}),
    ("member", {"topic": "长" * 301}, {"topic": ["Ensure this field has no more than 300 characters."]}),
    ("member", {"group": "nope"}, {"group": ["No group has this slug."]}),
    ("admin", {"speaker": "outsider"}, {"speaker": ["The speaker is not an active member of this group."]}),
    ("admin", {"speaker": 999999}, {"speaker": ['Invalid pk "999999" - object does not exist.']}),
    ("staff", {}, {"speaker": ["Your login has no member: name the speaker."]}),
])
def test_register_bad_input_is_400_naming_the_field_and_writes_nothing(cast, role, change, errors):
    body = {"group": "prodarch", "topic": "风控", "preferred_days": days_from_today(cast, 1, 2, 3), **change}
    if body.get("speaker") == "outsider":
        body["speaker"] = cast.outsider.member.pk
    before = state()

    response = post(client_for(cast, role), "api:share-list", body=body)

    assert (response.status_code, response.json()) == (400, errors)
    assert state() == before


def test_register_four_preferred_days_is_400(cast):
    response = post(client_for(cast, "member"), "api:share-list", body={
        "group": "prodarch", "topic": "风控", "preferred_days": days_from_today(cast, 1, 2, 3, 4),
    })

    assert (response.status_code, response.json()) == (
        400, {"preferred_days": ["Ensure this field has no more than 3 elements."]},
    )


# --- Schedule ---


def test_schedule_a_proposed_share(cast):
    day = cast.today + dt.timedelta(days=7)

    response = post(client_for(cast, "admin"), "api:share-schedule", cast.proposed.pk, {"date": day.isoformat()})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["date"], response.json()["scheduled_for"],
            response.json()["version"]) == ("scheduled", day.isoformat(), f"{day.isoformat()}T19:30:00+08:00", 2)
    cast.speaker.membership.refresh_from_db()
    assert cast.speaker.membership.next_share_at == dt.datetime.combine(day, dt.time(19, 30), tzinfo=cast.group.tz)


def test_schedule_on_a_taken_evening_needs_a_reason(cast):
    day = cast.today + dt.timedelta(days=7)
    other = make_share(cast.group, cast.member.member, topic="先来的", status=ShareStatus.SCHEDULED,
                       start=dt.datetime.combine(day, dt.time(19, 30), tzinfo=cast.group.tz))
    client = client_for(cast, "admin")
    before = state()

    refused = post(client, "api:share-schedule", cast.proposed.pk, {"date": day.isoformat(), "time": "21:00"})

    assert (refused.status_code, refused.json()) == (400, {"date": [
        f"{day.isoformat()} already has a share: “先来的” by 王芳-云汇支付-架构 (#{other.pk}). "
        "Give a reason to schedule a second one."
    ]})
    assert state() == before
    accepted = post(client, "api:share-schedule", cast.proposed.pk,
                    {"date": day.isoformat(), "time": "21:00", "overlap_reason": "两位嘉宾"})
    assert (accepted.status_code, accepted.json()["scheduled_for"]) == (200, f"{day.isoformat()}T21:00:00+08:00")


@pytest.mark.parametrize(("body", "errors"), [
    ({}, {"date": ["This field is required."]}),
    ({"date": "next monday"}, {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"date": "2030-01-07", "time": "7pm"},
     {"time": ["Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."]}),
])
def test_schedule_bad_input_is_400(cast, body, errors):
    before = state()

    response = post(client_for(cast, "admin"), "api:share-schedule", cast.proposed.pk, body)

    assert (response.status_code, response.json()) == (400, errors)
    assert state() == before


def test_schedule_a_delivered_talk_is_refused(cast):
    talk = make_share(cast.group, cast.speaker.member)
    before = state()

    response = post(client_for(cast, "admin"), "api:share-schedule", talk.pk, {"date": "2030-01-07"})

    assert (response.status_code, response.json()) == (
        400, {"detail": "Only a proposed or scheduled share can be scheduled."},
    )
    assert state() == before


# --- Cancel ---


def test_speaker_cancels_own_share_with_a_reason(cast):
    response = post(client_for(cast, "speaker"), "api:share-cancel", cast.proposed.pk, {"reason": "出差"})

    assert (response.status_code, response.json()["status"], response.json()["version"]) == (200, "cancelled", 2)
    assert ShareRevision.objects.filter(share=cast.proposed).values_list("action", "note").first() == ("cancelled", "出差")


def test_cancel_twice_is_400(cast):
    client = client_for(cast, "speaker")
    post(client, "api:share-cancel", cast.proposed.pk)
    before = state()

    response = post(client, "api:share-cancel", cast.proposed.pk)

    assert (response.status_code, response.json()) == (
        400, {"detail": "Only a proposed or scheduled share can be cancelled."},
    )
    assert state() == before


# --- Edit ---


def test_edit_changes_only_the_fields_given(cast):
    response = post(client_for(cast, "speaker"), "api:share-detail", cast.proposed.pk,
                    {"abstract": "新的摘要", "version": 1}, method="PATCH")

    assert response.status_code == 200
    assert (response.json()["topic"], response.json()["abstract"], response.json()["visibility"],
            response.json()["version"]) == ("跨境收单", "新的摘要", "members", 2)


def test_edit_against_an_old_version_is_a_conflict_and_writes_nothing(cast):
    client = client_for(cast, "speaker")
    post(client, "api:share-detail", cast.proposed.pk, {"topic": "第一次", "version": 1}, method="PATCH")
    before = state()

    response = post(client_for(cast, "admin"), "api:share-detail", cast.proposed.pk,
                    {"topic": "第二次", "version": 1}, method="PATCH")

    assert (response.status_code, response.json()) == (409, {"version": [
        "Someone changed this share while you were editing it (it is now version 2). "
        "Nothing was saved: check the current text, then save again."
    ]})
    assert state() == before


@pytest.mark.parametrize(("body", "errors"), [
    ({"topic": "x"}, {"version": ["This field is required."]}),
    ({"visibility": "secret", "version": 1}, {"visibility": ['"secret" is not a valid choice.']}),
    ({"topic": "", "version": 1}, {"topic": ["This field may not be blank."]}),
])
def test_edit_bad_input_is_400(cast, body, errors):
    before = state()

    response = post(client_for(cast, "speaker"), "api:share-detail", cast.proposed.pk, body, method="PATCH")

    assert (response.status_code, response.json()) == (400, errors)
    assert state() == before


# --- Sign in ---


@pytest.fixture
def starting(cast):
    """A scheduled share of the group that starts in five minutes: sign-in is open."""
    return make_share(cast.group, cast.speaker.member, status=ShareStatus.SCHEDULED,
                      start=timezone.now() + dt.timedelta(minutes=5))


def test_sign_in_while_open(cast, starting):
    response = post(client_for(cast, "member"), "api:share-sign-in", starting.pk)

    sign_in = SignIn.objects.get(share=starting)
    assert response.status_code == 201
    assert (response.json()["sign_in_count"], response.json()["sign_ins"]) == (1, [{
        "id": sign_in.pk, "share": starting.pk, "group": "prodarch",
        "member": {"id": cast.member.member.pk, "display_name": "王芳-云汇支付-架构"},
        "signed_at": sign_in.signed_at.astimezone(cast.group.tz).isoformat(), "source": "web",
    }])


def test_sign_in_twice_is_400(cast, starting):
    client = client_for(cast, "member")
    post(client, "api:share-sign-in", starting.pk)
    before = state()

    response = post(client, "api:share-sign-in", starting.pk)

    assert (response.status_code, response.json()) == (400, {"detail": "You have already signed in."})
    assert state() == before


def test_sign_in_before_it_opens_says_when(cast):
    start = dt.datetime(2030, 1, 7, 19, 30, tzinfo=cast.group.tz)
    share = make_share(cast.group, cast.speaker.member, status=ShareStatus.SCHEDULED, start=start)

    response = post(client_for(cast, "member"), "api:share-sign-in", share.pk)

    assert (response.status_code, response.json()) == (
        400, {"detail": "Sign-in opens at 2030-01-07 19:15 (Asia/Shanghai)."},
    )
    assert SignIn.objects.count() == 0


# --- CSRF and tokens ---


def test_session_write_without_csrf_token_is_refused(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.speaker.user)
    before = state()

    response = post(client, "api:share-cancel", cast.proposed.pk, {"reason": "出差"})

    assert (response.status_code, response.json()) == (403, {"detail": "CSRF Failed: CSRF cookie not set."})
    assert state() == before


def test_token_write_needs_no_csrf_token(cast):
    token = Token.objects.create(user=cast.speaker.user)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")

    response = post(client, "api:share-cancel", cast.proposed.pk, {"reason": "出差"})

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_bad_token_is_refused(cast):
    client = Client(HTTP_AUTHORIZATION="Token not-a-token")
    before = state()

    response = post(client, "api:share-cancel", cast.proposed.pk, {"reason": "出差"})

    # 403, not 401: session authentication comes first, and it sends no WWW-Authenticate challenge.
    assert (response.status_code, response.json()) == (403, {"detail": "Invalid token."})
    assert state() == before


def test_a_member_of_another_group_cannot_register_there(cast):
    before = state()

    response = post(client_for(cast, "outsider"), "api:share-list", body={
        "group": "prodarch", "topic": "风控", "preferred_days": days_from_today(cast, 1),
    })

    assert (response.status_code, response.json()) == (
        403, {"detail": "Only the group's members may register a share."},
    )
    assert state() == before
