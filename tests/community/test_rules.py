"""The group rules as plain functions: each rule's edges, exemptions and gaps."""

import datetime as dt

from community.rules import Gap, MembershipFacts, RuleParams, membership_findings

AS_OF = dt.date(2018, 6, 30)
PARAMS = RuleParams()


def facts(**fields) -> MembershipFacts:
    values = {
        "membership_id": 7, "role": "member", "nickname": "王芳-云汇支付-架构-上海", "joined_on": dt.date(2018, 1, 1),
        "last_message_on": AS_OF, "shares_given": 1, "next_share_on": None, "exempt_until": None,
        "reminders_sent": 0, "last_reminder_on": None,
    }
    values.update(fields)
    return MembershipFacts(**values)


def no_gaps(first, last):
    return []


def rules_of(found):
    findings, _gap = found
    return [(finding.rule, finding.status) for finding in findings]


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def test_silent_exactly_sixty_days_is_not_flagged():
    assert rules_of(membership_findings(facts(last_message_on=days_ago(60)), PARAMS, AS_OF, no_gaps)) == []


def test_silent_sixty_one_days_is_flagged_with_evidence():
    findings, gap = membership_findings(facts(last_message_on=days_ago(61)), PARAMS, AS_OF, no_gaps)
    assert gap is None
    assert [(f.rule, f.status, f.evidence_key) for f in findings] == [("silent", "open", "silent:2018-04-30")]
    assert findings[0].evidence == {
        "last_message": "2018-04-30", "joined": "2018-01-01", "counted_from": "last_message", "days_silent": 61,
        "silence_days": 60, "as_of": "2018-06-30", "shares_given": 1, "next_share": None,
    }


def test_silent_member_who_never_wrote_counts_from_joining():
    found = membership_findings(
        facts(last_message_on=None, joined_on=days_ago(61), shares_given=1), PARAMS, AS_OF, no_gaps
    )
    assert rules_of(found) == [("silent", "open")]
    assert found[0][0].evidence["counted_from"] == "joined"


def test_member_who_joined_yesterday_is_not_flagged_by_any_rule():
    found = membership_findings(
        facts(last_message_on=None, joined_on=days_ago(1), shares_given=0), PARAMS, AS_OF, no_gaps
    )
    assert rules_of(found) == []


def test_silence_over_a_gap_in_the_record_is_reported_not_flagged():
    missing = [days_ago(10), days_ago(9)]

    def gaps(first, last):
        assert (first, last) == (days_ago(60), AS_OF)  # the window the rule looks at
        return missing

    findings, gap = membership_findings(facts(last_message_on=days_ago(90)), PARAMS, AS_OF, gaps)
    assert findings == []
    assert gap == Gap(membership_id=7, missing_days=2, first_missing=days_ago(10), last_missing=days_ago(9))


def test_gap_before_the_window_does_not_matter():
    def gaps(first, last):
        return [day for day in (days_ago(70),) if first <= day <= last]

    assert rules_of(membership_findings(facts(last_message_on=days_ago(90)), PARAMS, AS_OF, gaps)) == [("silent", "open")]


def test_never_shared_after_grace_days():
    assert rules_of(membership_findings(
        facts(shares_given=0, joined_on=days_ago(61)), PARAMS, AS_OF, no_gaps)) == [("never_shared", "open")]
    assert rules_of(membership_findings(
        facts(shares_given=0, joined_on=days_ago(60)), PARAMS, AS_OF, no_gaps)) == []


def test_upcoming_scheduled_share_exempts_from_silent_and_never_shared_not_from_nickname():
    found = membership_findings(
        facts(shares_given=0, joined_on=days_ago(200), last_message_on=days_ago(100), next_share_on=AS_OF,
              nickname="王芳"),
        PARAMS, AS_OF, no_gaps,
    )
    assert rules_of(found) == [("nickname", "reminder_due")]


def test_past_scheduled_share_does_not_exempt():
    found = membership_findings(
        facts(shares_given=0, joined_on=days_ago(200), next_share_on=days_ago(1)), PARAMS, AS_OF, no_gaps
    )
    assert rules_of(found) == [("never_shared", "open")]


def test_exempt_until_today_exempts_and_until_yesterday_does_not():
    silent = {"last_message_on": days_ago(100)}
    assert rules_of(membership_findings(facts(exempt_until=AS_OF, **silent), PARAMS, AS_OF, no_gaps)) == []
    assert rules_of(membership_findings(facts(exempt_until=days_ago(1), **silent), PARAMS, AS_OF, no_gaps)) == [
        ("silent", "open")
    ]


def test_owner_and_admins_are_exempt_from_every_rule():
    for role in ("owner", "admin"):
        found = membership_findings(
            facts(role=role, nickname="群主", shares_given=0, last_message_on=days_ago(300), joined_on=days_ago(300)),
            PARAMS, AS_OF, no_gaps,
        )
        assert rules_of(found) == []


def test_nickname_reminder_due_until_reminders_are_used_up():
    one = membership_findings(facts(nickname="Daniel", reminders_sent=1, last_reminder_on=days_ago(30)),
                              PARAMS, AS_OF, no_gaps)
    assert rules_of(one) == [("nickname", "reminder_due")]
    assert one[0][0].evidence_key == "nickname:Daniel"


def test_nickname_two_reminders_open_only_after_the_grace_period():
    within = membership_findings(facts(nickname="Daniel", reminders_sent=2, last_reminder_on=days_ago(6)),
                                 PARAMS, AS_OF, no_gaps)
    after = membership_findings(facts(nickname="Daniel", reminders_sent=2, last_reminder_on=days_ago(7)),
                                PARAMS, AS_OF, no_gaps)
    assert rules_of(within) == [("nickname", "reminder_due")]
    assert within[0][0].evidence["grace_ends"] == "2018-07-01"
    assert rules_of(after) == [("nickname", "open")]


def test_nickname_separators_the_groups_use_are_all_well_formed():
    for nickname in ("张三-支付宝-产品", "张三—银联—架构师—上海", "张三_支付宝_PM", "张三～支付宝～产品～杭州",
                     "张三~拉卡拉~PM", "张三|支付宝|产品", "张三 支付宝 产品 杭州"):
        assert rules_of(membership_findings(facts(nickname=nickname), PARAMS, AS_OF, no_gaps)) == [], nickname


def test_unknown_nickname_is_not_judged():
    assert rules_of(membership_findings(facts(nickname="  "), PARAMS, AS_OF, no_gaps)) == []


def test_rule_parameters_are_the_groups():
    params = RuleParams(silence_days=30, never_shared_grace_days=10, nickname_reminders=1, nickname_grace_days=0)
    found = membership_findings(
        facts(last_message_on=days_ago(31), shares_given=0, joined_on=days_ago(11), nickname="Daniel",
              reminders_sent=1, last_reminder_on=AS_OF),
        params, AS_OF, no_gaps,
    )
    assert rules_of(found) == [("silent", "open"), ("never_shared", "open"), ("nickname", "open")]
