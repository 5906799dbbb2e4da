import pytest

from community.services import member_merge
from shares.models import Share, SignIn
from tests.factories import make_group, make_member, make_share, make_sign_in

pytestmark = pytest.mark.django_db


def test_member_merge_moves_shares_and_sign_ins_and_counts_a_double_sign_in_once():
    group = make_group()
    into, other, speaker = make_member("周明远"), make_member("周明远-云汇支付-产品"), make_member("讲者")
    both = make_share(group, speaker, topic="两人都签到", sign_in_count=2)
    make_sign_in(both, into)
    make_sign_in(both, other)
    only_other = make_share(group, other, topic="另一个人的分享", sign_in_count=1)
    make_sign_in(only_other, other)
    member_merge(into=into, other=other, evidence={"rule": "test"})
    assert sorted(SignIn.objects.values_list("share__topic", "member_id")) == [("两人都签到", into.pk), ("另一个人的分享", into.pk)]
    assert dict(Share.objects.values_list("topic", "sign_in_count")) == {"两人都签到": 1, "另一个人的分享": 1}
    assert Share.objects.get(topic="另一个人的分享").speaker == into


def test_talk_found_again_at_the_same_moments_in_another_zone_is_no_new_revision():
    """The importer's moments are in the group's zone, the database's in UTC: the same instant
    must not count as a change (it bumped the version on every re-import before)."""
    import datetime as dt

    from shares.models import ShareRevision
    from shares.services import TalkFound, talks_import_day
    from tests.factories import SHANGHAI, at

    group = make_group()
    speaker = make_member("讲者")
    share = make_share(group, speaker, start=at("2018-05-20", "19:30"),
                       ended_at=at("2018-05-20", "20:30"))
    share.refresh_from_db()
    talk = TalkFound(speaker_id=speaker.pk, topic=share.topic, scheduled_for=at("2018-05-20", "19:30"),
                     started_at=dt.datetime(2018, 5, 20, 19, 30, tzinfo=SHANGHAI),
                     ended_at=dt.datetime(2018, 5, 20, 20, 30, tzinfo=SHANGHAI), topic_source="announcement")

    talks_import_day(group=group, day=dt.date(2018, 5, 20), talks=[talk], import_run=None)

    share.refresh_from_db()
    assert (share.version, ShareRevision.objects.filter(share=share).count()) == (1, 0)
