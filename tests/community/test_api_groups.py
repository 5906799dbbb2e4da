"""GET /api/groups/, GET and PATCH /api/groups/<slug>/: every group with its seats and rules;
its admins (and staff) change its settings through the settings page's service."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from community.models import DEFAULT_ANNOUNCEMENT, AuditEntry, Group, MembershipStatus
from community.selectors import seats_of_group
from tests.factories import ROLES, client_for, make_cast, make_group, make_membership, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("api:group-list")
DETAIL = reverse("api:group-detail", kwargs={"slug": "prodarch"})


def group_json(group: Group, **seats) -> dict:
    return {
        "slug": group.slug, "name": group.name, "description": "", "time_zone": "Asia/Shanghai",
        "seats": {"capacity": 500, "active": 0, "pending": 0, "free": 500, **seats},
        "share_time": "19:30:00", "sign_in_lead_minutes": 15, "announcement_template": DEFAULT_ANNOUNCEMENT,
        "silence_days": 60, "never_shared_grace_days": 60, "hosting_counts_as_sharing": True,
        "nickname_form": "姓名-公司-岗位[-地区]",
        "nickname_reminders": 2, "nickname_grace_days": 7,
    }


@pytest.fixture
def cast():
    return make_cast()


def test_group_list_shows_every_group_by_name_with_seats_and_rules(cast):
    make_membership(cast.group, status=MembershipStatus.PENDING)
    make_membership(cast.group, status=MembershipStatus.LEFT)

    response = client_for(cast, "member").get(LIST)

    assert response.status_code == 200
    # 支付产品群 sorts before 支付开发群 (产 U+4EA7 < 开 U+5F00).
    assert response.json() == {
        "count": 2, "next": None, "previous": None,
        "results": [
            group_json(cast.group, active=3, pending=1, free=496),
            group_json(cast.other_group, active=2, free=498),
        ],
    }


def test_group_detail_seats_are_those_of_the_seats_page(cast):
    cast.group.capacity = 4
    cast.group.save()
    make_membership(cast.group, status=MembershipStatus.PENDING)
    make_membership(cast.group, status=MembershipStatus.PENDING)  # 3 active + 2 pending > 4: none free

    response = client_for(cast, "outsider").get(DETAIL)

    assert response.json()["seats"] == seats_of_group(group=cast.group) == {
        "capacity": 4, "active": 3, "pending": 2, "free": 0,
    }


def test_group_detail_of_an_unknown_group_is_404(cast):
    response = client_for(cast, "member").get(reverse("api:group-detail", kwargs={"slug": "nope"}))

    assert (response.status_code, response.json()) == (404, {"detail": "No Group matches the given query."})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", [LIST, DETAIL])
def test_group_read_permissions(cast, role, url):
    response = client_for(cast, role).get(url, HTTP_ACCEPT_LANGUAGE="en")

    if role == "anonymous":
        assert (response.status_code, response.json()) == (
            403, {"detail": "Authentication credentials were not provided."})
    else:
        assert response.status_code == 200
        assert (response.json()["results"][0] if url == LIST else response.json()) == group_json(cast.group, active=3,
                                                                                                   free=497)


@pytest.mark.parametrize("role", ROLES)
def test_group_patch_permissions(cast, role):
    response = client_for(cast, role).patch(DETAIL, {"silence_days": 90, "reason": "群已不满员"},
                                            content_type="application/json")

    allowed = role in ("admin", "staff")
    assert response.status_code == (200 if allowed else 403)
    assert Group.objects.get(pk=cast.group.pk).silence_days == (90 if allowed else 60)
    assert AuditEntry.objects.filter(action="rules_changed").count() == (1 if allowed else 0)


def test_group_patch_changes_the_rules_and_audits_them_with_the_reason(cast):
    response = client_for(cast, "admin").patch(
        DETAIL, {"silence_days": 90, "nickname_reminders": 3, "share_time": "20:00", "reason": "群已不满员"},
        content_type="application/json",
    )

    assert response.json() == {**group_json(cast.group, active=3, free=497), "silence_days": 90,
                               "nickname_reminders": 3, "share_time": "20:00:00"}
    entry = AuditEntry.objects.get()
    assert (entry.group, entry.actor, entry.action, entry.reason, entry.details) == (
        cast.group, cast.admin.user, "rules_changed", "群已不满员",
        {"silence_days": [60, 90], "nickname_reminders": [2, 3]},
    )


def test_group_patch_without_a_change_of_the_rules_writes_no_audit_entry(cast):
    response = client_for(cast, "admin").patch(DETAIL, {"description": "产品架构"}, content_type="application/json")

    assert response.json()["description"] == "产品架构"
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(("body", "errors"), [
    ({"silence_days": 0}, {"silence_days": ["Ensure this value is greater than or equal to 1."]}),
    ({"nickname_reminders": 11}, {"nickname_reminders": ["Ensure this value is less than or equal to 10."]}),
    ({"share_time": "25:00"}, {"share_time": [
        "Time has wrong format. Use one of these formats instead: hh:mm[:ss[.uuuuuu]]."]}),
    ({"reason": "x" * 301}, {"reason": ["Ensure this field has no more than 300 characters."]}),
    ({"silence_days": 90, "announcement_template": "{speaker} 分享"},
     {"announcement_template": ["The announcement template must contain {topic}、{start}."]}),
])
def test_group_patch_refuses_a_bad_value_naming_the_field_and_changes_nothing(cast, body, errors):
    response = client_for(cast, "admin").patch(DETAIL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)
    group = Group.objects.get(pk=cast.group.pk)
    assert (group.silence_days, group.nickname_reminders, group.announcement_template) == (60, 2, DEFAULT_ANNOUNCEMENT)
    assert AuditEntry.objects.count() == 0


def test_group_patch_of_an_unknown_group_is_404(cast):
    response = client_for(cast, "staff").patch(reverse("api:group-detail", kwargs={"slug": "nope"}),
                                               {"silence_days": 90}, content_type="application/json")

    assert response.status_code == 404


def test_group_patch_with_a_session_needs_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin.user)

    response = client.patch(DETAIL, {"silence_days": 90}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (403, {"detail": "CSRF Failed: CSRF cookie not set."})
    assert Group.objects.get(pk=cast.group.pk).silence_days == 60


def test_group_patch_with_a_token_needs_no_csrf_token(cast):
    token = Token.objects.create(user=cast.admin.user)
    client = Client(enforce_csrf_checks=True, headers={"authorization": f"Token {token.key}"})

    response = client.patch(DETAIL, {"silence_days": 90, "reason": "工具"}, content_type="application/json")

    assert (response.status_code, response.json()["silence_days"]) == (200, 90)
    assert AuditEntry.objects.get().actor == cast.admin.user


@pytest.mark.parametrize("groups", [1, 3])
def test_group_list_query_count(django_assert_num_queries, groups):
    client = Client()
    client.force_login(make_user())
    for _ in range(groups):
        group = make_group()
        make_membership(group)
        make_membership(group, status=MembershipStatus.PENDING)

    # session, user, count, groups with their seats
    with django_assert_num_queries(4):
        response = client.get(LIST)

    assert len(response.json()["results"]) == groups
