"""Quotes and announcements as evidence of identity, through the real import of transcripts
written here: a quote's name is a name of whoever sent the quoted message, the announced name a
name of the member who gave the announced talk — within the uploader's reach and the admins'
decisions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from community.models import Group, Member, MemberMerge, Message, Name, NameLink, NameSource
from community.names import normalize_name
from community.services import OUT_OF_REACH, member_split
from importer import services
from importer.generator import write_corpus
from shares.models import Share, ShareStatus
from tests.factories import at, make_group, make_member, make_membership, make_person, make_user

from .test_services import ANNOUNCE, run, transcript

pytestmark = pytest.mark.django_db

DASHES = " - - - - - - - - - - - - - - - "
SENDER = "晚风"                        # the header name the exporting phone showed
QUOTED = "林夕-远山数科-开发-广州"      # the group nickname the replier's phone showed for the same person
TEXT = "清算文件一般凌晨两点生成，对账在早上六点前完成"


def owner_of(name: str) -> int | None:
    """The member bearing ``name`` in the group (None: nobody)."""
    ids = set(Name.objects.filter(normalized=normalize_name(name)).values_list("member_id", flat=True))
    assert len(ids) <= 1
    return ids.pop() if ids else None


def sender_of(text: str) -> int:
    return Message.objects.get(text=text).sender_id


def quote_day(day: str, quote: str, *, before: list | None = None) -> bytes:
    """A day where 宋青 replies with ``quote``, after the messages ``before``."""
    return transcript(day, [*(before or []), ("11:00:00", "宋青", quote + DASHES + "明白了，谢谢")])


# --- quotes in the Markdown transcripts ---

@pytest.mark.parametrize("quote", [
    f"「{QUOTED}：{TEXT}」",                                   # the full-width colon
    f"「{QUOTED}:{TEXT}」",                                    # an ASCII colon
    f"「 {QUOTED}: {TEXT} 」",                                 # blanks around the name and the text
    f"「{QUOTED}：清算文件一般凌晨两点生成，对账在早...」",       # cut short
    f"「{QUOTED}：清算文件一般凌晨两点生成 ，对账在早上六点前完成」",  # other whitespace
])
def test_a_quote_names_the_sender_of_the_quoted_message(quote):
    run(("1.md", quote_day("2024-03-04", quote, before=[("10:00:00", SENDER, TEXT), ("10:30:00", "宋青", "请教")])))

    assert owner_of(QUOTED) == owner_of(SENDER) == sender_of(TEXT)
    record = MemberMerge.objects.get(merged_name=QUOTED)
    assert (record.into_id, record.evidence["rule"], record.evidence["quoted"]) == (
        sender_of(TEXT), "a quote of their message", TEXT)
    assert Name.objects.get(normalized=normalize_name(QUOTED)).source == NameSource.QUOTE


@pytest.mark.parametrize("reply", [
    f"? {QUOTED}: {TEXT} ?{DASHES}明白了",          # the corner brackets lost by the export as "?"
    f"明白了[引用 {QUOTED}：{TEXT}]",                # as WeFlow writes a quote into the text
])
def test_other_quote_forms_name_the_sender_too(reply):
    run(("1.md", transcript("2024-03-04", [("10:00:00", SENDER, TEXT), ("11:00:00", "宋青", reply)])))

    assert owner_of(QUOTED) == owner_of(SENDER) == sender_of(TEXT)
    assert Message.objects.filter(text="明白了").count() == 1


def test_emoji_the_export_lost_as_question_marks_do_not_hide_the_quoted_message():
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：对账终于平了??明天见」",
                           before=[("10:00:00", SENDER, "对账终于平了[庆祝]明天见"), ("10:30:00", "宋青", "恭喜")])))

    assert owner_of(QUOTED) == sender_of("对账终于平了[庆祝]明天见")


def test_a_nested_quote_names_both_senders():
    inner = "清算几点开始？"
    reply = "一般是凌晨两点"
    day = transcript("2024-03-04", [
        ("10:00:00", "阿青", inner),
        ("10:05:00", SENDER, f"「青禾-某银行-产品-上海：{inner}」{DASHES}{reply}"),
        ("10:10:00", "宋青", f"「{QUOTED}：「青禾-某银行-产品-上海：{inner}」{DASHES}{reply}」{DASHES}我们也是"),
    ])
    run(("1.md", day))

    assert owner_of(QUOTED) == owner_of(SENDER)
    assert owner_of("青禾-某银行-产品-上海") == owner_of("阿青") != owner_of(SENDER)


def test_a_quote_of_an_image_names_who_posted_the_image_just_before():
    image = "![2024-03-04 10:00:00](http://static.example.org/img/202403/20240304_100000.png)"
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：[图片]」",
                           before=[("10:00:00", "宋青", "有图吗"), ("10:40:00", SENDER, image)])))

    assert owner_of(QUOTED) == owner_of(SENDER)


def test_a_quote_of_an_image_when_two_members_posted_images_links_nobody():
    image = "![2024-03-04 10:00:00](http://static.example.org/img/202403/20240304_10{}.png)"
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：[图片]」", before=[
        ("10:40:00", SENDER, image.format("4000")), ("10:45:00", "阿青", image.format("4500"))])))

    assert owner_of(QUOTED) is None


@pytest.mark.parametrize("quoted", ["[链接] 清算系统的设计与实现", "清算系统的设计与实现",
                                    "https://example.org/posts/settlement-design"])
def test_a_quote_of_a_link_names_who_posted_the_link(quoted):
    link = "[清算系统的设计与实现](https://example.org/posts/settlement-design)"
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：{quoted}」",
                           before=[("10:00:00", SENDER, link), ("10:30:00", "宋青", "收藏了")])))

    assert owner_of(QUOTED) == owner_of(SENDER)


def test_a_text_two_members_posted_proves_nothing():
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：{TEXT}」",
                           before=[("10:00:00", SENDER, TEXT), ("10:20:00", "阿青", TEXT)])))

    assert owner_of(QUOTED) is None
    assert not MemberMerge.objects.filter(merged_name=QUOTED).exists()


@pytest.mark.parametrize(("days", "linked"), [(3, True), (8, False)])
def test_a_quoted_message_of_a_stored_day_within_a_week(days, linked):
    run(("1.md", transcript("2024-03-01", [("10:00:00", SENDER, TEXT)])))
    later = f"2024-03-{1 + days:02d}"

    run(("2.md", quote_day(later, f"「{QUOTED}：{TEXT}」")))

    assert (owner_of(QUOTED) == sender_of(TEXT)) is linked
    assert (owner_of(QUOTED) is None) is not linked


def test_a_quoted_name_borne_by_a_member_of_another_day_merges_the_two():
    run(("1.md", transcript("2024-03-01", [("10:00:00", QUOTED, "我是林夕")])))
    earlier = owner_of(QUOTED)
    run(("2.md", quote_day("2024-03-02", f"「{QUOTED}：{TEXT}」", before=[("10:00:00", SENDER, TEXT)])))

    assert owner_of(QUOTED) == owner_of(SENDER) == sender_of(TEXT) == sender_of("我是林夕")
    assert not Member.objects.filter(pk=earlier).exists() or owner_of(SENDER) == earlier
    assert MemberMerge.objects.filter(evidence__rule="a quote of their message", merged_member_id__isnull=False).count() == 1


def test_a_quoted_name_of_someone_who_posted_that_day_is_only_a_suggestion():
    day = quote_day("2024-03-04", f"「{QUOTED}：{TEXT}」",
                    before=[("10:00:00", SENDER, TEXT), ("10:10:00", QUOTED, "我是另一个人")])
    run(("1.md", day))

    assert owner_of(QUOTED) != owner_of(SENDER)
    link = NameLink.objects.get()
    assert {link.member_id, link.other_id} == {owner_of(QUOTED), owner_of(SENDER)}
    assert link.evidence["why_not_merged"] == "both members posted in the day under their own names"


@pytest.fixture
def linked_then_split():
    """The quote tied the nickname to 晚风's member; an admin split it off: it is someone else."""
    run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：{TEXT}」", before=[("10:00:00", SENDER, TEXT)])))
    member = Member.objects.get(pk=owner_of(SENDER))
    group = Group.objects.get(slug="prodarch")
    record = member_split(member=member, names=list(member.names.filter(normalized=normalize_name(QUOTED))),
                          group=group, by=make_user(staff=True), reason="另一个人")
    return member, record.into


def test_a_split_keeps_a_quoted_name_apart(linked_then_split):
    member, new = linked_then_split

    run(("2.md", quote_day("2024-03-05", f"「{QUOTED}：又一条很长的消息内容", before=[
        ("10:00:00", SENDER, "又一条很长的消息内容，关于清算")])))

    assert owner_of(QUOTED) == new.pk
    assert owner_of(SENDER) == member.pk
    assert Member.objects.filter(pk__in=[member.pk, new.pk]).count() == 2


def test_a_quoted_name_of_a_member_out_of_the_uploaders_reach_is_a_suggestion():
    a, b = make_group(slug="a-group", name="甲群"), make_group(slug="b-group", name="乙群")
    uploader = make_person(a, "甲群主-某支付-产品", role="owner")
    outsider = make_person(b, "乙群主-某钱包-总监", role="owner").member  # a login, and B's owner
    make_membership(a, outsider)
    Name.objects.create(member=outsider, group=a, name=QUOTED, normalized=normalize_name(QUOTED),
                        source=NameSource.HEADER, times_seen=1, first_seen=at("2024-01-01", "10:00"))

    result = run(("1.md", quote_day("2024-03-04", f"「{QUOTED}：{TEXT}」", before=[("10:00:00", SENDER, TEXT)])),
                 slug="a-group", user=uploader.user)

    assert result.ok
    sender = sender_of(TEXT)
    assert Member.objects.filter(pk=outsider.pk).exists() and sender != outsider.pk
    assert set(Name.objects.filter(normalized=normalize_name(QUOTED)).values_list("member_id", flat=True)) == {
        outsider.pk}
    link = NameLink.objects.get()
    assert ({link.member_id, link.other_id}, link.evidence["why_not_merged"]) == ({sender, outsider.pk}, OUT_OF_REACH)


def test_quotes_of_stored_days_cost_one_query_whatever_their_number():
    earlier = [(f"10:{n:02d}:00", f"成员{n}", f"第{n}条很长的消息，讲清算和对账的细节") for n in range(6)]

    def queries(count: int) -> int:
        """The queries of importing a day of ``count`` quotes of an earlier stored day, in a group of its own."""
        slug = f"group-{count}"
        run(("1.md", transcript("2024-03-01", earlier)), slug=slug)
        # (Names of their own in each group: the same well-formed nickname in two groups is evidence too.)
        replies = [(f"11:{n:02d}:00", "宋青", f"「昵称{count}{n}-某公司-产品：第{n}条很长的消息，讲清算和对账的细节」{DASHES}好")
                   for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            run(("2.md", transcript("2024-03-04", replies)), slug=slug)
        group = Group.objects.get(slug=slug)
        linked = {name: member for name, member in Name.objects.filter(group=group, source=NameSource.QUOTE)
                  .values_list("name", "member_id")}
        stored = dict(Message.objects.filter(group=group, sender_name__startswith="成员").values_list("text", "sender_id"))
        assert linked == {f"昵称{count}{n}-某公司-产品": stored[text] for n, (_t, _s, text) in enumerate(earlier[:count])}
        return len(captured)

    assert queries(1) == queries(5)


class _Undone(Exception):
    pass


def test_generated_days_cost_the_same_queries_with_quotes_as_evidence(tmp_path, monkeypatch):
    """The first import of corpus-like generated days (quotes of recent messages, with both colons):
    quotes as evidence cost no query of their own, file after file."""
    paths = write_corpus(tmp_path, seed=3, days=4, messages_per_day=400, start=dt.date(2024, 1, 8))

    def queries() -> list[int]:
        counts = []
        for path in paths:
            with CaptureQueriesContext(connection) as captured:
                assert run((path.name, path.read_bytes())).ok
            counts.append(len(captured))
        return counts

    try:
        with transaction.atomic(), monkeypatch.context() as patched:
            patched.setattr(services, "_quotes_link", lambda *args: False)
            without = queries()
            raise _Undone  # the same empty database for the import with quotes as evidence
    except _Undone:
        pass
    with_quotes = queries()

    assert MemberMerge.objects.filter(evidence__rule="a quote of their message").count() > 0
    assert with_quotes == without


# --- the announced name ---

def announced_day(announced: str, speaker: str, *, day: str = "2024-03-04", given: bool = True,
                  extra: list | None = None) -> bytes:
    """An announcement @mentioning ``announced``; ``speaker`` gives the talk at the announced time."""
    messages = [
        ("15:00:00", "管理员甲", ANNOUNCE.format(nick=announced, topic="跨境收单的清结算", start="19:30")),
        ("19:10:00", "听众一", "签到"),
        ("19:11:00", "听众二", "签到"),
        *(extra or []),
    ]
    if given:
        messages.append(("19:30:05", speaker, "大家好，今天和大家分享的主题是跨境收单的清结算"))
        messages += [(f"19:{31 + n}:00", speaker, f"第{n + 1}部分：跨境收单的清算链路和结算周期说明，包括汇率和手续费的处理")
                     for n in range(12)]
        messages.append(("19:44:00", speaker, "以上是我的分享，谢谢大家"))
    else:
        messages.append(("19:40:00", "听众一", "今天嘉宾没来吗"))
    return transcript(day, messages)


@pytest.mark.parametrize(("announced", "speaker"), [
    ("吴凌-化交-开发-上海", "willing"),                    # an English name
    ("郑雨桐-青松科技-产品-杭州", "郑雨桐青松"),            # no separators
    ("洛咖-远山银行-产品-北京", "珞珈-远山银行-产品-北京"),   # a typo
    ("郑式静-互金-PM-杭州", "互金产品-郑式静-杭州"),         # the parts in another order
])
def test_the_announced_name_becomes_a_name_of_the_speaker(announced, speaker):
    run(("1.md", announced_day(announced, speaker)))

    share = Share.objects.get()
    assert owner_of(announced) == owner_of(speaker) == share.speaker_id
    name = Name.objects.get(normalized=normalize_name(announced), source=NameSource.ANNOUNCEMENT)
    assert name.member_id == share.speaker_id
    record = MemberMerge.objects.get(merged_name=announced)
    assert (record.evidence["rule"], record.evidence["speaker"], record.evidence["started_at"]) == (
        "the announced speaker of the talk", speaker, "2024-03-04T19:30:05+08:00")


def test_the_announced_name_of_a_member_of_another_day_merges_them():
    run(("1.md", transcript("2024-03-01", [("10:00:00", "吴凌-化交-开发-上海", "大家好")])))

    run(("2.md", announced_day("吴凌-化交-开发-上海", "willing")))

    assert Member.objects.filter(names__normalized=normalize_name("willing")).get().pk == owner_of("吴凌-化交-开发-上海")
    assert sender_of("大家好") == Share.objects.get().speaker_id
    assert MemberMerge.objects.filter(evidence__rule="the announced speaker of the talk",
                                      merged_member_id__isnull=False).count() == 1


def test_an_announced_name_borne_by_someone_who_posted_that_day_is_only_a_suggestion():
    run(("1.md", announced_day("吴凌-化交-开发-上海", "willing",
                               extra=[("19:20:00", "吴凌-化交-开发-上海", "我今天只是来听的")])))

    assert owner_of("吴凌-化交-开发-上海") != owner_of("willing") == Share.objects.get().speaker_id
    link = NameLink.objects.get()
    assert link.evidence["why_not_merged"] == "both members posted in the day under their own names"


def test_a_talk_announced_but_not_given_names_nobody():
    run(("1.md", announced_day("吴凌-化交-开发-上海", "willing", given=False)))

    # The announced share's speaker is a member bearing the announced name, of their own: no
    # run of the day is evidence that anyone else bears it.
    share = Share.objects.get()
    assert (share.status, share.speaker_id) == (ShareStatus.ANNOUNCED, owner_of("吴凌-化交-开发-上海"))
    assert share.speaker_id != sender_of("今天嘉宾没来吗")
    assert not MemberMerge.objects.exists()


def test_the_announcers_own_run_names_nobody():
    """The host announced someone and presented in their place: the talk is the host's run, and the
    announced name is not the host's."""
    run(("1.md", announced_day("吴凌-化交-开发-上海", "管理员甲")))

    assert Share.objects.get().speaker.display_name == "管理员甲"
    assert owner_of("吴凌-化交-开发-上海") is None
    assert not NameLink.objects.exists()


def test_a_split_keeps_an_announced_name_apart():
    run(("1.md", announced_day("吴凌-化交-开发-上海", "willing")))
    member = Member.objects.get(pk=owner_of("willing"))
    record = member_split(member=member, names=list(member.names.filter(source=NameSource.ANNOUNCEMENT)),
                          group=Group.objects.get(slug="prodarch"), by=make_user(staff=True), reason="另一个人")

    run(("2.md", announced_day("吴凌-化交-开发-上海", "willing", day="2024-03-05")))

    assert owner_of("吴凌-化交-开发-上海") == record.into_id != owner_of("willing")
    assert Member.objects.filter(pk__in=[member.pk, record.into_id]).count() == 2


def test_an_announced_name_out_of_the_uploaders_reach_is_a_suggestion():
    a, b = make_group(slug="a-group", name="甲群"), make_group(slug="b-group", name="乙群")
    uploader = make_person(a, "甲群主-某支付-产品", role="owner")
    outsider = make_member("吴凌-化交-开发-上海")
    make_membership(b, outsider, role="admin")  # a seat in a group the uploader does not run
    Name.objects.create(member=outsider, group=b, name="吴凌-化交-开发-上海", normalized=normalize_name("吴凌-化交-开发-上海"),
                        source=NameSource.HEADER, times_seen=1, first_seen=at("2024-01-01", "10:00"))

    result = run(("1.md", announced_day("吴凌-化交-开发-上海", "willing")), slug="a-group", user=uploader.user)

    assert result.ok
    speaker = Share.objects.get().speaker_id
    assert speaker != outsider.pk and Member.objects.filter(pk=outsider.pk).exists()
    assert not Name.objects.filter(member=outsider, group=a).exists()
    link = NameLink.objects.get(evidence__rule="the announced speaker of the talk")
    assert ({link.member_id, link.other_id}, link.evidence["why_not_merged"]) == ({speaker, outsider.pk}, OUT_OF_REACH)
