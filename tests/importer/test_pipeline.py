import hashlib

from importer.pipeline import prepare

from .test_services import talk_day, transcript


def test_prepare_known_hash_is_not_parsed():
    data = b"\x00 not even a transcript"
    prepared = prepare("x.md", data, {hashlib.sha256(data).hexdigest(): 42})
    assert (prepared.unchanged_count, prepared.error, prepared.transcript) == (42, "", None)


def test_prepare_bad_file_reports_file_line_reason():
    prepared = prepare("bad.md", transcript("2024-03-05", [("10:70:00", "甲乙丙", "x")]), {})
    assert prepared.error == "bad.md:9: invalid time 10:70:00"


def test_prepare_talk_day_has_talks_and_one_key_per_message():
    prepared = prepare("a.md", talk_day(), {})
    assert [t.topic for t in prepared.talks] == ["跨境收单的清结算"]
    assert len(prepared.keys) == len(prepared.transcript.messages) == len(set(prepared.keys)) == 21


def test_prepare_identical_messages_get_distinct_keys_stable_across_runs():
    data = transcript("2024-03-06", [("10:00:00", "甲乙丙", "哈哈"), ("10:00:00", "甲乙丙", "哈哈")])
    first, second = prepare("a.md", data, {}), prepare("b.md", data, {})
    assert first.keys == second.keys
    assert first.keys[0] != first.keys[1]


def test_message_keys_start_with_the_day():
    prepared = prepare("a.md", talk_day(day="2024-03-04"), {})
    assert {key[:8] for key in prepared.keys} == {"20240304"}
    assert {len(key) for key in prepared.keys} == {40}
