"""The talk search in a real browser on a phone-sized screen, in Chinese: a day's transcript is
imported (the index is built after the import commits), a member searches a word that is only
in the talk's text, finds the talk and opens it."""

from __future__ import annotations

import pytest

from importer.services import Source, transcripts_import
from shares.models import Share, TalkIndex
from tests.factories import make_group, make_person

from ..importer.test_services import talk_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")


def test_a_member_finds_a_talk_by_a_chinese_word_of_its_text_on_a_phone(live_server, phone, screenshot):
    base = live_server.url
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    reader = make_person(group, "王芳-云汇支付-架构")
    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes("2024-03-04.md", talk_day())])
    assert result.ok, result.errors
    share = Share.objects.get()
    # Not in a transaction here: the import committed, its refresh ran (tasks are eager in tests).
    assert TalkIndex.objects.get().share_id == share.pk
    assert "汇率" not in share.topic

    page = phone()
    login(page, base, reader.user.username, "pw-for-tests-1")
    page.goto(f"{base}/talks/?group=prodarch")
    screenshot(page, "list")
    page.fill("input[name=q]", "汇率")
    page.click("form.talk-search button[type=submit]")
    page.wait_for_url("**/talks/?q=*")
    screenshot(page, "found")

    results = page.locator("ol.talk-results > li.talk-result")
    assert results.count() == 1
    assert results.first.locator("h2").inner_text() == "跨境收单的清结算"
    assert results.first.locator(".snippet mark").first.inner_text() == "汇率"
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    results.first.locator("h2 a").click()
    page.wait_for_url(f"**/g/prodarch/talks/{share.pk}/")
    screenshot(page, "talk")
    assert page.locator("h1").inner_text() == "跨境收单的清结算"
    assert "汇率" in page.locator(".talk-body").inner_text()
