"""A new file adds and never deletes (issue 12): a file for a day already imported adds the
messages that are new and keeps every stored message and what is built on them; a message is
stored already when one of that day has the same second, resolved sender, kind and text (after
normalising whitespace), identical repeats counted; talks and sign-ins are found again over the
stored and new messages together. Stored messages go only when the operator asks
(``replace_days``). The dry run is the preview, per file and day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from community.models import Member, Message, RecordedDay
from importer.models import ImportedFile, ImportRun
from importer.pipeline import prepare
from shares.models import Share, ShareStatus, SignIn, TalkMessage
from tests.factories import at, make_message
from tests.importer.test_services import run, talk_day, transcript

pytestmark = pytest.mark.django_db

DAY = "2024-03-04"


def day_rows():
    """The day's rows that a later file must keep: messages, the talk, its rows and sign-ins (with ids)."""
    return (
        sorted(Message.objects.values_list("id", "sender_id", "sent_at", "kind", "text", "key")),
        sorted(Share.objects.values_list("id", "topic", "status", "started_at", "ended_at", "sign_in_count", "version")),
        sorted(TalkMessage.objects.values_list("id", "share_id", "message_id", "part")),
        sorted(SignIn.objects.values_list("id", "share_id", "member_id", "message_id", "signed_at")),
    )


def test_a_one_message_file_for_a_stored_day_adds_it_and_keeps_the_day_its_talk_and_sign_ins():
    run(("full.md", talk_day(day=DAY)))
    before = day_rows()
    assert (len(before[0]), len(before[1]), len(before[3])) == (21, 1, 3)

    result = run(("late.md", transcript(DAY, [("23:00:00", "闲聊者", "晚安")])))

    messages, shares, talk_rows, sign_ins = day_rows()
    assert (shares, talk_rows, sign_ins) == before[1:]
    assert messages[:21] == before[0]
    assert [row[4] for row in messages[21:]] == ["晚安"]
    [report] = result.files
    assert {k: report[k] for k in ("status", "added", "kept", "not_in_file", "removed", "shares", "sign_ins")} == {
        "status": "imported", "added": 1, "kept": 0, "not_in_file": 21, "removed": 0, "shares": 1, "sign_ins": 0}
    assert [t["status"] for t in report["talks"]] == ["unchanged"]
    assert RecordedDay.objects.get().message_count == 22
    assert ImportedFile.objects.filter(day=dt.date(2024, 3, 4)).count() == 2  # both files remembered


def test_a_message_is_stored_already_when_second_sender_kind_and_text_are_the_same():
    run(("a.md", transcript(DAY, [("10:00:00", "甲乙丙", "你好  世界"), ("10:00:05", "丁戊己", "[微笑]")])))
    sender = Member.objects.get(display_name="甲乙丙")
    # A text "[微笑]" at the same second as the sticker "[微笑]": another kind, another message.
    make_message(sender.memberships.get().group, Member.objects.get(display_name="丁戊己"), at(DAY, "10:00:05"),
                 "[微笑]", kind="text", source_day=dt.date(2024, 3, 4))

    result = run(("b.md", transcript(DAY, [
        ("10:00:00", "甲乙丙", "你好 世界"),     # spaces differ only: stored already
        ("10:00:01", "甲乙丙", "你好 世界"),     # another second
        ("10:00:00", "丁戊己", "你好 世界"),     # another sender
        ("10:00:05", "丁戊己", "[微笑]"),        # the sticker: stored already
    ])))

    [report] = result.files
    assert (report["added"], report["kept"], report["not_in_file"]) == (2, 2, 1)
    assert sorted(Message.objects.values_list("sender__display_name", "sent_at", "kind", "text")) == sorted([
        ("甲乙丙", at(DAY, "10:00:00"), "text", "你好  世界"),
        ("甲乙丙", at(DAY, "10:00:01"), "text", "你好 世界"),
        ("丁戊己", at(DAY, "10:00:00"), "text", "你好 世界"),
        ("丁戊己", at(DAY, "10:00:05"), "sticker", "[微笑]"),
        ("丁戊己", at(DAY, "10:00:05"), "text", "[微笑]"),
    ])


def test_identical_repeats_are_counted_the_nth_is_the_nth():
    run(("a.md", transcript(DAY, [("10:00:00", "甲乙丙", "哈哈"), ("10:00:00", "甲乙丙", "哈哈")])))

    three = run(("b.md", transcript(DAY, [("10:00:00", "甲乙丙", "哈哈")] * 3)))
    one = run(("c.md", transcript(DAY, [("10:00:00", "甲乙丙", "哈哈")])))

    assert [(r.files[0]["added"], r.files[0]["kept"], r.files[0]["not_in_file"]) for r in (three, one)] == [
        (1, 2, 0), (0, 1, 2)]
    assert Message.objects.filter(text="哈哈").count() == 3
    assert Message.objects.values("key").distinct().count() == 3


def test_the_two_names_of_a_merged_export_pair_are_one_sender():
    kept, other = "叶子-融汇金信-技术-北京", "Yezi"
    pairs = []
    for n in range(4):
        pairs += [(f"10:0{n}:00", other, f"消息{n}"), (f"10:0{n}:00", kept, f"消息{n}")]
    run(("pairs.md", transcript("2024-03-03", pairs)))  # the two names are one member from now on
    run(("a.md", transcript(DAY, [("11:00:00", kept, "午安"), ("11:01:00", "甲乙丙", "好")])))

    result = run(("b.md", transcript(DAY, [("11:00:00", other, "午安"), ("11:01:00", "甲乙丙", "好")])))

    assert (result.files[0]["added"], result.files[0]["kept"]) == (0, 2)
    assert Message.objects.filter(source_day=dt.date(2024, 3, 4)).count() == 2


def test_talks_and_sign_ins_are_found_over_the_stored_and_the_new_messages():
    lines = talk_day(day=DAY).decode().split("\n")
    messages = [(lines[i][2:10], lines[i][12:].strip(), lines[i + 2].strip()) for i in range(8, len(lines) - 1, 4)]
    assert len(messages) == 21
    # The announcement and the sign-ins in one file, the talk and its questions in another.
    run(("before.md", transcript(DAY, messages[:5])))
    # Announced, and not given in the record so far: a share of that day, announced, with its sign-ins.
    assert list(Share.objects.values_list("status", "sign_in_count", "started_at")) == [("announced", 3, None)]

    result = run(("talk.md", transcript(DAY, messages[5:])))

    share = Share.objects.get()
    assert (share.status, share.started_at) == ("delivered", at(DAY, "19:30:05"))
    assert (share.topic, share.sign_in_count, share.scheduled_for) == ("跨境收单的清结算", 3, at(DAY, "19:30"))
    assert sorted(SignIn.objects.values_list("member__display_name", flat=True)) == ["听众一", "听众三", "听众二"]
    assert TalkMessage.objects.filter(share=share, part="talk").count() == 14
    # The sign-ins came with the announcement's file; the announced share is now the talk given.
    assert (result.files[0]["added"], result.files[0]["not_in_file"], result.files[0]["sign_ins"]) == (16, 5, 0)
    assert [t["status"] for t in result.files[0]["talks"]] == ["changed"]


def test_replace_days_removes_the_stored_messages_the_file_lacks_and_the_talk_built_on_them():
    run(("full.md", talk_day(day=DAY)))

    result = run(("late.md", transcript(DAY, [("09:01:00", "闲聊者", "早上好"), ("23:00:00", "闲聊者", "晚安")])),
                 replace_days=[dt.date(2024, 3, 4)])

    report = result.files[0]
    assert (report["added"], report["kept"], report["not_in_file"], report["removed"]) == (1, 1, 20, 20)
    assert [t["status"] for t in report["talks"]] == ["removed"]
    assert sorted(Message.objects.values_list("text", flat=True)) == ["早上好", "晚安"]
    assert (Share.objects.count(), SignIn.objects.count(), TalkMessage.objects.count()) == (0, 0, 0)
    assert RecordedDay.objects.get().message_count == 2
    # The day is now its file: the earlier file is forgotten, and importing it again adds its messages back.
    assert list(ImportedFile.objects.values_list("path", flat=True)) == ["late.md"]


def test_replacing_a_day_keeps_a_talk_an_admin_edited():
    run(("full.md", talk_day(day=DAY)))
    Share.objects.update(topic="管理员改过的主题", edited_fields=["topic"])

    run(("late.md", transcript(DAY, [("23:00:00", "闲聊者", "晚安")])), replace_days=True)

    assert list(Share.objects.values_list("topic", "status")) == [("管理员改过的主题", ShareStatus.DELIVERED)]


def test_the_dry_run_is_the_preview_and_writes_nothing():
    run(("full.md", talk_day(day=DAY)))
    before = (day_rows(), list(RecordedDay.objects.values()), list(ImportedFile.objects.values()),
              Member.objects.count())
    late = transcript(DAY, [("23:00:00", "闲聊者", "晚安"), ("23:00:01", "新来的人", "大家好")])

    dry = run(("late.md", late), dry_run=True)

    assert (day_rows(), list(RecordedDay.objects.values()), list(ImportedFile.objects.values()),
            Member.objects.count()) == before
    assert dry.run.preview == {"counts": dry.run.counts, "files": dry.files, "errors": []}
    real = run(("late.md", late))
    assert dry.counts == real.counts
    assert [{k: v for k, v in f.items() if k != "talks"} for f in dry.files] == [
        {k: v for k, v in f.items() if k != "talks"} for f in real.files]
    assert (dry.counts.messages_created, dry.counts.messages_not_in_file, dry.counts.members_created) == (2, 21, 1)


def test_a_known_file_is_skipped_by_its_hash_before_parsing_even_among_several_files_of_its_day():
    full, late = talk_day(day=DAY), transcript(DAY, [("23:00:00", "闲聊者", "晚安")])
    run(("full.md", full), ("late.md", late))
    known = dict(ImportedFile.objects.values_list("sha256", "message_count"))
    assert len(known) == 2

    again = run(("late.md", late), ("full.md", full))

    assert (again.counts.files_skipped, again.counts.messages_created) == (2, 0)
    assert prepare("late.md", late, known).transcript is None  # not parsed: recognised by its hash


def test_the_command_prints_the_per_day_preview_and_replaces_days_only_when_asked(tmp_path, capsys):
    (tmp_path / "full.md").write_bytes(talk_day(day=DAY))
    call_command("import_transcripts", str(tmp_path / "full.md"), group="prodarch", verbosity=0)
    capsys.readouterr()
    (tmp_path / "late.md").write_bytes(transcript(DAY, [("23:00:00", "闲聊者", "晚安")]))

    call_command("import_transcripts", str(tmp_path / "late.md"), group="prodarch", dry_run=True, verbosity=0)
    out = capsys.readouterr().out
    assert "Per day (preview):\n" in out
    assert (f"  {DAY}  {tmp_path / 'late.md'}: 1 to add, 0 already stored, 21 stored but not in the file "
            "(kept; --replace-days removes them); talks: 1 found, 0 new or changed; sign-ins: 0 to add\n") in out
    assert Message.objects.count() == 21

    call_command("import_transcripts", str(tmp_path / "late.md"), group="prodarch", replace_days=True, verbosity=0)
    out = capsys.readouterr().out
    assert (f"  {DAY}  {tmp_path / 'late.md'}: 1 added, 0 already stored, 21 stored but not in the file "
            "(removed: day replaced); talks: 0 found, 1 new or changed; sign-ins: 0 added\n") in out
    assert "      talk removed: “跨境收单的清结算” (周明远-云汇支付-产品-杭州)\n" in out
    assert list(Message.objects.values_list("text", flat=True)) == ["晚安"]
    assert ImportRun.objects.latest("pk").options["replace_days"] is True
