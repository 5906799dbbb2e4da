"""Who is who, as pages: the suggested links, the merge and the split — who may see and do
what, what the pages show, that a refused or bad request writes nothing, names kept as
text, and the number of queries the links page costs."""

from __future__ import annotations

import html as htmllib
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse

from community.models import Member, MemberMerge, Membership, Message, Name, NameLink, NameLinkStatus, NameSource
from community.names import normalize_name
from shares.models import Share, SignIn
from tests.factories import (
    ROLES,
    at,
    client_for,
    make_cast,
    make_member,
    make_membership,
    make_message,
    make_share,
    make_sign_in,
)

pytestmark = pytest.mark.django_db

ALLOWED = {"admin", "staff"}
LOGIN = "/accounts/login/?next="


def url(view, **kwargs):
    return reverse(view, kwargs={"group_slug": "prodarch", **kwargs})


def name(member, group, text, source=NameSource.HEADER, times=1, first=None):
    return Name.objects.create(member=member, group=group, name=text, normalized=normalize_name(text), source=source,
                               times_seen=times, first_seen=first, last_seen=first)


def person(group, display_name, messages=0, day="2030-01-0%d"):
    """A member of ``group`` without a login, with ``messages`` messages and a header name."""
    member = make_member(display_name)
    make_membership(group, member)
    for n in range(messages):
        make_message(group, member, at(day % (n + 1), "10:00"), f"{display_name} 说 {n}")
    name(member, group, display_name, times=messages, first=at(day % 1, "10:00") if messages else None)
    return member


def pair(world, first="吴远航", second="吴远航-云汇支付-产品"):
    a, b = person(world.group, first, 3), person(world.group, second, 2, day="2030-02-0%d")
    link = NameLink.objects.create(group=world.group, member=a, other=b,
                                   evidence={"rule": "weak or ambiguous name", "name": first, "group": world.group.pk})
    return SimpleNamespace(a=a, b=b, link=link)


@pytest.fixture
def world():
    return make_cast()


def snapshot():
    return (
        sorted(Member.objects.values_list("id", "display_name")),
        sorted(Message.objects.values_list("id", "sender_id")),
        sorted(Name.objects.values_list("id", "member_id")),
        sorted(Membership.objects.values_list("id", "member_id", "message_count")),
        sorted(NameLink.objects.values_list("id", "status", "decided_by_id")),
        sorted(SignIn.objects.values_list("id", "member_id")),
        sorted(Share.objects.values_list("id", "speaker_id")),
        MemberMerge.objects.count(),
    )


def text_of(response):
    html = response.content.decode()
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def expected_refusal(role, address):
    return (302, LOGIN + address) if role == "anonymous" else (403, None)


# --- who may see and do what ---

@pytest.mark.parametrize("view", ["name_links", "member_merge", "member_split"])
@pytest.mark.parametrize("role", ROLES)
def test_pages_are_for_the_groups_admins_and_staff(world, view, role):
    address = url(view)

    response = client_for(world, role).get(address)

    if role in ALLOWED:
        assert response.status_code == 200
    else:
        assert (response.status_code, getattr(response, "url", None)) == expected_refusal(role, address)


@pytest.mark.parametrize("role", ROLES)
def test_deciding_a_link_is_for_the_groups_admins_and_staff(world, role):
    linked = pair(world)
    address = url("name_link_decide", pk=linked.link.pk)
    before = snapshot()

    response = client_for(world, role).post(address, {"decision": "reject", "reason": "两个人"})

    if role in ALLOWED:
        assert (response.status_code, response.url) == (302, url("name_links"))
        assert NameLink.objects.get().status == NameLinkStatus.REJECTED
    else:
        assert (response.status_code, getattr(response, "url", None)) == expected_refusal(role, address)
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_merging_is_for_the_groups_admins_and_staff(world, role):
    linked = pair(world)
    address = url("member_merge")
    before = snapshot()

    response = client_for(world, role).post(address, {"keep": linked.b.pk, "other": linked.a.pk, "reason": "同一人"})

    if role in ALLOWED:
        record = MemberMerge.objects.get()
        assert (response.status_code, response.url) == (302, f"{address}?record={record.pk}")
        assert not Member.objects.filter(pk=linked.a.pk).exists()
    else:
        assert (response.status_code, getattr(response, "url", None)) == expected_refusal(role, address)
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_splitting_is_for_the_groups_admins_and_staff(world, role):
    member = person(world.group, "鸽子-支付产品-上海", 2)
    bare = name(member, world.group, "鸽子")
    address = url("member_split")
    before = snapshot()

    response = client_for(world, role).post(address, {"member": member.pk, "names": [bare.pk], "reason": "另一个人"})

    if role in ALLOWED:
        record = MemberMerge.objects.get()
        assert (response.status_code, response.url) == (302, f"{address}?record={record.pk}")
        assert Name.objects.get(pk=bare.pk).member_id == record.into_id
    else:
        assert (response.status_code, getattr(response, "url", None)) == expected_refusal(role, address)
        assert snapshot() == before


def test_deciding_is_post_only(world):
    linked = pair(world)

    response = client_for(world, "admin").get(url("name_link_decide", pk=linked.link.pk))

    assert response.status_code == 405


def test_a_link_of_another_group_is_404_here(world):
    other = NameLink.objects.create(group=world.other_group, member=make_member("甲"), other=make_member("乙"))
    before = snapshot()

    response = client_for(world, "admin").post(url("name_link_decide", pk=other.pk), {"decision": "reject"})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(("view", "data"), [
    ("name_link_decide", {"decision": "reject"}),
    ("member_merge", {"reason": "同一人"}),
    ("member_split", {"reason": "另一个人"}),
])
def test_every_post_needs_the_csrf_token(world, view, data):
    linked = pair(world)
    data = {**data, "keep": linked.b.pk, "other": linked.a.pk, "member": linked.b.pk,
            "names": [linked.b.names.get().pk]}
    address = url(view, pk=linked.link.pk) if view == "name_link_decide" else url(view)
    before = snapshot()

    response = client_for(world, "admin", enforce_csrf_checks=True).post(address, data)

    assert response.status_code == 403
    assert snapshot() == before


# --- the suggested links page ---

def test_links_page_shows_both_members_with_their_names_messages_and_the_evidence(world):
    linked = pair(world)
    name(linked.b, world.group, "吴远航", source=NameSource.MENTION, times=4, first=at("2030-02-03"))

    response = client_for(world, "admin").get(url("name_links"), HTTP_ACCEPT_LANGUAGE="en")

    [card] = response.context["cards"]
    assert (card.member.member, card.member.message_count, card.member.first_message_at, card.member.last_message_at) == (
        linked.a, 3, at("2030-01-01", "10:00"), at("2030-01-03", "10:00"))
    assert (card.other.member, card.other.message_count) == (linked.b, 2)
    assert [(n.name, n.source) for n in card.other.names] == [("吴远航-云汇支付-产品", "header"), ("吴远航", "mention")]
    text = text_of(response)
    assert "Why suggested: a weak or ambiguous name, shared with the other member's names · 吴远航" in text
    assert f"吴远航 #{linked.a.pk}" in text
    assert "messages in this group: 3 (2030-01-01 – 2030-01-03)" in text
    assert "吴远航-云汇支付-产品 · message header ×2 · 2030-02-01" in text
    assert "吴远航 · mention ×4 · 2030-02-03" in text
    html = response.content.decode()
    assert f'action="{url("name_link_decide", pk=linked.link.pk)}"' in html
    # The side with more messages is offered as the one to keep.
    assert '<input type="radio" name="keep" value="member" checked>' in html
    assert "Nothing decided yet." in text


def test_links_page_lists_decisions_with_who_when_and_why(world):
    rejected, confirmed = pair(world), pair(world, "王", "王-云汇支付-产品")
    admin = client_for(world, "admin")
    admin.post(url("name_link_decide", pk=rejected.link.pk), {"decision": "reject", "reason": "公司不同"})
    admin.post(url("name_link_decide", pk=confirmed.link.pk),
               {"decision": "confirm", "keep": "other", "reason": "同一人"})

    response = admin.get(url("name_links"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.context["cards"] == []
    username = world.admin.user.username
    rejected_link = NameLink.objects.get()
    when = rejected_link.decided_at.astimezone(world.group.tz).strftime("%Y-%m-%d %H:%M")
    text = text_of(response)
    assert f"吴远航 ≠ 吴远航-云汇支付-产品 · {username} · {when} · 公司不同" in text
    record = MemberMerge.objects.get()
    at_text = record.at.astimezone(world.group.tz).strftime("%Y-%m-%d %H:%M")
    assert f"link confirmed: 王 → 王-云汇支付-产品 details · {username} · {at_text} · 同一人" in text
    assert "No suggestion to decide." in text


def test_confirming_a_link_merges_and_shows_the_kept_member(world):
    linked = pair(world)

    response = client_for(world, "admin").post(
        url("name_link_decide", pk=linked.link.pk), {"decision": "confirm", "keep": "other", "reason": "同一人"},
        follow=True, HTTP_ACCEPT_LANGUAGE="en",
    )

    assert list(Message.objects.order_by().values_list("sender_id", flat=True).distinct()) == [linked.b.pk]
    assert not Member.objects.filter(pk=linked.a.pk).exists()
    record = MemberMerge.objects.get()
    assert response.redirect_chain == [(f"{url('member_merge')}?record={record.pk}", 302)]
    assert f'<a class="kept" href="/members/{linked.b.pk}/"><strong>吴远航-云汇支付-产品</strong></a>' in response.content.decode()
    assert "Moved: messages 3 · names 1 · memberships 1 · sign-ins 0 · shares given 0" in text_of(response)


@pytest.mark.parametrize(("data", "message"), [
    ({"decision": "confirm", "keep": "member", "reason": ""}, "Give a reason: it is kept with the decision."),
    ({"decision": "confirm", "reason": "同一人"}, "Choose which member is kept."),
    ({"decision": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
])
def test_deciding_with_bad_input_says_why_and_writes_nothing(world, data, message):
    linked = pair(world)
    before = snapshot()

    response = client_for(world, "admin").post(url("name_link_decide", pk=linked.link.pk), data, follow=True,
                                               HTTP_ACCEPT_LANGUAGE="en")

    assert [str(m) for m in response.context["messages"]] == [message]
    assert snapshot() == before


def test_deciding_a_link_already_decided_says_so(world):
    linked = pair(world)
    admin = client_for(world, "admin")
    admin.post(url("name_link_decide", pk=linked.link.pk), {"decision": "reject"}, follow=True)
    before = snapshot()

    response = admin.post(url("name_link_decide", pk=linked.link.pk),
                          {"decision": "confirm", "keep": "member", "reason": "同一人"}, follow=True,
                          HTTP_ACCEPT_LANGUAGE="en")

    assert [str(m) for m in response.context["messages"]] == ["This suggestion was already decided."]
    assert snapshot() == before


@pytest.mark.parametrize(("items", "queries"), [(1, 10), (3, 10)])  # 10: the members out of reach, once
def test_links_page_query_count_is_the_same_for_1_and_3_suggestions(world, django_assert_num_queries, items, queries):
    for n in range(items):
        linked = pair(world, f"王{n}", f"王{n}-云汇支付-产品")
        name(linked.a, world.group, f"王{n}", source=NameSource.MENTION)
    decided = pair(world, "李四", "李四-青松银行-开发")
    decided.link.status, decided.link.decided_by = NameLinkStatus.REJECTED, world.admin.user
    decided.link.save()
    client = client_for(world, "admin")

    with django_assert_num_queries(queries):
        response = client.get(url("name_links"))

    assert len(response.context["cards"]) == items


# --- merge ---

def test_merge_search_finds_the_groups_members_by_any_name(world):
    linked = pair(world)
    name(linked.b, world.group, "小周", source=NameSource.MENTION)
    person(world.other_group, "吴远航-别的群")

    response = client_for(world, "admin").get(url("member_merge"), {"q": "小周"}, HTTP_ACCEPT_LANGUAGE="en")

    assert [card.member for card in response.context["found"]] == [linked.b]
    assert f'href="?keep={linked.b.pk}"' in response.content.decode()
    response = client_for(world, "admin").get(url("member_merge"), {"q": "吴远航"})
    assert [card.member for card in response.context["found"]] == [linked.a, linked.b]


def test_merge_search_of_staff_finds_members_of_every_group(world):
    elsewhere = person(world.other_group, "吴远航-别的群")
    linked = pair(world)

    response = client_for(world, "staff").get(url("member_merge"), {"q": "吴远航"})

    assert [card.member for card in response.context["found"]] == [linked.a, linked.b, elsewhere]


def test_merge_second_step_searches_the_other_member_keeping_the_first(world):
    linked = pair(world)

    response = client_for(world, "admin").get(url("member_merge"), {"keep": linked.a.pk, "q": "吴远航"})

    assert response.context["keep"].member == linked.a
    assert [card.member for card in response.context["found"]] == [linked.b]
    assert f'href="?keep={linked.a.pk}&amp;other={linked.b.pk}"' in response.content.decode()


def test_merge_confirmation_page_shows_what_will_move(world):
    linked = pair(world)
    share = make_share(world.group, linked.a, topic="讲过的")
    make_sign_in(make_share(world.group, world.speaker.member, topic="听过的", start=at("2030-01-09")), linked.a)

    response = client_for(world, "admin").get(url("member_merge"), {"keep": linked.b.pk, "other": linked.a.pk},
                                              HTTP_ACCEPT_LANGUAGE="en")

    assert (response.context["keep"].member, response.context["other"].member) == (linked.b, linked.a)
    html = response.content.decode()
    moving = dict(re.findall(r'class="moving" data-row="(\w+)">(\d+)<', html))
    assert moving == {"messages": "3", "names": "1", "memberships": "1", "sign_ins": "1", "shares": "1"}
    assert f'href="?keep={linked.a.pk}&amp;other={linked.b.pk}"' in html  # swap
    assert "“吴远航” is merged into “吴远航-云汇支付-产品” and removed" in text_of(response)
    assert share.speaker_id == linked.a.pk


@pytest.mark.parametrize(("case", "message"), [
    ("no_reason", "Give a reason: it is kept with the decision."),
    ("same", "Choose two different members: a member cannot be merged with itself."),
    ("other_group", "This member is not a member of this group."),
])
def test_merge_with_bad_input_says_why_and_writes_nothing(world, case, message):
    linked = pair(world)
    data = {"keep": linked.b.pk, "other": linked.a.pk, "reason": "同一人"}
    if case == "no_reason":
        data["reason"] = ""
    elif case == "same":
        data["other"] = linked.b.pk
    elif case == "other_group":
        data["other"] = person(world.other_group, "吴远航-别的群").pk
    before = snapshot()

    response = client_for(world, "admin").post(url("member_merge"), data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.context["errors"] == [message]
    assert snapshot() == before


def test_merge_result_page_is_404_for_a_record_of_another_group(world):
    other = make_member("乙")
    make_membership(world.other_group, other)
    record = MemberMerge.objects.create(into=other, merged_name="甲", automatic=False,
                                        evidence={"group": world.other_group.pk})

    response = client_for(world, "admin").get(url("member_merge"), {"record": record.pk})

    assert response.status_code == 404


# --- split ---

def test_split_page_lists_the_members_names_with_their_messages(world):
    member = person(world.group, "鸽子-支付产品-上海", 2)
    bare = name(member, world.group, "鸽子", times=3, first=at("2030-01-05"))
    for n in range(3):
        make_message(world.group, member, at("2030-01-05", f"19:0{n}"), f"另一人{n}", sender_name="鸽子")

    response = client_for(world, "admin").get(url("member_split"), {"member": member.pk}, HTTP_ACCEPT_LANGUAGE="en")

    assert [(entry.name.name, entry.messages) for entry in response.context["names"]] == [
        ("鸽子-支付产品-上海", 2), ("鸽子", 3)]
    assert f'<input type="checkbox" name="names" value="{bare.pk}">' in response.content.decode()
    assert "鸽子 · message header ×3 · 2030-01-05 · 3 messages" in text_of(response)


def test_split_moves_the_names_and_shows_the_new_member(world):
    member = person(world.group, "鸽子-支付产品-上海", 2)
    bare = name(member, world.group, "鸽子", times=1)
    make_message(world.group, member, at("2030-01-05", "19:00"), "另一人", sender_name="鸽子")

    response = client_for(world, "admin").post(url("member_split"),
                                               {"member": member.pk, "names": [bare.pk], "reason": "另一个人"},
                                               follow=True, HTTP_ACCEPT_LANGUAGE="en")

    new = Member.objects.get(display_name="鸽子")
    assert list(Message.objects.filter(sender=new).values_list("text", flat=True)) == ["另一人"]
    assert f'<a class="kept" href="/members/{new.pk}/"><strong>鸽子</strong></a>' in response.content.decode()
    assert "Moved: messages 1 · names 1 · sign-ins 0 · shares given 0" in text_of(response)


@pytest.mark.parametrize(("case", "message"), [
    ("no_reason", "Give a reason: it is kept with the decision."),
    ("no_names", "Choose at least one name to split off."),
    ("not_of_member", "Every name to split off must be a name of this member in this group."),
    ("all_names", "These are all the member's names: there is nothing left to split them from."),
])
def test_split_with_bad_input_says_why_and_writes_nothing(world, case, message):
    member = person(world.group, "鸽子-支付产品-上海", 2)
    bare = name(member, world.group, "鸽子")
    data = {"member": member.pk, "names": [bare.pk], "reason": "另一个人"}
    if case == "no_reason":
        data["reason"] = ""
    elif case == "no_names":
        data["names"] = []
    elif case == "not_of_member":
        data["names"] = [world.member.member.pk and name(world.member.member, world.group, "王芳").pk]
    elif case == "all_names":
        data["names"] = list(member.names.values_list("pk", flat=True))
    before = snapshot()

    response = client_for(world, "admin").post(url("member_split"), data, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.context["errors"] == [message]
    assert snapshot() == before


def test_split_of_a_member_of_another_group_is_refused(world):
    elsewhere = person(world.other_group, "鸽子-别的群", 1)
    before = snapshot()

    response = client_for(world, "admin").post(
        url("member_split"), {"member": elsewhere.pk, "names": [elsewhere.names.get().pk], "reason": "另一个人"},
        HTTP_ACCEPT_LANGUAGE="en")

    assert response.context["errors"] == ["This member is not a member of this group."]
    assert snapshot() == before


# --- names are data ---

ATTACK = "<script>alert(1)</script>"


@pytest.mark.parametrize("page", ["links", "merge_search", "merge_confirm", "split_names", "record"])
def test_a_name_with_markup_shows_as_text(world, page):
    linked = pair(world, ATTACK, "<img src=x onerror=alert(2)>")
    admin = client_for(world, "admin")
    params = {
        "links": ("name_links", {}),
        "merge_search": ("member_merge", {"q": "script"}),
        "merge_confirm": ("member_merge", {"keep": linked.b.pk, "other": linked.a.pk}),
        "split_names": ("member_split", {"member": linked.a.pk}),
        "record": ("member_merge", None),
    }[page]
    if page == "record":
        admin.post(url("member_merge"), {"keep": linked.b.pk, "other": linked.a.pk, "reason": ATTACK})
        params = ("member_merge", {"record": MemberMerge.objects.get().pk})

    html = admin.get(url(params[0]), params[1]).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
