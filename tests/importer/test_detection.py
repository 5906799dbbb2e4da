import datetime
import time

import pytest

from importer.detection import SignInHit, detect_shares, detect_talks, is_sign_in
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


def test_announced_start_written_on_a_twelve_hour_clock_is_in_the_evening():
    rows = [("19:20:00", "林夕_群管理", "今晚的分享嘉宾是@周一帆-青松科技-架构-广州 题目是清算批量设计 大概8:30开始 先签到"),
            ("19:21:00", "晚风", "签到"),
            ("20:30:00", "一帆", "大家好，我们开始")] + talk_rows(31, "一帆", 9) + [("20:41:00", "一帆", "以上是我的分享")]
    [talk] = detect_talks(day(*rows))
    assert (talk.speaker, talk.announced_start, talk.speaker_mention, talk.topic) == (
        "一帆", datetime.time(20, 30), "周一帆-青松科技-架构-广州", "清算批量设计")


def test_detect_talks_announced_talk_takes_the_corrected_announcement():
    messages = announced_day()
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, talk.topic, talk.announced_start, talk.announcement_index) == (
        "周一帆", "周一帆-青松科技-架构-广州", "清算批量文件的设计", datetime.time(20, 0), 6)
    # The announcer hosts (not the member who reposted it); the topic is the announcement's.
    assert (talk.host, talk.topic_source, talk.delivered, talk.first_announcement_index) == (
        "林夕_群管理", "announcement", True, 1)


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
    assert (talk.host, talk.topic_source) == ("我", "opening")
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
    # "晚上邀请到@小鹿 给大家分享《…》" is the host's announcement of the talk.
    assert (talk.topic_source, talk.host, talk.announcement_index) == ("announcement", "我", 0)


def test_topic_from_the_host_when_nobody_announced_the_talk():
    rows = [
        ("19:15:00", "我", "在线同学签个到吧，今晚的主题是《会员体系设计》，用这个手势：[OK]"),
        ("19:16:00", "晚风", "[OK]"),
        ("19:30:00", "我", "停止签到，请@小鹿 开始分享"),
        ("19:30:30", "小鹿", "大家好，我们开始"),
    ] + talk_rows(31, "小鹿", 10, hour=19) + [("19:42:00", "小鹿", "以上是我的分享")]
    [talk] = detect_talks(day(*rows))
    assert (talk.topic, talk.topic_source, talk.host, talk.announcement_index, talk.speaker_mention) == (
        "会员体系设计", "host", "我", None, "小鹿")


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


# --- talks nobody announced ----------------------------------------------------------------
# Made-up days in the shape the groups' talks take: a member opens with a greeting and what they
# will share, posts long texts, slides and numbered points, and signs off; others thank them.

POINTS = [
    "背景：出口卖家在海外平台收到外币货款以后，要通过持牌机构申报并结汇，资金才能回到国内的对公或个人账户。",
    "流程上分为收款、申报、结汇、入账四步，每一步都有各自的时效要求，任何一步卡住都会让卖家的回款变慢。",
    "申报环节最容易出问题，订单信息、物流单号和平台流水要能互相印证，否则外管局的抽查很难通过。",
    "结汇的汇率一般取当天的牌价加点，点差就是收款机构的主要收入之一，另外还有按笔收取的手续费。",
    "风控方面我们按卖家的店铺年龄、退货率和历史拒付情况打分，分数低的卖家会延迟放款或者提高保证金。",
    "对账的时候要同时核对平台、境外银行和境内清算行三方的文件，任何一方晚到都会让差错处理排队。",
    "实际运行下来，差错最多的是部分退款和平台手续费的拆分，这两类都需要人工介入，我们后来做了规则引擎。",
    "最后说一下监管的变化，今年开始要求收款机构逐笔留存贸易背景材料，系统要能按订单维度导出给审计。",
]


def image(hhmmss):
    stamp = hhmmss.replace(":", "")
    return f"![2019-04-02 {hhmmss}](http://static.example.org/img/201904/20190402_{stamp}.png)"


def lecture(speaker, hour, minute, count, *, step=2, numbered=True):
    """``count`` long paragraphs (numbered "1、" … when ``numbered``), a slide after every third."""
    rows = []
    for k in range(count):
        at = f"{hour}:{minute + k * step:02d}:00"
        text = POINTS[k % len(POINTS)]
        rows.append((at, speaker, f"{k + 1}、{text}" if numbered else text))
        if k % 3 == 2:
            rows.append((f"{hour}:{minute + k * step:02d}:30", speaker, image(f"{hour}:{minute + k * step:02d}:30")))
    return rows


def chat(hour, minute, count):
    """A quiet exchange of short lines between three members."""
    people = ["阿青", "晚风", "路人甲"]
    lines = ["今天好忙", "周末有人去杭州吗", "哈哈", "这个接口文档谁有", "收到", "明天再说"]
    return [(f"{hour}:{minute + k:02d}:00", people[k % 3], lines[k % len(lines)]) for k in range(count)]


SPEAKER = "柳白-远帆支付-产品-杭州"


def test_unannounced_talk_with_opening_outline_and_sign_off():
    rows = chat(15, 0, 6) + [
        ("20:00:00", SPEAKER, "hi 大家好，今天我主要分享一下跨境收款的结汇流程"),
        ("20:01:00", SPEAKER, "内容分为四个部分：第一部分 背景，第二部分 流程，第三部分 风控，第四部分 对账"),
    ] + lecture(SPEAKER, 20, 2, 8) + [
        ("20:20:00", SPEAKER, "以上是我今天的分享，谢谢大家"),
        ("20:21:00", "阿青", "感谢分享！"),
        ("20:21:30", "晚风", "谢谢分享，很有收获"),
        ("20:23:00", "路人甲", "@柳白-远帆支付-产品-杭州?申报材料要留存多久？"),
        ("20:24:00", SPEAKER, "五年"),
    ]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (messages[talk.start_index].text, messages[talk.end_index].text, messages[talk.qa_end_index].text) == (
        "hi 大家好，今天我主要分享一下跨境收款的结汇流程", "以上是我今天的分享，谢谢大家", "五年")
    assert (talk.speaker, talk.speaker_mention, talk.topic, talk.topic_source, talk.host, talk.announced_start) == (
        SPEAKER, "", "跨境收款的结汇流程", "opening", "", None)
    assert {"opening", "outline", "sign_off", "thanks"} <= set(talk.signals)
    assert "sign_in_call" not in talk.signals and "invitation" not in talk.signals


def test_unannounced_talk_with_an_opening_and_no_sign_off():
    # No host, no sign-off: the opening, a lecture's shape and others' thanks are enough.
    rows = chat(14, 0, 4) + [("21:00:00", SPEAKER, "大家晚上好，今天和大家聊聊跨境收款")] + lecture(SPEAKER, 21, 1, 12) + [
        ("21:30:00", "阿青", "谢谢柳老师的分享"),
        ("21:31:00", "晚风", "辛苦了，干货满满"),
    ]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    last = max(i for i, m in enumerate(messages) if m.sender == SPEAKER)
    assert (talk.speaker, talk.topic, talk.topic_source, talk.end_index) == (SPEAKER, "跨境收款", "opening", last)
    assert "sign_off" not in talk.signals


@pytest.mark.parametrize("sign_off", ["以上是我今天的分享", "以上的今天的简单分享", "分享完毕，谢谢", "分割线------"])
def test_unannounced_talk_ends_at_its_sign_off(sign_off):
    rows = [("20:00:00", SPEAKER, "各位好，今天和大家分享的主题是“收款机构的对账”")] + lecture(SPEAKER, 20, 1, 8) + [
        ("20:18:00", SPEAKER, sign_off),
        ("20:19:00", "阿青", "这个规则引擎是自研的吗？"),
        ("20:20:00", SPEAKER, "是的"),
    ]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (messages[talk.end_index].text, talk.topic, talk.topic_source) == (sign_off, "收款机构的对账", "opening")


def test_a_part_closed_on_the_way_does_not_end_the_talk():
    rows = [("20:00:00", SPEAKER, "大家好，今天和大家分享收款机构的对账")] + lecture(SPEAKER, 20, 1, 4) + [
        ("20:09:00", SPEAKER, "以上就是第一部分，下面讲第二部分"),
    ] + lecture(SPEAKER, 20, 10, 4) + [("20:19:00", SPEAKER, "以上是我今天的分享，谢谢")]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert messages[talk.end_index].text == "以上是我今天的分享，谢谢"


def test_unannounced_talk_members_sign_in_on_their_own():
    rows = chat(19, 0, 3) + [
        ("19:50:00", "阿青", "签到"),
        ("19:51:00", "晚风", "签到[呲牙]"),
        ("19:52:00", "宋青", "报到"),
        ("19:53:00", "阿青", "签到"),
        ("19:55:00", "Kiwi", "签到！"),
        ("20:00:00", SPEAKER, "大家好，我是柳白，今天给大家分享收款机构的风控"),
    ] + lecture(SPEAKER, 20, 1, 8) + [("20:18:00", SPEAKER, "分享完毕")]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert talk.sign_ins == [SignInHit("阿青", 3), SignInHit("晚风", 4), SignInHit("宋青", 5), SignInHit("Kiwi", 7)]
    assert ("self_sign_ins" in talk.signals, "sign_in_call" in talk.signals, talk.host) == (True, False, "")


def test_unannounced_talk_goes_on_after_a_twenty_minute_pause():
    rows = [("20:00:00", SPEAKER, "大家好，今天我主要分享跨境收款的结汇流程")] + lecture(SPEAKER, 20, 1, 6) + [
        ("20:14:00", "阿青", "@柳白-远帆支付-产品-杭州?结汇一般要几天？"),
        ("20:15:00", SPEAKER, "一到两个工作日"),
        ("20:16:00", SPEAKER, "我先去处理点事情，二十分钟后继续"),
        # twenty minutes without the speaker
        ("20:25:00", "晚风", "等着"),
    ] + [(t, SPEAKER, text) for t, _, text in lecture(SPEAKER, 20, 36, 4)] + [
        ("20:45:00", SPEAKER, "以上是我今天的分享"),
        ("20:46:00", "阿青", "感谢分享"),
    ]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (messages[talk.start_index].time, messages[talk.end_index].text) == (
        datetime.time(20, 0), "以上是我今天的分享")


def test_busy_discussion_with_thanks_is_not_a_talk():
    rows = []
    for k in range(30):
        sender = ["阿青", "晚风", "路人甲"][k % 3]
        rows.append((f"15:{k:02d}:00", sender, f"我觉得{POINTS[k % len(POINTS)]}"))
    rows += [("15:31:00", "宋青", "谢谢分享"), ("15:32:00", "Kiwi", "感谢分享")]
    assert detect_shares(day(*rows)) == []


def digest_rows(hour, greeting, size):
    """A news digest pasted in parts within a minute (items ``size`` paragraphs long), thanked,
    then a few more items."""
    digest = [f"【支付早报】{k + 1}、{POINTS[k % len(POINTS)] * size}" for k in range(8)]
    rows = [(f"{hour}:30:00", "宋青", greeting)]
    rows += [(f"{hour}:30:{10 + k * 5:02d}", "宋青", text) for k, text in enumerate(digest)]
    rows += [(f"{hour}:32:00", "晚风", "感谢分享"), (f"{hour}:33:00", "阿青", "谢谢分享")]
    rows += [(f"{hour}:{34 + k}:00", "宋青", f"{k + 1}、补充一条：{POINTS[k]}") for k in range(3)]
    return rows


def test_short_news_digest_in_the_morning_is_not_a_talk():
    # Short items, greeted and thanked: the morning, when digests come and talks do not, tells.
    assert detect_shares(day(*digest_rows("08", "大家早上好，今天的早报", 3))) == []


def test_news_digest_pasted_in_a_burst_is_not_a_talk_at_any_hour():
    # Greeted and thanked like a talk, in the evening: only the pace (a paste, not a talk) tells.
    assert detect_shares(day(*digest_rows("20", "大家好，今天的新闻汇总", 6))) == []


def test_one_member_answering_many_questions_is_not_a_talk():
    rows = [("16:00:00", SPEAKER, "大家好，有问题可以问我")]
    askers = ["阿青", "晚风", "路人甲", "宋青"]
    for k in range(12):
        asker = askers[k % len(askers)]
        rows.append((f"16:{2 + 3 * k:02d}:00", asker, f"请问第{k + 1}种情况怎么处理？"))
        rows.append((f"16:{2 + 3 * k:02d}:20", SPEAKER, f"@{asker} 这个要分情况"))
        rows.append((f"16:{2 + 3 * k:02d}:40", SPEAKER, POINTS[k % len(POINTS)]))
        rows.append((f"16:{3 + 3 * k:02d}:00", SPEAKER, POINTS[(k + 3) % len(POINTS)]))
        rows.append((f"16:{3 + 3 * k:02d}:30", asker, "谢谢老师"))
    assert detect_shares(day(*rows)) == []


def test_long_lecture_like_monologue_with_no_frame_is_not_a_talk():
    # Thirty long numbered paragraphs, but no opening, no sign-off, no host, nobody reacting.
    rows = [(f"14:{k:02d}:00", "阿青", f"{k + 1}、{POINTS[k % 8]}{POINTS[(k + 1) % 8]}") for k in range(30)]
    assert detect_shares(day(*rows)) == []


# --- topics --------------------------------------------------------------------------------


def test_topic_from_the_title_of_an_outline():
    rows = [
        ("20:00:00", SPEAKER, "大家好"),
        ("20:00:30", SPEAKER, "支付网关的灰度发布 第一部分 为什么要灰度 第二部分 怎么切流量 第三部分 踩过的坑"),
    ] + lecture(SPEAKER, 20, 1, 8) + [("20:18:00", SPEAKER, "以上，分享完毕")]
    [talk] = detect_talks(day(*rows))
    assert (talk.topic, talk.topic_source) == ("支付网关的灰度发布", "opening")


def test_no_topic_when_neither_the_speaker_nor_a_host_gives_one():
    rows = [("20:00:00", SPEAKER, "大家好，我们开始吧")] + lecture(SPEAKER, 20, 1, 10) + [
        ("20:22:00", SPEAKER, "以上是我今天的分享"), ("20:23:00", "阿青", "感谢分享")]
    [talk] = detect_talks(day(*rows))
    assert (talk.topic, talk.topic_source, talk.host) == ("", "none", "")


# --- the speaker of an announced talk --------------------------------------------------------

MENTION = "赵启明-云栈支付-架构-深圳"
CLOUD_ANNOUNCEMENT = ("今天请到一位朋友，@" + MENTION + " 给大家做分享，主题是 “商户进件的风控” 开始时间为【20:00】；"
                      "欢迎欢迎！（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。2.分享完成后请大家积极补充和提问；"
                      "3.烦请领取红包签到，谢谢！)")


@pytest.mark.parametrize("header", [
    "Kevin Zhao",              # an English name
    "赵启明云栈支付",           # the nickname without separators
    "赵启铭-云栈支付-架构-深圳",  # a typo in the personal name
    "云栈支付-赵启明-深圳",       # the parts in another order
])
def test_announced_speaker_is_the_member_who_gives_the_talk_under_another_name(header):
    rows = [
        ("15:00:00", "林夕_群管理", CLOUD_ANNOUNCEMENT),
        ("15:01:00", "晚风", "签到"),
        ("15:02:00", "阿青", "签到"),
        ("20:00:00", header, "大家好，今天给大家分享商户进件的风控"),
    ] + lecture(header, 20, 1, 8) + [("20:18:00", header, "以上是我的分享")]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, messages[talk.start_index].time, talk.host, len(talk.sign_ins)) == (
        header, MENTION, datetime.time(20, 0), "林夕_群管理", 2)


def test_announced_speaker_by_the_talk_at_the_announced_time_not_by_a_run_under_the_mentioned_name():
    # The member named in the announcement chats at length in the afternoon and answers
    # questions late in the evening; the talk at the announced time is given under another name.
    rows = [("09:00:00", "林夕_群管理", CLOUD_ANNOUNCEMENT)]
    rows += [(f"13:{k * 2:02d}:00", MENTION, POINTS[k]) for k in range(6)]
    rows += [(f"13:{k * 2 + 1:02d}:00", "阿青", "嗯嗯") for k in range(6)]
    rows.sort()
    rows += [("20:00:00", "Kevin Zhao", "大家好，今天给大家分享商户进件的风控")] + lecture("Kevin Zhao", 20, 1, 8)
    rows += [("20:18:00", "Kevin Zhao", "以上是我的分享"), ("20:19:00", "阿青", "感谢分享")]
    rows += [(f"21:{k * 2:02d}:00", MENTION, f"@阿青 {POINTS[k]}") for k in range(6)]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, messages[talk.start_index].time) == (
        "Kevin Zhao", MENTION, datetime.time(20, 0))


def test_announced_talk_given_late_after_a_postponement():
    rows = [
        ("18:00:00", "林夕_群管理", CLOUD_ANNOUNCEMENT.replace("20:00", "18:40")),
        ("18:01:00", "晚风", "签到"),
        ("19:30:00", "林夕_群管理", "嘉宾还在开会，开始时间待定，大家先自由讨论"),
    ] + chat(19, 31, 6) + [
        ("20:40:00", "老赵", "各位不好意思，刚才一直在忙"),
        ("20:40:30", "林夕_群管理", "可以开始了"),
        ("20:41:00", "老赵", "今天想和大家分享的是：商户进件的风控"),
    ] + lecture("老赵", 20, 42, 8) + [("21:00:00", "老赵", "以上就是我的分享，谢谢")]
    messages = day(*rows)
    [talk] = detect_talks(messages)
    assert (talk.speaker, talk.speaker_mention, talk.announced_start, messages[talk.start_index].time) == (
        "老赵", MENTION, datetime.time(18, 40), datetime.time(20, 41))


# --- an announced talk not given ---------------------------------------------------------------


def test_announced_talk_not_given_is_a_share_not_delivered():
    rows = [
        ("18:00:00", "林夕_群管理", CLOUD_ANNOUNCEMENT),
        ("18:01:00", "晚风", "签到"),
        ("18:02:00", "阿青", "签到"),
        ("18:03:00", "晚风", "签到"),
        ("19:50:00", "林夕_群管理", "抱歉，嘉宾临时有事，今晚的分享改期，具体时间另行通知"),
    ] + chat(20, 0, 8)
    messages = day(*rows)
    assert detect_talks(messages) == []
    [share] = detect_shares(messages)
    assert (share.delivered, share.speaker, share.speaker_mention, share.topic, share.topic_source,
            share.announced_start, share.announcement_index, share.first_announcement_index, share.host) == (
        False, "", MENTION, "商户进件的风控", "announcement", datetime.time(20, 0), 0, 0, "林夕_群管理")
    assert (share.start_index, share.end_index, share.qa_end_index) == (None, None, None)
    assert share.sign_ins == [SignInHit("晚风", 1), SignInHit("阿青", 2)]


def test_announced_talk_not_given_while_a_member_chats_at_the_announced_time():
    # A member posting long lines at 20:00 is not the speaker: nothing but the time says so,
    # and taking them would give them the announced member's name.
    rows = [("18:00:00", "林夕_群管理", CLOUD_ANNOUNCEMENT), ("18:01:00", "晚风", "签到")]
    rows += [(f"20:{k * 2:02d}:00", "路人甲", POINTS[k] + POINTS[k + 1]) for k in range(6)]
    rows += [("20:13:00", "阿青", "嗯"), ("21:40:00", "阿青", "今天的分享好像没开始")]
    # ... nor is a member presenting something else late in the evening.
    rows += [("22:00:00", "宋青", "今天给大家介绍一下我们新上线的收银台")] + [
        (f"22:{k * 2 + 1:02d}:00", "宋青", POINTS[k] + POINTS[k + 1]) for k in range(6)]
    shares = detect_shares(day(*rows))
    assert [(s.delivered, s.speaker) for s in shares if s.speaker_mention == MENTION] == [(False, "")]
    # The late presentation is a talk of its own (an opening and a lecture), nobody's announced one.
    assert [(s.speaker, s.speaker_mention, s.announcement_index) for s in shares if s.delivered] == [("宋青", "", None)]


def test_a_share_not_given_and_a_talk_given_the_same_day():
    first = CLOUD_ANNOUNCEMENT.replace("20:00", "16:00")
    second = ("今天请到一位朋友，@Tony Chen-远山-产品 给大家做分享，主题是 “跨境收单” 开始时间为【20:00】；"
              "烦请领取红包签到，谢谢！")
    rows = [("12:00:00", "林夕_群管理", first), ("12:01:00", "晚风", "签到"),
            ("18:00:00", "林夕_群管理", second), ("18:01:00", "阿青", "签到")]
    rows += [("20:00:00", "Tony Chen", "大家好，今天分享跨境收单")] + talk_rows(1, "Tony Chen", 9)
    rows += [("20:11:00", "Tony Chen", "分享完毕")]
    shares = detect_shares(day(*rows))
    assert [(s.delivered, s.speaker, s.topic, [h.sender for h in s.sign_ins]) for s in shares] == [
        (False, "", "商户进件的风控", ["晚风"]),
        (True, "Tony Chen", "跨境收单", ["阿青"]),
    ]


# --- speed ----------------------------------------------------------------------------------------


def busy_day(count):
    """``count`` messages of a lively day: ten members chatting, a talk every thousand messages."""
    rows = []
    for k in range(count):
        second = k * 86_000 // count
        at = f"{second // 3600:02d}:{second % 3600 // 60:02d}:{second % 60:02d}"
        if k % 1000 < 40:
            rows.append((at, "讲者", POINTS[k % len(POINTS)]))
        else:
            rows.append((at, f"成员{k % 10}", ["好的", "签到", "@成员3 这个怎么看？", POINTS[k % 8][:30]][k % 4]))
    return day(*rows)


def detection_seconds(messages, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        detect_shares(messages)
        best = min(best, time.perf_counter() - started)
    return best


def test_detection_time_grows_linearly_with_the_day():
    # The fastest of five runs each, 8x the messages in one day: about 8x the time when linear,
    # 64x when quadratic; 24x leaves room for a busy machine (the speed itself is a benchmark's).
    small, big = busy_day(2_000), busy_day(16_000)
    ratio = detection_seconds(big) / detection_seconds(small)
    assert ratio < 24, f"8x the messages took {ratio:.1f}x the time: not linear"
