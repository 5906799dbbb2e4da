"""An announced share (announced in the group's record, not given there) in a real browser on a
phone-sized screen: a member sees it on the schedule, marked; the admin opens it, is asked
before deleting it, deletes it with a reason, and it leaves the schedule."""

from __future__ import annotations

import pytest
from django.utils import timezone

from community.models import MembershipRole
from shares.models import Origin, Share, ShareRevision, ShareStatus
from tests.factories import SHANGHAI, at, make_group, make_membership, make_person, make_share, make_sign_in

from .test_schedule_path import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


def test_a_member_sees_the_announced_share_and_the_admin_deletes_it_after_confirming(live_server, phone, screenshot):
    base = live_server.url
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    speaker = make_person(group, "周明远-云汇支付-产品-杭州")
    member = make_person(group, "王芳-云汇支付-架构")
    admin = make_person(group, "李群主-支付社群-群主-北京", role=MembershipRole.OWNER)
    today = timezone.now().astimezone(SHANGHAI).date()
    share = make_share(group, speaker.member, topic="跨境收单的清结算", status=ShareStatus.ANNOUNCED,
                       start=at(today.isoformat(), "19:30"), origin=Origin.IMPORT)
    make_sign_in(share, member.member)
    Share.objects.filter(pk=share.pk).update(sign_in_count=1, scheduled_for=None)
    # Another announced share that evening, given by its speaker in another group.
    other = make_group(slug="devarch", name="支付开发群")
    guest = make_person(other, "吴凌-化交-开发-上海").member
    make_membership(group, guest)
    given = make_share(other, guest, topic="风控模型的迭代", start=at(today.isoformat(), "20:05"))
    make_share(group, guest, topic="风控模型的迭代", status=ShareStatus.ANNOUNCED, start=at(today.isoformat(), "20:00"),
               origin=Origin.IMPORT, given_in=given)

    # The member: on the schedule, marked as announced and not given here, without a time.
    reader = phone()
    login(reader, base, member.user.username, PASSWORD)
    reader.goto(f"{base}/g/prodarch/schedule/")
    screenshot(reader, "schedule-member")
    line = reader.locator("li", has=reader.locator(".announced-mark"))
    assert line.locator(".no-start").inner_text() == "未公布时间"
    assert [mark.inner_text() for mark in line.locator(".announced-mark").all()] == [
        "已预告，未在本群分享", "已在支付开发群分享"]
    assert line.locator("a.given-in").get_attribute("href") == f"/g/devarch/talks/{given.pk}/"
    assert reader.locator(".delete-announced").count() == 0

    # The admin: the share page offers the correction and the delete button, which asks first.
    runner = phone()
    login(runner, base, admin.user.username, PASSWORD)
    runner.goto(f"{base}/g/prodarch/shares/{share.pk}/")
    screenshot(runner, "share-admin")
    runner.click(".delete-announced")
    screenshot(runner, "confirm")
    assert runner.locator("h1").first.inner_text() == "删除这场已预告的分享"
    assert Share.objects.get(pk=share.pk).status == ShareStatus.ANNOUNCED  # asking deleted nothing

    runner.fill("#id_reason", "预告有误，嘉宾改到下周")
    runner.click("main form button.danger")
    screenshot(runner, "deleted")
    share.refresh_from_db()
    assert (share.status, share.sign_in_count) == (ShareStatus.CANCELLED, 0)
    assert ShareRevision.objects.get(share=share, action="announced share deleted").note == "预告有误，嘉宾改到下周"

    reader.goto(f"{base}/g/prodarch/schedule/")
    screenshot(reader, "schedule-after")
    assert "跨境收单的清结算" not in reader.content()
