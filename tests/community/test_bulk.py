import pytest

from community.bulk import rows_update
from community.models import Membership
from tests.factories import at, make_group, make_membership

pytestmark = pytest.mark.django_db


def test_rows_update_writes_each_objects_fields_and_nothing_else():
    group = make_group()
    first, second = make_membership(group, nickname="甲"), make_membership(group, nickname="乙")
    first.message_count, first.last_message_at, first.nickname = 5, at("2030-01-02", "08:00"), "不写"
    second.message_count, second.last_message_at = 7, None
    assert rows_update([first, second], ["message_count", "last_message_at"]) == 2
    rows = list(Membership.objects.order_by("pk").values_list("message_count", "last_message_at", "nickname"))
    assert rows == [(5, at("2030-01-02", "08:00"), "甲"), (7, None, "乙")]
    assert rows_update([], ["message_count"]) == 0
