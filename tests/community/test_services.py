import pytest

from community.models import Member, MemberMerge, Membership, Message, Name
from community.services import member_merge
from tests.factories import at, make_group, make_member, make_membership, make_message

pytestmark = pytest.mark.django_db


def test_member_merge_moves_messages_names_memberships_and_records_evidence():
    group, other_group = make_group(), make_group()
    into, other = make_member("周明远"), make_member("周明远-云汇支付-产品")
    make_membership(group, into, message_count=2, last_message_at=at("2030-01-01"))
    make_membership(group, other, role="admin", message_count=3, last_message_at=at("2030-01-05"))
    make_membership(other_group, other)
    make_message(group, other, at("2030-01-05"), "你好")
    Name.objects.create(member=into, group=group, name="周明远", normalized="周明远", source="header", times_seen=2,
                        first_seen=at("2030-01-01"), last_seen=at("2030-01-02"))
    Name.objects.create(member=other, group=group, name="周明远", normalized="周明远", source="header", times_seen=1,
                        first_seen=at("2029-12-01"), last_seen=at("2029-12-01"))
    Name.objects.create(member=other, group=group, name="周明远-云汇支付-产品", normalized="周明远-云汇支付-产品",
                        source="mention", times_seen=4)
    record = member_merge(into=into, other=other, evidence={"rule": "merged-export pair"}, reason="同一人")
    assert not Member.objects.filter(pk=other.pk).exists()
    assert Message.objects.get().sender == into
    assert sorted(Name.objects.filter(member=into).values_list("name", "source", "times_seen")) == [
        ("周明远", "header", 3), ("周明远-云汇支付-产品", "mention", 4)]
    header = Name.objects.get(member=into, source="header")
    assert (header.first_seen, header.last_seen) == (at("2029-12-01"), at("2030-01-02"))
    merged = Membership.objects.get(group=group, member=into)
    assert (merged.role, merged.message_count, merged.last_message_at) == ("admin", 5, at("2030-01-05"))
    assert Membership.objects.filter(member=into).count() == 2
    assert (record.into, record.merged_name, record.evidence, record.reason) == (into, "周明远-云汇支付-产品", {"rule": "merged-export pair"}, "同一人")
    assert MemberMerge.objects.count() == 1


def test_member_merge_into_itself_rejected():
    member = make_member()
    with pytest.raises(ValueError, match="cannot be merged into itself"):
        member_merge(into=member, other=member, evidence={})
