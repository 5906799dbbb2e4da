"""Where a share's topic came from (``Share.topic_source``): set by the import, by the site's
registration, by an edit (an admin's makes it "admin"); in the API, and on the talk and share
pages for the group's admins, who check the topics the importer guessed."""

import pytest
from django.urls import reverse

from community.models import Visibility
from importer.services import Source, transcripts_import
from shares import services, wiki
from shares.models import Share, ShareStatus, TalkMessage, TalkPart, TopicSource
from tests.factories import ROLES, at, client_for, make_cast, make_message, make_share

from ..importer.test_services import talk_day, transcript

pytestmark = pytest.mark.django_db

SPEAKER = "周明远-云汇支付-产品-杭州"


@pytest.fixture
def world():
    return make_cast()


def unannounced_day(day="2024-03-05", extra=()):
    """A talk nobody announced: members sign in on their own, the speaker opens with what they will share."""
    messages = [("09:01:00", "闲聊者", "早上好"), ("19:10:00", "听众一", "签到"), ("19:11:00", "听众二", "签到"),
                ("19:12:00", "听众三", "签到"), ("19:30:05", SPEAKER, "大家好，今天和大家分享的主题是跨境收单的清结算")]
    messages += [(f"19:{31 + n}:00", SPEAKER, f"第{n + 1}部分：跨境收单的清算链路和结算周期说明，包括汇率和手续费的处理")
                 for n in range(12)]
    messages += [("19:44:00", SPEAKER, "以上是我今天的分享，谢谢大家"), ("19:45:00", "听众一", "谢谢分享"),
                 ("19:45:30", "听众二", "感谢分享"), *extra]
    return transcript(day, messages)


def run(*files):
    result = transcripts_import(group_slug="prodarch",
                                sources=[Source.from_bytes(label, data) for label, data in files])
    assert result.ok, result.errors
    return result


def talk_url(share):
    return reverse("shares:talk", kwargs={"group_slug": share.group.slug, "pk": share.pk})


def detail_url(share):
    return reverse("shares:share_detail", kwargs={"group_slug": share.group.slug, "pk": share.pk})


# --- stored by the import, the registration and the edits ---

def test_import_stores_where_each_topic_came_from(world):
    run(("2024-03-04.md", talk_day()), ("2024-03-05.md", unannounced_day()))

    assert list(Share.objects.order_by("day").values_list("day", "topic", "topic_source", "status")) == [
        (at("2024-03-04").date(), "跨境收单的清结算", "announcement", "delivered"),
        (at("2024-03-05").date(), "跨境收单的清结算", "opening", "delivered"),
    ]


def test_an_admins_topic_is_theirs_and_a_reimport_keeps_it(world):
    run(("2024-03-05.md", unannounced_day()))
    share = Share.objects.get()

    services.share_edit(share=share, topic="跨境收单：清算与结算", abstract="", expected_version=share.version,
                        by=world.admin.user)
    run(("2024-03-05.md", unannounced_day(extra=[("23:00:00", "闲聊者", "晚安")])))

    share.refresh_from_db()
    assert (share.topic, share.topic_source, share.edited_fields) == ("跨境收单：清算与结算", "admin", ["topic"])


def test_a_reimport_brings_an_unedited_topic_and_its_source_to_what_is_found(world):
    run(("2024-03-05.md", unannounced_day()))
    Share.objects.update(topic="旧的题目", topic_source=TopicSource.NONE)

    run(("2024-03-05.md", unannounced_day(extra=[("23:00:00", "闲聊者", "晚安")])))

    assert list(Share.objects.values_list("topic", "topic_source")) == [("跨境收单的清结算", "opening")]


@pytest.mark.parametrize(("role", "source"), [("admin", "admin"), ("speaker", "speaker")])
def test_a_topic_edited_is_the_editors(world, role, source):
    share = make_share(world.group, world.speaker.member, topic_source=TopicSource.OPENING)

    services.share_edit(share=share, topic="新的题目", abstract="", expected_version=share.version,
                        by=getattr(world, role).user)

    share.refresh_from_db()
    assert (share.topic, share.topic_source) == ("新的题目", source)


def test_an_edit_that_leaves_the_topic_keeps_its_source(world):
    share = make_share(world.group, world.speaker.member, topic="支付清结算", topic_source=TopicSource.OPENING)

    services.share_edit(share=share, topic="支付清结算", abstract="补充的简介", expected_version=share.version,
                        by=world.admin.user)

    share.refresh_from_db()
    assert (share.abstract, share.topic_source) == ("补充的简介", "opening")


def test_a_share_registered_on_the_site_has_the_speakers_topic(world):
    share = services.share_register(group=world.group, speaker=world.speaker.member, topic="风控", by=world.speaker.user)

    assert Share.objects.get(pk=share.pk).topic_source == "speaker"


def test_a_topic_an_admin_restores_is_theirs(world):
    share = make_share(world.group, world.speaker.member, topic="第一版", topic_source=TopicSource.ANNOUNCEMENT)
    services.share_revision_record(share=share, action="imported")
    services.share_edit(share=share, topic="第二版", abstract="", expected_version=1, by=world.speaker.user)
    share.refresh_from_db()

    wiki.share_restore(share=share, version=1, expected_version=share.version, by=world.admin.user)

    share.refresh_from_db()
    assert (share.topic, share.topic_source) == ("第一版", "admin")


# --- shown to the group's admins ---

# The site speaks Chinese by default.
OPENING_NOTE = "<strong>题目取自分享者的开场白——请核对。</strong>"


@pytest.mark.parametrize("role", ROLES)
def test_talk_page_tells_only_admins_where_the_topic_came_from(world, role):
    share = make_share(world.group, world.speaker.member, visibility=Visibility.PUBLIC, topic_source=TopicSource.OPENING)

    html = client_for(world, role).get(talk_url(share)).content.decode()

    assert (OPENING_NOTE in html, 'class="topic-source"' in html) == ((role in ("admin", "staff"),) * 2)


@pytest.mark.parametrize(("source", "note"), [
    ("announcement", '<span class="muted">题目取自主持人的预告。</span>'),
    ("opening", OPENING_NOTE),
    ("host", "<strong>题目取自主持人的话——请核对。</strong>"),
    ("none", "<strong>记录中没有找到题目——请填写。</strong>"),
    ("speaker", '<span class="muted">题目由分享者填写。</span>'),
    ("admin", '<span class="muted">题目由管理员设定。</span>'),
])
def test_talk_and_share_pages_say_each_source_to_an_admin(world, source, note):
    share = make_share(world.group, world.speaker.member, topic_source=source)
    client = client_for(world, "admin")

    for url in (talk_url(share), detail_url(share)):
        html = client.get(url).content.decode()
        assert f'<p class="topic-source">{note}</p>' in html, url


def test_share_page_tells_the_speaker_nothing_of_the_source(world):
    share = make_share(world.group, world.speaker.member, topic_source=TopicSource.OPENING)

    html = client_for(world, "speaker").get(detail_url(share)).content.decode()

    assert (html.count('class="topic-source"'), "请核对" in html) == (0, False)


def test_talk_page_says_it_in_english_to_who_asks_for_it(world):
    share = make_share(world.group, world.speaker.member, topic_source=TopicSource.HOST)
    client = client_for(world, "admin")

    html = client.get(talk_url(share), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<p class="topic-source"><strong>Topic from the host&#x27;s words — check it.</strong></p>' in html


@pytest.mark.parametrize("items", [1, 3])
def test_talk_page_query_count_for_an_admin(world, django_assert_num_queries, items):
    share = make_share(world.group, world.speaker.member, topic_source=TopicSource.OPENING)
    for n in range(items):
        message = make_message(world.group, world.speaker.member, at("2018-05-20", f"19:3{n}"), f"正文{n}")
        TalkMessage.objects.create(share=share, message=message, part=TalkPart.TALK)
    client = client_for(world, "admin")

    # As for a member (``test_archive``): the note is read from the share itself, no query of its own.
    with django_assert_num_queries(11):
        response = client.get(talk_url(share))

    assert OPENING_NOTE in response.content.decode()


# --- the API ---

def test_api_gives_the_topic_source_of_each_share(world):
    run(("2024-03-04.md", talk_day()), ("2024-03-05.md", unannounced_day()))
    Share.objects.update(visibility=Visibility.PUBLIC)
    registered = services.share_register(group=world.group, speaker=world.speaker.member, topic="风控",
                                         by=world.speaker.user)

    rows = client_for(world, "member").get(reverse("api:share-list")).json()["results"]

    assert [(row["id"], row["topic_source"], row["status"]) for row in rows] == [
        (Share.objects.get(day=at("2024-03-05").date()).pk, "opening", ShareStatus.DELIVERED),
        (Share.objects.get(day=at("2024-03-04").date()).pk, "announcement", ShareStatus.DELIVERED),
        (registered.pk, "speaker", ShareStatus.PROPOSED),
    ]
