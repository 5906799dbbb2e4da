"""The talk archive: who may see a talk and a day, how a talk reads, message text kept as
data (never markup), and the number of queries the pages cost."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from community.models import Message, MessageKind, Name, NameSource, RecordedDay, Visibility
from shares.archive import PARAGRAPH_GAP, is_http_url, talk_blocks, text_html
from shares.models import TalkMessage, TalkPart
from tests.factories import (
    ROLES,
    at,
    client_for,
    make_cast,
    make_member,
    make_message,
    make_share,
    make_sign_in,
)

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/?next="
DAY = "2018-05-20"


@pytest.fixture
def world():
    return make_cast()


def talk_url(share):
    return reverse("shares:talk", kwargs={"group_slug": share.group.slug, "pk": share.pk})


def day_url(day, slug="prodarch"):
    return reverse("shares:day", kwargs={"group_slug": slug, "day": day})


def say(share, sender, time, text, part=TalkPart.TALK, **fields):
    message = make_message(share.group, sender, at(DAY, time), text, **fields)
    TalkMessage.objects.create(share=share, message=message, part=part)
    return message


def blocks_of(response):
    return [(block.kind, block.sender, block.texts) for block in response.context["blocks"]]


# --- who may see what ---

@pytest.mark.parametrize(("visibility", "allowed"), [
    (Visibility.PUBLIC, set(ROLES)),
    (Visibility.MEMBERS, {"member", "speaker", "admin", "staff"}),
    (Visibility.HIDDEN, {"speaker", "admin", "staff"}),
])
@pytest.mark.parametrize("role", ROLES)
def test_talk_page_visibility(world, visibility, allowed, role):
    share = make_share(world.group, world.speaker.member, visibility=visibility)

    response = client_for(world, role).get(talk_url(share))

    assert response.status_code == (200 if role in allowed else 404)


def test_talk_page_is_404_for_a_share_not_delivered(world):
    share = make_share(world.group, world.speaker.member, status="scheduled", visibility=Visibility.PUBLIC)

    response = client_for(world, "staff").get(talk_url(share))

    assert response.status_code == 404


def test_talk_page_is_404_under_another_group(world):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)

    response = client_for(world, "staff").get(reverse("shares:talk", kwargs={"group_slug": "devarch", "pk": share.pk}))

    assert response.status_code == 404


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 403), ("speaker", 200), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_day_page_permissions(world, role, expected):
    address = day_url(DAY)

    response = client_for(world, role).get(address)

    assert (response.status_code, getattr(response, "url", None)) == (
        (302, LOGIN + address) if expected == "login" else (expected, None)
    )


def test_day_page_is_404_for_an_impossible_date(world):
    response = client_for(world, "member").get("/g/prodarch/days/2018-02-30/")

    assert response.status_code == 404


# --- how a talk reads ---

def test_talk_page_joins_the_speakers_messages_into_paragraphs(world):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    speaker, member = world.speaker.member, world.member.member
    say(share, speaker, "19:30:00", "大家好")
    say(share, speaker, "19:31:00", "今天讲清算")
    say(share, speaker, "19:33:59", "先说背景")
    say(share, member, "19:34:10", "能大声点吗", part=TalkPart.INTERRUPTION)
    say(share, member, "19:34:20", "谢谢", part=TalkPart.INTERRUPTION)
    say(share, speaker, "19:35:00", "好的")
    say(share, speaker, "19:38:01", "第二部分")
    say(share, speaker, "19:38:30", "", kind=MessageKind.EMPTY)
    say(share, member, "20:30:00", "费率怎么算？", part=TalkPart.QA)
    say(share, speaker, "20:31:00", "按笔收", part=TalkPart.QA)

    response = client_for(world, "anonymous").get(talk_url(share))

    assert blocks_of(response) == [
        ("talk", "李东衡-关天数据-产品-上海", ["大家好", "今天讲清算", "先说背景"]),
        ("interruption", "王芳-云汇支付-架构", ["能大声点吗", "谢谢"]),
        ("talk", "李东衡-关天数据-产品-上海", ["好的"]),
        ("talk", "李东衡-关天数据-产品-上海", ["第二部分"]),
    ]
    assert [(line.sender, line.piece.text) for line in response.context["qa"]] == [
        ("王芳-云汇支付-架构", "费率怎么算？"), ("李东衡-关天数据-产品-上海", "按笔收"),
    ]
    html = response.content.decode()
    assert '<p class="paragraph">大家好 今天讲清算 先说背景</p>' in html
    assert '<aside class="interruption muted"><span class="sender">王芳-云汇支付-架构:</span> 能大声点吗 谢谢</aside>' in html
    assert '<li><span class="sender">王芳-云汇支付-架构:</span> <span>费率怎么算？</span></li>' in html


def test_talk_blocks_a_message_by_someone_else_marked_talk_is_set_apart():
    start = at(DAY, "19:30")

    def part(sender_id, name, minutes, text, kind=TalkPart.TALK):
        message = SimpleNamespace(sender_id=sender_id, sender=None, sender_name=name, kind=MessageKind.TEXT,
                                  text=text, url="", sent_at=start + dt.timedelta(minutes=minutes))
        return SimpleNamespace(part=kind, message=message)

    blocks = talk_blocks([part(1, "甲", 0, "一"), part(2, "乙", 1, "插话"), part(1, "甲", 2, "二"),
                          part(1, "甲", 2 + PARAGRAPH_GAP.seconds // 60, "三")], speaker_id=1)

    assert [(block.kind, block.sender, block.texts) for block in blocks] == [
        ("talk", "甲", ["一"]), ("interruption", "乙", ["插话"]), ("talk", "甲", ["二", "三"]),
    ]


def test_talk_page_shows_speaker_names_company_time_and_sign_ins(world):
    speaker = world.speaker.member
    speaker.company = "关天数据"
    speaker.save()
    for name, source in [("Wood", NameSource.HEADER), ("Wood", NameSource.MENTION), ("木头", NameSource.HEADER),
                         ("李东衡-关天数据-产品-上海", NameSource.HEADER)]:
        Name.objects.create(member=speaker, group=world.group, name=name, normalized=name.lower(), source=source)
    share = make_share(world.group, speaker, visibility=Visibility.PUBLIC, start=at(DAY, "19:30"))
    make_sign_in(share, world.member.member, signed_at=at(DAY, "19:20"))
    make_sign_in(share, world.admin.member, signed_at=at(DAY, "19:25"))

    response = client_for(world, "anonymous").get(talk_url(share))

    assert response.context["speaker_names"] == ["Wood", "木头"]
    html = response.content.decode()
    assert "<strong>李东衡-关天数据-产品-上海</strong> · 关天数据" in html
    assert "Wood, 木头" in html
    assert '<time datetime="2018-05-20T19:30:00+08:00">2018-05-20 ' in html
    assert '<strong class="sign-in-count">2</strong>' in html
    assert "<p>王芳-云汇支付-架构, 周明远-群主</p>" in html


def test_talk_page_never_embeds_an_image(world):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    say(share, world.speaker.member, "19:30", "", kind=MessageKind.IMAGE, url="http://img.example.com/a.jpg")
    say(share, world.speaker.member, "19:31", "", kind=MessageKind.IMAGE, url="javascript:alert(1)")

    html = client_for(world, "anonymous").get(talk_url(share)).content.decode()

    assert ('<p class="paragraph"><span class="muted">[image <a href="http://img.example.com/a.jpg" '
            'rel="nofollow noopener">http://img.example.com/a.jpg</a>]</span> <span class="muted">[image]</span></p>') in html
    assert "<img" not in html
    assert "javascript:" not in html


@pytest.mark.parametrize(("role", "export", "corrections", "speaker_link"), [
    ("anonymous", True, False, False),
    ("member", True, False, True),
    ("speaker", True, False, True),
    ("admin", True, True, True),
    ("staff", True, True, True),
])
def test_talk_page_offers_the_export_to_readers_and_the_corrections_to_admins(world, role, export, corrections,
                                                                              speaker_link):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    kwargs = {"group_slug": "prodarch", "pk": share.pk}

    html = client_for(world, role).get(talk_url(share)).content.decode()

    assert (f'<a class="export" href="{reverse("talk_export", kwargs=kwargs)}" download>' in html) is export
    assert (f'<a class="correct" href="{reverse("talk_correct", kwargs=kwargs)}">' in html) is corrections
    assert (f'<a class="delete danger" href="{reverse("talk_delete", kwargs=kwargs)}">' in html) is corrections
    profile = reverse("member_profile", kwargs={"pk": world.speaker.member.pk})
    linked = f'<strong><a class="speaker" href="{profile}">李东衡-关天数据-产品-上海</a></strong>'
    assert (linked in html, "<strong>李东衡-关天数据-产品-上海</strong>" in html) == (speaker_link, not speaker_link)


# --- message text is data ---

@pytest.mark.parametrize(("text", "expected"), [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ("javascript:alert(1)", "javascript:alert(1)"),
    ("见 https://example.com/a?b=1&c=2, 好",
     '见 <a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener">https://example.com/a?b=1&amp;c=2</a>, 好'),
    ("看https://mp.weixin.qq.com/s/abc，很好。",
     '看<a href="https://mp.weixin.qq.com/s/abc" rel="nofollow noopener">https://mp.weixin.qq.com/s/abc</a>，很好。'),
    ('https://x.com/"><script>',
     '<a href="https://x.com/" rel="nofollow noopener">https://x.com/</a>&quot;&gt;&lt;script&gt;'),
    ("ftp://files.example.com/a 和 一行\n二行", "ftp://files.example.com/a 和 一行<br>二行"),
])
def test_text_html_escapes_and_links_only_http_urls(text, expected):
    assert text_html(text) == expected


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/", True), ("HTTP://example.com", True), ("javascript:alert(1)", False),
    ("data:text/html,x", False), ("/relative", False), ("http://", False), ("", False),
])
def test_is_http_url(url, expected):
    assert is_http_url(url) == expected


ATTACKS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "javascript:alert(1)"]


def assert_harmless(html):
    assert "<script>alert" not in html
    assert "<img" not in html
    assert re.search(r"<[^>]*\bonerror=", html) is None
    assert 'href="javascript:' not in html


def test_talk_page_renders_attacks_as_text(world):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    for n, attack in enumerate(ATTACKS):
        say(share, world.speaker.member, f"19:3{n}", attack)
        say(share, world.member.member, f"20:3{n}", attack, part=TalkPart.QA)
    say(share, world.member.member, "19:50", "看这个", part=TalkPart.INTERRUPTION, kind=MessageKind.LINK,
        url="javascript:alert(1)")
    make_message(world.group, world.member.member, at(DAY, "22:00"), ATTACKS[1])
    attacker = make_member("<script>alert(2)</script>")

    make_sign_in(share, attacker)
    html = client_for(world, "member").get(talk_url(share)).content.decode()

    assert_harmless(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "[x](javascript:alert(1))" in html
    assert '<span class="sender">王芳-云汇支付-架构:</span> 看这个</aside>' in html


def test_day_page_renders_attacks_as_text(world):
    for n, attack in enumerate(ATTACKS):
        make_message(world.group, world.member.member, at(DAY, f"10:0{n}"), attack)
    make_message(world.group, None, at(DAY, "10:09"), "", kind=MessageKind.IMAGE, url="https://evil.example/x.png",
                 sender_name='"><img src=x onerror=alert(3)>')

    html = client_for(world, "member").get(day_url(DAY)).content.decode()

    assert_harmless(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(3)&gt;:" in html


# --- around the talk ---

def test_talk_page_links_the_previous_and_next_visible_talks(world):
    first = make_share(world.group, world.speaker.member, topic="一", visibility=Visibility.PUBLIC, start=at("2018-05-01"))
    make_share(world.group, world.speaker.member, topic="隐藏", visibility=Visibility.HIDDEN, start=at("2018-05-10"))
    middle = make_share(world.group, world.speaker.member, topic="二", visibility=Visibility.MEMBERS, start=at("2018-05-20"))
    make_share(world.group, world.speaker.member, topic="待讲", status="scheduled", visibility=Visibility.PUBLIC,
               start=at("2018-05-25"))
    make_share(world.other_group, world.outsider.member, topic="别的群", visibility=Visibility.PUBLIC,
               start=at("2018-05-26"))
    last = make_share(world.group, world.speaker.member, topic="三", visibility=Visibility.PUBLIC, start=at("2018-05-30"))

    response = client_for(world, "member").get(talk_url(middle))
    response_first = client_for(world, "member").get(talk_url(first))

    assert (response.context["previous"], response.context["next"]) == (first, last)
    assert (response_first.context["previous"], response_first.context["next"]) == (None, middle)
    html = response.content.decode()
    assert f'<a class="previous" rel="prev" href="{talk_url(first)}">← 一</a>' in html
    assert f'<a class="next" rel="next" href="{talk_url(last)}">三 →</a>' in html


def test_talk_page_folds_the_days_other_messages_for_members_only(world):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    say(share, world.speaker.member, "19:30", "正文")
    say(share, world.member.member, "20:30", "提问", part=TalkPart.QA)
    make_message(world.group, world.member.member, at(DAY, "09:00"), "早上好")
    make_message(world.group, world.admin.member, at(DAY, "23:59"), "晚安")
    make_message(world.group, world.admin.member, at("2018-05-21", "00:00"), "第二天")
    make_message(world.other_group, world.outsider.member, at(DAY, "12:00"), "别的群")

    member_page = client_for(world, "member").get(talk_url(share))
    anonymous_page = client_for(world, "anonymous").get(talk_url(share))
    outsider_page = client_for(world, "outsider").get(talk_url(share))

    assert member_page.context["discussion_count"] == 2
    assert _discussion_items(member_page) == [("王芳-云汇支付-架构", "早上好"), ("周明远-群主", "晚安")]
    assert '<details class="discussion">' in member_page.content.decode()
    assert anonymous_page.context["discussion_count"] is None
    assert outsider_page.context["discussion_count"] is None
    assert "早上好" not in anonymous_page.content.decode()
    assert '<details class="discussion">' not in outsider_page.content.decode()


def _discussion_items(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    section = html[html.index('<details class="discussion">'):html.index("</details>", html.index('<details class="discussion">'))]
    return re.findall(r'<span class="sender">(.*?):</span> <span>(.*?)</span></li>', section)


def test_day_discussion_is_served_from_the_cache_until_the_day_or_the_talk_changes(world, django_assert_num_queries):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    say(share, world.speaker.member, "19:30", "正文")
    make_message(world.group, world.member.member, at(DAY, "09:00"), "早上好")
    client = client_for(world, "member")
    client.get(talk_url(share))

    # session, user, group, the user's member and memberships, the talk (with its signature and its neighbours),
    # the speaker's names, sign-ins, the day's signature: no talk rows, no discussion rows
    with django_assert_num_queries(8):
        assert _discussion_items(client.get(talk_url(share))) == [("王芳-云汇支付-架构", "早上好")]

    make_message(world.group, world.admin.member, at(DAY, "23:00"), "晚安")  # a re-import adds a message that day
    assert _discussion_items(client.get(talk_url(share))) == [("王芳-云汇支付-架构", "早上好"), ("周明远-群主", "晚安")]
    # A correction that moves one of the day's messages into the talk takes it out of the discussion.
    TalkMessage.objects.create(share=share, message=Message.objects.get(text="早上好"), part=TalkPart.QA)
    assert _discussion_items(client.get(talk_url(share))) == [("周明远-群主", "晚安")]


# --- the day page ---

def test_day_page_marks_the_talk_and_its_qa(world):
    share = make_share(world.group, world.speaker.member, topic="清算", visibility=Visibility.MEMBERS)
    hidden = make_share(world.group, world.admin.member, topic="隐藏的", visibility=Visibility.HIDDEN,
                        start=at(DAY, "21:30"), overlap_reason="加场")
    make_message(world.group, world.member.member, at(DAY, "19:00"), "开始了吗")
    say(share, world.speaker.member, "19:30", "大家好")
    say(share, world.member.member, "19:31", "欢迎", part=TalkPart.INTERRUPTION)
    say(share, world.member.member, "20:30", "提问", part=TalkPart.QA)
    say(hidden, world.admin.member, "21:30", "秘密")
    make_message(world.group, world.member.member, at("2018-05-19", "23:59"), "昨天")
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 5, 10))
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 5, 20))
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 5, 22))
    RecordedDay.objects.create(group=world.other_group, day=dt.date(2018, 5, 21))

    response = client_for(world, "member").get(day_url(DAY))

    assert [(line.piece.text, line.part, line.heading, line.share) for line in response.context["lines"]] == [
        ("开始了吗", "", "", None),
        ("大家好", "talk", "talk", share),
        ("欢迎", "interruption", "", share),
        ("提问", "qa", "qa", share),
    ]
    assert (response.context["previous"], response.context["next"]) == (dt.date(2018, 5, 10), dt.date(2018, 5, 22))
    html = response.content.decode()
    with translation.override("zh-hans"):
        talk_label, qa_label = escape(gettext("Talk")), escape(gettext("Q&A"))
    assert f'<li class="talk-heading"><strong>{talk_label}: <a href="{talk_url(share)}">清算</a></strong></li>' in html
    assert f'<li class="talk-heading"><strong>{qa_label}: <a href="{talk_url(share)}">清算</a></strong></li>' in html
    assert html.count(f'<a href="{talk_url(share)}">清算</a>') == 2
    assert '<li class="in-talk part-qa">' in html
    assert f'href="{day_url("2018-05-10")}">← 2018-05-10</a>' in html
    assert "隐藏的" not in html
    assert "秘密" not in html  # a hidden talk's text is not shown to a member who may not see the talk


def test_day_page_shows_a_hidden_talk_to_the_group_admin(world):
    hidden = make_share(world.group, world.speaker.member, topic="隐藏的", visibility=Visibility.HIDDEN)
    say(hidden, world.speaker.member, "19:30", "秘密")

    response = client_for(world, "admin").get(day_url(DAY))

    assert [(line.part, line.heading, line.share) for line in response.context["lines"]] == [("talk", "talk", hidden)]


# --- queries ---

@pytest.mark.parametrize("items", [1, 3])
def test_talk_page_query_count_for_a_member(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.MEMBERS)
    make_share(world.group, world.speaker.member, topic="前一场", start=at("2018-05-10"))
    make_share(world.group, world.speaker.member, topic="后一场", start=at("2018-05-30"))
    Name.objects.create(member=world.speaker.member, name="Wood", normalized="wood", source=NameSource.HEADER)
    sign_in_members = [world.member.member, world.admin.member, world.outsider.member]
    for n in range(items):
        say(share, world.speaker.member, f"19:3{n}", f"正文{n}")
        say(share, world.member.member, f"19:4{n}", f"插话{n}", part=TalkPart.INTERRUPTION)
        say(share, world.member.member, f"20:3{n}", f"提问{n}", part=TalkPart.QA)
        say(share, world.speaker.member, f"20:4{n}", f"回答{n}", part=TalkPart.QA)
        make_sign_in(share, sign_in_members[n])
        make_message(world.group, world.admin.member, at(DAY, f"22:0{n}"), f"闲聊{n}")
    client = client_for(world, "member")

    # session, user, group, the user's member and memberships, the talk (with its signature, the cache key, and its
    # neighbours), the speaker's names, sign-ins, its parts, its messages, the day's signature (cache key), the
    # day's discussion
    with django_assert_num_queries(11):
        response = client.get(talk_url(share))

    assert (len(response.context["sign_ins"]), len(response.context["qa"]), response.context["discussion_count"]) == (
        items, 2 * items, items)


@pytest.mark.parametrize("items", [1, 3])
def test_talk_page_query_count_for_an_anonymous_visitor(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    for n in range(items):
        say(share, world.speaker.member, f"19:3{n}", f"正文{n}")
        say(share, world.member.member, f"20:3{n}", f"提问{n}", part=TalkPart.QA)
        make_sign_in(share, [world.member.member, world.admin.member, world.outsider.member][n])
    client = client_for(world, "anonymous")

    # group, the talk (with its signature, the cache key, and its neighbours), the speaker's names, sign-ins,
    # its parts, its messages
    with django_assert_num_queries(6):
        response = client.get(talk_url(share))

    assert len(response.context["blocks"][0].pieces) == items


@pytest.mark.parametrize("items", [1, 3])
def test_day_page_query_count(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.MEMBERS)
    for n in range(items):
        make_message(world.group, world.member.member, at(DAY, f"10:0{n}"), f"闲聊{n}")
        say(share, world.speaker.member, f"19:3{n}", f"正文{n}")
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 5, 19))
    client = client_for(world, "member")

    # session, user, the group with the user's member and role, previous day, next day,
    # groups of the user, groups the user runs, the messages, their talk parts with shares
    with django_assert_num_queries(10):
        response = client.get(day_url(DAY))

    assert len(response.context["lines"]) == 2 * items


@pytest.mark.parametrize("items", [1, 3])
def test_day_page_query_count_for_an_admin(world, django_assert_num_queries, items):
    for n in range(items):
        make_share(world.group, world.speaker.member, topic=f"删掉的{n}", start=at(DAY, f"1{n}:00"),
                           overlap_reason="加场", status="cancelled", edited_fields=["deleted"])
        make_message(world.group, world.speaker.member, at(DAY, f"19:3{n}"), f"正文{n}")
    client = client_for(world, "admin")

    # as for a member, and the talks of the day an admin deleted
    with django_assert_num_queries(11):
        response = client.get(day_url(DAY))

    assert [share.topic for share in response.context["deleted_talks"]] == [f"删掉的{n}" for n in range(items)]


def test_talk_rows_include_a_message_outside_the_talks_day(world):
    """Read within the day by the (group, sent) index; a message past midnight is still found."""
    from shares.archive import talk_rows

    share = make_share(world.group, world.speaker.member)
    say(share, world.speaker.member, "19:30", "正文")
    late = make_message(world.group, world.speaker.member, at("2018-05-21", "00:30"), "过了午夜")
    TalkMessage.objects.create(share=share, message=late, part=TalkPart.QA)

    assert [(row.part, row.message.text) for row in talk_rows(share=share)] == [("talk", "正文"), ("qa", "过了午夜")]


def test_talk_body_is_served_from_the_cache_until_the_talk_changes(world, django_assert_num_queries):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    say(share, world.speaker.member, "19:30", "第一段")
    client = client_for(world, "anonymous")
    first = client.get(talk_url(share)).content.decode()

    with django_assert_num_queries(4):  # no parts, no messages: the rendered talk comes from the cache
        second = client.get(talk_url(share)).content.decode()
    def body(html):
        return html[html.index('<section class="talk-body">'):html.index('<nav class="talk-neighbours">')]

    assert body(second) == body(first) and "第一段" in body(second)

    say(share, world.speaker.member, "19:31", "第二段")  # a re-import or a correction changes the rows
    assert "第二段" in client.get(talk_url(share)).content.decode()
    share.topic = "新题目"
    share.version += 1
    share.save()
    TalkMessage.objects.filter(message__text="第二段").delete()
    assert "第二段" not in client.get(talk_url(share)).content.decode()
