import pytest
from django.db import IntegrityError, transaction

from shares.models import Share, ShareStatus, SignIn
from tests.factories import at, make_group, make_member, make_share, make_sign_in

pytestmark = pytest.mark.django_db


def test_sign_in_duplicate_for_member_and_share_rejected():
    group = make_group()
    share = make_share(group, make_member("讲者"))
    member = make_member("听众")
    make_sign_in(share, member)
    with pytest.raises(IntegrityError), transaction.atomic():
        SignIn.objects.create(share=share, member=member)
    assert SignIn.objects.filter(share=share, member=member).count() == 1


def test_share_second_scheduled_share_same_evening_rejected():
    group = make_group()
    make_share(group, make_member(), status=ShareStatus.SCHEDULED, start=at("2030-01-07"))
    with pytest.raises(IntegrityError), transaction.atomic():
        make_share(group, make_member(), status=ShareStatus.SCHEDULED, start=at("2030-01-07", "20:30"))


def test_share_second_share_same_evening_with_reason_allowed():
    group = make_group()
    make_share(group, make_member(), status=ShareStatus.SCHEDULED, start=at("2030-01-07"))
    make_share(group, make_member(), status=ShareStatus.SCHEDULED, start=at("2030-01-07", "20:30"),
               overlap_reason="两位嘉宾同一晚")
    assert Share.objects.filter(group=group, status=ShareStatus.SCHEDULED).count() == 2


def test_share_scheduled_without_start_rejected():
    group = make_group()
    with pytest.raises(IntegrityError), transaction.atomic():
        Share.objects.create(group=group, speaker=make_member(), topic="t", status=ShareStatus.SCHEDULED)
