"""A partial day uploaded through the web, then undone, leaves the day exactly as before (issue 12),
in a real browser on a 360-px phone, in Chinese: the group's owner uploads a file holding one
message the day has and one it lacks; the preview says so (one to add, the others stored and
kept); confirmed, the day gains one message and keeps its talk and sign-ins; the run's page
offers to undo it, the undo page says what will change, and undoing gives the day back, row for
row. A real worker takes the tasks from Redis."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from community.models import MembershipRole, Message
from config.celery import app
from importer.models import ImportRun
from shares.models import Share, SignIn
from tests.community.test_flag_worker import real_broker  # noqa: F401 — a fixture
from tests.factories import make_group, make_member, make_membership, make_user
from tests.importer.test_services import run, talk_day, transcript
from tests.importer.test_undo import state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = "2024-03-04"


def test_a_partial_day_uploaded_then_undone_leaves_the_day_exactly_as_before(live_server, phone, screenshot,
                                                                             real_broker, tmp_path):  # noqa: F811
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    make_membership(group, make_member("周明远-云汇支付-群主-杭州", user=make_user("qunzhu")), role=MembershipRole.OWNER)
    run(("full.md", talk_day(day=DAY)))  # the day as the record has it: 21 messages, a talk, 3 sign-ins
    before = state()
    partial = tmp_path / f"{DAY}-part.md"
    partial.write_bytes(transcript(DAY, [("09:01:00", "闲聊者", "早上好"), ("23:00:00", "新来的人-某支付-产品", "晚安")]))
    base = live_server.url

    admin = phone()
    admin.goto(f"{base}/accounts/login/")
    admin.fill("#id_username", "qunzhu")
    admin.fill("#id_password", "pw-for-tests-1")
    admin.click("main form button[type=submit]")
    admin.goto(f"{base}/g/prodarch/imports/")
    admin.set_input_files("#id_transcripts-files", [str(partial)])
    admin.click("form:has(input[value=transcripts]) button[type=submit]")
    admin.wait_for_load_state()
    upload = ImportRun.objects.latest("pk")
    assert admin.url == f"{base}/g/prodarch/imports/runs/{upload.pk}/"

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        admin.wait_for_selector("#confirm-import", timeout=30_000)
        day = admin.locator(".preview-days > li")
        assert day.locator("h3").inner_text() == f"{DAY} {DAY}-part.md"
        assert day.locator(".counts li").all_inner_texts() == [
            "待添加的消息: 1", "已存在: 1", "已存但文件中没有: 20", "发现的分享: 1", "待添加的签到: 0"]
        assert day.locator(".replace label").inner_text() == "替换这一天：删除文件中没有的 20 条已存消息"
        assert state() == before  # the preview wrote nothing
        assert admin.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(admin, "preview")
        admin.click("#confirm-import")  # the day is not replaced: its stored messages stay
        admin.wait_for_selector("table.report", timeout=30_000)

    assert (Message.objects.count(), Share.objects.count(), SignIn.objects.count()) == (22, 1, 3)
    assert admin.locator("#run-status").inner_text() == "成功"
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(admin, "imported")

    admin.click("#undo-link")
    admin.wait_for_load_state()
    assert admin.url == f"{base}/g/prodarch/imports/runs/{upload.pk}/undo/"
    plan = admin.locator(".undo-plan li").all_inner_texts()
    assert plan[:2] == ["要删除的消息: 1", "要恢复的消息: 0"]
    assert admin.locator(".days").inner_text() == DAY
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(admin, "undo-page")
    admin.click("#undo-confirm")
    admin.wait_for_load_state()

    assert admin.url == f"{base}/g/prodarch/imports/runs/{upload.pk}/"
    assert admin.locator("#run-status").inner_text() == "已撤销"
    assert f"导入 {upload.pk} 已撤销" in admin.locator(".messages").inner_text()
    assert state() == before  # the day exactly as it was: every row, every field, the same ids
    screenshot(admin, "undone")
