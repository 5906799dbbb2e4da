"""Privacy requests: a member's data exported (JSON download) and erased (messages, shares and
sign-ins kept, from an anonymous member), by staff only, each audited without personal data."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import (
    Application,
    ApplicationStatus,
    AuditEntry,
    Flag,
    FlagRule,
    FlagStatus,
    Member,
    MembershipPeriod,
    Message,
    Name,
    NameLink,
    NameSource,
    NicknameReminder,
)
from community.names import normalize_name
from community.privacy import member_data_export, member_erase
from shares.models import Share, SignIn
from tests.factories import (
    ROLES,
    at,
    client_for,
    make_cast,
    make_member,
    make_message,
    make_person,
    make_share,
    make_sign_in,
)
from tests.pages import html_without_tokens

pytestmark = pytest.mark.django_db

NICK = "王芳-云汇支付-架构"
ERASED = "已注销成员 #{}"


@pytest.fixture
def cast():
    """王芳 (``cast.member``) with a profile, two names, a period, two messages, a talk she gave,
    a sign-in on the speaker's talk, a flag, a reminder, a suggested link and an application."""
    cast = make_cast()
    wang = cast.member.member
    wang.name, wang.company, wang.position, wang.city, wang.wechat_id = "王芳", "云汇支付", "架构", "上海", "wxid_wang"
    wang.created_at = at("2018-01-01", "08:00")
    wang.save()
    cast.member.membership.joined_at = at("2018-01-02", "09:00")
    cast.member.membership.save()
    MembershipPeriod.objects.create(membership=cast.member.membership, joined_at=at("2018-01-02", "09:00"))
    for text, source in ((NICK, NameSource.HEADER), ("芳芳", NameSource.MENTION)):
        Name.objects.create(member=wang, group=cast.group, name=text, normalized=normalize_name(text), source=source,
                            first_seen=at("2018-01-03", "10:00"), last_seen=at("2018-05-20", "20:00"), times_seen=3)
    cast.messages = [make_message(cast.group, wang, at("2018-05-20", "20:00"), "请问结算周期多长？", sender_name=NICK),
                     make_message(cast.group, wang, at("2018-05-21", "09:00"), "谢谢分享", sender_name=NICK)]
    cast.talk = make_share(cast.group, cast.speaker.member, topic="跨境收单", start=at("2018-05-20"))
    cast.own_talk = make_share(cast.group, wang, topic="聚合支付的对账", start=at("2018-06-10"))
    make_sign_in(cast.talk, wang, signed_at=at("2018-05-20", "19:10"))
    cast.flag = Flag.objects.create(group=cast.group, membership=cast.member.membership, rule=FlagRule.NICKNAME,
                                    status=FlagStatus.OPEN, evidence={"nickname": NICK}, evidence_key=NICK,
                                    as_of=dt.date(2018, 6, 30), created_at=at("2018-06-30", "06:30"))
    NicknameReminder.objects.create(membership=cast.member.membership, nickname=NICK, sent_at=at("2018-06-01", "12:00"))
    AuditEntry.objects.create(group=cast.group, action="nickname_reminded", target=NICK, details={"nickname": NICK})
    cast.other = make_member("王芳芳")
    NameLink.objects.create(group=cast.group, member=wang, other=cast.other, evidence={"names": [NICK, "王芳芳"]})
    Application.objects.create(group=cast.group, name="王芳", company="云汇支付", position="架构", wechat_id="wxid_wang",
                               share_topic="对账", status=ApplicationStatus.ACCEPTED, member=wang,
                               created_at=at("2017-12-30", "12:00"))
    return cast


def url(member, action: str = "") -> str:
    return f"/members/{member.pk}/privacy/{action + '/' if action else ''}"


def personal_state(member: Member) -> tuple:
    """What an erasure changes, to check that a refused one changed nothing."""
    member.refresh_from_db()
    return (member.display_name, member.company, member.wechat_id, member.user_id, Name.objects.filter(member=member).count(),
            list(Message.objects.filter(sender=member).values_list("sender_name", flat=True)),
            AuditEntry.objects.filter(action__startswith="member_").count())


def expected_export(cast) -> dict:
    wang = cast.member.member
    return {
        "member": {"id": wang.pk, "display_name": NICK, "name": "王芳", "company": "云汇支付", "position": "架构",
                   "city": "上海", "wechat_id": "wxid_wang", "login": cast.member.user.username,
                   "created_at": "2018-01-01T00:00:00+00:00"},
        "names": [
            {"name": NICK, "group": "prodarch", "source": "header", "first_seen": "2018-01-03T02:00:00+00:00",
             "last_seen": "2018-05-20T12:00:00+00:00", "times_seen": 3},
            {"name": "芳芳", "group": "prodarch", "source": "mention", "first_seen": "2018-01-03T02:00:00+00:00",
             "last_seen": "2018-05-20T12:00:00+00:00", "times_seen": 3},
        ],
        "memberships": [{
            "group": "prodarch", "nickname": NICK, "role": "member", "status": "active",
            "joined_at": "2018-01-02T01:00:00+00:00", "left_at": None, "exempt_until": None, "exempt_reason": "",
            "periods": [{"joined_at": "2018-01-02T01:00:00+00:00", "left_at": None, "left_reason": ""}],
            "flags": [{"rule": "nickname", "status": "open", "as_of": "2018-06-30", "evidence": {"nickname": NICK},
                       "created_at": "2018-06-29T22:30:00+00:00", "decided_at": None, "reason": ""}],
            "nickname_reminders": [{"nickname": NICK, "sent_at": "2018-06-01T04:00:00+00:00"}],
        }],
        "messages": [
            {"group": "prodarch", "sent_at": "2018-05-20T12:00:00+00:00", "kind": "text", "text": "请问结算周期多长？", "url": ""},
            {"group": "prodarch", "sent_at": "2018-05-21T01:00:00+00:00", "kind": "text", "text": "谢谢分享", "url": ""},
        ],
        "applications": [{
            "group": "prodarch", "name": "王芳", "company": "云汇支付", "position": "架构", "city": "",
            "wechat_id": "wxid_wang", "share_topic": "对账", "share_abstract": "", "status": "accepted",
            "created_at": "2017-12-30T04:00:00+00:00",
        }],
        "shares": [{
            "group": "prodarch", "topic": "聚合支付的对账", "abstract": "", "status": "delivered", "visibility": "members",
            "day": "2018-06-10", "scheduled_for": "2018-06-10T11:30:00+00:00", "started_at": "2018-06-10T11:30:00+00:00",
            "ended_at": "2018-06-10T12:30:00+00:00",
        }],
        "sign_ins": [{"group": "prodarch", "share": "跨境收单", "signed_at": "2018-05-20T11:10:00+00:00", "origin": "web"}],
    }


def without_volatile(data: dict) -> dict:
    assert isinstance(data.pop("exported_at"), str)
    return data


def test_export_holds_everything_that_is_theirs(cast):
    expected = expected_export(cast)
    assert without_volatile(member_data_export(member=cast.member.member, by=cast.staff.user)) == expected
    entry = AuditEntry.objects.get(action="member_data_exported")
    assert (entry.actor, entry.group, entry.target, entry.details, entry.reason) == (
        cast.staff.user, None, f"member #{cast.member.member.pk}", {"member_id": cast.member.member.pk}, "")


def test_export_is_a_json_download_for_staff(cast):
    response = client_for(cast, "staff").post(url(cast.member.member, "export"))
    expected = expected_export(cast)
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert response["Content-Disposition"].startswith(f'attachment; filename="member-{cast.member.member.pk}-')
    assert without_volatile(json.loads(response.content)) == expected


def test_export_query_count_is_constant(cast):
    def queries_for(member):
        with CaptureQueriesContext(connection) as captured:
            member_data_export(member=member, by=cast.staff.user)
        return len(captured)

    # One message and one name, against two messages, two names, a talk, a sign-in…: the same number.
    lone = make_person(cast.other_group, "一个人").member
    make_message(cast.group, lone, at("2018-05-20"), "一")
    Name.objects.create(member=lone, name="一", normalized="一", source=NameSource.HEADER)
    assert queries_for(lone) == queries_for(cast.member.member)


def test_erase_keeps_the_messages_from_an_anonymous_member(cast):
    wang = cast.member.member
    anonymous = ERASED.format(wang.pk)
    counts = member_erase(member=wang, by=cast.staff.user, reason="本人申请注销")
    wang.refresh_from_db()
    assert (wang.display_name, wang.name, wang.company, wang.position, wang.city, wang.wechat_id, wang.user) == (
        anonymous, "", "", "", "", "", None)
    assert list(Message.objects.filter(sender=wang).order_by("sent_at").values_list("sender_name", "text")) == [
        (anonymous, "请问结算周期多长？"), (anonymous, "谢谢分享")]
    assert Message.objects.count() == 2
    assert Name.objects.filter(member=wang).count() == 0
    assert NameLink.objects.count() == 0
    assert Application.objects.count() == 0
    assert list(NicknameReminder.objects.values_list("nickname", flat=True)) == [anonymous]
    assert Flag.objects.get().evidence == {}
    cast.member.membership.refresh_from_db()
    assert cast.member.membership.nickname == anonymous
    # Their talk and sign-in stay, with the anonymous member.
    assert list(Share.objects.filter(speaker=wang).values_list("topic", flat=True)) == ["聚合支付的对账"]
    assert list(SignIn.objects.filter(member=wang).values_list("share__topic", flat=True)) == ["跨境收单"]
    # No audit entry names them any more; the erasure's own says which member and who, nothing personal.
    assert not AuditEntry.objects.filter(target=NICK).exists()
    entry = AuditEntry.objects.get(action="member_erased")
    assert (entry.actor, entry.target, entry.reason, entry.details) == (
        cast.staff.user, f"member #{wang.pk}", "本人申请注销", {"member_id": wang.pk, "counts": counts})
    assert counts == {"names": 2, "name_links": 1, "applications": 1, "audit_entries": 1, "messages": 2,
                      "nickname_reminders": 1, "flags": 1, "merges": 0, "memberships": 1,
                      "import_journal": 0, "import_reports": 0}


def test_talk_page_shows_the_anonymised_speaker(cast):
    wang = cast.member.member
    member_erase(member=wang, by=cast.staff.user, reason="本人申请注销")
    response = client_for(cast, "admin").get(f"/g/prodarch/talks/{cast.own_talk.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = html_without_tokens(response)
    assert response.status_code == 200
    assert f'class="speaker" href="/members/{wang.pk}/">{ERASED.format(wang.pk)}</a>' in html
    assert ("王芳" in html, "云汇支付" in html) == (False, False)


def test_erase_needs_a_reason_and_staff(cast):
    wang = cast.member.member
    before = personal_state(wang)
    with pytest.raises(PermissionDenied):
        member_erase(member=wang, by=cast.admin.user, reason="群主要求")
    with pytest.raises(PermissionDenied):
        member_data_export(member=wang, by=cast.admin.user)
    assert personal_state(wang) == before


@pytest.mark.parametrize("role", ROLES)
def test_privacy_page_is_for_staff_only(cast, role):
    response = client_for(cast, role).get(url(cast.member.member), HTTP_ACCEPT_LANGUAGE="en")
    expected = {"anonymous": 302, "staff": 200}.get(role, 404)
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={url(cast.member.member)}"
    if role == "staff":
        html = html_without_tokens(response)
        assert f"<h1>Privacy · {NICK} <span class=\"muted\">#{cast.member.member.pk}</span></h1>" in html
        assert "<dt>messages</dt><dd>2</dd>" in html


@pytest.mark.parametrize("role", ROLES)
def test_export_is_for_staff_only(cast, role):
    response = client_for(cast, role).post(url(cast.member.member, "export"))
    assert response.status_code == {"anonymous": 302, "staff": 200}.get(role, 404)
    assert AuditEntry.objects.filter(action="member_data_exported").count() == (role == "staff")


@pytest.mark.parametrize("role", ROLES)
def test_erase_is_for_staff_only(cast, role):
    wang = cast.member.member
    before = personal_state(wang)
    response = client_for(cast, role).post(url(wang, "erase"), {"confirm": wang.pk, "reason": "本人申请注销"})
    if role == "staff":
        assert (response.status_code, response["Location"]) == (302, url(wang))
        assert personal_state(wang)[0] == ERASED.format(wang.pk)
    else:
        assert response.status_code == {"anonymous": 302}.get(role, 404)
        assert personal_state(wang) == before


def test_erase_with_the_wrong_number_or_no_reason_changes_nothing(cast):
    wang = cast.member.member
    before = personal_state(wang)
    client = client_for(cast, "staff")
    wrong = client.post(url(wang, "erase"), {"confirm": wang.pk + 1, "reason": "本人申请注销"}, HTTP_ACCEPT_LANGUAGE="en")
    blank = client.post(url(wang, "erase"), {"confirm": wang.pk, "reason": "  "}, HTTP_ACCEPT_LANGUAGE="en")
    assert (wrong.status_code, wrong.context["form"].errors) == (400, {"confirm": ["This is not the member's number."]})
    assert (blank.status_code, blank.context["form"].errors) == (400, {"reason": ["This field is required."]})
    assert personal_state(wang) == before


@pytest.mark.parametrize("action", ["export", "erase"])
def test_posts_need_the_csrf_token(cast, action):
    wang = cast.member.member
    before = personal_state(wang)
    client = client_for(cast, "staff", enforce_csrf_checks=True)
    response = client.post(url(wang, action), {"confirm": wang.pk, "reason": "本人申请注销"})
    assert response.status_code == 403
    assert personal_state(wang) == before


def test_get_cannot_export_or_erase(cast):
    client = client_for(cast, "staff")
    assert [client.get(url(cast.member.member, action)).status_code for action in ("export", "erase")] == [405, 405]
