"""The member pages in a real browser on a 360-px phone, in Chinese: the directory (rows become
cards, nothing wider than the screen), a profile with its chart, and the group's activity.
Screenshots are kept as test artifacts; a desktop view of the admins' directory too."""

from __future__ import annotations

import datetime as dt

import pytest

from community.models import MembershipRole, MembershipStatus, Name, NameSource, RecordedDay
from tests.factories import (
    at,
    make_group,
    make_member,
    make_membership,
    make_message,
    make_share,
    make_sign_in,
    make_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEAKER = "李东衡-关天数据-产品-上海"


def login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-1")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def group_with_history():
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    owner = make_member("周明远-云汇支付-群主-杭州", user=make_user("qunzhu"), name="周明远", company="云汇支付",
                        position="群主", city="杭州")
    make_membership(group, owner, role=MembershipRole.OWNER, message_count=120, sign_in_count=30,
                    last_message_at=at("2018-06-28", "21:00"))
    speaker = make_member(SPEAKER, user=make_user("lidongheng"), name="李东衡", company="关天数据", position="产品",
                          city="上海", wechat_id="wxid_li")
    make_membership(group, speaker, message_count=64, shares_given=2, sign_in_count=12,
                    last_message_at=at("2018-06-30", "23:30"), next_share_at=at("2018-07-12", "20:00"))
    make_membership(group, make_member("沉默的人", company="某银行"), nickname="沉默的人", message_count=0,
                    exempt_until=dt.date(2018, 9, 1), exempt_reason="出国进修")
    make_membership(group, make_member("王被移出-某支付-运营-北京"), status=MembershipStatus.REMOVED, message_count=3)
    Name.objects.create(member=speaker, group=group, name="Wood", normalized="wood", source=NameSource.MENTION,
                        first_seen=at("2018-01-05", "10:00"), last_seen=at("2018-05-01", "10:00"), times_seen=4)
    Name.objects.create(member=speaker, group=group, name=SPEAKER, normalized=SPEAKER, source=NameSource.HEADER,
                        first_seen=at("2018-01-02", "10:00"), last_seen=at("2018-06-30", "23:30"), times_seen=64)
    day = dt.date(2018, 4, 1)
    for n in range(91):
        if n % 9 == 4:
            continue  # a gap in the record
        RecordedDay.objects.create(group=group, day=day + dt.timedelta(days=n), message_count=(n * 37) % 90 + 5)
    for month, count in [(1, 3), (2, 7), (3, 2), (5, 9), (6, 5)]:
        for n in range(count):
            make_message(group, speaker, at(f"2018-{month:02d}-{n + 1:02d}", f"{9 + n % 12:02d}:15"), f"消息{n}")
    talk = make_share(group, speaker, topic="跨境收单的清结算", start=at("2018-06-20"))
    make_sign_in(talk, owner)
    heard = make_share(group, owner, topic="聚合支付的风控", start=at("2018-05-10"))
    make_sign_in(heard, speaker)
    make_sign_in(heard, owner)
    return group, owner, speaker, talk


def test_directory_profile_and_activity_on_a_phone(live_server, phone, screenshot, browser, group_with_history):
    group, owner, speaker, talk = group_with_history
    base = live_server.url

    # A member reads the directory: cards, no status, nothing wider than the phone.
    member_page = phone()
    login(member_page, base, "lidongheng")
    member_page.goto(f"{base}/g/prodarch/members/")
    screenshot(member_page, "directory-member")
    assert "支付产品架构交流群" in member_page.locator("h1").inner_text()
    cards = member_page.locator("tr.member-row")
    assert cards.count() == 3
    first_card = cards.nth(0)
    assert first_card.locator("th.nickname").inner_text() == "周明远-云汇支付-群主-杭州"
    assert first_card.locator("td.company").is_visible()
    # A card: the column's name is shown before the value (the table's header row is hidden).
    assert first_card.locator("td.company").evaluate("cell => getComputedStyle(cell, '::before').content") == '"公司"'
    assert member_page.locator("thead").bounding_box()["height"] <= 1
    assert "王被移出" not in member_page.content()
    assert page_width(member_page) <= 360

    # The owner sees every membership, with the evidence, still within the screen's width.
    admin_page = phone()
    login(admin_page, base, "qunzhu")
    admin_page.goto(f"{base}/g/prodarch/members/")
    screenshot(admin_page, "directory-admin")
    assert admin_page.locator("tr.member-row").count() == 4
    removed = admin_page.locator("tr.member-row", has_text="王被移出")
    assert removed.locator("td.status").inner_text().endswith("已移出")
    assert page_width(admin_page) <= 360
    admin_page.fill("input[name=q]", "关天")
    admin_page.click("form.directory-filters button[type=submit]")
    admin_page.wait_for_load_state()
    assert [admin_page.locator("tr.member-row th.nickname").all_inner_texts()] == [[SPEAKER]]
    screenshot(admin_page, "directory-search")

    # The speaker's profile, from the directory: names, groups, talks, and the chart.
    admin_page.click(f"tr.member-row th.nickname a:text('{SPEAKER}')")
    admin_page.wait_for_load_state()
    assert admin_page.locator("h1").inner_text() == SPEAKER
    chart = admin_page.locator("figure.chart-box svg")
    assert chart.get_attribute("role") == "img"
    box = chart.bounding_box()
    assert 250 <= box["width"] <= 340
    assert admin_page.locator("figure.chart-box svg g.bar rect").count() == 5  # January to June, April empty
    assert admin_page.locator(".talks-given a").inner_text() == "跨境收单的清结算"
    assert admin_page.locator(".talks-attended a").inner_text() == "聚合支付的风控"
    assert "Wood" in admin_page.locator(".names").inner_text()
    assert page_width(admin_page) <= 360
    screenshot(admin_page, "profile")

    # The group's activity: two charts (gaps in the record), and the attendance of each talk.
    member_page.goto(f"{base}/g/prodarch/activity/")
    screenshot(member_page, "activity")
    assert member_page.locator("figure.days svg g.gap").count() >= 9
    assert member_page.locator("figure.hours svg g.bar").count() == 24
    assert member_page.locator(".attendance li").all_inner_texts()[0].startswith("2018-06-20\n跨境收单的清结算")
    assert member_page.locator(".attendance .count").all_inner_texts() == ["1", "2"]
    assert page_width(member_page) <= 360
    member_page.goto(f"{base}/g/prodarch/activity/?from=2018-06-31&to=2018-06-01")
    assert member_page.locator(".range-error").is_visible()
    screenshot(member_page, "activity-bad-range")

    # On a desktop the admins' directory is a table.
    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        page = desktop.new_page()
        login(page, base, "qunzhu")
        page.goto(f"{base}/g/prodarch/members/")
        assert page.locator("thead").bounding_box()["height"] > 20
        screenshot(page, "directory-desktop")
        # What does not fit scrolls sideways inside the table's box, not the page.
        assert page_width(page) <= 1280
        page.locator(".table-wrap").evaluate("box => box.scrollLeft = box.scrollWidth")
        screenshot(page, "directory-desktop-scrolled")
    finally:
        desktop.close()
