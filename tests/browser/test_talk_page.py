"""The talk page in a real browser on a phone-sized screen, in Chinese: a member reads an
imported talk (paragraphs, Q&A, who signed in); an admin moves the Q&A's beginning on the
correction page and the talk page shows the change."""

from __future__ import annotations

import pytest

from community.models import Member, Membership, MembershipRole, Message
from shares.models import Share, TalkPart
from tests.factories import make_user

from ..shares.test_talk_corrections import PART, import_day, record
from .test_schedule_path import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def qa_lines(page) -> list[str]:
    # Each line is a flex row (sender, then text): its inner text has a line break between them.
    return [" ".join(text.split()) for text in page.locator(".qa li").all_inner_texts()]


def test_member_reads_the_talk_and_admin_moves_the_qa_boundary(live_server, phone, screenshot):
    base = live_server.url
    import_day(record())
    share = Share.objects.get()
    reader = make_user("tingzhong", password="pw-for-tests-1")
    Member.objects.filter(display_name="听众一").update(user=reader)
    admin = make_user("qunzhu", password="pw-for-tests-1")
    host = Member.objects.get(display_name="管理员甲")
    host.user = admin
    host.save()
    Membership.objects.filter(member=host).update(role=MembershipRole.OWNER)
    talk_url = f"{base}/g/prodarch/talks/{share.pk}/"

    # A member reads the talk: its paragraphs, the interruption set apart, the Q&A, who signed in.
    member = phone()
    login(member, base, "tingzhong", "pw-for-tests-1")
    member.goto(talk_url)
    assert member.evaluate("document.documentElement.lang") == "zh-hans"
    paragraphs = member.locator(".talk-body .paragraph").all_inner_texts()
    assert paragraphs[0].startswith("大家好，我是周明远，今天和大家分享的主题是跨境收单的清结算 " + PART.format(1))
    assert member.locator(".talk-body .interruption").all_inner_texts() == ["听众二: 能大声点吗"]
    assert qa_lines(member) == [
        "听众一: @周明远-云汇支付-产品-杭州 请问结算周期一般多长？", "周明远-云汇支付-产品-杭州: 一般是T+1，也有T+7的"]
    assert member.inner_text(".sign-in-count") == "2"
    member.click(".sign-ins summary")
    assert member.inner_text(".sign-ins p") == "听众一, 听众二"
    assert member.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(member, "talk")

    # An admin makes the twelfth part the first message of the Q&A.
    qa_from = Message.objects.get(text=PART.format(12))
    manager = phone()
    login(manager, base, "qunzhu", "pw-for-tests-1")
    manager.goto(talk_url)
    manager.click("a.correct")
    question = Message.objects.get(text__startswith="@周明远")
    assert manager.is_checked(f"#m{question.pk} input[name=qa]")
    manager.check(f"#m{qa_from.pk} input[name=qa]")
    manager.locator(f"#m{qa_from.pk}").scroll_into_view_if_needed()
    screenshot(manager, "correct")
    manager.click(".save-bar button[type=submit]")
    manager.wait_for_url(talk_url)
    screenshot(manager, "corrected")

    assert list(share.talk_messages.filter(part=TalkPart.QA).order_by("message__sent_at")
                .values_list("message__text", flat=True))[:2] == [PART.format(12), "以上是我的分享，谢谢大家"]
    member.goto(talk_url)
    assert qa_lines(member)[:2] == [
        f"周明远-云汇支付-产品-杭州: {PART.format(12)}", "周明远-云汇支付-产品-杭州: 以上是我的分享，谢谢大家"]
    assert PART.format(12) not in " ".join(member.locator(".talk-body .paragraph").all_inner_texts())
    screenshot(member, "talk-after-correction")
