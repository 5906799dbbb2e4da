"""The talk search: the words a text is indexed under, the index and when it is built (after
import, never inside it), and what a query finds and in which order."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import subprocess
import sys

import pytest
import redis.connection
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Visibility
from config.celery import app as celery_app
from importer.services import Source, transcripts_import
from shares.models import Share, ShareStatus, TalkIndex, TalkIndexTerm, TalkMessage, TalkPart, TermWeight
from shares.search import highlight_html, stale_share_ids, talk_index_refresh, talk_snippets, talks_search
from shares.tasks import talk_index_refresh_enqueue, task_talk_index_refresh
from shares.tokens import prefix_end, query_terms, snippet_spans, text_terms
from tests.factories import at, make_group, make_member, make_message, make_share

from ..conftest import REPO
from ..importer.test_services import talk_day

# --- words (plain Python) ---


@pytest.mark.parametrize(("text", "terms"), [
    # Chinese: jieba's search segmentation, the long word and the words inside it.
    ("中华人民共和国", {"中华人民共和国", "中华", "华人", "人民", "共和", "共和国"}),
    ("我们的风控模型", {"我们", "风控", "模型"}),
    ("聚合支付的清分", {"聚合", "支付", "清分"}),
    # English: lowercased words, punctuation dropped, stop words and single letters left out.
    ("Settlement, PAYMENTS! e-commerce", {"settlement", "payments", "commerce"}),
    ("the of a I x y 9 支付", {"支付"}),
    # Full-width letters and digits are the ASCII ones.
    ("ＰＡＹ１２３", {"pay123"}),
    # Emoji and WeChat's [face] codes are not words.
    ("[捂脸]😀👍明白了", {"明白"}),
    # A URL counts by its host name, not its path; the sentence after it is read on.
    ("看https://mp.weixin.qq.com/s/AbC_123，很好", {"看", "mp", "weixin", "qq", "很", "好"}),
    ("<script>alert(1)</script>", {"script", "alert"}),
    ("", set()),
])
def test_text_terms(text, terms):
    assert text_terms(text) == terms


@pytest.mark.parametrize(("query", "terms"), [
    # Precise segmentation for a query: the fewest, longest words.
    ("中华人民共和国", ["中华人民共和国"]),
    ("跨境收单的清结算", ["跨境", "收单", "清", "结算"]),
    # Single characters jieba splits a short query into are put back together.
    ("清分", ["清分"]),
    ("新分享：清分", ["新", "分享", "清分"]),
    # An English plural asks for its singular (a prefix of both); "business" stays.
    ("Payments settle business Redis status", ["payment", "settle", "business", "redis", "status"]),
    ("支付 支付 PAY", ["支付", "pay"]),
    ("的 the !!", []),
])
def test_query_terms(query, terms):
    assert query_terms(query) == terms


def test_prefix_end_bounds_every_word_with_the_prefix():
    assert prefix_end("settle") == "settlf"
    assert prefix_end("结算") == "结箘"
    for word in ["settle", "settlement", "settles", "settle9", "settle结"]:
        assert "settle" <= word < prefix_end("settle")
    assert not "settlf" < prefix_end("settle")


def test_snippet_spans_cut_around_the_first_match_and_mark_every_match():
    text = "开场白。" * 30 + "我们讨论清结算的问题，" + "后面的话。" * 30

    spans = snippet_spans(text, ["结算", "清"], width=30)

    assert spans == [("…", False), ("白。开场白。我们讨论", False), ("清", True), ("结算", True),
                     ("的问题，后面的话。后面的话。后面的", False), ("…", False)]
    assert snippet_spans("Settlement in T+1", ["settle"], width=100) == [("Settle", True), ("ment in T+1", False)]
    assert snippet_spans("无关", ["结算"]) == []


@pytest.mark.slow
def test_tokens_import_no_django_and_jieba_starts_quietly():
    # A fresh process: jieba's first use builds its dictionary, which it would announce on stderr.
    code = ("import sys; from shares.tokens import text_terms; assert 'django' not in sys.modules; "
            "print(sorted(text_terms('清结算系统')))")

    process = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)

    assert (process.returncode, process.stdout, process.stderr) == (0, "['清', '系统', '结算']\n", "")


# --- the index ---

def talk(group, speaker, topic, texts=(), *, abstract="", start=None, visibility=Visibility.PUBLIC, **fields):
    """A delivered share whose talk is ``texts`` (the speaker's messages, a minute apart)."""
    start = start or at("2018-05-20")
    share = make_share(group, speaker, topic=topic, abstract=abstract, start=start, visibility=visibility, **fields)
    for n, text in enumerate(texts):
        message = make_message(group, speaker, start + dt.timedelta(minutes=n), text)
        TalkMessage.objects.create(share=share, message=message, part=TalkPart.TALK)
    return share


@pytest.fixture
def group():
    return make_group(slug="prodarch")


@pytest.fixture
def speaker():
    return make_member("李东衡-关天数据-产品-上海")


def index_rows():
    return sorted(TalkIndexTerm.objects.values_list("share_id", "term", "weight"))


def found(query, talks=None):
    shares, _terms = talks_search(talks if talks is not None else Share.objects.all(), query)
    return [share.topic for share in shares]


@pytest.mark.django_db
def test_refresh_indexes_topic_abstract_and_talk_with_the_best_place(group, speaker):
    share = talk(group, speaker, "风控模型", ["风控的规则", "模型和数据"], abstract="数据治理")

    result = talk_index_refresh()

    assert (result.indexed, result.terms, result.batches, result.dropped) == (1, 5, 1, 0)
    assert index_rows() == sorted([
        (share.pk, "风控", TermWeight.TOPIC), (share.pk, "模型", TermWeight.TOPIC),
        (share.pk, "数据", TermWeight.ABSTRACT), (share.pk, "治理", TermWeight.ABSTRACT),
        (share.pk, "规则", TermWeight.TEXT),
    ])
    index = TalkIndex.objects.get()
    assert (index.share_id, index.version, index.message_count, index.term_count) == (share.pk, 1, 2, 5)


@pytest.mark.django_db
def test_stale_by_version_and_refresh_twice_changes_nothing(group, speaker):
    first = talk(group, speaker, "清结算", ["结算周期"])
    second = talk(group, speaker, "收单", ["收单机构"], start=at("2018-06-01"))
    talk(group, speaker, "待讲", status=ShareStatus.SCHEDULED, start=at("2030-01-01"))

    assert stale_share_ids() == [first.pk, second.pk]
    talk_index_refresh()
    rows = list(TalkIndexTerm.objects.order_by("pk").values_list("pk", "share_id", "term", "weight"))
    indexes = list(TalkIndex.objects.order_by("pk").values_list("share_id", "version", "indexed_at"))
    assert stale_share_ids() == []

    again = talk_index_refresh()

    assert (again.indexed, again.terms, again.batches) == (0, 0, 0)
    assert list(TalkIndexTerm.objects.order_by("pk").values_list("pk", "share_id", "term", "weight")) == rows
    assert list(TalkIndex.objects.order_by("pk").values_list("share_id", "version", "indexed_at")) == indexes
    # An edit bumps the version: that share, and only that one, is stale again.
    Share.objects.filter(pk=second.pk).update(topic="收单与清算", version=2)
    assert stale_share_ids() == [second.pk]
    talk_index_refresh()
    assert stale_share_ids() == []
    assert TalkIndexTerm.objects.get(share=second, term="清算").weight == TermWeight.TOPIC


@pytest.mark.django_db
def test_replaced_talk_messages_make_a_share_stale_at_the_same_version(group, speaker):
    share = talk(group, speaker, "清结算", ["结算周期", "第二条"])
    talk_index_refresh()
    # What a re-import does to a changed message: the old row goes, a new one (new id) comes.
    old = TalkMessage.objects.filter(share=share).select_related("message").last()
    old.message.delete()
    message = make_message(group, speaker, at("2018-05-20", "19:31"), "拒付仲裁")
    TalkMessage.objects.create(share=share, message=message, part=TalkPart.TALK)

    assert (Share.objects.get().version, stale_share_ids()) == (1, [share.pk])
    talk_index_refresh()
    assert (stale_share_ids(), found("拒付")) == ([], ["清结算"])


@pytest.mark.django_db
def test_refresh_drops_the_index_of_a_share_no_longer_delivered(group, speaker):
    share = talk(group, speaker, "清结算", ["结算周期"])
    talk_index_refresh()
    Share.objects.filter(pk=share.pk).update(status=ShareStatus.CANCELLED)

    result = talk_index_refresh()

    assert (result.indexed, result.dropped) == (0, 1)
    assert (TalkIndex.objects.count(), TalkIndexTerm.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_refresh_of_given_shares_rebuilds_them_even_when_fresh(group, speaker):
    share = talk(group, speaker, "清结算", ["结算周期"])
    other = talk(group, speaker, "收单", ["收单机构"])
    talk_index_refresh()
    TalkIndexTerm.objects.filter(share=share).delete()

    result = talk_index_refresh(share_ids=[share.pk])

    assert (result.indexed, result.terms) == (1, 3)
    assert sorted(TalkIndexTerm.objects.filter(share=share).values_list("term", flat=True)) == ["周期", "清", "结算"]
    assert TalkIndexTerm.objects.filter(share=other).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("shares", [1, 3])
def test_refresh_costs_the_same_queries_for_one_or_three_shares(group, speaker, django_assert_num_queries, shares):
    for n in range(shares):
        talk(group, speaker, f"分享{n}", [f"第{k}段：清算和结算的第{n}种做法" for k in range(40)], start=at("2018-05-20") + dt.timedelta(days=n))

    # indexes, talk messages, shares (what is stale), indexes of undelivered shares; then one batch:
    # savepoint, shares (locked), their messages, delete terms, delete indexes, insert terms, insert
    # indexes, release
    with django_assert_num_queries(12):
        result = talk_index_refresh()

    assert result.indexed == shares


@pytest.mark.django_db
def test_the_task_refreshes_and_the_beat_runs_it_every_ten_minutes(group, speaker, settings):
    share = talk(group, speaker, "清结算", ["结算周期"])

    task_talk_index_refresh.delay(share_ids=None)

    assert TalkIndex.objects.get().share_id == share.pk
    assert settings.CELERY_BEAT_SCHEDULE["talk-index-refresh"] == {"task": "shares.talk_index_refresh", "schedule": 600.0}
    assert celery_app.tasks["shares.talk_index_refresh"].name == task_talk_index_refresh.name


@pytest.mark.django_db
def test_index_talks_command_prints_what_it_did(group, speaker):
    talk(group, speaker, "清结算", ["结算周期"])
    talk(group, speaker, "收单", ["收单机构"])
    out, err = io.StringIO(), io.StringIO()

    call_command("index_talks", stdout=out, stderr=err)
    call_command("index_talks", stdout=out, stderr=err)
    call_command("index_talks", "--all", stdout=out, stderr=err)

    lines = [re.sub(r"\d+\.\ds\.$", "N s.", line) for line in out.getvalue().splitlines()]
    assert lines == [
        "Indexed 2 talks (5 terms) in 1 batches; dropped the index of 0 talks no longer delivered; N s.",
        "Indexed 0 talks (0 terms) in 0 batches; dropped the index of 0 talks no longer delivered; N s.",
        "Indexed 2 talks (5 terms) in 1 batches; dropped the index of 0 talks no longer delivered; N s.",
    ]
    assert err.getvalue().splitlines() == ["[2/2] talks indexed", "[2/2] talks indexed"]


# --- after import, never inside it ---

def import_day(data: bytes, label="2024-03-04.md", **options):
    return transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(label, data)], **options)


@pytest.mark.django_db
def test_import_queues_the_refresh_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        result = import_day(talk_day())

    # Inside the import nothing is indexed; the refresh is queued for after the commit.
    assert result.ok
    assert (len(callbacks), TalkIndex.objects.count(), stale_share_ids()) == (1, 0, [Share.objects.get().pk])
    callbacks[0]()  # the commit: the task runs (eager in tests)
    share = Share.objects.get()
    assert stale_share_ids() == []
    assert found("结算周期") == ["跨境收单的清结算"]
    assert TalkIndex.objects.get().share_id == share.pk


@pytest.mark.django_db
def test_dry_run_and_unchanged_reimport_queue_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as first:
        import_day(talk_day())
    with django_capture_on_commit_callbacks(execute=True) as again:
        import_day(talk_day())
    with django_capture_on_commit_callbacks(execute=True) as dry:
        import_day(talk_day(day="2024-03-05"), label="2024-03-05.md", dry_run=True)

    assert (len(first), len(again), len(dry)) == (1, 0, 0)


def changed_talk_day():
    """``talk_day`` with one message of the talk said differently (same times, same topic)."""
    original = talk_day().decode()
    changed = original.replace("第5部分：跨境收单的清算链路和结算周期说明", "第5部分：拒付仲裁的流程说明", 1)
    assert changed != original
    return changed.encode()


@pytest.mark.django_db
def test_reimport_that_changes_the_talk_makes_it_stale_and_the_refresh_fixes_it(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_day(talk_day())
    share = Share.objects.get()
    assert (stale_share_ids(), found("拒付仲裁")) == ([], [])

    with django_capture_on_commit_callbacks() as callbacks:
        import_day(changed_talk_day())

    # Same share, same times and topic; its talk messages were replaced: stale (by its
    # messages even where its version did not move), and found again once refreshed.
    assert Share.objects.get().pk == share.pk
    assert stale_share_ids() == [share.pk]
    callbacks[0]()
    assert (stale_share_ids(), found("拒付仲裁")) == ([], ["跨境收单的清结算"])


@pytest.fixture
def celery_conf():
    """Celery's configuration as the test leaves it: restored afterwards."""
    keys = ("task_always_eager", "broker_url", "broker_write_url", "broker_transport_options")
    saved = {key: celery_app.conf[key] for key in keys}
    yield celery_app.conf
    # The enqueue publishes on a connection of its own: Celery's pools are left as they were.
    celery_app.conf.update(saved)


@pytest.mark.django_db
@pytest.mark.parametrize("broker", ["embedded broker not started", "nothing listening on the port"])
def test_enqueue_with_the_broker_down_fails_fast_logs_and_leaves_the_shares_stale(
        celery_conf, tmp_path, group, speaker, caplog, broker, monkeypatch):
    share = talk(group, speaker, "清结算", ["结算周期"])
    url = f"redis+socket://{tmp_path / 'redis.sock'}" if broker.startswith("embedded") else "redis://127.0.0.1:9/0"
    celery_conf.update(task_always_eager=False, broker_url=url, broker_write_url=None)
    caplog.set_level(logging.WARNING, logger="shares.tasks")
    attempts = []
    for kind in (redis.connection.Connection, redis.connection.UnixDomainSocketConnection):
        def counted_connect(self, connect=kind._connect):
            attempts.append(self)
            return connect(self)

        monkeypatch.setattr(kind, "_connect", counted_connect)

    with CaptureQueriesContext(connection) as queries:
        queued = talk_index_refresh_enqueue()

    assert (queued, len(queries), stale_share_ids()) == (False, 0, [share.pk])
    # No socket to try for the embedded broker; one attempt (a closed port refuses at once), no retries.
    assert len(attempts) == (0 if broker.startswith("embedded") else 1)
    assert [record.getMessage().split(" (")[0] for record in caplog.records] == ["talk index refresh not queued"]


@pytest.mark.django_db
def test_enqueue_publishes_the_task_to_a_running_broker(celery_conf, embedded_redis, group, speaker):
    import redis

    socket = embedded_redis.removeprefix("unix://").split("?")[0]
    celery_conf.update(task_always_eager=False, broker_url=f"redis+socket://{socket}", broker_write_url=None)

    queued = talk_index_refresh_enqueue()

    client = redis.Redis.from_url(embedded_redis)
    message = client.lpop("celery")
    assert queued is True
    assert b'"task": "shares.talk_index_refresh"' in message
    assert TalkIndex.objects.count() == 0  # queued, not run here


# --- what a query finds ---

@pytest.mark.django_db
def test_search_finds_a_chinese_word_that_is_only_in_the_talk_text(group, speaker):
    talk(group, speaker, "支付的未来", ["今天聊聊拒付仲裁的流程", "谢谢大家"])
    talk(group, speaker, "收单", ["收单机构的职责"])
    talk_index_refresh()

    assert found("拒付") == ["支付的未来"]
    assert found("仲裁流程") == ["支付的未来"]


@pytest.mark.django_db
def test_search_matches_english_words_by_prefix_case_insensitive(group, speaker):
    talk(group, speaker, "Cross-border", ["Settlement in T+1", "PAYMENTS to merchants"])
    talk(group, speaker, "Risk", ["settling disputes"])
    talk_index_refresh()

    assert found("settle") == ["Cross-border"]
    assert found("SETTL") == ["Risk", "Cross-border"]  # both in the text, same start: the later id first
    assert found("payment") == ["Cross-border"]
    assert found("merchant payments") == ["Cross-border"]


@pytest.mark.django_db
def test_search_of_two_words_finds_only_talks_that_have_both(group, speaker):
    talk(group, speaker, "一", ["风控模型"], start=at("2018-05-01"))
    talk(group, speaker, "二", ["风控规则"], start=at("2018-05-02"))
    talk(group, speaker, "三", ["模型训练"], start=at("2018-05-03"))
    talk_index_refresh()

    assert found("风控 模型") == ["一"]
    assert found("风控") == ["二", "一"]


@pytest.mark.django_db
def test_search_ranks_topic_above_abstract_above_text_then_newest_first(group, speaker):
    talk(group, speaker, "旧的文本", ["讲讲风控"], start=at("2018-01-01"))
    talk(group, speaker, "新的文本", ["也讲风控"], start=at("2018-03-01"))
    talk(group, speaker, "摘要里有", abstract="风控的做法", start=at("2018-02-01"))
    talk(group, speaker, "风控实践", start=at("2017-01-01"))
    talk(group, speaker, "无关", ["清算"], start=at("2019-01-01"))
    talk_index_refresh()

    shares, terms = talks_search(Share.objects.all(), "风控")

    assert terms == ["风控"]
    assert [(share.topic, share.search_rank) for share in shares] == [
        ("风控实践", 3), ("摘要里有", 2), ("新的文本", 1), ("旧的文本", 1),
    ]


@pytest.mark.django_db
def test_a_short_chinese_word_is_found_whether_jieba_kept_it_whole_or_cut_it(group, speaker):
    talk(group, speaker, "一", ["聚合支付的清分"], start=at("2018-01-01"))  # cut: 聚合/支付/的/清分
    talk(group, speaker, "二", ["清分实践"], start=at("2018-02-01"))  # cut: 清/分/实践
    talk(group, speaker, "三", ["清楚地分开"], start=at("2018-03-01"))  # 清楚/地/分开: neither
    talk_index_refresh()

    shares, terms = talks_search(Share.objects.all(), "清分")

    assert terms == ["清分"]
    assert [(share.topic, share.search_rank) for share in shares] == [("二", 1), ("一", 1)]


@pytest.mark.django_db
def test_a_share_not_indexed_yet_is_found_by_its_topic_or_abstract_only(group, speaker):
    indexed = talk(group, speaker, "清分实践", ["讲讲结算"])
    talk_index_refresh()
    talk(group, speaker, "新分享：清分", ["里面也有结算"], start=at("2018-06-01"))
    talk(group, speaker, "摘要命中", ["没有"], abstract="清分", start=at("2018-06-02"))
    Share.objects.filter(pk=indexed.pk).update(topic="改过的题目", version=2)  # stale: the old index is not used

    # Topic hits first, then newest.
    assert found("清分") == ["新分享：清分", "摘要命中"]
    assert found("结算") == []
    talk_index_refresh()
    assert found("结算") == ["新分享：清分", "改过的题目"]


@pytest.mark.django_db
def test_a_query_of_stop_words_looks_for_the_topic_as_typed(group, speaker):
    talk(group, speaker, "的", ["的"])
    talk(group, speaker, "别的", ["的"])
    talk_index_refresh()

    assert sorted(found("的")) == ["别的", "的"]
    assert found("   ") == ["别的", "的"]


@pytest.mark.django_db
def test_search_is_limited_to_the_queryset_it_is_given(group, speaker):
    talk(group, speaker, "公开", ["拒付仲裁"], visibility=Visibility.PUBLIC)
    talk(group, speaker, "隐藏", ["拒付仲裁"], visibility=Visibility.HIDDEN)
    talk_index_refresh()

    assert found("拒付", Share.objects.filter(visibility=Visibility.PUBLIC)) == ["公开"]


@pytest.mark.django_db
def test_snippets_are_the_first_matching_message_and_highlight_is_escaped(group, speaker):
    share = talk(group, speaker, "题目", ["开场", "<b>拒付</b> 的流程", "拒付第二次"])
    other = talk(group, speaker, "别的", ["无关"])

    snippets = talk_snippets(share_ids=[share.pk, other.pk], terms=["拒付"])

    assert snippets == {share.pk: "<b>拒付</b> 的流程"}
    assert highlight_html(snippets[share.pk], ["拒付"]) == "&lt;b&gt;<mark>拒付</mark>&lt;/b&gt; 的流程"
    assert highlight_html("<i>题目</i>", [], width=None) == "&lt;i&gt;题目&lt;/i&gt;"
