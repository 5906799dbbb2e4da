"""Finding the message a quote quotes, on strings (``importer.quotes``)."""

from __future__ import annotations

import datetime as dt

from importer.quotes import (
    QUOTE_CUT_MIN_LETTERS,
    QUOTE_LOOKBACK,
    QUOTE_MEDIA_WINDOW,
    Candidate,
    Wanted,
    letters,
    quoted_message,
)

NOW = dt.datetime(2024, 3, 8, 11, 0, tzinfo=dt.UTC)


def text(sender, body, before=dt.timedelta(minutes=5), kind="text", url=""):
    return Candidate.of(NOW - before, sender, kind, body, url)


def test_letters_drop_blanks_punctuation_emoji_codes_and_lost_emoji():
    assert letters("对账 终于平了[庆祝]，明天?? 见 OK") == letters("对账终于平了明天见ok") == "对账终于平了明天见ok"


def test_the_latest_exact_match_wins_over_a_cut_one():
    found = quoted_message(Wanted("某人", "清算文件几点生成", NOW), [
        text(1, "清算文件几点生成，对账几点完成", dt.timedelta(minutes=9)),
        text(2, "清算文件几点生成？", dt.timedelta(minutes=8)),
    ])
    assert (found.sender, found.message.text) == (2, "清算文件几点生成？")


def test_a_cut_quote_needs_enough_letters():
    short = "清算文件几点生成"[:QUOTE_CUT_MIN_LETTERS - 1]
    assert quoted_message(Wanted("某人", short, NOW), [text(1, "清算文件几点生成，对账几点完成")]).sender is None
    # A quote holding more than a message is not of that message.
    assert quoted_message(Wanted("某人", "清算文件几点生成吗", NOW), [text(1, "清算文件几点生成")]).sender is None
    assert quoted_message(Wanted("某人", "清算文件几点生", NOW), [text(1, "清算文件几点生成，对账几点完成")]).sender == 1


def test_a_match_two_members_share_is_ambiguous():
    found = quoted_message(Wanted("某人", "好的收到", NOW), [text(1, "好的收到"), text(2, "好的，收到")])
    assert (found.sender, found.ambiguous) == (None, True)


def test_the_lookback_is_a_week():
    body = "清算文件几点生成，对账几点完成"
    assert quoted_message(Wanted("某人", body, NOW), [text(1, body, QUOTE_LOOKBACK)]).sender == 1
    assert quoted_message(Wanted("某人", body, NOW), [text(1, body, QUOTE_LOOKBACK + dt.timedelta(seconds=1))]).sender is None


def test_an_image_quote_is_of_an_image_just_before():
    image = dict(kind="image", url="http://example.org/a.png")
    assert quoted_message(Wanted("某人", "[图片]", NOW), [text(1, "", QUOTE_MEDIA_WINDOW, **image)]).sender == 1
    assert quoted_message(Wanted("某人", "[图片]", NOW),
                          [text(1, "", QUOTE_MEDIA_WINDOW + dt.timedelta(minutes=1), **image)]).sender is None
    assert quoted_message(Wanted("某人", "[图片]", NOW), [text(1, "[图片]")]).sender is None


def test_a_link_quote_by_its_title_or_url():
    link = text(1, "清算系统的设计与实现", kind="link", url="https://example.org/posts/settlement")
    for quoted in ("[链接] 清算系统的设计与实现", "清算系统的设计与实现", "https://example.org/posts/settlement"):
        assert quoted_message(Wanted("某人", quoted, NOW), [link]).sender == 1


def test_the_probe_is_a_stretch_without_blanks_or_question_marks():
    assert Wanted("某人", "对账?? 终于平了，明天见 ok", NOW).probe() == "终于平了，明天见"
    assert Wanted("某人", "[图片]", NOW).probe() == ""
