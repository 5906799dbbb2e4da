"""The seats pages: the review queue, decisions, reminders, removals, audit, the waiting list."""

import csv
import datetime as dt
import io

import pytest
from django.test import Client

from community import seats_views
from community.flags import flag_approve, group_flags_evaluate
from community.models import (
    Application,
    AuditEntry,
    Flag,
    MembershipStatus,
    Message,
    NicknameReminder,
    RecordedDay,
)
from community.security import ApplicationThrottle
from shares.models import Share
from tests.factories import ROLES, at, client_for, make_cast, make_membership

pytestmark = pytest.mark.django_db

# Admin pages: anonymous → login, non-admins → 403, the group's admins and staff → 200.
ADMIN_ONLY = {"anonymous": 302, "member": 403, "outsider": 403, "speaker": 403, "admin": 200, "other_admin": 403,
              "staff": 200}


@pytest.fixture
def cast():
    cast = make_cast()
    RecordedDay.objects.bulk_create([
        RecordedDay(group=cast.group, day=dt.date(2018, 1, 1) + dt.timedelta(days=i), message_count=5) for i in range(181)
    ])  # 2018-01-01 … 2018-06-30
    cast.silent = make_membership(cast.group, nickname="钱八-易宝-产品", joined_at=at("2018-01-01"),
                                  last_message_at=at("2018-04-01"), shares_given=1)
    cast.daniel = make_membership(cast.group, nickname="Daniel", joined_at=at("2018-01-01"),
                                  last_message_at=at("2018-06-29"), shares_given=1)
    for person in (cast.speaker, cast.member):  # keep the cast itself out of the flags
        person.membership.last_message_at, person.membership.shares_given = at("2018-06-29"), 1
        person.membership.save()
    group_flags_evaluate(group=cast.group)
    cast.flag = Flag.objects.get(membership=cast.silent)
    return cast


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["seats/", "seats/decided/", "seats/reminders/", "seats/removals.csv", "audit/"])
def test_admin_pages_permissions(cast, role, path):
    response = client_for(cast, role).get(f"/g/prodarch/{path}")
    assert response.status_code == ADMIN_ONLY[role]


@pytest.mark.parametrize("role", ROLES)
def test_decide_permissions_and_refusal_changes_nothing(cast, role):
    response = client_for(cast, role).post("/g/prodarch/seats/decide/", {"flags": [cast.flag.pk], "decision": "approve"})
    allowed = ADMIN_ONLY[role] == 200
    assert response.status_code == (302 if allowed else ADMIN_ONLY[role])
    cast.flag.refresh_from_db()
    cast.silent.refresh_from_db()
    assert (cast.flag.status, cast.silent.status) == (("approved", "removed") if allowed else ("open", "active"))


def test_queue_shows_open_flags_by_rule_with_evidence(cast):
    response = client_for(cast, "admin").get("/g/prodarch/seats/", HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert [flag.membership.nickname for _rule, _label, flags in response.context["rules"] for flag in flags] == ["钱八-易宝-产品"]
    assert "2018-04-01" in text and ">90<" in text.replace(" ", "")  # last message, days silent
    assert response.context["reminders_due"] == 1
    assert response.context["seats"] == {"capacity": 500, "active": 5, "pending": 0, "free": 495}


def test_queue_query_count_does_not_grow_with_flags(cast, django_assert_max_num_queries):
    client = client_for(cast, "admin")
    with django_assert_max_num_queries(20) as one:
        client.get("/g/prodarch/seats/")
    for n in range(2):
        make_membership(cast.group, nickname=f"孙{n}-快钱-产品", joined_at=at("2018-01-01"),
                        last_message_at=at("2018-03-01"), shares_given=1)
    group_flags_evaluate(group=cast.group)
    assert Flag.objects.filter(status="open").count() == 3
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get("/g/prodarch/seats/")


@pytest.mark.parametrize("waiting", [1, 3])
def test_queue_query_count_is_the_same_for_1_and_3_applications(cast, django_assert_num_queries, waiting):
    for n in range(waiting):  # each with the WeChat id of a member of the group: the hint names them
        known = make_membership(cast.group, nickname=f"申请人{n}")
        known.member.wechat_id = f"wxid_{n}"
        known.member.save()
        Application.objects.create(group=cast.group, **{**APPLICATION, "wechat_id": f"wxid_{n}"})
    client = client_for(cast, "admin")

    with django_assert_num_queries(9):
        response = client.get("/g/prodarch/seats/")

    assert [a.known_membership.nickname for a in response.context["applications"]] == [
        f"申请人{n}" for n in range(waiting)]


def test_dismiss_without_reason_is_refused_with_a_message(cast):
    response = client_for(cast, "admin").post(
        "/g/prodarch/seats/decide/", {"flags": [cast.flag.pk], "decision": "dismiss"}, follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert [str(m) for m in response.context["messages"]] == ["reason: Say why."]
    assert Flag.objects.get(pk=cast.flag.pk).status == "open"


def test_bulk_exempt_and_reverse_from_the_decided_page(cast):
    until = dt.date.today() + dt.timedelta(days=10)
    client = client_for(cast, "admin")
    client.post("/g/prodarch/seats/decide/", {"flags": [cast.flag.pk], "decision": "exempt", "reason": "出国",
                                              "until": until.isoformat()})
    cast.silent.refresh_from_db()
    assert (Flag.objects.get(pk=cast.flag.pk).status, cast.silent.exempt_until) == ("exempted", until)

    page = client.get("/g/prodarch/seats/decided/")
    assert [flag.pk for flag in page.context["page"]] == [cast.flag.pk]
    client.post("/g/prodarch/seats/decide/", {"flags": [cast.flag.pk], "decision": "reopen", "next": "decided"})

    cast.silent.refresh_from_db()
    assert (Flag.objects.get(pk=cast.flag.pk).status, cast.silent.exempt_until) == ("open", None)
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == ["flag_exempted", "flag_reopened"]


def test_a_flag_of_another_group_cannot_be_decided_here(cast):
    other = make_membership(cast.other_group, nickname="Mike", joined_at=at("2018-01-01"))
    RecordedDay.objects.create(group=cast.other_group, day=dt.date(2018, 6, 30))
    group_flags_evaluate(group=cast.other_group)
    foreign = Flag.objects.get(membership=other, rule="nickname")
    client_for(cast, "admin").post("/g/prodarch/seats/decide/", {"flags": [foreign.pk], "decision": "approve"})
    assert Flag.objects.get(pk=foreign.pk).status == "reminder_due"


def test_reminders_page_gives_paste_text_and_records_sent(cast):
    client = client_for(cast, "admin")
    response = client.get("/g/prodarch/seats/reminders/")
    assert response.context["text"] == "@Daniel 请按群规把群昵称改为「姓名-公司-岗位-地区」，例如：张三-某某支付-产品经理-上海。谢谢配合！"
    flag = Flag.objects.get(membership=cast.daniel)

    client.post("/g/prodarch/seats/reminders/", {"flags": [flag.pk]})

    assert list(NicknameReminder.objects.values_list("membership_id", "nickname", "recorded_by")) == [
        (cast.daniel.pk, "Daniel", cast.admin.user.pk)
    ]


def test_reminders_post_by_a_member_records_nothing(cast):
    flag = Flag.objects.get(membership=cast.daniel)
    assert client_for(cast, "member").post("/g/prodarch/seats/reminders/", {"flags": [flag.pk]}).status_code == 403
    assert NicknameReminder.objects.count() == 0


def test_removals_csv_lists_approved_removals_as_named_in_wechat(cast):
    flag_approve(flag=cast.flag, by=cast.admin.user, reason="两个月没发言")
    evil = make_membership(cast.group, nickname="=HYPERLINK(\"x\")", joined_at=at("2018-01-01"),
                           last_message_at=at("2018-03-01"), shares_given=1)
    group_flags_evaluate(group=cast.group)
    flag_approve(flag=Flag.objects.get(membership=evil, rule="silent"), by=cast.admin.user)

    response = client_for(cast, "admin").get("/g/prodarch/seats/removals.csv", HTTP_ACCEPT_LANGUAGE="en")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["nickname", "name", "company", "rule", "approved at", "approved by", "reason", "evidence"]
    assert [row[:4] + [row[6]] for row in rows[1:]] == [
        ["钱八-易宝-产品", "", "", "silent", "两个月没发言"],
        ["'=HYPERLINK(\"x\")", "", "", "silent", ""],
    ]


def test_audit_page_lists_decisions_newest_first(cast):
    flag_approve(flag=cast.flag, by=cast.admin.user, reason="两个月没发言")
    response = client_for(cast, "admin").get("/g/prodarch/audit/")
    assert [(e.action, e.target, e.reason) for e in response.context["page"]] == [
        ("flag_approved", "钱八-易宝-产品", "两个月没发言")
    ]


# --- The waiting list ---

APPLICATION = {"name": "郑十", "company": "连连支付", "position": "产品经理", "city": "杭州", "wechat_id": "zheng10",
               "share_topic": "跨境收款的合规", "share_abstract": "讲讲 KYC"}


def test_anyone_may_apply_once_per_wechat_id(cast):
    client = Client()
    assert client.get("/g/prodarch/apply/").status_code == 200
    response = client.post("/g/prodarch/apply/", APPLICATION, HTTP_ACCEPT_LANGUAGE="en")
    assert response.templates[0].name == "community/seats/applied.html"
    again = client.post("/g/prodarch/apply/", APPLICATION, HTTP_ACCEPT_LANGUAGE="en")
    assert again.context["form"].errors == {
        "wechat_id": ["An application with this WeChat id is already waiting for this group."]
    }
    assert list(Application.objects.values_list("name", "status")) == [("郑十", "waiting")]


def test_apply_with_missing_fields_writes_nothing(cast):
    response = Client().post("/g/prodarch/apply/", {"name": "郑十"}, HTTP_ACCEPT_LANGUAGE="en")
    assert set(response.context["form"].errors) == {"company", "position", "wechat_id", "share_topic"}
    assert Application.objects.count() == 0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(seats_views, "application_throttle", lambda: ApplicationThrottle(clock=clock))
    return clock


def application_from(ip: str, n: int, **headers):
    return Client(REMOTE_ADDR=ip).post("/g/prodarch/apply/", {**APPLICATION, "wechat_id": f"applicant{n}"}, **headers)


TOO_MANY = "Too many applications from your address. Try again in 60 minutes."


def test_thirty_applications_from_one_address_in_a_burst_make_five(cast, clock):
    responses = [application_from("198.51.100.9", n, HTTP_ACCEPT_LANGUAGE="en") for n in range(30)]

    assert [r.status_code for r in responses] == [200] * 5 + [429] * 25
    assert {r.templates[0].name for r in responses[:5]} == {"community/seats/applied.html"}
    refused = responses[5]
    assert (refused.templates[0].name, refused.context["form"].non_field_errors()) == (
        "community/seats/apply.html", [TOO_MANY])
    assert Application.objects.count() == 5


def test_the_limit_is_per_address_and_an_hour_long(cast, clock):
    for n in range(5):
        application_from("198.51.100.9", n)
    clock.now += 30 * 60
    assert [application_from(ip, 10 + n).status_code for n, ip in enumerate(["198.51.100.9", "203.0.113.50"])] == [
        429, 200]
    refused = application_from("198.51.100.9", 20, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.context["form"].non_field_errors() == [
        "Too many applications from your address. Try again in 30 minutes."]
    clock.now += 30 * 60
    assert application_from("198.51.100.9", 21).status_code == 200
    assert Application.objects.count() == 7


def test_the_refusal_is_in_the_visitors_language(cast, clock):
    for n in range(5):
        application_from("198.51.100.9", n)
    refused = application_from("198.51.100.9", 5)  # no Accept-Language: the site's Chinese
    assert refused.status_code == 429
    assert "来自你的地址的申请过多，请 60 分钟后再试。" in refused.content.decode()


def test_forms_refused_for_their_content_do_not_count(cast, clock):
    client = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(5):
        client.post("/g/prodarch/apply/", {"name": "郑十"})  # incomplete
    client.post("/g/prodarch/apply/", APPLICATION)
    for _ in range(5):
        client.post("/g/prodarch/apply/", APPLICATION)  # already waiting
    assert [application_from("198.51.100.9", n).status_code for n in range(5)] == [200, 200, 200, 200, 429]
    assert Application.objects.count() == 5


def test_the_number_is_a_setting(cast, clock, settings):
    settings.APPLICATIONS_PER_IP_PER_HOUR = 2
    assert [application_from("198.51.100.9", n).status_code for n in range(3)] == [200, 200, 429]


def test_accepting_creates_a_pending_membership_and_registers_the_share(cast):
    application = Application.objects.create(group=cast.group, **APPLICATION)

    response = client_for(cast, "admin").post(f"/g/prodarch/seats/applications/{application.pk}/accept/")

    application.refresh_from_db()
    share = Share.objects.get(speaker=application.member)
    assert response.status_code == 302 and response["Location"] == f"/g/prodarch/shares/{share.pk}/"
    membership = application.member.memberships.get()
    assert (membership.status, membership.nickname) == ("pending", "郑十-连连支付-产品经理-杭州")
    assert (share.topic, share.abstract, share.status, application.status) == ("跨境收款的合规", "讲讲 KYC", "proposed", "accepted")
    assert AuditEntry.objects.get().action == "application_accepted"


def test_accepting_into_a_full_group_is_refused(cast):
    cast.group.capacity = 5  # the five active members of the cast
    cast.group.save()
    application = Application.objects.create(group=cast.group, **APPLICATION)

    client_for(cast, "admin").post(f"/g/prodarch/seats/applications/{application.pk}/accept/")

    application.refresh_from_db()
    # (The applicant's WeChat id is never put on a member: the share is looked for by its topic.)
    assert application.status == "waiting" and Share.objects.filter(topic="跨境收款的合规").count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_application_decisions_permissions(cast, role):
    application = Application.objects.create(group=cast.group, **APPLICATION)
    client = client_for(cast, role)
    accept = client.post(f"/g/prodarch/seats/applications/{application.pk}/accept/")
    expected = ADMIN_ONLY[role] if ADMIN_ONLY[role] != 200 else 302
    assert accept.status_code == expected
    application.refresh_from_db()
    assert application.status == ("accepted" if ADMIN_ONLY[role] == 200 else "waiting")
    if ADMIN_ONLY[role] != 200:
        assert client.post(f"/g/prodarch/seats/applications/{application.pk}/decline/").status_code == expected
        application.refresh_from_db()
        assert application.status == "waiting"


def test_decline_is_audited(cast):
    application = Application.objects.create(group=cast.group, **APPLICATION)
    client_for(cast, "admin").post(f"/g/prodarch/seats/applications/{application.pk}/decline/", {"reason": "不是支付行业"})
    application.refresh_from_db()
    assert (application.status, application.reason) == ("declined", "不是支付行业")
    assert list(AuditEntry.objects.values_list("action", "target", "reason")) == [
        ("application_declined", "郑十-连连支付", "不是支付行业")
    ]


def test_csrf_is_enforced_on_decisions(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin.user)
    assert client.post("/g/prodarch/seats/decide/", {"flags": [cast.flag.pk], "decision": "approve"}).status_code == 403
    assert Flag.objects.get(pk=cast.flag.pk).status == "open"
    assert MembershipStatus.ACTIVE == cast.silent.status


def test_an_accepted_applicant_who_appears_in_the_record_is_the_same_member_and_becomes_active(cast):
    from importer.services import Source, transcripts_import
    from tests.importer.test_services import transcript

    application = Application.objects.create(group=cast.group, **APPLICATION)
    client_for(cast, "admin").post(f"/g/prodarch/seats/applications/{application.pk}/accept/")
    application.refresh_from_db()
    member = application.member

    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes("2024-03-04.md", transcript(
        "2024-03-04", [("10:00:00", "郑十-连连支付-产品经理-杭州", "大家好，我是郑十，刚入群")]))])

    assert result.ok
    membership = member.memberships.get(group=cast.group)
    assert (membership.status, membership.joined_at, membership.periods.count()) == (
        "active", at("2024-03-04", "10:00"), 1)
    assert list(Message.objects.filter(text__startswith="大家好，我是郑十").values_list("sender_id", flat=True)) == [member.pk]
