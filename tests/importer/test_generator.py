"""Tests of the synthetic transcript generator (no database)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time
from pathlib import Path

import pytest

from importer.generator import (
    ANNOUNCEMENT,
    CORRECTION_PREFIX,
    SIGN_IN_CALL,
    SIGN_INS,
    STOP_SIGN_IN,
    CorpusGenerator,
    GeneratedDay,
    main,
    write_corpus,
)

START = date(2018, 3, 5)  # a Monday

HEADER_RE = re.compile(r"^> (?P<t>(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)  (?P<name>\S.*?) {2,}$")
IMAGE_RE = re.compile(
    r"^!\[(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\]\(http://static\.example\.org/img/(\d{6})/(\d{8})_(\d{6})\.png\) $"
)
FRONT_KEYS = ("layout", "title", "date", "author", "lines", "tag", "header-img")


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Strictly parse a generated day: front matter and (time, name, content) per message."""
    assert text.startswith("---\n")
    fm_text, body = text[4:].split("\n---\n", 1)
    front: dict[str, str] = {}
    for line in fm_text.split("\n"):
        key, value = line.split(":", 1)
        assert key in FRONT_KEYS, line
        front[key] = value.strip().strip('"')
    lines = body.split("\n")
    assert lines[-1] == "", "file must end with a newline"
    lines = lines[:-1]
    assert len(lines) % 4 == 0
    messages = []
    for i in range(0, len(lines), 4):
        head, blank1, content, blank2 = lines[i : i + 4]
        m = HEADER_RE.match(head)
        assert m, repr(head)
        assert blank1 == "   " and blank2 == "   ", (head, blank1, blank2)
        if IMAGE_RE.match(content):
            core = content[:-1]  # images end in one blank
        else:
            assert content.endswith("  "), repr(content)
            core = content[:-2]
        messages.append((m["t"], m["name"], core))
    return front, messages


def gen_days(seed=0, count=10, per_day=300, start=START, **kw) -> list[GeneratedDay]:
    return list(CorpusGenerator(seed=seed, **kw).days(start=start, count=count, messages_per_day=per_day))


@pytest.fixture(scope="module")
def month() -> list[GeneratedDay]:
    return gen_days(seed=7, count=40, per_day=300)


# -- determinism -----------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_output(tmp_path):
    a = gen_days(seed=11, count=6)
    b = gen_days(seed=11, count=6)
    assert [d.text for d in a] == [d.text for d in b]
    assert CorpusGenerator(seed=11).roster_csv() == CorpusGenerator(seed=11).roster_csv()
    pa = write_corpus(tmp_path / "a", seed=5, days=3, messages_per_day=120, start=START)
    pb = write_corpus(tmp_path / "b", seed=5, days=3, messages_per_day=120, start=START)
    assert [p.read_bytes() for p in pa] == [p.read_bytes() for p in pb]
    assert (tmp_path / "a" / "roster.csv").read_bytes() == (tmp_path / "b" / "roster.csv").read_bytes()


def test_different_seed_differs_and_days_do_not_depend_on_range():
    assert gen_days(seed=1, count=2)[0].text != gen_days(seed=2, count=2)[0].text
    # a day's content depends only on (seed, date), not on where the range starts
    later = gen_days(seed=1, count=1, start=date(2018, 3, 7))[0]
    assert gen_days(seed=1, count=3)[2].text == later.text


def test_days_is_a_lazy_stream():
    it = CorpusGenerator(seed=0).days(start=START, count=10**9, messages_per_day=50)
    first = next(it)
    assert first.day == START and next(it).day == date(2018, 3, 6)


# -- format ----------------------------------------------------------------------------------


def test_every_file_has_the_exact_export_format(month):
    mismatches = 0
    for d in month:
        front, msgs = parse(d.text)
        iso = d.day.isoformat()
        assert d.text.startswith("---\nlayout:     source \n")
        assert f'\ntitle:      "{iso}-WeChat"\n' in d.text
        assert f"\ndate:       {iso} 12:00:00\n" in d.text
        assert re.search(r"\ntag:(\t\t  | {7})\[chat\]\n", d.text)
        assert front["title"] == f"{iso}-WeChat" and front["date"] == f"{iso} 12:00:00"
        assert len(msgs) == d.message_count
        if "lines" in front:
            assert re.search(r"\nlines:      \d+ \n", d.text)
            assert int(front["lines"]) == d.declared_lines
            mismatches += d.declared_lines != d.message_count
            assert d.message_count - d.message_count // 10 - 1 <= d.declared_lines <= d.message_count
        else:
            assert d.declared_lines is None
            assert "header-img" in front  # the old (2017) front matter
        if d.talks:
            assert front["author"] in (d.talks[0].speaker.header_name, "PaymentGroup")
        else:
            assert front["author"] == "PaymentGroup"
        times = [t for t, _, _ in msgs]
        assert times == sorted(times), "messages are in time order"
        for t, _, content in msgs:
            m = IMAGE_RE.match(content + " ")
            if m:  # image names carry the message's own date and time
                assert m[1] == iso and m[2] == t and m[4] == d.day.strftime("%Y%m%d")
                assert m[5] == t.replace(":", "")
    assert mismatches <= len(month) // 3


def test_several_messages_share_a_second(month):
    assert any(len({t for t, _, _ in msgs}) < len(msgs) for msgs in (parse(d.text)[1] for d in month))


def test_content_kinds_are_all_present(month):
    contents = [(name, c) for d in month for _, name, c in parse(d.text)[1]]
    texts = [c for _, c in contents]
    total = len(texts)
    kinds = {
        "image": sum(bool(IMAGE_RE.match(c + " ")) for c in texts),
        "link": sum(bool(re.match(r"^\[[^\]]+\]\(https?://\S+&amp;amp;\S+\)$", c)) for c in texts),
        "url": sum(bool(re.fullmatch(r"https?://\S+", c)) for c in texts),
        "file": sum(bool(re.fullmatch(r"\S+\.(pdf|docx|pptx|xlsx)", c)) for c in texts),
        "sticker": sum(bool(re.fullmatch(r"(\[[^\]\s]{1,6}\])+", c)) for c in texts),
        "empty": sum(c == "" for c in texts),
        "quote": sum(bool(re.match(r"^「[^」]+[:：].*」 - - - - - - - - - - - - - - - \S", c)) for c in texts),
        "leaked id": sum(bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]+:", c)) for c in texts),
        "html-ish": sum(("<" in c or "&" in c) and not c.startswith("[") for c in texts),
        "mention": sum(bool(re.search(r"@\S+[? ]", c)) for c in texts),
        "welcome": sum(c.startswith("欢迎") and "@" in c for c in texts),
        "digest": sum(len(c) >= 2000 for c in texts),
        "owner": sum(name == "我" for name, _ in contents),
    }
    for kind, n in kinds.items():
        assert n > 0, f"no {kind} messages in {total}"
    # rough proportions: mostly text, some stickers, few images outside talks
    assert 0.04 < kinds["sticker"] / total < 0.25
    assert kinds["image"] / total < 0.1
    assert kinds["empty"] / total < 0.02


def test_message_counts_are_honoured():
    for per_day in (0, 10, 45, 300, 2500):
        for d in gen_days(seed=3, count=5, per_day=per_day):
            assert abs(d.message_count - per_day) <= max(2, per_day // 50), (per_day, d.message_count)
            assert d.text.count("\n> ") + d.text.startswith("> ") == d.message_count


def test_big_days_keep_the_talk_structure():
    days = gen_days(seed=4, count=7, per_day=7000)
    assert all(d.message_count == 7000 for d in days)
    talks = [t for d in days for t in d.talks]
    assert talks
    for d in days:
        for talk in d.talks:
            check_talk(d, talk)


# -- talk truth ------------------------------------------------------------------------------


def check_talk(d: GeneratedDay, talk) -> None:
    _, msgs = parse(d.text)
    solo = msgs
    if d.merged_pairs:  # drop the second phone's copies (same time and text, right after)
        solo = [m for i, m in enumerate(msgs) if not (i and msgs[i - 1][0::2] == m[0::2])]
    start = talk.start.strftime("%H:%M:%S")
    sp = talk.speaker
    assert talk.sign_in_names and sp.header_name not in talk.sign_in_names
    if talk.announced:
        anns = [(i, t, c) for i, (t, _, c) in enumerate(msgs) if c.startswith(("今天请到一位朋友", CORRECTION_PREFIX))]
        assert anns, "no announcement"
        # the announcement that counts: the correction if any, else the first one (others are reposts)
        corrections = [a for a in anns if a[2].startswith(CORRECTION_PREFIX)]
        i_ann, t_ann, last = corrections[-1] if corrections else anns[0]
        assert f"@{sp.nickname}" in last
        assert talk.topic in last
        assert f"【{talk.start:%H:%M}】" in last
        assert last.endswith("3.烦请领取红包签到，谢谢！)")
        assert talk.corrected == last.startswith(CORRECTION_PREFIX)
        if talk.reposted:
            verbatim = last.removeprefix(CORRECTION_PREFIX)
            assert sum(c == verbatim for _, _, c in msgs) >= (1 if talk.corrected else 2)
    else:
        calls = [(i, t) for i, (t, _, c) in enumerate(msgs) if c == SIGN_IN_CALL]
        assert len([c for _, _, c in solo if c == SIGN_IN_CALL]) == 1
        i_ann, t_ann = calls[0]
        assert any(c.startswith("请@" + sp.nickname) and "开始分享" in c and t >= start for t, _, c in msgs)
    assert t_ann < start
    # every recorded sign-in is a sign-in message by that name between announcement and start
    window = msgs[i_ann + 1 :]
    for name in talk.sign_in_names:
        name = name.rstrip()  # a few nicknames end in a blank: the header then has three
        assert any(n == name and c in SIGN_INS and t_ann <= t < start for t, n, c in window), name
    assert len(set(talk.sign_in_names)) == len(talk.sign_in_names)
    assert all(c not in SIGN_INS for t, _, c in msgs if t < t_ann), "sign-in before the announcement"
    # the speaker's run: opening, topic, body, sign-off; all after the start time
    run = [(t, c) for t, n, c in solo if n == sp.header_name.rstrip() and start <= t <= talk.sign_off.strftime("%H:%M:%S")]
    assert len(run) >= 15
    assert run[0][1].startswith("大家")
    assert talk.topic in run[1][1]
    assert any(k in run[-1][1] for k in ("以上", "分享完毕", "分享就这些", "分享到这里"))
    # Q&A mentions the speaker afterwards
    after = [c for t, _, c in msgs if t > talk.sign_off.strftime("%H:%M:%S")]
    assert any(c.startswith("@" + sp.nickname) for c in after)
    if STOP_SIGN_IN in [c for _, _, c in msgs]:
        assert [t for t, _, c in msgs if c == STOP_SIGN_IN][0] <= start


def test_talk_truth_is_in_the_text(month):
    talks = [(d, t) for d in month for t in d.talks]
    weekdays = [d for d in month if d.day.weekday() < 5]
    assert len(talks) >= len(weekdays) * 0.6, "most weekdays have a talk"
    assert any(t.announced for _, t in talks) and any(not t.announced for _, t in talks)
    for d, talk in talks:
        assert talk.day == d.day
        assert time(15, 0) <= talk.start <= time(21, 0)
        assert talk.speaker.role == "member"
        check_talk(d, talk)


def test_announcement_has_the_fixed_form():
    days = gen_days(seed=9, count=30)
    anns = [c for d in days for _, _, c in parse(d.text)[1] if c.startswith("今天请到一位朋友")]
    assert anns
    pattern = re.compile(
        r"^今天请到一位朋友，@.+?(?: |\?)\s*给大家做分享，主题是 ?[“\"「].+?[”\"」][ ，]?开始时间为【\d\d:\d\d】；"
        r"欢迎欢迎\[鼓掌\]\[鼓掌\]\[鼓掌\]！（注： 1\..+2\..+；3\.烦请领取红包签到，谢谢！\)$"
    )
    for a in anns:
        assert pattern.match(a), a
    assert ANNOUNCEMENT.startswith("今天请到一位朋友，@{nick}")


def test_start_times_vary():
    starts = {t.start for d in gen_days(seed=2, count=120, per_day=60) for t in d.talks}
    assert time(19, 30) in starts and len(starts) >= 3


def test_merged_export_pairs():
    g = CorpusGenerator(seed=6, merged_day_rate=1.0)
    by_name = {}
    for p in g.people:
        by_name.setdefault(p.header_name, []).append(p)
    d = next(g.days(start=START, count=1, messages_per_day=400))
    assert d.merged_pairs > 100 and d.message_count == 400
    _, msgs = parse(d.text)
    same = [(a, b) for a, b in zip(msgs, msgs[1:], strict=False) if a[0] == b[0] and a[2] == b[2]]
    assert len(same) >= d.merged_pairs
    # people who never set a group nickname show the same name on both phones
    pairs = [(a, b) for a, b in same if a[1] != b[1]]
    assert len(pairs) >= d.merged_pairs * 0.5
    # the two names of a pair belong to one person: (own nickname | "我", group nickname | real name)
    names_of = {}
    for p in g.people:
        for n in (p.header_name, p.nickname, p.wechat_name, p.name if p.role == "owner" else None):
            if n:
                names_of.setdefault(n.rstrip(), set()).add(p.wxid)
    for (_, a, _), (_, b, _) in pairs:
        assert names_of[a] & names_of[b], (a, b)


def test_people_and_nicknames():
    g = CorpusGenerator(seed=0, members=300)
    assert len(g.people) == 300
    assert [p.role for p in g.people[:4]] == ["owner", "admin", "admin", "admin"]
    assert g.people[0].header_name == "我"
    assert len({p.wxid for p in g.people}) == 300
    assert len({p.name for p in g.people}) == 300
    formal = [p for p in g.people if p.name in p.nickname and p.company in p.nickname]
    assert len(formal) > 200
    seps = {s for p in formal for s in "-—_～| ?" if s in p.nickname.replace(p.name, "").replace(p.company, "")}
    assert len(seps) >= 4
    assert any(p.nickname == p.wechat_name for p in g.people), "some never set a group nickname"
    assert any(p.header_name != p.nickname for p in g.people[1:])
    headers = [p.header_name for p in g.people]
    assert len(set(headers)) < len(headers), "bare names are shared by different people"
    assert any("?" in p.header_name for p in g.people), "lost emoji"


# -- roster ----------------------------------------------------------------------------------


def test_roster_csv():
    g = CorpusGenerator(seed=1, members=120)
    rows = list(csv.DictReader(io.StringIO(g.roster_csv().decode("utf-8"))))
    assert len(rows) == 120
    assert {"NickName", "DisplayName", "RemarkName", "UserName", "JoinedAt"} < set(rows[0])
    assert len(rows[0]) >= 6, "an extra column"
    assert any(r["DisplayName"] == "" for r in rows) and any(r["DisplayName"] for r in rows)
    for r, p in zip(rows, g.people, strict=True):
        assert datetime.strptime(r["JoinedAt"], "%Y-%m-%d").date() == p.joined_on
        assert r["UserName"] == p.wxid
        assert r["DisplayName"] in ("", p.nickname)
    gbk = g.roster_csv(encoding="gbk")
    gbk_rows = list(csv.DictReader(io.StringIO(gbk.decode("gbk"))))
    assert [r["UserName"] for r in gbk_rows] == [r["UserName"] for r in rows]
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")


# -- writing ---------------------------------------------------------------------------------


def test_write_corpus_and_cli(tmp_path, capsys):
    paths = write_corpus(tmp_path / "out", seed=2, days=3, messages_per_day=80, start=date(2018, 1, 30))
    assert [p.name for p in paths] == [
        "2018-01-30-WeChat.markdown",
        "2018-01-31-WeChat.markdown",
        "2018-02-01-WeChat.markdown",
    ]
    assert (tmp_path / "out" / "roster.csv").is_file()
    for p in paths:
        raw = p.read_bytes()
        assert b"\r" not in raw
        parse(raw.decode("utf-8"))
    assert main([str(tmp_path / "cli"), "--days", "2", "--messages-per-day", "30", "--seed", "2"]) == 0
    assert len(list((tmp_path / "cli").glob("*-WeChat.markdown"))) == 2
    assert "messages/s" in capsys.readouterr().out


def test_generation_is_fast():
    import time as t

    t0 = t.perf_counter()
    n = sum(d.message_count for d in gen_days(seed=8, count=10, per_day=3000))
    assert n == 30000
    assert t.perf_counter() - t0 < 5


# -- nothing copied from the real transcripts ------------------------------------------------


def test_no_text_copied_from_shared(shared_dir: Path):
    real = [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "seeds").glob("*.txt"))]
    real += [p.read_text(encoding="utf-8") for p in sorted((shared_dir / "corpus").glob("*/*"))]
    real_text = "\n".join(real)
    real_headers = {m.strip() for m in re.findall(r"^> \d\d:\d\d:\d\d  (.*)$", real_text, re.M)}
    real_lines = {line.strip() for line in real_text.split("\n")}
    for seed in (0, 1, 7):
        g = CorpusGenerator(seed=seed)
        for p in g.people:
            for name in {p.header_name, p.nickname, p.wechat_name} - {"我"}:
                assert name not in real_headers, name
            if p.nickname != p.wechat_name:
                assert p.nickname not in real_text, p.nickname
            assert p.company not in real_text, p.company
        for d in g.days(start=START, count=5, messages_per_day=300):
            for _, name, content in parse(d.text)[1]:
                assert name == "我" or name not in real_headers, name
                if len(content) >= 10 and not re.fullmatch(r"(\[[^\]]+\])+", content):  # WeChat emoji codes
                    assert content.strip() not in real_lines, content
