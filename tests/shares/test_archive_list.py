"""The talk archive's list and search (/talks/): who sees which talks, the filters and pages,
what a row shows, message text kept as data in the snippets, and the queries it costs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from community.models import Visibility
from shares.models import ShareStatus, TalkMessage, TalkPart
from shares.search import talk_index_refresh
from tests.factories import at, client_for, make_cast, make_member, make_membership, make_message, make_share

pytestmark = pytest.mark.django_db

LIST = "/talks/"


@pytest.fixture
def world():
    return make_cast()


def talk(group, speaker, topic, texts=(), *, start=None, visibility=Visibility.PUBLIC, part=TalkPart.TALK, **fields):
    start = start or at("2018-05-20")
    share = make_share(group, speaker, topic=topic, start=start, visibility=visibility, **fields)
    for n, text in enumerate(texts):
        message = make_message(group, speaker, start + dt.timedelta(minutes=n), text)
        TalkMessage.objects.create(share=share, message=message, part=part)
    return share


def topics(response):
    return [row.share.topic for row in response.context["rows"]]


def get(client, **params):
    return client.get(LIST, params, HTTP_ACCEPT_LANGUAGE="en")


def test_the_url_is_the_one_the_group_nav_links_to():
    assert reverse("talk_list") == LIST


# --- who sees what ---

@pytest.fixture
def every_kind(world):
    """A talk of each visibility in both groups, newest first in this order; plus a share
    that is only scheduled (never listed)."""
    speaker, other = world.speaker.member, make_member("别群讲者")
    day = dt.timedelta(days=1)
    start = at("2018-05-01")
    made = [
        talk(world.group, speaker, "本群公开", start=start + 6 * day, visibility=Visibility.PUBLIC),
        talk(world.group, speaker, "本群成员", start=start + 5 * day, visibility=Visibility.MEMBERS),
        talk(world.group, speaker, "本群隐藏", start=start + 4 * day, visibility=Visibility.HIDDEN),
        talk(world.group, world.admin.member, "群主隐藏", start=start + 3 * day, visibility=Visibility.HIDDEN),
        talk(world.other_group, other, "别群公开", start=start + 2 * day, visibility=Visibility.PUBLIC),
        talk(world.other_group, other, "别群成员", start=start + day, visibility=Visibility.MEMBERS),
        talk(world.other_group, other, "别群隐藏", start=start, visibility=Visibility.HIDDEN),
    ]
    talk(world.group, speaker, "待讲", start=at("2030-01-01"), status=ShareStatus.SCHEDULED)
    return made


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", ["本群公开", "别群公开"]),
    ("member", ["本群公开", "本群成员", "别群公开"]),
    ("outsider", ["本群公开", "别群公开", "别群成员"]),
    ("speaker", ["本群公开", "本群成员", "本群隐藏", "别群公开"]),
    ("admin", ["本群公开", "本群成员", "本群隐藏", "群主隐藏", "别群公开"]),
    ("other_admin", ["本群公开", "别群公开", "别群成员", "别群隐藏"]),
    ("staff", ["本群公开", "本群成员", "本群隐藏", "群主隐藏", "别群公开", "别群成员", "别群隐藏"]),
])
def test_list_shows_exactly_the_talks_the_visitor_may_see(world, every_kind, role, expected):
    response = get(client_for(world, role))

    assert response.status_code == 200
    assert topics(response) == expected
    assert response.context["page"].paginator.count == len(expected)


@pytest.mark.parametrize(("role", "found"), [
    ("anonymous", False), ("member", False), ("outsider", False), ("speaker", True), ("admin", True),
    ("other_admin", False), ("staff", True),
])
def test_search_never_finds_a_hidden_talk_for_someone_who_may_not_see_it(world, role, found):
    talk(world.group, world.speaker.member, "隐藏的分享", ["今天只在这里说拒付仲裁的秘密"], visibility=Visibility.HIDDEN)
    talk(world.group, world.speaker.member, "公开的分享", ["公开的内容"])
    talk_index_refresh()

    response = get(client_for(world, role), q="拒付仲裁")

    assert topics(response) == (["隐藏的分享"] if found else [])
    html = response.content.decode()
    assert ("秘密" in html) == found
    assert ("隐藏的分享" in html) == found


@pytest.mark.parametrize(("role", "found"), [
    ("anonymous", False), ("member", True), ("outsider", False), ("speaker", True), ("admin", True),
    ("other_admin", False), ("staff", True),
])
def test_search_finds_a_members_only_talk_only_for_members_of_its_group(world, role, found):
    talk(world.group, world.speaker.member, "成员分享", ["清分对账的细节"], visibility=Visibility.MEMBERS)
    talk_index_refresh()

    response = get(client_for(world, role), q="对账")

    assert topics(response) == (["成员分享"] if found else [])


def test_group_and_speaker_choices_are_those_of_visible_talks(world):
    talk(world.group, world.speaker.member, "公开", visibility=Visibility.PUBLIC)
    talk(world.group, world.admin.member, "隐藏", visibility=Visibility.HIDDEN)
    talk(world.other_group, world.outsider.member, "别群成员", visibility=Visibility.MEMBERS)

    member_form = get(client_for(world, "member")).context["filter"].form
    admin_form = get(client_for(world, "admin")).context["filter"].form

    assert [label for _value, label in member_form.fields["group"].choices] == ["all groups", "支付产品群"]
    assert [label for _value, label in member_form.fields["speaker"].choices] == ["any speaker", "李东衡-关天数据-产品-上海"]
    assert [label for _value, label in admin_form.fields["speaker"].choices] == [
        "any speaker", "周明远-群主", "李东衡-关天数据-产品-上海"]
    # The speaker of a hidden talk cannot be picked by someone who may not see it: invalid, ignored.
    response = get(client_for(world, "member"), speaker=world.admin.member.pk)
    assert topics(response) == ["公开"]
    assert response.context["filter"].form.errors == {
        "speaker": ["Select a valid choice. That choice is not one of the available choices."]}


# --- what a row shows ---

def test_a_row_shows_topic_link_group_speaker_date_in_the_groups_time_zone_and_sign_ins(world):
    speaker = world.speaker.member
    speaker.company = "关天数据"
    speaker.save()
    share = talk(world.group, speaker, "跨境收单", start=at("2018-05-20", "19:30"), sign_in_count=42)

    html = get(client_for(world, "member")).content.decode()
    anonymous_html = get(client_for(world, "anonymous")).content.decode()

    talk_url = reverse("shares:talk", kwargs={"group_slug": "prodarch", "pk": share.pk})
    profile_url = reverse("member_profile", kwargs={"pk": speaker.pk})
    assert f'<h2><a href="{talk_url}">跨境收单</a></h2>' in html
    assert '<span class="talk-group">支付产品群</span>' in html
    assert (f'<span class="talk-speaker"><a href="{profile_url}">李东衡-关天数据-产品-上海</a> · 关天数据</span>'
            in html)
    assert '<time datetime="2018-05-20T19:30:00+08:00">2018-05-20 19:30</time>' in html
    assert '<span class="talk-sign-ins">42 sign-ins</span>' in html
    # The profile link is for logged-in users only.
    assert '<span class="talk-speaker">李东衡-关天数据-产品-上海 · 关天数据</span>' in anonymous_html
    assert profile_url not in anonymous_html


def test_a_search_row_shows_the_matching_text_with_the_words_marked(world):
    talk(world.group, world.speaker.member, "拒付的处理", ["开场白", "接下来讲拒付仲裁的流程和时限", "谢谢"])
    talk(world.group, world.speaker.member, "无关", ["别的"])
    talk_index_refresh()

    html = get(client_for(world, "member"), q="拒付 仲裁").content.decode()

    assert '<p class="muted result-count">1 talk found</p>' in html
    assert '<h2><a href="' in html and "><mark>拒付</mark>的处理</a></h2>" in html
    assert '<p class="snippet">接下来讲<mark>拒付</mark><mark>仲裁</mark>的流程和时限</p>' in html


def test_a_search_finds_english_words_by_prefix_and_in_the_qa(world):
    talk(world.group, world.speaker.member, "Cross-border", ["Settlement cycles", "T+1"])
    talk(world.group, world.speaker.member, "问答里有", ["How do chargebacks work?"], part=TalkPart.QA)
    talk_index_refresh()

    assert topics(get(client_for(world, "member"), q="settle")) == ["Cross-border"]
    assert topics(get(client_for(world, "member"), q="Chargeback")) == ["问答里有"]


# --- message text is data ---

ATTACKS = ["<script>alert(1)</script>拒付", '<img src=x onerror=alert(1)>拒付', "[x](javascript:alert(1)) 拒付",
           "javascript:alert(1) 拒付"]


@pytest.mark.parametrize("attack", ATTACKS)
def test_snippet_and_topic_render_attacks_as_text(world, attack):
    talk(world.group, world.speaker.member, "<script>alert(2)</script>拒付", [attack])
    talk_index_refresh()

    html = get(client_for(world, "member"), q="拒付").content.decode()

    snippet = re.search(r'<p class="snippet">(.*?)</p>', html).group(1)
    assert re.sub(r"</?mark>", "", snippet) == attack.replace("&", "&amp;").replace("<", "&lt;").replace(
        ">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;")
    assert "<mark>拒付</mark>" in snippet
    assert "<script>alert" not in html
    assert "<img" not in html
    assert re.search(r"<[^>]*\bonerror=", html) is None
    assert 'href="javascript:' not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;<mark>拒付</mark>" in html


def test_choices_render_names_as_text(world):
    attacker = make_member('"><script>alert(4)</script>')
    talk(world.group, attacker, "公开")

    html = get(client_for(world, "member"), speaker=attacker.pk).content.decode()

    assert (f'<option value="{attacker.pk}" selected>&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;</option>'
            in html)
    assert "<script>alert(4)" not in html


def test_a_query_is_shown_back_escaped(world):
    html = get(client_for(world, "member"), q='"><script>alert(3)</script>').content.decode()

    assert 'value="&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in html
    assert "<script>alert(3)" not in html


# --- filters and pages ---

@pytest.fixture
def calendar(world):
    """Talks by two speakers over two years and both groups (all public)."""
    speaker, admin, other = world.speaker.member, world.admin.member, world.outsider.member
    return {
        "a": talk(world.group, speaker, "2017-12 甲", start=at("2017-12-05")),
        "b": talk(world.group, admin, "2018-03 乙", start=at("2018-03-10")),
        "c": talk(world.group, speaker, "2018-03 丙", start=at("2018-03-20")),
        "d": talk(world.group, speaker, "2018-07 丁", start=at("2018-07-01")),
        "e": talk(world.other_group, other, "2018-03 别群", start=at("2018-03-15")),
    }


@pytest.mark.parametrize(("params", "expected"), [
    ({"group": "prodarch"}, ["2018-07 丁", "2018-03 丙", "2018-03 乙", "2017-12 甲"]),
    ({"group": "devarch"}, ["2018-03 别群"]),
    ({"year": "2018"}, ["2018-07 丁", "2018-03 丙", "2018-03 别群", "2018-03 乙"]),
    ({"year": "2018", "month": "3"}, ["2018-03 丙", "2018-03 别群", "2018-03 乙"]),
    ({"month": "12"}, ["2017-12 甲"]),
    ({"group": "prodarch", "year": "2018", "month": "3"}, ["2018-03 丙", "2018-03 乙"]),
])
def test_filters(world, calendar, params, expected):
    response = get(client_for(world, "member"), **params)

    assert topics(response) == expected
    assert response.context["filter"].form.errors == {}


def test_speaker_filter(world, calendar):
    response = get(client_for(world, "member"), speaker=world.speaker.member.pk)

    assert topics(response) == ["2018-07 丁", "2018-03 丙", "2017-12 甲"]


@pytest.mark.parametrize(("params", "errors"), [
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"speaker": "abc"}, {"speaker": ["Select a valid choice. That choice is not one of the available choices."]}),
    ({"year": "abc"}, {"year": ["Select a valid choice. abc is not one of the available choices."]}),
    ({"year": "1999"}, {"year": ["Select a valid choice. 1999 is not one of the available choices."]}),
    ({"month": "13"}, {"month": ["Select a valid choice. 13 is not one of the available choices."]}),
    ({"q": "x" * 201}, {"q": ["Ensure this value has at most 200 characters (it has 201)."]}),
])
def test_a_bad_filter_value_is_reported_and_ignored(world, calendar, params, errors):
    response = get(client_for(world, "member"), **params)

    assert response.status_code == 200
    assert response.context["filter"].form.errors == errors
    assert len(topics(response)) == 5
    assert '<ul class="errorlist"' in response.content.decode()


def test_pages_of_twenty_keep_the_filters(world):
    for n in range(25):
        talk(world.group, world.speaker.member, f"第{n:02d}场", start=at("2018-01-01") + dt.timedelta(days=n))
    talk(world.other_group, world.outsider.member, "别群", start=at("2019-01-01"))
    client = client_for(world, "member")

    first = get(client, group="prodarch")
    second = get(client, group="prodarch", page="2")
    beyond = get(client, group="prodarch", page="9")
    bad = get(client, group="prodarch", page="abc")

    assert topics(first) == [f"第{n:02d}场" for n in range(24, 4, -1)]
    assert topics(second) == [f"第{n:02d}场" for n in range(4, -1, -1)]
    assert topics(beyond) == topics(second)
    assert topics(bad) == topics(first)
    assert '<a class="next" rel="next" href="?group=prodarch&amp;page=2">Older →</a>' in first.content.decode()
    html = second.content.decode()
    assert '<a class="previous" rel="prev" href="?group=prodarch&amp;page=1">← Newer</a>' in html
    assert "Page 2 of 2" in html


def test_a_search_keeps_its_query_across_pages(world):
    for n in range(21):
        talk(world.group, world.speaker.member, f"风控第{n:02d}场", start=at("2018-01-01") + dt.timedelta(days=n))
    talk_index_refresh()

    response = get(client_for(world, "member"), q="风控")

    assert len(topics(response)) == 20
    assert '<a class="next" rel="next" href="?q=%E9%A3%8E%E6%8E%A7&amp;page=2">' in response.content.decode()


# --- queries ---

def seed_talks(world, items):
    """``items`` talks in the group, each with 30 messages of talk and Q&A and three sign-ins' count."""
    for n in range(items):
        share = talk(world.group, world.speaker.member, f"风控第{n}场", start=at("2018-05-01") + dt.timedelta(days=n),
                     sign_in_count=3)
        for k in range(30):
            message = make_message(world.group, world.member.member, at("2018-05-01", "20:00") + dt.timedelta(days=n, minutes=k),
                                   f"关于风控模型的问题{k}")
            TalkMessage.objects.create(share=share, message=message, part=TalkPart.QA)
    talk_index_refresh()


@pytest.mark.parametrize("items", [1, 3])
def test_list_query_count(world, django_assert_num_queries, items):
    seed_talks(world, items)
    client = client_for(world, "member")

    # session, user, the user's member and memberships, count, page, groups to pick, speakers to
    # pick, years to pick
    with django_assert_num_queries(8):
        response = get(client)

    assert len(topics(response)) == items


@pytest.mark.parametrize("items", [1, 3])
def test_search_query_count(world, django_assert_num_queries, items):
    seed_talks(world, items)
    client = client_for(world, "member")

    # as the list, plus the snippets and the check of the group and the speaker given against
    # their choices (the years asked once serve the check and the form)
    with django_assert_num_queries(11):
        response = get(client, q="风控 模型", group="prodarch", speaker=world.speaker.member.pk, year="2018")

    assert len(topics(response)) == items
    assert all(row.snippet_html for row in response.context["rows"])


@pytest.mark.parametrize("items", [1, 3])
def test_list_query_count_for_an_anonymous_visitor(world, django_assert_num_queries, items):
    for n in range(items):
        talk(world.group, world.speaker.member, f"公开{n}", start=at("2018-05-01") + dt.timedelta(days=n))

    # count, page, groups, speakers, years
    with django_assert_num_queries(5):
        response = get(Client())

    assert len(topics(response)) == items


def test_a_member_linked_user_without_membership_sees_public_talks_only(world):
    loner = make_member("独行者")
    make_membership(world.group, loner, status="left")
    user = world.staff.user.__class__.objects.create_user(username="loner", password="pw-for-tests-1")
    loner.user = user
    loner.save()
    talk(world.group, world.speaker.member, "公开")
    talk(world.group, world.speaker.member, "成员", visibility=Visibility.MEMBERS)
    client = Client()
    client.force_login(user)

    assert topics(get(client)) == ["公开"]
