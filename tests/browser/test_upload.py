"""Uploading transcripts in a real browser on a 360-px phone, in Chinese: the group's owner picks
two files, lands on the run's page, which waits for a worker, follows the preview without being
reloaded by hand, confirms it, and then sees the per-file report. A real worker takes the tasks
from Redis."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from community.models import MembershipRole, Message
from config.celery import app
from importer.models import ImportRun
from tests.community.test_flag_worker import real_broker  # noqa: F401 — a fixture
from tests.factories import make_group, make_member, make_membership, make_user
from tests.importer.test_services import talk_day, transcript

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_uploads_two_transcripts_and_follows_the_import_on_a_phone(live_server, phone, screenshot,
                                                                          real_broker, tmp_path):  # noqa: F811
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    make_membership(group, make_member("周明远-云汇支付-群主-杭州", user=make_user("qunzhu")), role=MembershipRole.OWNER)
    files = [tmp_path / "2024-03-04.md", tmp_path / "2024-03-05.md"]
    files[0].write_bytes(talk_day())
    files[1].write_bytes(transcript("2024-03-05", [("09:00:00", "听众一", "早上好"), ("09:01:00", "听众二", "<b>早</b>")]))
    base = live_server.url

    admin = phone()
    admin.goto(f"{base}/accounts/login/")
    admin.fill("#id_username", "qunzhu")
    admin.fill("#id_password", "pw-for-tests-1")
    admin.click("main form button[type=submit]")
    admin.goto(f"{base}/g/prodarch/")
    admin.goto(f"{base}/g/prodarch/imports/")
    assert admin.locator("h1").inner_text().endswith("· 支付产品架构交流群")
    admin.set_input_files("#id_transcripts-files", [str(f) for f in files])
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(admin, "form")
    admin.click("form:has(input[value=transcripts]) button[type=submit]")
    admin.wait_for_load_state()

    run = ImportRun.objects.get()
    assert admin.url == f"{base}/g/prodarch/imports/runs/{run.pk}/"
    assert run.status == "queued"  # no worker yet: the page waits, and says so
    assert admin.locator("#run-progress-bar").get_attribute("max") == "2"
    screenshot(admin, "waiting")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        # The page polls its progress and shows the preview, then (confirmed) the report.
        admin.wait_for_selector("#confirm-import", timeout=30_000)
        assert Message.objects.count() == 0  # nothing is written until the admin confirms
        assert admin.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(admin, "preview")
        admin.click("#confirm-import")
        admin.wait_for_selector("table.report", timeout=30_000)

    rows = admin.locator("table.report tbody tr")
    assert [rows.nth(i).get_attribute("class") for i in range(rows.count())] == ["file-imported", "file-imported"]
    assert admin.locator("table.report .file-name").all_inner_texts() == ["2024-03-04.md", "2024-03-05.md"]
    assert admin.locator("#run-progress").count() == 0
    assert Message.objects.filter(text="<b>早</b>").count() == 1
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(admin, "report")
