import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from community.models import Group
from community.services import group_settings_update
from shares.models import ShareStatus
from shares.selectors import announcement_text
from tests.factories import at, make_group, make_member, make_membership, make_share, make_user

pytestmark = pytest.mark.django_db

RULES = {"silence_days": "60", "never_shared_grace_days": "60", "nickname_reminders": "2", "nickname_grace_days": "7"}
TEMPLATE = "【分享预告】{date} {start} 由 @{speaker} 分享《{topic}》，请准时签到。"


@pytest.fixture
def world():
    group, other = make_group(slug="prodarch"), make_group(slug="devarch")
    users = {}
    for name, target, role in [("member", group, "member"), ("admin", group, "admin"),
                               ("other_member", other, "member"), ("other_admin", other, "admin")]:
        users[name] = make_user(name)
        make_membership(target, make_member(name, user=users[name]), role=role)
    users["staff"] = make_user("staff", staff=True)
    return group, users


def test_group_settings_update_by_admin_changes_the_announcement(world):
    group, users = world
    speaker = make_member("周明远")
    make_membership(group, speaker, nickname="周明远-云汇支付-产品-杭州")
    share = make_share(group, speaker, topic="跨境收单", status=ShareStatus.SCHEDULED, start=at("2030-03-04", "20:00"))
    group_settings_update(group=group, by=users["admin"], announcement_template=TEMPLATE, share_time=dt.time(20, 0))
    group.refresh_from_db()
    share.group = group
    assert group.share_time == dt.time(20, 0)
    assert announcement_text(share=share) == "【分享预告】2030-03-04 20:00 由 @周明远-云汇支付-产品-杭州 分享《跨境收单》，请准时签到。"


def test_group_settings_template_without_placeholders_rejected(world):
    group, users = world
    with pytest.raises(ValidationError) as error:
        group_settings_update(group=group, by=users["admin"], announcement_template="今晚有分享")
    assert error.value.code == "placeholders"
    assert Group.objects.get(pk=group.pk).announcement_template != "今晚有分享"


@pytest.mark.parametrize("who", ["member", "other_member", "other_admin"])
def test_group_settings_update_by_non_admin_refused(world, who):
    group, users = world
    with pytest.raises(PermissionDenied):
        group_settings_update(group=group, by=users[who], share_time=dt.time(21, 0))
    assert Group.objects.get(pk=group.pk).share_time == dt.time(19, 30)


@pytest.mark.parametrize(
    ("who", "get_status", "post_status"),
    [("anonymous", 302, 302), ("member", 403, 403), ("other_member", 403, 403), ("admin", 200, 302),
     ("other_admin", 403, 403), ("staff", 200, 302)],
)
def test_group_settings_page_permissions(world, client, who, get_status, post_status):
    group, users = world
    if who != "anonymous":
        client.force_login(users[who])
    url = "/g/prodarch/settings/"
    data = {"description": "", "share_time": "20:30", "sign_in_lead_minutes": "20", "announcement_template": TEMPLATE,
                **RULES}
    assert client.get(url).status_code == get_status
    response = client.post(url, data)
    assert response.status_code == post_status
    saved = Group.objects.get(pk=group.pk)
    assert (saved.share_time == dt.time(20, 30)) == (who in {"admin", "staff"})
    if who == "anonymous":
        assert response.url == f"/accounts/login/?next={url}"


def test_group_settings_post_needs_csrf_token(world):
    group, users = world
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["admin"])
    response = client.post("/g/prodarch/settings/", {"share_time": "20:30"})
    assert response.status_code == 403


def test_rule_change_is_audited_with_before_after_and_reason(world):
    from community.models import AuditEntry

    group, users = world
    group_settings_update(group=group, by=users["admin"], silence_days=90, nickname_reminders=2, reason="群已不满员")

    group.refresh_from_db()
    entry = AuditEntry.objects.get()
    assert group.silence_days == 90
    assert (entry.action, entry.actor, entry.reason, entry.details) == (
        "rules_changed", users["admin"], "群已不满员", {"silence_days": [60, 90]}
    )


def test_settings_change_without_rule_change_is_not_audited(world):
    from community.models import AuditEntry

    group, users = world
    group_settings_update(group=group, by=users["admin"], share_time=dt.time(20, 0), silence_days=60)
    assert AuditEntry.objects.count() == 0


def test_rule_settings_form_rejects_zero_silence_days(world):
    group, users = world
    client = Client()
    client.force_login(users["admin"])
    data = {
        "share_time": "19:30", "sign_in_lead_minutes": 15, "announcement_template": group.announcement_template,
        "silence_days": 0, "never_shared_grace_days": 60, "nickname_reminders": 2, "nickname_grace_days": 7,
    }
    response = client.post(f"/g/{group.slug}/settings/", data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors == {"silence_days": ["Ensure this value is greater than or equal to 1."]}
    assert Group.objects.get(pk=group.pk).silence_days == 60
