"""A merge in a real browser, on a phone-sized screen in Chinese: the group's owner finds the
member to keep and the one to merge into it, sees what will move, gives a reason and
merges; afterwards the kept member has every message, sign-in and share of both."""

from __future__ import annotations

import pytest
from django.urls import reverse

from community.models import Member, MemberMerge, MembershipRole, Message
from importer.services import Source, transcripts_import
from shares.models import Share, SignIn
from tests.factories import make_group, make_person

from ..importer.test_services import talk_day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL = "周明远-云汇支付-产品-杭州"
ALIAS = "老周"


def login(page, base: str, username: str, password: str = "pw-for-tests-1") -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")


def test_an_admin_merges_two_members_on_a_phone_and_everything_moves(live_server, phone, screenshot):
    base = live_server.url
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    owner = make_person(group, "李群主-支付社群-群主-北京", role=MembershipRole.OWNER)
    # The same person, twice: a talk under the full nickname; a talk and a sign-in under a bare alias.
    days = [
        ("2024-03-04.md", talk_day(day="2024-03-04", speaker=FULL, topic="跨境收单的清结算")),
        ("2024-03-05.md", talk_day(day="2024-03-05", speaker=ALIAS, topic="聚合支付的对账")),
        ("2024-03-06.md", talk_day(day="2024-03-06", speaker="林一帆-青松银行-架构-深圳", topic="分布式账务")
         .replace("听众二".encode(), ALIAS.encode())),
    ]
    result = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(n, d) for n, d in days])
    assert result.ok, result.errors
    kept, alias = Member.objects.get(display_name=FULL), Member.objects.get(display_name=ALIAS)
    expected_messages = Message.objects.filter(sender__in=[kept, alias]).count()
    assert (Message.objects.filter(sender=alias).count(), SignIn.objects.filter(member=alias).count(),
            Share.objects.filter(speaker=alias).count()) == (15 + 1, 1, 1)

    admin = phone()
    login(admin, base, owner.user.username)
    admin.goto(f"{base}{reverse('member_merge', kwargs={'group_slug': 'prodarch'})}")
    # Step 1: the member to keep.
    admin.fill("#id_q", "周明远")
    admin.click("form.search button[type=submit]")
    screenshot(admin, "find-kept")
    admin.click(f"a.pick[href='?keep={kept.pk}']")
    # Step 2: the member to merge into it.
    admin.fill("#id_q", ALIAS)
    admin.click("form.search button[type=submit]")
    screenshot(admin, "find-other")
    admin.click(f"a.pick[href='?keep={kept.pk}&other={alias.pk}']")
    # Step 3: what will move, a reason, and the merge.
    moving = {row: admin.text_content(f".moving[data-row={row}]") for row in ("messages", "sign_ins", "shares")}
    assert moving == {"messages": "16", "sign_ins": "1", "shares": "1"}
    admin.fill("#id_reason", "老周就是周明远本人（他在群里说过）")
    screenshot(admin, "confirm")
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    admin.click("form.confirm button[type=submit]")
    screenshot(admin, "merged")
    assert admin.get_attribute("a.kept", "href") == f"/members/{kept.pk}/"

    # In the database: one member with everything.
    assert not Member.objects.filter(pk=alias.pk).exists()
    assert Message.objects.filter(sender=kept).count() == expected_messages
    assert Message.objects.filter(sender_name=ALIAS).exclude(sender=kept).count() == 0
    assert sorted(Share.objects.filter(speaker=kept).values_list("topic", flat=True)) == ["聚合支付的对账", "跨境收单的清结算"]
    assert list(SignIn.objects.filter(member=kept).values_list("share__topic", flat=True)) == ["分布式账务"]
    record = MemberMerge.objects.get(automatic=False)
    assert (record.into_id, record.merged_name, record.by, record.reason) == (
        kept.pk, ALIAS, owner.user, "老周就是周明远本人（他在群里说过）")

    # On the pages: the alias's talk is the kept member's now, and so is the sign-in.
    talk = Share.objects.get(topic="聚合支付的对账")
    admin.goto(f"{base}{reverse('shares:talk', kwargs={'group_slug': 'prodarch', 'pk': talk.pk})}")
    screenshot(admin, "talk-of-the-kept-member")
    assert FULL in admin.text_content(".talk header .card strong")
    attended = Share.objects.get(topic="分布式账务")
    admin.goto(f"{base}{reverse('shares:talk', kwargs={'group_slug': 'prodarch', 'pk': attended.pk})}")
    assert FULL in admin.text_content(".sign-ins p")
    admin.goto(f"{base}{reverse('name_links', kwargs={'group_slug': 'prodarch'})}")
    screenshot(admin, "decisions")
    assert f"{ALIAS} → {FULL}" in " ".join(admin.text_content(".decisions li").split())


def test_an_admin_rejects_a_suggested_link_on_a_phone(live_server, phone, screenshot):
    base = live_server.url
    group = make_group(slug="prodarch", name="支付产品架构交流群")
    owner = make_person(group, "李群主-支付社群-群主-北京", role=MembershipRole.OWNER)
    names = ["王-云汇支付-产品", "王-青松银行-开发"]
    day = talk_day(day="2024-03-04").replace("听众一".encode(), names[0].encode()).replace("听众二".encode(), names[1].encode())
    assert transcripts_import(group_slug="prodarch", sources=[Source.from_bytes("a.md", day)]).ok
    from community.models import NameLink

    link = NameLink.objects.get()

    admin = phone()
    login(admin, base, owner.user.username)
    admin.goto(f"{base}{reverse('name_links', kwargs={'group_slug': 'prodarch'})}")
    screenshot(admin, "suggested")
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    card = admin.locator(f"#link-{link.pk}")
    card.locator("textarea[name=reason]").fill("两位王先生，公司不同")
    card.locator("button[value=reject]").click()
    screenshot(admin, "rejected")
    link.refresh_from_db()
    assert (link.status, link.decided_by, link.evidence["reject_reason"]) == ("rejected", owner.user, "两位王先生，公司不同")
    assert "王-云汇支付-产品 ≠ 王-青松银行-开发" in " ".join(admin.text_content(".rejected li").split())

    # The split page of one of them reads on the phone too.
    member = Member.objects.get(display_name=names[0])
    admin.goto(f"{base}{reverse('member_split', kwargs={'group_slug': 'prodarch'})}?member={member.pk}")
    screenshot(admin, "split-names")
    assert admin.evaluate("document.documentElement.scrollWidth") <= 360
    assert admin.locator("input[name=names]").count() == member.names.filter(group=group).count()
