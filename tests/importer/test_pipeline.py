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


# --- A day already stored: which messages of a file it has (plain Python) ---

def test_message_identity_is_second_sender_kind_and_text_with_whitespace_normalised():
    import datetime as dt
    import zoneinfo

    from importer.pipeline import message_identity

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    local = dt.datetime(2024, 3, 4, 10, 0, 0, tzinfo=shanghai)
    utc = dt.datetime(2024, 3, 4, 2, 0, 0, 400_000, tzinfo=dt.UTC)  # the same second, as the database gives it
    assert message_identity(local, 7, "text", "你好  世界\n", "") == message_identity(utc, 7, "text", " 你好 世界", "")
    assert message_identity(local, 7, "text", "你好", "") != message_identity(local, 8, "text", "你好", "")
    assert message_identity(local, 7, "text", "[微笑]", "") != message_identity(local, 7, "sticker", "[微笑]", "")
    assert message_identity(local, 7, "image", "", "http://a/1.png") != message_identity(local, 7, "image", "", "http://a/2.png")


def test_stored_matches_counts_identical_repeats_in_order():
    from importer.pipeline import stored_matches

    a, b = ("10:00", 1, "text", "哈哈", ""), ("10:01", 1, "text", "嗯", "")
    assert stored_matches([a, a, a, b], [(11, a), (12, b), (13, a)]) == [11, 13, None, 12]
    assert stored_matches([b], [(11, a)]) == [None]


def test_day_union_orders_by_time_the_files_messages_first_within_a_second():
    import datetime as dt

    from importer.pipeline import day_union

    t = [dt.datetime(2024, 3, 4, 10, 0, s, tzinfo=dt.UTC) for s in range(4)]
    assert day_union([t[1], t[1], t[3]], [t[0], t[1], t[2]]) == [(1, 0), (0, 0), (0, 1), (1, 1), (1, 2), (0, 2)]


def test_a_stored_message_reads_as_the_parser_would_its_mentions_read_again():
    import datetime as dt

    from importer.pipeline import stored_message

    message = stored_message(12, dt.time(19, 46), "听众一", "text", "@周明远-云汇支付-产品-杭州 请问结算周期一般多长？", "")
    assert (message.line, message.time, message.sender, message.kind, message.mentions, message.quote) == (
        12, dt.time(19, 46), "听众一", "text", ("周明远-云汇支付-产品-杭州",), None)
    assert stored_message(3, dt.time(9), "甲", "link", "标题 @某人", "http://x").mentions == ()


# --- Preparing many files in a second process ---

class _FileSource:
    def __init__(self, label, data):
        self.label, self._data = label, data

    def read(self):
        if self._data is None:
            raise OSError(13, "Permission denied")
        return self._data


def _many_sources(tmp_path):
    import datetime as dt

    from importer.generator import write_corpus

    paths = write_corpus(tmp_path, seed=3, days=10, messages_per_day=60, start=dt.date(2024, 3, 1))
    sources = [_FileSource(p.name, p.read_bytes()) for p in paths]
    # A bad file, an unreadable one and a known one among them: each keeps its place.
    sources.insert(2, _FileSource("bad.md", transcript("2024-03-05", [("10:70:00", "甲乙丙", "x")])))
    sources.insert(5, _FileSource("gone.md", None))
    return sources


def test_a_second_process_prepares_the_same_files_in_the_same_order(tmp_path, monkeypatch):
    import datetime as dt
    import zoneinfo

    from importer import pipeline

    sources = _many_sources(tmp_path)
    known = {hashlib.sha256(sources[7].read()).hexdigest(): 99}
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    pools = []

    class CountedPool(pipeline.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(pipeline, "prepare_process_usable", lambda: True)
    latest = dt.date(2024, 12, 31)
    here = list(pipeline.prepared_files(sources, known, latest_day=latest, tz=tz, processes=False))
    assert pools == []
    there = list(pipeline.prepared_files(sources, known, latest_day=latest, tz=tz))
    assert len(pools) == 1
    assert len(sources) >= pipeline.PREPARE_PROCESS_MIN_FILES
    assert there == here
    assert [p.label for p in there] == [s.label for s in sources]
    assert there[2].error == "bad.md:9: invalid time 10:70:00"
    assert there[5].error == "gone.md:0: cannot read: Permission denied"
    assert there[7].unchanged_count == 99 and there[7].transcript is None
    assert all(p.moments and p.moments[0].tzinfo is tz for i, p in enumerate(there) if i not in (2, 5, 7))
    assert sum(len(p.transcript.messages) for p in there if p.transcript) == 9 * 60  # one of ten days known


def test_few_files_or_a_daemon_are_prepared_in_this_process(tmp_path, monkeypatch):
    from importer import pipeline

    class NoPool:
        def __init__(self, *args, **kwargs):
            raise AssertionError("no second process expected")

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", NoPool)
    sources = _many_sources(tmp_path)
    few = sources[:pipeline.PREPARE_PROCESS_MIN_FILES - 1]
    assert [p.label for p in pipeline.prepared_files(few, {})] == [s.label for s in few]

    class Daemon:
        daemon = True

    monkeypatch.setattr(pipeline.multiprocessing, "current_process", lambda: Daemon())
    assert pipeline.prepare_process_usable() is False
    assert [p.label for p in pipeline.prepared_files(sources, {})] == [s.label for s in sources]


def test_prepare_with_the_group_zone_checks_every_moment():
    import datetime as dt
    import zoneinfo

    prepared = prepare("late.md", talk_day(day="2024-03-04"), {}, latest_day=dt.date(2024, 3, 3),
                       tz=zoneinfo.ZoneInfo("Asia/Shanghai"))
    assert prepared.transcript is None and prepared.error.startswith("late.md:")
