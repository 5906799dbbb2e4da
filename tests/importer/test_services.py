"""The import service against the database: what lands, what is skipped, what fails alone."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command, load_command_class
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Member, MemberMerge, Membership, Message, Name, NameLink, RecordedDay
from importer.models import ImportedFile, ImportRun, ImportStatus
from importer.services import Source, transcripts_import
from importer.undo import import_run_undo
from shares.models import Origin, Share, ShareStatus, SignIn, TalkMessage, TalkPart
from tests.factories import at, make_group, make_member, make_membership, make_share, make_user

pytestmark = pytest.mark.django_db

ANNOUNCE = (
    "今天请到一位朋友，@{nick} 给大家做分享，主题是 “{topic}” 开始时间为【{start}】；欢迎欢迎[鼓掌]！"
    "（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。2.分享完成后请大家积极补充和提问；3.烦请领取红包签到，谢谢！)"
)


def transcript(day: str, messages: list[tuple[str, str, str | None]], *, lines: int | None = None) -> bytes:
    """A daily transcript in the export's exact layout, from (time, sender, content) triples."""
    head = ["---", "layout:     source ", f'title:      "{day}-WeChat"', f"date:       {day} 12:00:00",
            "author:     PaymentGroup"]
    head.append(f"lines:      {len(messages) if lines is None else lines} ")
    head += ["tag:\t\t  [chat]", "---"]
    body = []
    for time, sender, content in messages:
        body.append(f"> {time}  {sender}  ")
        body.append("   ")
        if content is not None:
            body.append(f"{content}  ")
            body.append("   ")
    return ("\n".join(head + body) + "\n").encode()


def talk_day(day="2024-03-04", speaker="周明远-云汇支付-产品-杭州", topic="跨境收单的清结算", host="管理员甲"):
    """A day with an announced talk: announcement, three sign-ins, the talk, a question and an answer."""
    messages = [
        ("09:01:00", "闲聊者", "早上好"),
        ("15:00:00", host, ANNOUNCE.format(nick=speaker, topic=topic, start="19:30")),
        ("19:10:00", "听众一", "签到"),
        ("19:11:00", "听众二", "签到！"),
        ("19:12:00", "听众三", "[OK]"),
        ("19:30:05", speaker, "大家好，我是周明远，今天和大家分享的主题是跨境收单的清结算"),
    ]
    for n in range(12):
        messages.append((f"19:{31 + n}:00", speaker, f"第{n + 1}部分：跨境收单的清算链路和结算周期说明，包括汇率和手续费的处理"))
    messages += [
        ("19:44:00", speaker, "以上是我的分享，谢谢大家"),
        ("19:46:00", "听众一", f"@{speaker} 请问结算周期一般多长？"),
        ("19:47:00", speaker, "一般是T+1，也有T+7的"),
    ]
    return transcript(day, messages)


def run(*files: tuple[str, bytes], slug="prodarch", **options):
    return transcripts_import(group_slug=slug, sources=[Source.from_bytes(label, data) for label, data in files], **options)


def test_import_talk_day_creates_messages_members_share_and_sign_ins():
    result = run(("2024-03-04.md", talk_day()))
    share = Share.objects.get()
    assert result.ok
    assert (result.counts.files_read, result.counts.messages_created, result.counts.shares_found,
            result.counts.sign_ins_found) == (1, 21, 1, 3)
    assert (share.topic, share.speaker.display_name, share.status, share.origin, share.visibility) == (
        "跨境收单的清结算", "周明远-云汇支付-产品-杭州", ShareStatus.DELIVERED, Origin.IMPORT, "members")
    assert share.scheduled_for.astimezone(share.group.tz).isoformat() == "2024-03-04T19:30:00+08:00"
    assert share.started_at.astimezone(share.group.tz).time() == dt.time(19, 30, 5)
    assert share.sign_in_count == 3
    assert sorted(SignIn.objects.values_list("member__display_name", flat=True)) == ["听众一", "听众三", "听众二"]
    parts = dict(TalkMessage.objects.values_list("message__text", "part").filter(message__sender_name="听众一"))
    assert parts == {"@周明远-云汇支付-产品-杭州 请问结算周期一般多长？": TalkPart.QA}
    assert TalkMessage.objects.filter(part=TalkPart.TALK).count() == 14
    speaker = Member.objects.get(display_name="周明远-云汇支付-产品-杭州")
    assert (speaker.name, speaker.company, speaker.position, speaker.city) == ("周明远", "云汇支付", "产品", "杭州")
    membership = Membership.objects.get(member=speaker)
    assert (membership.message_count, membership.shares_given) == (15, 1)
    assert RecordedDay.objects.get().message_count == 21


def test_reimport_unchanged_file_is_skipped_and_changes_nothing():
    run(("a.md", talk_day()))
    before = (Message.objects.count(), Member.objects.count(), Name.objects.count(), SignIn.objects.count())
    result = run(("a.md", talk_day()))
    assert (result.counts.files_skipped, result.counts.messages_created, result.counts.messages_unchanged) == (1, 0, 21)
    assert (Message.objects.count(), Member.objects.count(), Name.objects.count(), SignIn.objects.count()) == before


def test_reimport_changed_file_adds_what_changed_and_keeps_the_rest():
    run(("a.md", talk_day()))
    kept_id = Message.objects.get(text="早上好").pk
    changed = talk_day().replace("一般是T+1，也有T+7的".encode(), "一般是T+1".encode())
    result = run(("a.md", changed))
    counts = result.counts
    assert (counts.messages_created, counts.messages_removed, counts.messages_unchanged, counts.messages_not_in_file) == (
        1, 0, 20, 1)
    assert Message.objects.filter(text="早上好").get().pk == kept_id
    assert Message.objects.count() == 22
    assert Share.objects.count() == 1
    assert SignIn.objects.count() == 3


def test_reimport_changed_file_with_replace_days_replaces_only_what_changed():
    run(("a.md", talk_day()))
    kept_id = Message.objects.get(text="早上好").pk
    changed = talk_day().replace("一般是T+1，也有T+7的".encode(), "一般是T+1".encode())
    result = run(("a.md", changed), replace_days=True)
    counts = result.counts
    assert (counts.messages_created, counts.messages_removed, counts.messages_unchanged, counts.messages_not_in_file) == (
        1, 1, 20, 1)
    assert Message.objects.filter(text="早上好").get().pk == kept_id
    assert Message.objects.count() == 21
    assert Share.objects.count() == 1
    assert SignIn.objects.count() == 3


def test_failed_file_leaves_nothing_and_other_files_import():
    bad = transcript("2024-03-05", [("19:61:00", "某人", "时间不对")])
    result = run(("good.md", talk_day()), ("bad.md", bad))
    assert not result.ok
    assert result.counts.files_failed == 1
    assert result.errors == ["bad.md:9: invalid time 19:61:00"]
    assert Message.objects.filter(source_day=dt.date(2024, 3, 5)).count() == 0
    assert not Member.objects.filter(display_name="某人").exists()
    assert list(ImportedFile.objects.values_list("day", flat=True)) == [dt.date(2024, 3, 4)]
    assert ImportRun.objects.get().status == ImportStatus.FAILED


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        ("---\ntitle: x\n---\n> 09:00:00  某人  \n".encode(), "date"),
    ],
)
def test_bad_files_rejected_with_file_and_reason(data, reason):
    result = run(("broken.md", data))
    assert result.counts.files_failed == 1
    assert result.errors[0].startswith("broken.md:")
    assert reason in result.errors[0].lower()
    assert Message.objects.count() == 0


def test_gbk_file_imported():
    data = talk_day().decode().encode("gbk")
    result = run(("gbk.md", data))
    assert result.ok
    assert Share.objects.get().topic == "跨境收单的清结算"


def test_strict_stops_at_first_failure():
    bad = transcript("2024-03-05", [("25:00:00", "某人", "x")])
    result = run(("bad.md", bad), ("good.md", talk_day()), strict=True)
    assert (result.counts.files_read, result.counts.files_failed) == (1, 1)
    assert Message.objects.count() == 0


def test_dry_run_reports_the_same_numbers_and_writes_nothing():
    dry = run(("a.md", talk_day()), dry_run=True)
    assert (Message.objects.count(), Member.objects.count(), Share.objects.count(), Name.objects.count()) == (0, 0, 0, 0)
    real = run(("a.md", talk_day()))
    assert dry.counts == real.counts
    assert ImportRun.objects.filter(dry_run=True).count() == 1


def test_identical_messages_in_one_file_both_kept():
    data = transcript("2024-03-06", [("10:00:00", "甲乙丙", "哈哈"), ("10:00:00", "甲乙丙", "哈哈"), ("10:00:01", "丁戊己", "嗯")])
    run(("a.md", data))
    assert Message.objects.filter(text="哈哈").count() == 2
    run(("b.md", data))
    assert Message.objects.filter(text="哈哈").count() == 2


def test_lines_mismatch_is_a_warning_not_an_error():
    data = transcript("2024-03-06", [("10:00:00", "甲乙丙", "你好")], lines=5)
    result = run(("a.md", data))
    assert result.ok
    assert result.warnings == ["a.md:6: 'lines' says 5 but the body has 1 messages"]


def test_message_text_with_html_stored_as_data():
    data = transcript("2024-03-06", [("10:00:00", "甲乙丙", "<script>alert(1)</script> &amp;amp; a<b")])
    run(("a.md", data))
    assert Message.objects.get().text == "<script>alert(1)</script> & a<b"


def test_me_is_the_given_member():
    data = transcript("2024-03-06", [("10:00:00", "我", "大家好"), ("10:01:00", "甲乙丙", "好")])
    run(("a.md", data), me="李群主-支付社群-群主-北京")
    assert Message.objects.get(text="大家好").sender.display_name == "李群主-支付社群-群主-北京"


def test_me_defaults_to_the_group_owner():
    group = make_group(slug="prodarch")
    owner = make_member("群主本人")
    make_membership(group, owner, role="owner")
    run(("a.md", transcript("2024-03-06", [("10:00:00", "我", "大家好")])))
    assert Message.objects.get().sender == owner


def test_header_name_and_mention_form_are_one_member():
    data = transcript("2024-03-06", [
        ("10:00:00", "鸽子飞", "大家好"),
        ("10:01:00", "甲乙丙", "@鸽子飞-支付产品-上海 欢迎"),
        ("10:02:00", "丁戊己", "「鸽子飞-支付产品-上海：大家好」 - - - - - - - - - - - - - - - 你好"),
    ])
    run(("a.md", data))
    member = Member.objects.get(names__name="鸽子飞")
    assert sorted(member.names.values_list("name", "source")) == [
        ("鸽子飞", "header"), ("鸽子飞-支付产品-上海", "mention"), ("鸽子飞-支付产品-上海", "quote")]
    assert Membership.objects.get(member=member).nickname == "鸽子飞-支付产品-上海"
    assert MemberMerge.objects.filter(into=member).values_list("evidence", flat=True)[0]["rule"] == (
        "bare name equals the nickname's personal name")


def test_renamed_nickname_keeping_name_and_company_is_one_member():
    run(("a.md", transcript("2024-03-06", [("10:00:00", "程小琳-云汇支付-产品-上海", "早")])))
    run(("b.md", transcript("2024-03-07", [("10:00:00", "程小琳-云汇支付-PM", "早")])))
    assert Member.objects.count() == 1
    assert Member.objects.get().names.count() == 2


def test_weak_bare_name_with_two_companies_stays_separate():
    data = transcript("2024-03-06", [
        ("10:00:00", "王-云汇支付-产品", "甲"),
        ("10:01:00", "王-青松银行-开发", "乙"),
        ("10:02:00", "王", "丙"),
    ])
    run(("a.md", data))
    assert Member.objects.count() == 3
    ids = dict(Member.objects.values_list("display_name", "pk"))
    # Too weak to merge: every pair sharing the personal name 王 is kept for an admin to decide.
    links = {(link.status, link.evidence["rule"], link.member_id, link.other_id) for link in NameLink.objects.all()}
    a, b, bare = ids["王-云汇支付-产品"], ids["王-青松银行-开发"], ids["王"]
    assert links == {("suggested", "weak or ambiguous name", *sorted(pair)) for pair in [(a, b), (a, bare), (b, bare)]}


def test_same_bare_name_in_two_groups_stays_separate():
    data = transcript("2024-03-06", [("10:00:00", "Daniel", "hi")])
    run(("a.md", data), slug="prodarch")
    run(("a.md", data), slug="devarch")
    assert Member.objects.filter(display_name="Daniel").count() == 2


def test_same_full_nickname_in_two_groups_is_one_member():
    data = transcript("2024-03-06", [("10:00:00", "周明远-云汇支付-产品-杭州", "hi")])
    run(("a.md", data), slug="prodarch")
    run(("a.md", data), slug="devarch")
    assert Member.objects.count() == 1
    assert Membership.objects.count() == 2


def test_merged_export_pair_is_one_message_and_one_member():
    pairs = []
    for n in range(4):
        pairs += [(f"10:0{n}:00", "Yezi", f"消息{n}"), (f"10:0{n}:00", "叶子-融汇金信-技术-北京", f"消息{n}")]
    run(("a.md", transcript("2017-12-06", pairs)))
    assert Message.objects.count() == 4
    assert Member.objects.count() == 1
    assert {n for n, in Name.objects.values_list("name")} == {"Yezi", "叶子-融汇金信-技术-北京"}


def test_web_scheduled_share_receives_the_imported_talk():
    group = make_group(slug="prodarch")
    speaker = make_member("周明远-云汇支付-产品-杭州")
    make_membership(group, speaker)
    from community.models import Name as NameModel
    NameModel.objects.create(member=speaker, group=group, name=speaker.display_name,
                             normalized="周明远-云汇支付-产品-杭州", source="manual")
    share = make_share(group, speaker, topic="网页上登记的主题", status=ShareStatus.SCHEDULED, start=at("2024-03-04"))
    run(("a.md", talk_day()))
    share.refresh_from_db()
    assert Share.objects.count() == 1
    assert (share.status, share.topic, share.origin, share.sign_in_count) == (ShareStatus.DELIVERED, "网页上登记的主题", Origin.WEB, 3)
    assert share.talk_messages.filter(part=TalkPart.TALK).count() == 14


def test_admin_edited_topic_survives_reimport_of_changed_file():
    run(("a.md", talk_day()))
    Share.objects.update(topic="管理员改过的主题", edited_fields=["topic"])
    run(("a.md", talk_day() + "> 23:00:00  闲聊者  \n   \n晚安  \n   \n".encode()))
    assert Share.objects.get().topic == "管理员改过的主题"


def test_undo_run_removes_what_it_created():
    first = run(("a.md", talk_day()))
    second = run(("b.md", talk_day(day="2024-03-05", speaker="林一帆-青松银行-架构-深圳", topic="分布式账务")))
    import_run_undo(run_id=second.run.pk)
    assert list(Share.objects.values_list("topic", flat=True)) == ["跨境收单的清结算"]
    assert not Member.objects.filter(display_name="林一帆-青松银行-架构-深圳").exists()
    assert Message.objects.filter(source_day=dt.date(2024, 3, 5)).count() == 0
    assert list(RecordedDay.objects.values_list("day", flat=True)) == [dt.date(2024, 3, 4)]
    assert ImportRun.objects.get(pk=second.run.pk).status == ImportStatus.UNDONE
    assert first.run.pk != second.run.pk
    with pytest.raises(ValueError, match="already undone"):
        import_run_undo(run_id=second.run.pk)


def test_a_run_of_unchanged_files_refreshes_no_facts():
    run(("2024-03-04.md", talk_day()))
    with CaptureQueriesContext(connection) as queries:
        result = run(("2024-03-04.md", talk_day()))
    assert (result.counts.files_skipped, result.counts.messages_unchanged) == (1, 21)
    # It wrote nothing, so the members' facts stand: not one read of the memberships or the shares.
    assert [q["sql"] for q in queries.captured_queries
            if "community_membership" in q["sql"] or "shares_share" in q["sql"]] == []


def test_command_exit_status_and_report(tmp_path, capsys):
    (tmp_path / "2024-03-04.md").write_bytes(talk_day())
    (tmp_path / "2024-03-05.md").write_bytes(transcript("2024-03-05", [("24:00:00", "x", "y")]))
    report = tmp_path / "report.json"
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_transcripts", str(tmp_path), group="prodarch", report=str(report), verbosity=0)
    assert exit_info.value.code == 1
    data = json.loads(report.read_text())
    assert (data["counts"]["files_read"], data["counts"]["files_failed"], data["counts"]["shares_found"]) == (2, 1, 1)
    out = capsys.readouterr().out
    assert "shares found                     1" in out


def test_command_runs_no_system_checks(tmp_path, monkeypatch):
    def checks_run(*args, **kwargs):
        raise AssertionError("the system checks ran")

    monkeypatch.setattr("django.core.checks.run_checks", checks_run)
    (tmp_path / "a.md").write_bytes(talk_day())
    # Its options as parsed from the command line: call_command would skip the checks whatever the command says.
    command = load_command_class("importer", "import_transcripts")
    command.execute(**vars(command.create_parser("manage.py", "import_transcripts").parse_args([str(tmp_path / "a.md"), "--group", "prodarch", "-v", "0"])))
    assert ImportRun.objects.get().counts["shares_found"] == 1


def test_command_undo(tmp_path, capsys):
    (tmp_path / "a.md").write_bytes(talk_day())
    call_command("import_transcripts", str(tmp_path / "a.md"), group="prodarch", verbosity=0)
    run_id = ImportRun.objects.get().pk
    call_command("import_transcripts", undo=run_id)
    assert Message.objects.count() == 0
    assert f"Undid run {run_id}" in capsys.readouterr().out


def test_admin_action_undoes_a_run(client):
    from tests.factories import make_user

    result = run(("a.md", talk_day()))
    client.force_login(make_user(staff=True))
    from django.contrib.auth import get_user_model
    get_user_model().objects.filter(is_staff=True).update(is_superuser=True)
    response = client.post("/admin/importer/importrun/", {"action": "undo_runs", "_selected_action": [result.run.pk]})
    assert response.status_code == 302
    assert Message.objects.count() == 0
    assert ImportRun.objects.get(pk=result.run.pk).status == ImportStatus.UNDONE


@pytest.mark.parametrize(
    ("day", "times", "utc"),
    [
        ("2024-03-04", ["01:30:00", "23:59:59"], ["2024-03-04T00:30:00+00:00", "2024-03-04T22:59:59+00:00"]),
        # Europe/Paris moves to summer time at 02:00 on 2024-03-31: two offsets in one day.
        ("2024-03-31", ["01:30:00", "03:30:00"], ["2024-03-31T00:30:00+00:00", "2024-03-31T01:30:00+00:00"]),
    ],
)
def test_message_times_stored_in_utc_from_the_group_time_zone(day, times, utc):
    make_group(slug="paris", time_zone="Europe/Paris")
    run(("a.md", transcript(day, [(t, "甲乙丙", f"m{n}") for n, t in enumerate(times)])), slug="paris")
    stored = [m.sent_at.astimezone(dt.UTC).isoformat() for m in Message.objects.order_by("sent_at")]
    assert stored == utc


def test_same_announcement_in_two_groups_gives_each_group_its_share():
    run(("a.md", talk_day()), slug="prodarch")
    run(("a.md", talk_day()), slug="devarch")
    assert sorted(Share.objects.values_list("group__slug", "topic")) == [
        ("devarch", "跨境收单的清结算"), ("prodarch", "跨境收单的清结算")]



def test_merged_export_day_merges_two_members_known_from_earlier_days():
    run(("1.md", transcript("2017-12-04", [("10:00:00", "Yezi", "早"), ("10:01:00", "叶子-融汇金信-技术-北京", "早")])))
    assert Member.objects.count() == 2
    pairs = []
    for n in range(4):
        pairs += [(f"10:0{n}:00", "Yezi", f"消息{n}"), (f"10:0{n}:00", "叶子-融汇金信-技术-北京", f"消息{n}")]
    run(("2.md", transcript("2017-12-05", pairs)))
    run(("3.md", transcript("2017-12-06", [("11:00:00", "Yezi", "午"), ("11:01:00", "叶子-融汇金信-技术-北京", "午")])))
    [member] = Member.objects.all()
    assert Message.objects.exclude(sender=member).count() == 0
    assert Message.objects.count() == 2 + 4 + 2
    membership = Membership.objects.get()
    assert (membership.member, membership.message_count) == (member, 8)
    assert MemberMerge.objects.filter(into=member, evidence__rule="merged-export pair").exists()
    names = {(n, s): t for n, s, t in Name.objects.values_list("name", "source", "times_seen")}
    assert names == {("Yezi", "header"): 2, ("叶子-融汇金信-技术-北京", "header"): 6, ("Yezi", "merged_export"): 4}


def test_imported_share_with_an_abstract_written_by_hand_survives_a_reimport_without_the_talk():
    from shares.services import share_edit

    run(("a.md", talk_day()))
    share = Share.objects.get()
    admin = make_user(staff=True)
    share_edit(share=share, topic=share.topic, abstract="管理员补充的简介", expected_version=share.version, by=admin)
    without_talk = transcript("2024-03-04", [("09:01:00", "闲聊者", "早上好")])
    run(("a.md", without_talk))
    assert list(Share.objects.values_list("abstract", flat=True)) == ["管理员补充的简介"]


def test_the_admin_action_says_why_a_run_cannot_be_undone_and_undoes_the_others_newest_first(client):
    first = run(("a.md", talk_day()))
    later = run(("b.md", transcript("2024-03-04", [("23:00:00", "闲聊者", "晚安")])))
    client.force_login(make_user(staff=True))
    from django.contrib.auth import get_user_model
    get_user_model().objects.filter(is_staff=True).update(is_superuser=True)

    response = client.post("/admin/importer/importrun/", {"action": "undo_runs", "_selected_action": [first.run.pk]},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert f"Import run {first.run.pk} cannot be undone: later changes touched the same days. Undo these first: " \
           f"run {later.run.pk} (2024-03-04)." in response.content.decode()
    assert Message.objects.count() == 22

    client.post("/admin/importer/importrun/", {"action": "undo_runs",
                                               "_selected_action": [first.run.pk, later.run.pk]})
    assert Message.objects.count() == 0
    assert set(ImportRun.objects.values_list("status", flat=True)) == {ImportStatus.UNDONE}
