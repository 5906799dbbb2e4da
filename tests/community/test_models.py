import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from community.models import Membership, MembershipPeriod, Name, NameSource
from tests.factories import at, make_group, make_member, make_membership, make_message

pytestmark = pytest.mark.django_db


def test_membership_duplicate_member_in_group_rejected():
    group = make_group()
    member = make_member("程琳")
    make_membership(group, member)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(group=group, member=member)
    assert Membership.objects.filter(group=group, member=member).count() == 1


def test_membership_same_member_in_two_groups_allowed():
    member = make_member("程琳")
    make_membership(make_group(), member)
    make_membership(make_group(), member)
    assert Membership.objects.filter(member=member).count() == 2


def test_membership_exemption_without_reason_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_membership(make_group(), exempt_until=dt.date(2030, 1, 1), exempt_reason="")


def test_membership_period_ending_before_start_rejected():
    membership = make_membership(make_group())
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipPeriod.objects.create(membership=membership, joined_at=at("2018-05-20"), left_at=at("2018-05-19"))


def test_membership_period_second_open_period_rejected():
    membership = make_membership(make_group())
    MembershipPeriod.objects.create(membership=membership, joined_at=at("2018-01-01"))
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipPeriod.objects.create(membership=membership, joined_at=at("2018-02-01"))


def test_message_same_key_in_group_rejected():
    group = make_group()
    message = make_message(group, None, at("2018-05-20", "09:00:30"), "签到")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_message(group, None, message.sent_at, "签到", sender_name=message.sender_name, key=message.key)


def test_message_same_second_sender_text_with_distinct_keys_kept():
    group = make_group()
    member = make_member("李雄峰")
    make_message(group, member, at("2018-05-20", "09:00:30"), "哈哈")
    make_message(group, member, at("2018-05-20", "09:00:30"), "哈哈")
    assert group.messages.filter(text="哈哈").count() == 2


def test_name_duplicate_for_member_group_source_rejected():
    group = make_group()
    member = make_member("鸽子")
    Name.objects.create(member=member, group=group, name="鸽子", normalized="鸽子", source=NameSource.HEADER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Name.objects.create(member=member, group=group, name="鸽子 ", normalized="鸽子", source=NameSource.HEADER)


def test_group_local_day_uses_group_time_zone():
    group = make_group(time_zone="Asia/Shanghai")
    assert group.local_day(dt.datetime(2018, 5, 19, 16, 30, tzinfo=dt.UTC)) == dt.date(2018, 5, 20)
