"""A talk as Markdown in the shape of the hand-made write-ups: exact text, who gets what,
message text that cannot become markup where the write-up is published, and the query count."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from community.models import MessageKind, Visibility
from importer.services import transcript_sources, transcripts_import
from shares.export import (
    DISCUSSION_HEADING,
    QA_HEADING,
    TALK_HEADING,
    content_disposition,
    md_escape,
    md_lines,
    yaml_string,
)
from shares.models import Share, TalkMessage, TalkPart
from tests.factories import ROLES, at, client_for, make_cast, make_message, make_share, make_sign_in

pytestmark = pytest.mark.django_db

DAY = "2018-05-20"
SPEAKER = "李东衡-关天数据-产品-上海"
MEMBER = "王芳-云汇支付-架构"


@pytest.fixture
def world():
    return make_cast()


def export_url(share, slug=None):
    return reverse("talk_export", kwargs={"group_slug": slug or share.group.slug, "pk": share.pk})


def say(share, sender, time, text, part=TalkPart.TALK, **fields):
    message = make_message(share.group, sender, at(DAY, time), text, **fields)
    TalkMessage.objects.create(share=share, message=message, part=part)
    return message


def small_talk(world, visibility=Visibility.PUBLIC):
    """A talk with two paragraphs, an interruption, two images, a Q&A and one other message that day."""
    share = make_share(world.group, world.speaker.member, topic="支付清结算", visibility=visibility,
                       start=at(DAY, "19:30"))
    speaker, member = world.speaker.member, world.member.member
    say(share, speaker, "19:30:00", "大家好")
    say(share, speaker, "19:31:00", "今天讲清算")
    say(share, member, "19:32:00", "能大声点吗", part=TalkPart.INTERRUPTION)
    say(share, speaker, "19:33:00", "", kind=MessageKind.IMAGE, url="http://img.example.com/a.png")
    say(share, speaker, "19:33:30", "", kind=MessageKind.IMAGE, url="javascript:alert(1)")
    say(share, speaker, "19:34:00", "第二部分")
    say(share, member, "20:30:00", "费率怎么算？", part=TalkPart.QA)
    say(share, speaker, "20:31:00", "按笔收", part=TalkPart.QA)
    make_message(world.group, world.admin.member, at(DAY, "22:00"), "晚安")
    return share


FRONT = f"""---
layout: post
title: "20180520专题：支付清结算"
date: 2018-05-20 19:30:00 +0800
speaker: "{SPEAKER}"
group: "支付产品群"
tag: [publish]
---

"""
TALK = f"""## 一、专题分享

大家好 今天讲清算

> {MEMBER}：能大声点吗

![193300](http://img.example.com/a.png)

（图片）

第二部分

## 二、Q&A

{MEMBER}：费率怎么算？

{SPEAKER}：按笔收
"""
# From the seed transcript of 2018-05-20 (../shared/seeds/000_*.txt): the speaker's first two
# messages, at 19:33:26 and 19:34:00, joined as the first paragraph.
SEED_FIRST_PARAGRAPH = "大家好，我是来自云南电信的唐帆，和大家分享的是翼支付红包业务模式和现存问题 一、业务模式介绍 1.业务原理："
FIRST_LEN = len(SEED_FIRST_PARAGRAPH)
DISCUSSION = """
## 三、自由讨论

周明远-群主：晚安
"""


# --- the exact text ---

def test_export_is_the_write_up_with_the_discussion_for_a_member(world):
    share = small_talk(world)

    response = client_for(world, "member").get(export_url(share))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"2018-05-20-talk-{share.pk}.md\"; "
        "filename*=UTF-8''2018-05-20-%E6%94%AF%E4%BB%98%E6%B8%85%E7%BB%93%E7%AE%97.md"
    )
    assert response["Cache-Control"] == "private"
    assert response.content.decode() == FRONT + TALK + DISCUSSION


def test_export_leaves_the_discussion_out_for_a_visitor_who_is_not_a_member(world):
    share = small_talk(world)

    anonymous = client_for(world, "anonymous").get(export_url(share))
    outsider = client_for(world, "outsider").get(export_url(share))

    assert anonymous.content.decode() == FRONT + TALK
    assert outsider.content.decode() == FRONT + TALK
    assert "Cache-Control" not in anonymous


def test_export_of_a_members_only_talk_is_tagged_hidden_and_private(world):
    share = small_talk(world, visibility=Visibility.MEMBERS)
    world.speaker.member.company = "关天数据"
    world.speaker.member.save()

    response = client_for(world, "speaker").get(export_url(share))

    front = FRONT.replace("tag: [publish]", "tag: [hidden]").replace(
        f'speaker: "{SPEAKER}"\n', f'speaker: "{SPEAKER}"\ncompany: "关天数据"\n')
    assert response.content.decode() == front + TALK + DISCUSSION
    assert response["Cache-Control"] == "private"


def test_export_of_an_empty_talk_says_so_under_each_heading(world):
    share = make_share(world.group, world.speaker.member, topic="Pay Member!", visibility=Visibility.PUBLIC,
                       start=at(DAY, "19:30"))

    response = client_for(world, "admin").get(export_url(share))

    assert response["Content-Disposition"] == 'attachment; filename="2018-05-20-pay-member.md"'
    assert response.content.decode().split("---\n\n", 1)[1] == (
        f"{TALK_HEADING}\n\n（无）\n\n{QA_HEADING}\n\n（无）\n\n{DISCUSSION_HEADING}\n\n（无）\n"
    )


# --- who may export: whoever may see the talk ---

@pytest.mark.parametrize(("visibility", "allowed"), [
    (Visibility.PUBLIC, set(ROLES)),
    (Visibility.MEMBERS, {"member", "speaker", "admin", "staff"}),
    (Visibility.HIDDEN, {"speaker", "admin", "staff"}),
])
@pytest.mark.parametrize("role", ROLES)
def test_export_visibility_is_the_talk_pages(world, visibility, allowed, role):
    share = make_share(world.group, world.speaker.member, topic="清算", visibility=visibility)

    response = client_for(world, role).get(export_url(share))

    assert response.status_code == (200 if role in allowed else 404)
    if role in allowed:
        assert response.content.decode().startswith('---\nlayout: post\ntitle: "20180520专题：清算"\n')


def test_export_is_404_for_a_share_not_delivered_or_under_another_group(world):
    scheduled = make_share(world.group, world.speaker.member, status="scheduled", visibility=Visibility.PUBLIC)
    delivered = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC, start=at("2018-05-21"))
    staff = client_for(world, "staff")

    assert staff.get(export_url(scheduled)).status_code == 404
    assert staff.get(export_url(delivered, slug="devarch")).status_code == 404
    assert staff.get(export_url(delivered)).status_code == 200


def test_export_refuses_post(world):
    share = small_talk(world)

    assert client_for(world, "staff").post(export_url(share)).status_code == 405


# --- message text is data ---

@pytest.mark.parametrize(("text", "expected"), [
    ("<script>alert(1)</script>", ["&lt;script&gt;alert(1)&lt;/script&gt;"]),
    ("<img src=x onerror=alert(1)>", ["&lt;img src=x onerror=alert(1)&gt;"]),
    ("[x](javascript:alert(1))", ["\\[x\\](javascript:alert(1))"]),
    ("![x](http://evil.example/x.png)", ["!\\[x\\](<http://evil.example/x.png>)"]),
    ("# 标题", ["\\# 标题"]),
    ("---", ["\\---"]),
    ("***", ["\\*\\*\\*"]),
    ("> 引用", ["&gt; 引用"]),
    ("- 列表", ["\\- 列表"]),
    ("+ 列表", ["\\+ 列表"]),
    ("= = =", ["\\= = ="]),
    (": 定义", ["\\: 定义"]),
    ("1. 第一", ["1\\. 第一"]),
    ("2018) 年", ["2018\\) 年"]),
    ("    缩进的代码", ["缩进的代码"]),
    ("```", ["\\`\\`\\`"]),
    ("| a | b |", ["\\| a \\| b \\|"]),
    ("[^1]: 脚注", ["\\[^1\\]: 脚注"]),
    ("{% include secret %} {{ site.x }}", ["&#123;% include secret %&#125; &#123;&#123; site.x &#125;&#125;"]),
    ("a*b*c_d_ ~~删~~ $$x$$ \\", ["a\\*b\\*c\\_d\\_ \\~\\~删\\~\\~ \\$\\$x\\$\\$ \\\\"]),
    ("&amp; T+1", ["&amp;amp; T+1"]),
    ("看 https://example.com/a_b?x=1&y=2，好", ["看 <https://example.com/a_b?x=1&y=2>，好"]),
    ('https://x.com/"><script>', ['<https://x.com/>"&gt;&lt;script&gt;']),
    ("javascript:alert(1)", ["javascript:alert(1)"]),
    ("第一行\n# 第二行\n\n   \n三", ["第一行", "\\# 第二行", "三"]),
])
def test_md_lines_escape_html_and_neutralise_markdown(text, expected):
    assert md_lines(text) == expected


def test_md_escape_and_yaml_string():
    assert md_escape("#-<>") == "#-&lt;&gt;"
    assert yaml_string('主题 "引号" \\ <b>\n二') == '"主题 \\"引号\\" \\\\ &lt;b&gt; 二"'


@pytest.mark.parametrize(("topic", "expected"), [
    ("支付会员", "attachment; filename=\"2017-05-15-talk-7.md\"; "
                 "filename*=UTF-8''2017-05-15-%E6%94%AF%E4%BB%98%E4%BC%9A%E5%91%98.md"),
    ("Pay Member!", 'attachment; filename="2017-05-15-pay-member.md"'),
    ('a"b\\c', 'attachment; filename="2017-05-15-abc.md"'),
    ("！！", 'attachment; filename="2017-05-15-talk-7.md"'),
])
def test_content_disposition(topic, expected):
    assert content_disposition(day=dt.date(2017, 5, 15), topic=topic, pk=7) == expected


def test_export_renders_attacks_in_messages_names_and_topic_as_text(world):
    share = make_share(world.group, world.speaker.member, topic="<b>主题</b>\n# 注入", visibility=Visibility.PUBLIC,
                       start=at(DAY, "19:30"))
    say(share, world.speaker.member, "19:30", "<script>alert(1)</script>")
    say(share, world.speaker.member, "19:31", "\n---\n# 标题")
    say(share, world.member.member, "19:32", "[x](javascript:alert(1))", part=TalkPart.INTERRUPTION,
        kind=MessageKind.LINK, url="javascript:alert(1)")
    say(share, None, "20:30", "问", part=TalkPart.QA, sender_name="# 假名")
    make_message(world.group, None, at(DAY, "22:00"), "<img src=x onerror=alert(1)>", sender_name="> 引用者")

    text = client_for(world, "member").get(export_url(share)).content.decode()

    assert 'title: "20180520专题：&lt;b&gt;主题&lt;/b&gt; # 注入"' in text
    assert "\n\n&lt;script&gt;alert(1)&lt;/script&gt; \\---  \n\\# 标题\n\n" in text
    assert f"> {MEMBER}：\\[x\\](javascript:alert(1))" in text
    assert "\\# 假名：问" in text
    assert "&gt; 引用者：&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script" not in text and "<img" not in text
    assert re.search(r"(?<!\\)\]\(javascript:", text) is None  # no link to javascript:, only escaped text


# --- queries ---

@pytest.mark.parametrize("items", [1, 3])
def test_export_query_count_for_a_member(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.MEMBERS)
    for n in range(items):
        say(share, world.speaker.member, f"19:3{n}", f"正文{n}")
        say(share, world.member.member, f"19:4{n}", f"插话{n}", part=TalkPart.INTERRUPTION)
        say(share, world.member.member, f"20:3{n}", f"提问{n}", part=TalkPart.QA)
        make_sign_in(share, [world.member.member, world.admin.member, world.outsider.member][n])
        make_message(world.group, world.admin.member, at(DAY, f"22:0{n}"), f"闲聊{n}")
    client = client_for(world, "member")

    # session, user, the group with the user's member and role, the user's member, groups of the user,
    # groups the user runs, the talk, its parts, its messages, the day's discussion
    with django_assert_num_queries(10):
        response = client.get(export_url(share))

    assert response.content.decode().count("闲聊") == items


@pytest.mark.parametrize("items", [1, 3])
def test_export_query_count_for_an_anonymous_visitor(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC)
    for n in range(items):
        say(share, world.speaker.member, f"19:3{n}", f"正文{n}")
        say(share, world.member.member, f"20:3{n}", f"提问{n}", part=TalkPart.QA)
        make_sign_in(share, [world.member.member, world.admin.member, world.outsider.member][n])
    client = client_for(world, "anonymous")

    # group, the talk, its parts, its messages
    with django_assert_num_queries(4):
        response = client.get(export_url(share))

    assert response.content.decode().count("提问") == items


# --- a real transcript ---

def test_export_of_a_talk_imported_from_a_seed_transcript(shared_dir, staff_client):
    [path] = (shared_dir / "seeds").glob("000_*.txt")
    result = transcripts_import(group_slug="prodarch", group_name="支付产品架构交流群", sources=transcript_sources([path]))
    assert result.ok, result.errors
    share = Share.objects.get()

    text = staff_client.get(export_url(share)).content.decode()

    front, body = text.split("\n---\n\n", 1)
    assert front.splitlines()[:3] == ["---", "layout: post", 'title: "20180520专题：翼支付红包业务模型和现存问题"']
    first_paragraph = body.split("\n\n")[1]
    assert (body.split("\n\n")[0], first_paragraph[:FIRST_LEN]) == (TALK_HEADING, SEED_FIRST_PARAGRAPH)
    assert f"\n\n{QA_HEADING}\n\n" in body
    assert f"\n\n{DISCUSSION_HEADING}\n\n" in body
