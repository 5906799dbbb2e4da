"""The start an announcement gives, in each form hosts write it (made-up announcements of the
same shape as the groups'), and no start at all when it gives none: nothing is invented."""

import datetime

import pytest

from importer.detection import detect_shares
from importer.detection.cues import (
    START_EVENING,
    START_LABELLED,
    START_MOVED,
    START_THEN_BEGINS,
    announced_start,
)

from .test_detection import chat, day

MENTION = "钱多多-星河支付-产品-成都"


@pytest.mark.parametrize(("signal", "text", "start"), [
    # the labelled start, with or without a zone or an evening word in the brackets
    (START_LABELLED, "主题是 “代扣协议” 开始时间为【20:00】；欢迎", (20, 0)),
    (START_LABELLED, "主题是 “代扣协议” 开始时间为【北京时间 20:30】；欢迎", (20, 30)),
    (START_LABELLED, "开始时间：晚上八点一刻，请准时", (20, 15)),
    # a time the talk begins at
    (START_THEN_BEGINS, "题目是代扣协议 大概8:30开始 先签到", (8, 30)),
    (START_THEN_BEGINS, "嘉宾 20:00准时开始", (20, 0)),
    (START_THEN_BEGINS, "7点开始签到，7点半开讲", (7, 30)),
    # the talk moved to a time
    (START_MOVED, "各位 分享提前到18:30 嘉宾是@某人", (18, 30)),
    (START_MOVED, "分享时间调整为20:30，大家留意", (20, 30)),
    # a time of this evening
    (START_EVENING, "今晚八点，@某人 给大家分享代扣协议", (20, 0)),
    (START_EVENING, "晚上8点半，请@某人 给大家分享", (20, 30)),
    (START_EVENING, "今晚20:00 @某人 分享代扣协议", (20, 0)),
    (START_EVENING, "今晚十点整 分享", (22, 0)),
])
def test_each_form_of_the_start_is_read(signal, text, start):
    assert signal.search(text) is not None
    assert announced_start(text) == datetime.time(*start)


@pytest.mark.parametrize(("text", "start"), [
    # an announcement of this evening puts a morning hour in the evening, wherever it was posted
    ("今晚请到@某人 给大家分享，7点半开始", (19, 30)),
    # the talk's time, not the sign-in's
    ("今晚7点15签到，7点半开始分享", (19, 30)),
    ("19:15开始签到，20:00开始分享", (20, 0)),
    # the labelled start wins over other times of the message
    ("今晚7点签到，开始时间为【20:30】", (20, 30)),
])
def test_the_start_is_the_talks_in_the_evening(text, start):
    assert announced_start(text) == datetime.time(*start)


@pytest.mark.parametrize("text", [
    "今天分享嘉宾@某人 主题内容 代扣协议",            # no time at all
    "晚上请到了@某人 为大家带来代扣协议的分享，敬请期待",  # the evening, but no clock time
    "今天分享三点内容：签约、扣款、对账",              # a count, not a time
    "今晚分享主题为5点建议",                          # the topic's number
    "今晚7点15签到",                                 # only the sign-in's time
    "开始时间为【25:00】",                            # not a time of day
])
def test_no_start_is_invented(text):
    assert announced_start(text) is None


def test_a_share_announced_in_the_morning_for_eight_tonight_starts_at_eight_tonight():
    rows = [("07:40:00", "林夕_群管理", f"大家早，今晚八点请到@{MENTION} 给大家分享，主题是 “代扣协议的设计”，欢迎"),
            ("07:41:00", "晚风", "签到")] + chat(12, 0, 6)
    [share] = detect_shares(day(*rows))
    assert (share.delivered, share.speaker_mention, share.topic, share.announced_start) == (
        False, MENTION, "代扣协议的设计", datetime.time(20, 0))


def test_a_share_announced_without_a_time_has_no_start():
    rows = [("07:40:00", "林夕_群管理", f"今天分享预告 分享嘉宾@{MENTION} 主题内容 “代扣协议的设计”"),
            ("07:41:00", "晚风", "期待")] + chat(12, 0, 6)
    [share] = detect_shares(day(*rows))
    assert (share.delivered, share.speaker_mention, share.announced_start) == (False, MENTION, None)
