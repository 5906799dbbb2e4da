"""Hosting is contributing: the talks a member hosted (announced, sign-ins called, speaker
invited) are kept on the membership, shown on the profile and in the directory, and — with the
group's "hosting counts as sharing" on, the default — keep the never-shared rule from flagging a
member who hosted since joining; otherwise the flag's evidence says "hosted N talks"."""

import datetime as dt

import pytest
from django.urls import reverse

from community.flags import group_flags_evaluate
from community.models import AuditEntry, Flag, Membership, RecordedDay
from community.rules import NEVER_SHARED, MembershipFacts, RuleParams, membership_findings
from community.services import group_settings_update
from importer.services import Source, transcripts_import
from shares import services
from shares.models import Share
from tests.factories import ROLES, at, client_for, make_cast, make_membership, make_share

from ..importer.test_services import ANNOUNCE, talk_day, transcript

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2018, 6, 30)
JOINED = dt.date(2018, 1, 1)


def facts(**fields) -> MembershipFacts:
    values = {
        "membership_id": 7, "role": "member", "nickname": "王芳-云汇支付-架构-上海", "joined_on": JOINED,
        "last_message_on": AS_OF, "shares_given": 0, "next_share_on": None, "exempt_until": None,
        "reminders_sent": 0, "last_reminder_on": None,
    }
    values.update(fields)
    return MembershipFacts(**values)


def never_shared(found):
    findings, _gap = found
    return [finding.evidence for finding in findings if finding.rule == NEVER_SHARED]


def no_gaps(first, last):
    return []


BASE_EVIDENCE = {"joined": "2018-01-01", "days_since_joining": 180, "grace_days": 60, "shares_given": 0,
                 "next_share": None, "last_message": "2018-06-30", "as_of": "2018-06-30"}


# --- the rule, on its facts ---

def test_a_member_who_hosted_since_joining_is_not_flagged_when_hosting_counts():
    hosted = facts(talks_hosted=3, last_hosted_on=dt.date(2018, 5, 2))

    assert never_shared(membership_findings(hosted, RuleParams(), AS_OF, no_gaps)) == []


def test_a_member_who_hosted_is_flagged_when_hosting_does_not_count_and_the_evidence_says_so():
    hosted = facts(talks_hosted=3, last_hosted_on=dt.date(2018, 5, 2))

    found = never_shared(membership_findings(hosted, RuleParams(hosting_counts_as_sharing=False), AS_OF, no_gaps))

    assert found == [{**BASE_EVIDENCE, "talks_hosted": 3, "last_hosted": "2018-05-02", "hosting_counts_as_sharing": False}]


def test_hosting_before_joining_does_not_count():
    before = facts(joined_on=JOINED, talks_hosted=1, last_hosted_on=dt.date(2017, 12, 31))

    found = never_shared(membership_findings(before, RuleParams(), AS_OF, no_gaps))

    assert found == [{**BASE_EVIDENCE, "talks_hosted": 1, "last_hosted": "2017-12-31", "hosting_counts_as_sharing": True}]


def test_a_member_who_never_hosted_is_flagged_as_before_with_no_hosting_evidence():
    assert never_shared(membership_findings(facts(), RuleParams(), AS_OF, no_gaps)) == [BASE_EVIDENCE]


# --- the facts, kept by the import and by the share services ---

SPEAKER = "周明远-云汇支付-产品-杭州"


def run(*files, slug="prodarch"):
    result = transcripts_import(group_slug=slug, sources=[Source.from_bytes(label, data) for label, data in files])
    assert result.ok, result.errors
    return result


def not_given(day, host="管理员甲"):
    return transcript(day, [("15:00:00", host, ANNOUNCE.format(nick=SPEAKER, topic="跨境收单", start="19:30")),
                            ("19:10:00", "听众一", "签到")])


def hosting():
    return sorted(Membership.objects.filter(talks_hosted__gt=0).values_list(
        "member__display_name", "talks_hosted", "last_hosted_on"))


def test_the_import_records_who_hosted_each_share_and_the_hosts_facts():
    run(("2024-03-04.md", talk_day(day="2024-03-04")), ("2024-03-06.md", not_given("2024-03-06")),
        ("2024-03-08.md", talk_day(day="2024-03-08", host="管理员乙")))

    assert list(Share.objects.order_by("day").values_list("day", "status", "host__display_name")) == [
        (dt.date(2024, 3, 4), "delivered", "管理员甲"), (dt.date(2024, 3, 6), "announced", "管理员甲"),
        (dt.date(2024, 3, 8), "delivered", "管理员乙")]
    assert hosting() == [("管理员乙", 1, dt.date(2024, 3, 8)), ("管理员甲", 2, dt.date(2024, 3, 6))]


def test_a_talk_deleted_as_false_is_no_longer_hosted():
    cast = make_cast()
    run(("2024-03-04.md", talk_day(day="2024-03-04")))

    services.talk_delete(share=Share.objects.get(), by=cast.admin.user, reason="不是分享")

    assert hosting() == []


# --- the never-shared flag of a host, with the group's setting ---

@pytest.fixture
def host_world():
    cast = make_cast()
    RecordedDay.objects.bulk_create([RecordedDay(group=cast.group, day=JOINED + dt.timedelta(days=i), message_count=5)
                                     for i in range(181)])  # 2018-01-01 … 2018-06-30
    for person in (cast.speaker, cast.member):  # keep the cast itself out of the flags
        person.membership.last_message_at, person.membership.shares_given = at("2018-06-29"), 1
        person.membership.save()
    cast.host = make_membership(cast.group, nickname="钱八-易宝-运营", joined_at=at("2018-01-01"),
                                last_message_at=at("2018-06-29"))
    make_share(cast.group, cast.speaker.member, start=at("2018-05-02"), host=cast.host.member)
    services.membership_share_facts_refresh(group_id=cast.group.pk)
    return cast


def test_the_host_is_not_flagged_while_hosting_counts_and_is_when_an_admin_turns_it_off(host_world):
    cast = host_world
    cast.host.refresh_from_db()
    assert (cast.host.talks_hosted, cast.host.last_hosted_on) == (1, dt.date(2018, 5, 2))
    group_flags_evaluate(group=cast.group)
    assert Flag.objects.filter(membership=cast.host).count() == 0

    group_settings_update(group=cast.group, by=cast.admin.user, hosting_counts_as_sharing=False, reason="只算分享")
    group_flags_evaluate(group=cast.group)

    flag = Flag.objects.get(membership=cast.host)
    assert (flag.rule, flag.evidence["talks_hosted"], flag.evidence["hosting_counts_as_sharing"]) == (
        "never_shared", 1, False)
    entry = AuditEntry.objects.get(action="rules_changed")
    assert (entry.actor, entry.reason, entry.details) == (
        cast.admin.user, "只算分享", {"hosting_counts_as_sharing": [True, False]})


def test_the_review_card_says_hosted_n_talks(host_world):
    cast = host_world
    group_settings_update(group=cast.group, by=cast.admin.user, hosting_counts_as_sharing=False)
    group_flags_evaluate(group=cast.group)

    html = client_for(cast, "admin").get("/g/prodarch/seats/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert ('<dd class="hosted">hosted 1 talk, last on 2018-05-02 <span class="muted">(hosting does not count as '
            'sharing in this group)</span></dd>') in html


def test_the_settings_page_turns_hosting_off_and_audits_it(host_world):
    cast = host_world
    group = cast.group
    data = {"share_time": "19:30", "sign_in_lead_minutes": 15, "announcement_template": group.announcement_template,
            "silence_days": 60, "never_shared_grace_days": 60, "nickname_reminders": 2, "nickname_grace_days": 7,
            "reason": "只算分享"}  # the box unticked: hosting no longer counts

    page = client_for(cast, "admin").get("/g/prodarch/settings/").content.decode()
    response = client_for(cast, "admin").post("/g/prodarch/settings/", data)

    assert 'id="id_hosting_counts_as_sharing" checked>' in page
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.hosting_counts_as_sharing is False
    assert AuditEntry.objects.get(action="rules_changed").details == {"hosting_counts_as_sharing": [True, False]}


@pytest.mark.parametrize("role", ROLES)
def test_only_the_groups_admins_change_the_setting(host_world, role):
    response = client_for(host_world, role).post("/g/prodarch/settings/", {"share_time": "19:30"})

    assert response.status_code == {"anonymous": 302, "admin": 200, "staff": 200}.get(role, 403)
    host_world.group.refresh_from_db()
    assert host_world.group.hosting_counts_as_sharing is True


# --- shown on the profile and in the directory ---

def test_the_directory_shows_the_talks_each_member_hosted(host_world):
    html = client_for(host_world, "member").get(
        reverse("member_directory", kwargs={"group_slug": "prodarch"}), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert ('<td class="talks-hosted num" data-label="talks hosted">1 <span class="muted">(last 2018-05-02)</span></td>'
            in html)
    assert html.count('<td class="talks-hosted num" data-label="talks hosted">0</td>') == 3


def test_the_profile_shows_the_talks_hosted_in_each_group(host_world):
    client = client_for(host_world, "member")

    html = client.get(reverse("member_profile", kwargs={"pk": host_world.host.member_id}),
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<span class="hosted">hosted 1 talk, last on 2018-05-02</span>' in html


def test_the_profile_says_it_in_chinese(host_world):
    html = client_for(host_world, "member").get(
        reverse("member_profile", kwargs={"pk": host_world.host.member_id})).content.decode()

    assert '<span class="hosted">主持过 1 场分享，最近一次在 2018-05-02</span>' in html

