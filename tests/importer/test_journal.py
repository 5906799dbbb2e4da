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
