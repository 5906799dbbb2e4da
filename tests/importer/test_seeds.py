"""Talk detection on the five real seed transcripts in ../shared/seeds (read-only)."""

import datetime
from pathlib import Path

import pytest

from importer.detection import detect_talks
from importer.transcript import read_transcript

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"

# Sign-ins counted by hand, reading each file from the announcement (or, in 004, from
# the first "报到" before the host's call) to the host's "停止签到" or, without one, to
# the end of the talk: one per member, the first "签到"/"签到[呲牙]"/"自己签到"/"报到"
# or, in 004's [OK] window, "[OK]"/"[OK]、"; "[玫瑰]", "[强]", "欢迎欢迎[鼓掌]" and
# questions are not sign-ins, a member's second "签到" is not counted again.
SEED_TALKS = {
    # prefix: (speaker header name, topic, announced start, manual sign-in count)
    "000": ("唐帆", "翼支付红包业务模型和现存问题", datetime.time(19, 30), 43),
    "001": ("王月卿～华胜～产品经理～北京", "话费支付业务介绍", datetime.time(16, 0), 52),
    "002": ("李东衡-关天数据-产品-上海", "基于支付场景开发搭建新疆本地市场的多元化金融业务体系",
            datetime.time(20, 30), 41),
    "003": ("刘涛-多飞科技-研发-南京", "一个扫码支付满减的实例", datetime.time(17, 30), 40),
}


def seed(prefix):
    if not SEEDS.is_dir():
        pytest.skip(f"shared seeds not found at {SEEDS}")
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    transcript = read_transcript(path)
    return transcript, detect_talks(transcript.messages, author_hint=transcript.author_hint)


@pytest.mark.parametrize("prefix", sorted(SEED_TALKS))
def test_seed_announced_talk(prefix):
    speaker, topic, start, _ = SEED_TALKS[prefix]
    _, talks = seed(prefix)
    assert [(t.speaker, t.topic, t.announced_start) for t in talks] == [(speaker, topic, start)]


@pytest.mark.parametrize("prefix", sorted(SEED_TALKS))
def test_seed_sign_ins_close_to_manual_count(prefix):
    manual = SEED_TALKS[prefix][3]
    _, [talk] = seed(prefix)
    assert abs(len(talk.sign_ins) - manual) <= 2
    assert len({hit.sender for hit in talk.sign_ins}) == len(talk.sign_ins)


def test_seed_announced_talk_starts_after_the_announcement():
    transcript, [talk] = seed("002")
    messages = transcript.messages
    assert (talk.announcement_index < talk.start_index, messages[talk.start_index].time,
            messages[talk.end_index].text.startswith("分享完毕")) == (True, datetime.time(20, 30, 37), True)


def test_seed_2017_unannounced_first_talk():
    transcript, talks = seed("004")
    messages = transcript.messages
    talk = talks[0]
    assert (talk.speaker, talk.speaker_mention, talk.announcement_index, "预付" in talk.topic) == (
        "王晓韡-通联支付-PM", "wood", None, True)
    assert (messages[talk.start_index].time, messages[talk.end_index].time) == (
        datetime.time(19, 33, 16), datetime.time(20, 14, 45))
    assert {"sign_in_call", "invitation", "opening", "sign_off"} <= set(talk.signals)


def test_seed_2017_sign_ins_close_to_manual_count():
    # Counted by hand: "报到" at 19:16:52, then the [OK] gestures after the host's call
    # until "停止签到" at 19:32:46: 40 members ("[强]" replies are not sign-ins).
    transcript, talks = seed("004")
    assert abs(len(talks[0].sign_ins) - 40) <= 2
    assert transcript.messages[talks[0].sign_ins[0].index].text == "报到"


def test_seed_files_parse_with_only_lines_warnings():
    if not SEEDS.is_dir():
        pytest.skip(f"shared seeds not found at {SEEDS}")
    warnings = [w for path in sorted(SEEDS.glob("*.txt")) for w in read_transcript(path).warnings]
    assert all("'lines' says" in w for w in warnings)
