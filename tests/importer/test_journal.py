"""The run journal: rows a run changed or deleted come back exactly; rows it created go."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from community.models import Member, Membership, MembershipPeriod, MembershipStatus, Message
from importer.journal import rows_before, rows_created, run_undo_rows
from importer.models import ImportRun, RunChange
from tests.factories import at, make_group, make_member, make_membership, make_message

pytestmark = pytest.mark.django_db


def snapshot(*rows):
    return [model_to_dict(type(row).objects.get(pk=row.pk)) for row in rows]


def test_changed_and_deleted_rows_come_back_exactly_and_created_rows_go():
    group = make_group()
    run = ImportRun.objects.create(group=group)
    member = make_member("程琳-杉德支付-PM")
    membership = make_membership(group, member, nickname="程琳-杉德支付-PM", joined_at=at("2018-01-02", "09:00"))
    message = make_message(group, member, at("2018-01-02", "09:00"), "大家好")
    before = snapshot(member, membership, message)

    rows_before(run_id=run.pk, rows=[membership])
    Membership.objects.filter(pk=membership.pk).update(nickname="程琳Wa", status=MembershipStatus.LEFT)
    rows_before(run_id=run.pk, rows=Message.objects.filter(pk=message.pk))
    rows_before(run_id=run.pk, rows=Member.objects.filter(pk=member.pk))
    Member.objects.filter(pk=member.pk).delete()  # cascades: the membership and the message go too
    period = MembershipPeriod.objects.create(membership=Membership.objects.create(group=group, member=make_member()),
                                             joined_at=at("2018-01-03"))
    rows_created(run_id=run.pk, model=MembershipPeriod, ids=[period.pk])

    counts = run_undo_rows(run_id=run.pk)

    assert snapshot(member, membership, message) == before
    assert not MembershipPeriod.objects.filter(pk=period.pk).exists()
    assert counts == {"community.membershipperiod deleted": 1, "community.member restored": 1,
                      "community.membership restored": 1, "community.message restored": 1}


def test_the_first_image_of_a_row_wins():
    group = make_group()
    run = ImportRun.objects.create(group=group)
    membership = make_membership(group, nickname="第一")
    rows_before(run_id=run.pk, rows=[membership])
    Membership.objects.filter(pk=membership.pk).update(nickname="第二")
    rows_before(run_id=run.pk, rows=Membership.objects.filter(pk=membership.pk))
    Membership.objects.filter(pk=membership.pk).update(nickname="第三")

    run_undo_rows(run_id=run.pk)

    assert Membership.objects.get(pk=membership.pk).nickname == "第一"
    assert RunChange.objects.filter(run=run).count() == 1


def test_a_row_created_then_changed_by_the_run_is_deleted_not_restored():
    group = make_group()
    run = ImportRun.objects.create(group=group)
    membership = make_membership(group, nickname="新来的")
    rows_created(run_id=run.pk, model=Membership, ids=[membership.pk])
    rows_before(run_id=run.pk, rows=[membership])

    run_undo_rows(run_id=run.pk)

    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_another_runs_changes_are_left_alone():
    group = make_group()
    first, second = ImportRun.objects.create(group=group), ImportRun.objects.create(group=group)
    membership = make_membership(group, nickname="原样")
    rows_before(run_id=second.pk, rows=[membership])
    Membership.objects.filter(pk=membership.pk).update(nickname="改过")

    assert run_undo_rows(run_id=first.pk) == {}
    assert Membership.objects.get(pk=membership.pk).nickname == "改过"


def test_a_deletion_is_kept_with_everything_it_takes_along_and_comes_back_whole():
    from community.models import StoredImage
    from importer.journal import rows_delete
    from shares.models import SignIn, TalkMessage
    from tests.factories import make_share, make_sign_in

    group = make_group()
    run = ImportRun.objects.create(group=group)
    speaker, listener = make_member("讲者"), make_member("听众")
    message = make_message(group, listener, at("2018-05-20", "19:10"), "签到")
    share = make_share(group, speaker)
    talk_row = TalkMessage.objects.create(share=share, message=message, part="qa")
    sign_in = make_sign_in(share, listener, message=message)
    image = StoredImage.objects.create(message=message, file="images/2018/05/a.png")
    before = snapshot(message, talk_row, sign_in, image)

    deleted = rows_delete(run_id=run.pk, rows=Message.objects.filter(pk=message.pk))

    assert deleted == {"community.StoredImage": 1, "shares.TalkMessage": 1, "community.Message": 1}
    assert SignIn.objects.get(pk=sign_in.pk).message_id is None  # the link set to NULL was kept too
    run_undo_rows(run_id=run.pk)
    assert snapshot(message, talk_row, sign_in, image) == before


def test_a_kept_row_of_a_member_merged_away_since_comes_back_on_the_member_it_was_merged_into():
    from community.services import member_merge

    group = make_group()
    run = ImportRun.objects.create(group=group)
    kept, merged = make_member("叶子-融汇金信-技术-北京"), make_member("Yezi")
    message = make_message(group, merged, at("2018-05-20", "10:00"), "早")
    rows_before(run_id=run.pk, rows=[message, merged])
    Message.objects.filter(pk=message.pk).update(text="改过")
    member_merge(into=kept, other=merged, evidence={"rule": "merged-export pair"})

    counts = run_undo_rows(run_id=run.pk)

    assert Message.objects.values_list("sender_id", "text").get(pk=message.pk) == (kept.pk, "早")
    assert not Member.objects.filter(pk=merged.pk).exists()  # not brought back as an empty shell
    assert counts == {"community.member merged, not restored": 1, "community.message restored": 1}


def test_a_row_a_later_run_changed_too_is_left_as_that_run_made_it_and_a_row_the_run_created_is_not_restored():
    group = make_group()
    first, later = ImportRun.objects.create(group=group), ImportRun.objects.create(group=group)
    member = make_member("程琳-杉德支付-PM")
    created_by_first = make_member("新人", import_run=first.pk)
    rows_before(run_id=first.pk, rows=[member, created_by_first])
    Member.objects.filter(pk=member.pk).update(display_name="程琳Wa-杉德支付-PM")
    rows_before(run_id=later.pk, rows=Member.objects.filter(pk=member.pk))
    Member.objects.filter(pk=member.pk).update(display_name="程琳-杉德支付-产品")
    Member.objects.filter(pk=created_by_first.pk).update(display_name="改名的新人")

    counts = run_undo_rows(run_id=first.pk, later_runs=[later.pk])

    assert Member.objects.get(pk=member.pk).display_name == "程琳-杉德支付-产品"
    assert Member.objects.get(pk=created_by_first.pk).display_name == "改名的新人"  # undo deletes it by its column
    assert counts == {"community.member changed since, kept": 1}


def test_an_erasure_scrubs_the_journal():
    from community.models import Name
    from community.privacy import ERASED_NAME, member_erase
    from tests.factories import make_user

    group = make_group()
    run = ImportRun.objects.create(group=group)
    member = make_member("王五-某银行-产品", name="王五", company="某银行", wechat_id="wxid_wang")
    membership = make_membership(group, member, nickname="王五-某银行-产品")
    message = make_message(group, member, at("2018-05-20", "10:00"), "我是王五")
    name = Name.objects.create(member=member, group=group, name="王五-某银行-产品", normalized="王五-某银行-产品",
                               source="header")
    rows_before(run_id=run.pk, rows=[member, membership, message, name])

    counts = member_erase(member=member, by=make_user(staff=True), reason="本人申请注销")

    anonymous = ERASED_NAME.format(id=member.pk)
    kept = {change.table: change.before for change in RunChange.objects.filter(run=run)}
    assert set(kept) == {"community.member", "community.membership", "community.message"}
    assert (kept["community.member"]["display_name"], kept["community.member"]["name"],
            kept["community.member"]["wechat_id"], kept["community.member"]["user"]) == (anonymous, "", "", None)
    assert kept["community.membership"]["nickname"] == anonymous
    assert kept["community.message"]["sender_name"] == anonymous
    assert counts["import_journal"] == 4
