"""The seats pages in a real browser on a 360-px phone, in Chinese: an admin reviews the flags
the rules wrote, approves a removal, copies the reminder text and records it as sent; someone
applies for a seat on the public form. Screenshots are kept as test artifacts."""

from __future__ import annotations

import datetime as dt

import pytest

from community.flags import group_flags_evaluate
from community.models import Application, Flag, MembershipRole, NicknameReminder, RecordedDay
from tests.factories import at, make_group, make_member, make_membership, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_admin_reviews_flags_and_reminders_and_someone_applies_on_a_phone(live_server, phone, screenshot):
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    RecordedDay.objects.bulk_create([
        RecordedDay(group=group, day=dt.date(2018, 1, 1) + dt.timedelta(days=i), message_count=9) for i in range(181)
    ])
    make_membership(group, make_member("周明远-云汇支付-群主-杭州", user=make_user("qunzhu")), role=MembershipRole.OWNER)
    silent = make_membership(group, make_member("钱八-易宝-产品-北京"), joined_at=at("2018-01-01"),
                             last_message_at=at("2018-04-01"), shares_given=1)
    daniel = make_membership(group, make_member("Daniel"), joined_at=at("2018-01-01"),
                             last_message_at=at("2018-06-29"), shares_given=1)
    group_flags_evaluate(group=group)
    base = live_server.url

    admin = phone()
    admin.goto(f"{base}/accounts/login/")
    admin.fill("#id_username", "qunzhu")
    admin.fill("#id_password", "pw-for-tests-1")
    admin.click("main form button[type=submit]")
    admin.goto(f"{base}/g/prodarch/seats/")
    assert admin.locator("h1").inner_text() == "席位 · 支付产品架构交流群"
    assert admin.locator(".flag strong").all_inner_texts() == ["钱八-易宝-产品-北京"]
    assert "90" in admin.locator(".flag .evidence").inner_text()
    assert page_width(admin) <= 360
    screenshot(admin, "queue")

    admin.check(f"input[name=flags][value='{Flag.objects.get(membership=silent).pk}']")
    admin.select_option("#decision", "approve")
    admin.fill("#reason", "两个月没发言")
    admin.click(".decision button[type=submit]")
    admin.wait_for_load_state()
    assert "已处理 1 条标记" in admin.locator(".messages").inner_text()
    silent.refresh_from_db()
    assert silent.status == "removed"
    screenshot(admin, "approved")

    admin.goto(f"{base}/g/prodarch/seats/reminders/")
    assert admin.locator("#reminder-text").input_value().startswith("@Daniel 请按群规把群昵称改为")
    assert page_width(admin) <= 360
    screenshot(admin, "reminders")
    admin.click("form.form button[type=submit]")
    admin.wait_for_load_state()
    assert list(NicknameReminder.objects.values_list("membership_id", flat=True)) == [daniel.pk]

    visitor = phone()
    visitor.goto(f"{base}/g/prodarch/apply/")
    for field, value in {"name": "郑十", "company": "连连支付", "position": "产品经理", "city": "杭州",
                         "wechat_id": "zheng10", "share_topic": "跨境收款的合规"}.items():
        visitor.fill(f"#id_{field}", value)
    assert page_width(visitor) <= 360
    screenshot(visitor, "apply")
    visitor.click("main form button[type=submit]")
    visitor.wait_for_load_state()
    assert visitor.locator("h1").inner_text() == "谢谢"
    assert list(Application.objects.values_list("name", "share_topic", "status")) == [("郑十", "跨境收款的合规", "waiting")]

    admin.goto(f"{base}/g/prodarch/seats/")
    assert "郑十-连连支付-产品经理-杭州" in admin.locator(".applications").inner_text()
    screenshot(admin, "waiting-list")
