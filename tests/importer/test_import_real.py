"""The importer on the real transcripts in ../shared (read, never copied): seeds and corpus."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from community.models import Member, Membership, Message
from importer.evaluation import day_text, gold_talks, read_write_ups
from importer.services import transcript_sources, transcripts_import
from importer.transcript import read_transcript
from shares.models import Share, ShareStatus

pytestmark = pytest.mark.django_db

SEED_SHARES = [
    # (day, speaker display name, topic, announced start in the group's time zone)
    ("2018-03-07", "王月卿～华胜～产品经理～北京", "话费支付业务介绍", "2018-03-07T16:00:00+08:00"),
    ("2018-05-20", "唐帆", "翼支付红包业务模型和现存问题", "2018-05-20T19:30:00+08:00"),
    ("2018-06-02", "李东衡-关天数据-产品-上海", "基于支付场景开发搭建新疆本地市场的多元化金融业务体系", "2018-06-02T20:30:00+08:00"),
    ("2018-08-07", "刘涛-多飞科技-研发-南京", "一个扫码支付满减的实例", "2018-08-07T17:30:00+08:00"),
]
# Counted by hand (see test_seeds.py for how): within two of these.
MANUAL_SIGN_INS = {"2018-03-07": 52, "2018-05-20": 43, "2018-06-02": 41, "2018-08-07": 40}


@pytest.fixture
def seeds_2018(shared_dir):
    paths = sorted(p for p in (shared_dir / "seeds").glob("*.txt") if not p.name.startswith("004"))
    result = transcripts_import(group_slug="prodarch", group_name="支付产品架构交流群", sources=transcript_sources(paths))
    assert result.ok, result.errors
    return result


def test_seeds_2018_four_announced_talks_exact(seeds_2018):
    shares = Share.objects.select_related("speaker", "group").order_by("day")
    got = [
        (s.day.isoformat(), s.speaker.display_name, s.topic, s.scheduled_for.astimezone(s.group.tz).isoformat())
        for s in shares
    ]
    assert got == SEED_SHARES
    assert {s.status for s in shares} == {ShareStatus.DELIVERED}


def test_seeds_2018_sign_ins_within_two_of_manual_count(seeds_2018):
    counts = {s.day.isoformat(): s.sign_in_count for s in Share.objects.all()}
    assert {day: abs(counts[day] - manual) <= 2 for day, manual in MANUAL_SIGN_INS.items()} == dict.fromkeys(MANUAL_SIGN_INS, True)


def test_seeds_2018_cheng_lin_is_one_member_across_four_files(seeds_2018):
    [member] = Member.objects.filter(names__name="程琳Wa-杉德支付-产品-上海").distinct()
    days = sorted({m.sent_at.astimezone(dt.UTC).date().isoformat()[:7] for m in Message.objects.filter(sender=member)})
    assert Message.objects.filter(sender_name="程琳Wa-杉德支付-产品-上海").exclude(sender=member).count() == 0
    assert len(days) >= 3
    assert (member.name, member.company, member.city) == ("程琳Wa", "杉德支付", "上海")


def test_seeds_2018_header_name_and_mention_form_are_one_member(seeds_2018):
    speaker = Share.objects.get(day="2018-05-20").speaker
    names = set(speaker.names.values_list("name", "source"))
    assert ("唐帆", "header") in names
    assert any(source == "mention" and name.startswith("唐帆") and name != "唐帆" for name, source in names)
    assert Membership.objects.get(member=speaker).nickname != "唐帆"


def test_seed_2017_unannounced_talk_with_sign_ins(shared_dir):
    [path] = (shared_dir / "seeds").glob("004_*.txt")
    result = transcripts_import(group_slug="proddev", sources=transcript_sources([path]))
    share = Share.objects.select_related("speaker").get()
    assert result.ok
    assert share.speaker.display_name == "王晓韡-通联支付-PM"
    assert "预付" in share.topic
    assert share.scheduled_for is None
    assert abs(share.sign_in_count - 40) <= 2


@pytest.mark.slow
def test_corpus_import_finds_a_share_on_curated_talks_of_both_groups(shared_dir, capsys):
    corpus = shared_dir / "corpus"
    names = {"proddev": "支付产品技术交流群", "prodarch": "支付产品架构交流群"}
    days = defaultdict(list)
    for slug, name in names.items():
        paths = sorted((corpus / slug).glob("*.markdown"))
        result = transcripts_import(group_slug=slug, group_name=name, sources=transcript_sources(paths))
        assert result.ok, result.errors
        for path in paths:
            transcript = read_transcript(path)
            days[transcript.day].append(day_text(slug, transcript.day, transcript.messages))
    gold, left_out = gold_talks(read_write_ups(corpus / "curated"), days)
    share_days = set(Share.objects.values_list("group__slug", "day"))
    found = [g for g in gold if (g.group, g.day) in share_days]
    gold_days = {(g.group, g.day) for g in gold}
    extra = sorted(key for key in share_days if key not in gold_days)
    recall = len(found) / len(gold)
    with capsys.disabled():
        print(f"\ncorpus: {len(found)}/{len(gold)} curated talks have a share on their day in their group "
              f"(recall {recall:.2f}; {len(left_out)} write-ups left out); {len(extra)} shares on days without a "
              f"write-up: {', '.join(f'{slug} {day}' for slug, day in extra)}")
    assert {g.group for g in gold} == set(names)
    assert recall >= 0.9
