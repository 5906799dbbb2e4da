"""The schedule's whole path in a real browser on a phone-sized screen:
an admin invites a member → the member joins and registers a share → the admin schedules it →
the announcement text is shown → the member signs in on the web → the day's transcript is
imported and the same share is delivered with the talk attached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from community.models import Member, MembershipRole
from importer.services import Source, roster_import, transcripts_import
from shares.models import Share, ShareStatus, SignIn, TalkPart
from tests.factories import make_user

from ..importer.test_services import ANNOUNCE, transcript

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SPEAKER = "周明远-云汇支付-产品-杭州"
TOPIC = "跨境收单的清结算"


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")


def test_invite_register_schedule_announce_sign_in_then_import_delivers_the_share(live_server, phone, screenshot):
    base = live_server.url
    roster = f"NickName,DisplayName,UserName,JoinedAt\n小周,{SPEAKER},wxid_zhou,2023-01-05\n管理员,李群主-支付社群-群主-北京,wxid_li,2022-01-01\n"
    assert roster_import(group_slug="prodarch", group_name="支付产品架构交流群",
                         source=Source.from_bytes("members.csv", roster.encode())).ok
    member = Member.objects.get(wechat_id="wxid_zhou")
    admin_user = make_user("qunzhu", password="pw-for-tests-1")
    owner = Member.objects.get(wechat_id="wxid_li")
    owner.user = admin_user
    owner.save()
    owner.memberships.update(role=MembershipRole.OWNER)

    # The admin invites the member.
    admin = phone()
    login(admin, base, "qunzhu", "pw-for-tests-1")
    admin.goto(f"{base}/accounts/invite/{member.pk}/?group=prodarch")
    admin.click("main form button[type=submit]")
    link = admin.input_value("#invitation-link")
    screenshot(admin, "invitation")
    assert "/accounts/join/" in link

    # The member joins and registers a share for today.
    speaker = phone()
    speaker.goto(link)
    speaker.fill("#id_username", "zhouming")
    speaker.fill("#id_password", "long-enough-pass-42")
    speaker.fill("#id_password_confirm", "long-enough-pass-42")
    screenshot(speaker, "join")
    speaker.click("main form button[type=submit]")
    member.refresh_from_db()
    assert member.user.username == "zhouming"
    today = timezone.localdate()
    speaker.goto(f"{base}/g/prodarch/shares/new/")
    speaker.fill("#id_topic", TOPIC)
    speaker.fill("#id_abstract", "清算链路、结算周期与**汇率**。")
    speaker.fill("#id_preferred_day_1", today.isoformat())
    screenshot(speaker, "register")
    speaker.click("main form button[type=submit]")
    share = Share.objects.get(topic=TOPIC)
    assert (share.status, share.speaker_id) == (ShareStatus.PROPOSED, member.pk)

    # The admin schedules it ten minutes from now: the sign-in window is then open.
    start = (timezone.localtime() + dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    if (start + dt.timedelta(minutes=16)).date() != today:
        pytest.skip("too close to midnight (group time) for a talk that ends today")
    admin.goto(f"{base}/g/prodarch/shares/{share.pk}/")
    schedule_form = admin.locator(f"form[action='/g/prodarch/shares/{share.pk}/schedule/']")
    schedule_form.locator("#id_day").fill(today.isoformat())
    schedule_form.locator("#id_time").fill(start.strftime("%H:%M"))
    schedule_form.locator("button[type=submit]").click()
    screenshot(admin, "scheduled")
    share.refresh_from_db()
    assert (share.status, share.scheduled_for) == (ShareStatus.SCHEDULED, start)

    # The announcement text, ready to paste into WeChat.
    admin.goto(f"{base}/g/prodarch/shares/{share.pk}/announcement/")
    text = admin.input_value("#paste-text")
    screenshot(admin, "announcement")
    assert text == ANNOUNCE.format(nick=SPEAKER, topic=TOPIC, start=start.strftime("%H:%M")).replace(
        "欢迎欢迎[鼓掌]！", "欢迎欢迎[鼓掌][鼓掌][鼓掌]！")

    # The member signs in on the web, once.
    speaker.goto(f"{base}/g/prodarch/shares/{share.pk}/")
    speaker.click(f"form[action='/g/prodarch/shares/{share.pk}/sign-in/'] button")
    screenshot(speaker, "signed-in")
    assert list(SignIn.objects.values_list("member_id", "origin")) == [(member.pk, "web")]

    # That day's transcript arrives: the same share is delivered, with its talk.
    hhmm = start.strftime("%H:%M")
    later = [(start + dt.timedelta(minutes=n)).strftime("%H:%M:%S") for n in range(1, 16)]
    day_text = transcript(today.isoformat(), [
        ("00:00:05", "李群主-支付社群-群主-北京", ANNOUNCE.format(nick=SPEAKER, topic=TOPIC, start=hhmm)),
        ("00:00:09", "听众甲乙", "签到"),
        (start.strftime("%H:%M:%S"), SPEAKER, f"大家好，我是周明远，今天和大家分享的主题是{TOPIC}"),
        *[(t, SPEAKER, f"第{n}部分：跨境收单的清算链路和结算周期，汇率与手续费的处理") for n, t in enumerate(later[:12], 1)],
        (later[12], SPEAKER, "以上是我的分享，谢谢大家"),
        (later[13], "听众甲乙", f"@{SPEAKER} 请问结算周期一般多长？"),
        (later[14], SPEAKER, "一般是T+1"),
    ])
    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(f"{today}.md", day_text)])
    assert result.ok, result.errors
    share.refresh_from_db()
    assert (Share.objects.count(), share.status, share.origin) == (1, ShareStatus.DELIVERED, "web")
    assert share.talk_messages.filter(part=TalkPart.TALK).count() == 14
    assert share.sign_in_count == 2
    speaker.goto(f"{base}/g/prodarch/shares/{share.pk}/")
    screenshot(speaker, "delivered")
    assert "已分享" in speaker.content()
