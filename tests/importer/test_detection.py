import datetime

import pytest

from importer.detection import SignInHit, detect_talks, is_sign_in
from importer.transcript import parse_transcript

LONG = "，这一段讲的是清算流程里批量文件的生成、核对与差错处理，以及各个环节的时间窗口、对账规则和异常时的人工干预。"


def day(*rows):
    """Messages from (time, sender, content) rows, through the real parser."""
    body = "".join(f"> {t}  {s}  \n   \n{c}  \n   \n" for t, s, c in rows)
    return parse_transcript("---\ndate: 2019-04-02\n---\n" + body).messages


def talk_rows(start_minute, sender, count, hour=20):
    rows = []
    for k in range(count):
        minute = start_minute + k
        rows.append((f"{hour}:{minute:02d}:00", sender, f"第{k + 1}点{LONG}"))
    return rows


# --- is_sign_in -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["签到", "签到！", "签到[呲牙]", "签到+1", "报到", "补签到[OK]", "自己签到[呲牙]",
                                  "签到签到", "签到。", "签到??"])
def test_is_sign_in_accepts_variants(text):
    assert is_sign_in(text) is True


@pytest.mark.parametrize("text", ["停止签到", "现在开始签到，请大家签到", "怎么签到", "签到是什么意思", "[OK]", "",
                                  "我昨天忘记签到了，今天的分享主题是什么"])
def test_is_sign_in_rejects_calls_questions_and_long_text(text):
    assert is_sign_in(text) is False


# --- announced talks ---------------------------------------------------------------

ANNOUNCEMENT = ("今天请到一位朋友，@周一帆-青松科技-架构-广州 给大家做分享，主题是 “{topic}” 开始时间为【20:00】；"
                "欢迎欢迎！（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。2.分享完成后请大家积极补充和提问；"
                "3.烦请领取红包签到，谢谢！)")


def announced_day():
    rows = [
        ("09:10:00", "阿青", "早上好"),
        ("15:00:00", "林夕_群管理", ANNOUNCEMENT.format(topic="清算批量设计")),
        ("15:00:30", "晚风", "签到"),
        ("15:01:00", "马一鸣-青松支付-产品-南京", "签到[强]"),
        ("15:02:00", "晚风", "签到"),
        ("15:05:00", "宋青", ANNOUNCEMENT.format(topic="清算批量设计")),
        ("16:00:00", "林夕_群管理", "抱歉，更正一下分享主题。" + ANNOUNCEMENT.format(topic="清算批量文件的设计")),
        ("16:10:00", "Kiwi", "[OK]"),
        ("19:58:00", "周一帆", "大家好，我是周一帆，今天和大家分享清算批量文件的设计"),
    ]
    rows += talk_rows(0, "周一帆", 10)
    rows.insert(13, ("20:03:30", "阿青", "好"))
    rows += [
        ("20:10:30", "周一帆", "以上是我的分享，谢谢大家"),
        ("20:12:00", "宋青", "@周一帆-青松科技-架构-广州?批量文件多大？"),
        ("20:13:00", "周一帆", "一般几百兆"),
        ("20:15:00", "晚风", "学习了"),
        ("23:30:00", "阿青", "晚安"),
    ]
    return day(*rows)


def test_detect_talks_announced_talk_takes_the_corrected_announcement():
    messages = announced_day()
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, talk.topic, talk.announced_start, talk.announcement_index) == (
        "周一帆", "周一帆-青松科技-架构-广州", "清算批量文件的设计", datetime.time(20, 0), 6)


def test_detect_talks_announced_talk_extent_and_interruptions():
    messages = announced_day()
    [talk] = detect_talks(messages)
    assert (talk.start_index, talk.end_index, talk.qa_end_index, talk.interruption_indices) == (8, 20, 23, [13])
    assert messages[talk.end_index].text == "以上是我的分享，谢谢大家"


def test_detect_talks_sign_ins_first_per_member_from_the_first_announcement():
    [talk] = detect_talks(announced_day())
    assert talk.sign_ins == [SignInHit("晚风", 2), SignInHit("马一鸣-青松支付-产品-南京", 3), SignInHit("Kiwi", 7)]


def test_detect_talks_announced_talk_signals():
    [talk] = detect_talks(announced_day(), author_hint="周一帆-青松科技-架构-广州")
    assert talk.signals == ["announcement", "long_run", "opening", "sign_off", "author_hint", "sign_in_call"]


def test_detect_talks_announced_speaker_found_by_start_time_when_names_differ():
    rows = [
        ("18:00:00", "林夕_群管理", ANNOUNCEMENT.format(topic="跨境收单")),
        ("19:59:00", "路人甲", "签到"),
        ("20:00:00", "Tony Chen", "大家好，今天分享跨境收单"),
    ] + talk_rows(1, "Tony Chen", 9) + [("20:11:00", "Tony Chen", "分享完毕")]
    [talk] = detect_talks(day(*rows))
    assert (talk.speaker, talk.speaker_mention, talk.topic, talk.start_index) == (
        "Tony Chen", "周一帆-青松科技-架构-广州", "跨境收单", 2)


# --- unannounced talks -------------------------------------------------------------


def unannounced_day():
    rows = [
        ("19:10:00", "我", "在线同学签个到吧，用这个手势： [OK]"),
        ("19:10:10", "晚风", "[OK]"),
        ("19:10:20", "阿青", "报到"),
        ("19:11:00", "路人甲", "[OK][OK]"),
        ("19:12:00", "晚风", "签到"),
        ("19:29:00", "小鹿", "可以开始了吗？"),
        ("19:29:30", "我", "停止签到"),
        ("19:29:40", "Kiwi", "[OK]"),
        ("19:30:00", "我", "请@deer 开始分享。"),
        ("19:30:30", "小鹿", "大家好，我是小鹿，今天和大家分享的主题是“会员积分的账务处理”。"),
    ]
    rows += talk_rows(31, "小鹿", 12, hour=19)
    rows += [
        ("19:44:00", "小鹿", "今天的分享就这些，欢迎提问"),
        ("19:45:00", "阿青", "@deer-星河-产品-杭州?积分过期怎么记账？"),
        ("19:46:00", "小鹿", "冲减负债"),
    ]
    return day(*rows)


def test_detect_talks_unannounced_talk():
    messages = unannounced_day()
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, talk.topic, talk.announced_start, talk.announcement_index) == (
        "小鹿", "deer", "会员积分的账务处理", None, None)
    assert (talk.start_index, talk.end_index, talk.qa_end_index) == (9, 22, 24)
    assert talk.signals == ["long_run", "sign_in_call", "invitation", "opening", "sign_off"]


def test_detect_talks_unannounced_sign_ins_stop_at_stop_call():
    [talk] = detect_talks(unannounced_day())
    assert talk.sign_ins == [SignInHit("晚风", 1), SignInHit("阿青", 2), SignInHit("路人甲", 3)]


def test_detect_talks_topic_from_host_when_speaker_gives_none():
    rows = [
        ("19:15:00", "我", "大家好，晚上邀请到@小鹿 给大家分享《会员体系设计》。现在开始签到，请回复[OK]"),
        ("19:16:00", "晚风", "[OK]"),
        ("19:30:00", "我", "停止签到，请@小鹿 开始分享"),
    ] + talk_rows(31, "小鹿", 10, hour=19) + [("19:42:00", "小鹿", "以上是我的分享")]
    [talk] = detect_talks(day(*rows))
    assert (talk.topic, talk.speaker_mention, [h.sender for h in talk.sign_ins]) == ("会员体系设计", "小鹿", ["晚风"])


def test_detect_talks_busy_discussion_is_not_a_talk():
    rows = []
    for k in range(40):
        sender = ["阿青", "晚风", "路人甲", "宋青"][k % 4]
        rows.append((f"14:{k:02d}:00", sender, f"我觉得第{k}个问题{LONG}"))
    assert detect_talks(day(*rows)) == []


def test_detect_talks_long_monologue_without_any_talk_frame_is_not_a_talk():
    rows = [(f"14:{k:02d}:00", "阿青", f"补充一下{LONG}") for k in range(15)]
    assert detect_talks(day(*rows)) == []


def test_detect_talks_news_digest_is_not_a_talk():
    digest = "【早报】" + "；".join(f"{k}、某机构发布新规{LONG}" for k in range(60))
    rows = [("08:30:00", "宋青", digest), ("08:31:00", "阿青", "[强]"), ("08:32:00", "宋青", "大家好，今天的早报")]
    assert detect_talks(day(*rows)) == []


def test_detect_talks_two_talks_in_one_day():
    first = ANNOUNCEMENT.format(topic="清算批量设计").replace("20:00", "16:00")
    second = ("今天请到一位朋友，@Tony Chen-远山-产品 给大家做分享，主题是 “跨境收单” 开始时间为【20:00】；"
              "烦请领取红包签到，谢谢！")
    rows = [("12:00:00", "林夕_群管理", first), ("12:01:00", "晚风", "签到")]
    rows += [("16:00:00", "周一帆", "大家好，今天分享清算批量设计")] + talk_rows(1, "周一帆", 9, hour=16)
    rows += [("16:11:00", "周一帆", "分享完毕"), ("18:00:00", "林夕_群管理", second), ("18:01:00", "晚风", "签到"),
             ("18:02:00", "阿青", "签到")]
    rows += [("20:00:00", "Tony Chen", "大家好，今天分享跨境收单")] + talk_rows(1, "Tony Chen", 9)
    rows += [("20:11:00", "Tony Chen", "分享完毕")]
    talks = detect_talks(day(*rows))
    assert [(t.speaker, t.topic, t.announced_start, [h.sender for h in t.sign_ins]) for t in talks] == [
        ("周一帆", "清算批量设计", datetime.time(16, 0), ["晚风"]),
        ("Tony Chen", "跨境收单", datetime.time(20, 0), ["晚风", "阿青"]),
    ]


def test_detect_talks_document_talk_after_announcement():
    rows = [
        ("19:00:00", "林夕_群管理", ANNOUNCEMENT.format(topic="存管系统")),
        ("19:10:00", "青松-兴业", "存管系统介绍.pdf"),
        ("19:11:00", "青松-兴业", "材料在上面，有问题请提"),
    ]
    [talk] = detect_talks(day(*rows))
    assert (talk.speaker, talk.topic, talk.start_index, talk.signals[:2]) == (
        "青松-兴业", "存管系统", 1, ["announcement", "document"])


def test_detect_talks_empty_day():
    assert detect_talks([]) == []
