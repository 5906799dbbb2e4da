import datetime

import pytest

from importer.transcript import (
    Quote,
    RawMessage,
    TranscriptError,
    decode_transcript,
    parse_transcript,
    quote_in_text,
    read_transcript,
    unescape,
)

FRONT = """---
layout:     source\x20
title:      "2019-04-02-WeChat"
date:       2019-04-02 12:00:00
author:     PaymentGroup
lines:      {lines}\x20
tag:\t\t  [chat]
---
"""


def message(time, sender, content=None):
    text = f"> {time}  {sender}  \n   \n"
    if content is not None:
        text += f"{content}  \n   \n"
    return text


def transcript(*messages, lines=None):
    return FRONT.format(lines=len(messages) if lines is None else lines) + "".join(messages)


def one(content, sender="小鹿-星河支付-产品-杭州"):
    tr = parse_transcript(transcript(message("10:00:00", sender, content)))
    assert tr.warnings == []
    return tr.messages[0]


# --- front matter ---------------------------------------------------------------


def test_parse_transcript_front_matter_with_tabs_quotes_and_blanks():
    tr = parse_transcript(transcript(message("09:00:01", "阿青", "早")))
    assert (tr.day, tr.title, tr.author_hint, tr.front_matter["tag"]) == (
        datetime.date(2019, 4, 2), "2019-04-02-WeChat", "", "[chat]")


def test_parse_transcript_quoted_author_is_the_hint():
    text = '---\ndate: 2019-04-02\nauthor:\t"林夕-远山-开发"  \n---\n' + message("09:00:01", "阿青", "早")
    assert parse_transcript(text).author_hint == "林夕-远山-开发"


def test_parse_transcript_quoted_payment_group_author_gives_no_hint():
    text = '---\ndate: 2019-04-02\nauthor: "PaymentGroup"\n---\n' + message("09:00:01", "阿青", "早")
    assert parse_transcript(text).author_hint == ""


def test_parse_transcript_missing_lines_and_extra_header_img():
    text = ('---\nlayout: source\ntitle: "x"\ndate: 2019-04-02 12:00:00\nheader-img: "img/a.jpg"\n---\n'
            + message("09:00:01", "阿青", "早"))
    tr = parse_transcript(text)
    assert (tr.front_matter["header-img"], "lines" in tr.front_matter, tr.warnings) == ("img/a.jpg", False, [])


def test_parse_transcript_lines_mismatch_is_a_warning():
    tr = parse_transcript(transcript(message("09:00:01", "阿青", "早"), lines=3), filename="d.md")
    assert tr.warnings == ["d.md:6: 'lines' says 3 but the body has 1 messages"]


def test_parse_transcript_date_disagreeing_with_file_name_is_a_warning():
    tr = parse_transcript(transcript(message("09:00:01", "阿青", "早")), filename="x/2019-04-03-chat.md")
    assert (tr.day, tr.warnings) == (datetime.date(2019, 4, 2), [
        "x/2019-04-03-chat.md:4: date 2019-04-02 disagrees with file name date 2019-04-03; "
        "using the front matter date"])


def test_parse_transcript_without_front_matter_is_rejected():
    with pytest.raises(TranscriptError) as error:
        parse_transcript(message("09:00:01", "阿青", "早"), filename="a.md")
    assert str(error.value) == "a.md:1: missing front matter (expected a '---' line)"


def test_a_file_of_a_stray_byte_order_mark_is_rejected_at_its_only_line():
    # Decoding drops one mark; the second is all the file holds: the error names line 1, not 2.
    with pytest.raises(TranscriptError) as error:
        parse_transcript(decode_transcript(b"\xef\xbb\xbf\xef\xbb\xbf", filename="a.md"), filename="a.md")
    assert str(error.value) == "a.md:1: missing front matter (expected a '---' line)"


def test_parse_transcript_unclosed_front_matter_is_rejected():
    with pytest.raises(TranscriptError) as error:
        parse_transcript("---\ndate: 2019-04-02\n", filename="a.md")
    assert str(error.value) == "a.md:1: front matter not closed (no second '---' line)"


def test_parse_transcript_without_date_is_rejected():
    with pytest.raises(TranscriptError) as error:
        parse_transcript("---\ntitle: x\n---\n" + message("09:00:01", "阿青", "早"), filename="a.md")
    # The line of the closing '---'.
    assert str(error.value) == "a.md:3: front matter has no 'date'"


def test_parse_transcript_invalid_date_is_rejected_naming_its_line():
    with pytest.raises(TranscriptError) as error:
        parse_transcript("---\ntitle: x\ndate: 2019-02-30 12:00\n---\n", filename="a.md")
    assert str(error.value) == "a.md:3: invalid date '2019-02-30 12:00'"


# --- body -----------------------------------------------------------------------


def test_parse_transcript_reads_messages_with_line_numbers():
    tr = parse_transcript(transcript(message("09:00:01", "阿青  ", "早上好"), message("09:01:02", "我", "好")))
    assert tr.messages == [
        RawMessage(9, datetime.time(9, 0, 1), "阿青", "text", "早上好"),
        RawMessage(13, datetime.time(9, 1, 2), "我", "text", "好"),
    ]


def test_parse_transcript_tolerates_any_whitespace_only_lines():
    text = FRONT.format(lines=1) + "> 09:00:01  阿青\n\t\n \n早上好\n\n"
    assert parse_transcript(text).messages == [RawMessage(9, datetime.time(9, 0, 1), "阿青", "text", "早上好")]


def test_parse_transcript_crlf_line_ends():
    text = transcript(message("09:00:01", "阿青", "早")).replace("\n", "\r\n")
    assert parse_transcript(text).messages[0].text == "早"


def test_parse_transcript_message_without_content_is_empty():
    tr = parse_transcript(transcript(message("09:00:01", "阿青"), message("09:00:05", "阿青", "嗯")))
    assert [(m.kind, m.text) for m in tr.messages] == [("empty", ""), ("text", "嗯")]


def test_parse_transcript_blank_content_line_is_empty():
    tr = parse_transcript(transcript(message("09:00:01", "阿青", "  ")))
    assert (tr.messages[0].kind, tr.messages[0].text) == ("empty", "")


def test_parse_transcript_extra_line_is_joined_with_a_warning():
    text = FRONT.format(lines=1) + "> 09:00:01  阿青  \n   \n第一行  \n第二行  \n   \n"
    tr = parse_transcript(text, filename="a.md")
    assert (tr.messages[0].text, tr.warnings) == ("第一行\n第二行", [
        "a.md:12: extra content line joined to the message above"])


def test_parse_transcript_text_before_first_message_is_ignored_with_a_warning():
    text = FRONT.format(lines=1) + "随便写的\n" + message("09:00:01", "阿青", "早")
    tr = parse_transcript(text, filename="a.md")
    assert (len(tr.messages), tr.warnings) == (1, ["a.md:9: text before the first message ignored"])


def test_parse_transcript_one_space_after_time_is_tolerated():
    text = FRONT.format(lines=1) + "> 9:00:01 阿青\n   \n早\n   \n"
    assert parse_transcript(text).messages[0].sender == "阿青"


def test_parse_transcript_invalid_time_is_rejected_naming_its_line():
    with pytest.raises(TranscriptError) as error:
        parse_transcript(transcript(message("09:00:01", "阿青", "早"), message("25:61:00", "阿青", "晚")),
                         filename="bad.md")
    assert str(error.value) == "bad.md:13: invalid time 25:61:00"


def test_parse_transcript_file_ending_on_a_header_is_rejected_as_truncated():
    text = transcript(message("09:00:01", "阿青", "早")) + "> 09:00:02  阿青  \n"
    with pytest.raises(TranscriptError) as error:
        parse_transcript(text, filename="cut.md")
    assert str(error.value) == "cut.md:13: file truncated after a message header (no content follows)"


def test_parse_transcript_file_cut_inside_a_header_is_rejected():
    text = transcript(message("09:00:01", "阿青", "早")) + "> 09:0"
    with pytest.raises(TranscriptError) as error:
        parse_transcript(text, filename="cut.md")
    assert str(error.value) == "cut.md:13: file truncated in a message header"


def test_parse_transcript_last_message_without_final_newline_is_fine():
    text = FRONT.format(lines=1) + "> 09:00:01  阿青  \n   \n早  "
    assert parse_transcript(text).messages[0].text == "早"


def test_parse_transcript_empty_text_is_rejected():
    with pytest.raises(TranscriptError) as error:
        parse_transcript("  \n", filename="e.md")
    assert str(error.value) == "e.md:1: empty file"


def test_parse_transcript_very_long_line():
    long_text = "长" * 50_000
    assert one(long_text).text == long_text


def test_parse_transcript_identical_messages_are_both_kept_with_ordinals():
    tr = parse_transcript(transcript(message("20:00:00", "阿青", "收到"), message("20:00:00", "阿青", "收到"),
                                     message("20:00:00", "阿青", "收到")))
    assert [m.ordinal for m in tr.messages] == [0, 1, 2]


def test_parse_transcript_merged_export_pair_is_collapsed():
    tr = parse_transcript(transcript(
        message("10:00:00", "Kiwi", "大家好"), message("10:00:00", "Kiwi-青松科技-研发-广州", "大家好"),
        message("10:00:30", "晚风", "你好"),
    ))
    assert ([(m.sender, m.alias, m.text) for m in tr.messages], tr.merged_pairs) == (
        [("Kiwi-青松科技-研发-广州", "Kiwi", "大家好"), ("晚风", "", "你好")],
        [("Kiwi-青松科技-研发-广州", "Kiwi", 9)],
    )


def test_parse_transcript_merged_file_collapses_unrelated_names():
    pairs = []
    for k in range(4):
        pairs += [message(f"10:0{k}:00", "我", f"第{k}条"), message(f"10:0{k}:00", "周一帆", f"第{k}条")]
    tr = parse_transcript(transcript(*pairs), filename="m.md")
    assert ([(m.sender, m.alias) for m in tr.messages], len(tr.merged_pairs), tr.warnings[-1]) == (
        [("周一帆", "我")] * 4, 4, "m.md: 4 doubled messages: file merged from two exports, pairs collapsed")


def test_parse_transcript_two_people_signing_in_the_same_second_are_not_collapsed():
    tr = parse_transcript(transcript(
        message("10:00:00", "阿青", "早"), message("10:00:01", "晚风", "签到"), message("10:00:01", "林夕", "签到"),
        message("10:00:02", "阿青", "嗯"), message("10:00:03", "阿青", "好"), message("10:00:04", "晚风", "行"),
        message("10:00:05", "阿青", "走"), message("10:00:06", "林夕", "对"), message("10:00:07", "阿青", "来"),
    ))
    assert ([m.sender for m in tr.messages[1:3]], tr.merged_pairs) == (["晚风", "林夕"], [])


# --- content kinds ----------------------------------------------------------------


def test_parse_transcript_image():
    msg = one("![2019-04-02 10:00:00](http://img.example.org/a/20190402_100000.png)")
    assert (msg.kind, msg.text, msg.url) == ("image", "", "http://img.example.org/a/20190402_100000.png")


def test_parse_transcript_link_with_double_escaped_entities():
    msg = one("[账户 &amp;amp; 清算](http://news.example.org/s?a=1&amp;amp;amp;b=2)")
    assert (msg.kind, msg.text, msg.url) == ("link", "账户 & 清算", "http://news.example.org/s?a=1&b=2")


def test_parse_transcript_bare_url_is_a_link_without_text():
    msg = one("https://example.org/path?q=1")
    assert (msg.kind, msg.text, msg.url) == ("link", "", "https://example.org/path?q=1")


def test_parse_transcript_file_name_alone_is_a_file():
    msg = one("聚合支付对账方案v2.PDF")
    assert (msg.kind, msg.text) == ("file", "聚合支付对账方案v2.PDF")


def test_parse_transcript_file_name_inside_a_sentence_is_text():
    assert one("<对账方案.pdf>这个文件谁有").kind == "text"


def test_parse_transcript_stickers():
    assert [one(s).kind for s in ("[强]", "[强][强] [鼓掌]", "[OK]", "[Facepalm]")] == ["sticker"] * 4


def test_parse_transcript_bracketed_words_with_text_are_text():
    assert one("[强]说得好").kind == "text"


def test_parse_transcript_text_entities_decoded_at_most_twice():
    assert (one("A&amp;amp;B").text, one("写法是&amp;amp;amp;").text, one("a&b &copy").text) == (
        "A&B", "写法是&amp;", "a&b &copy")


def test_unescape_numeric_entities_and_limit():
    assert (unescape("&#60;&#x3E;"), unescape("&amp;amp;lt;", 1)) == ("<>", "&amp;lt;")


def test_parse_transcript_mentions_end_at_question_mark_or_space():
    msg = one("@林夕-远山数科-开发?你好 @晚风 在吗 @Amy Lin 云帆?看下")
    assert msg.mentions == ("林夕-远山数科-开发", "晚风", "Amy Lin 云帆")


def test_parse_transcript_mention_at_end_and_email_is_not_a_mention():
    assert one("邮件发 a.b@example.org 了，谢谢@阿青").mentions == ("阿青",)


def test_parse_transcript_quote():
    msg = one("「林夕-远山数科-开发：清算几点开始？」 - - - - - - - - - - - - - - - 一般是凌晨 @林夕 ")
    assert (msg.kind, msg.text, msg.quote, msg.mentions) == (
        "text", "一般是凌晨 @林夕", Quote("林夕-远山数科-开发", "清算几点开始？"), ("林夕",))


def test_parse_transcript_quote_with_an_ascii_colon_and_blanks():
    msg = one("「 晚风-青松科技-产品-广州: 对账文件几点到？ 」 - - - - - - - - - - - - - - - 一般早上六点")
    assert (msg.text, msg.quote) == ("一般早上六点", Quote("晚风-青松科技-产品-广州", "对账文件几点到？"))


def test_parse_transcript_nested_quote_is_the_quoted_reply_and_its_own_quote():
    msg = one("「宋青-远山数科-架构：「林夕-远山数科-开发：清算几点开始？」 - - - - - - - - - - - - - - - 一般是凌晨」"
              " - - - - - - - - - - - - - - - 我们也是凌晨")
    assert (msg.text, msg.quote) == ("我们也是凌晨", Quote("宋青-远山数科-架构", "一般是凌晨",
                                                          Quote("林夕-远山数科-开发", "清算几点开始？")))


def test_parse_transcript_quote_whose_brackets_the_export_lost():
    msg = one("? 晚风-青松科技-产品-广州: 对账文件几点到？@林夕 ? - - - - - - - - - - - - - - - 一般早上六点")
    assert (msg.text, msg.quote, msg.mentions) == (
        "一般早上六点", Quote("晚风-青松科技-产品-广州", "对账文件几点到？@林夕"), ())
    assert one("?? 好的 - - - -").quote is None


def test_quotes_as_todays_export_tools_write_them():
    assert quote_in_text("同意[引用 晚风-青松科技-产品-广州：对账文件几点到？]") == (
        Quote("晚风-青松科技-产品-广州", "对账文件几点到？"), "同意")
    assert quote_in_text("同意\n引用：晚风-青松科技-产品-广州: 对账文件几点到？") == (
        Quote("晚风-青松科技-产品-广州", "对账文件几点到？"), "同意")
    assert quote_in_text("我引用一句话：好的") is None
    assert one("同意[引用 晚风-青松科技-产品-广州：对账文件几点到？]").quote == Quote("晚风-青松科技-产品-广州", "对账文件几点到？")


def test_parse_transcript_a_title_in_corner_brackets_is_no_quote():
    assert one("推荐一篇「清算的那些事」 - - - - 很好").quote is None
    assert one("「清算的那些事」 - - - - 很好").quote is None


def test_parse_transcript_leaked_account_id():
    msg = one("wxid_ab12cd34ef:")
    assert (msg.kind, msg.account_id) == ("text", "wxid_ab12cd34ef")


def test_parse_transcript_word_with_colon_is_not_an_account_id():
    assert one("Note:").account_id == ""


# --- decoding ---------------------------------------------------------------------


def test_decode_transcript_utf8_with_bom():
    assert decode_transcript("\ufeff---\n".encode()) == "---\n"


def test_decode_transcript_gbk():
    text = transcript(message("09:00:01", "阿青", "签到"))
    assert parse_transcript(decode_transcript(text.encode("gbk"))).messages[0].text == "签到"


def test_decode_transcript_rejects_nul_bytes():
    with pytest.raises(TranscriptError) as error:
        decode_transcript(b"---\ndate: x\n\x00\x01", filename="b.bin")
    assert str(error.value) == "b.bin:3: binary data (NUL byte), not a transcript"


def test_decode_transcript_rejects_control_character_soup():
    with pytest.raises(TranscriptError) as error:
        decode_transcript(bytes(range(1, 32)) * 20, filename="b.bin")
    assert str(error.value) == "b.bin:1: binary data, not a transcript"


def test_decode_transcript_rejects_empty_input():
    with pytest.raises(TranscriptError) as error:
        decode_transcript(b"", filename="e.md")
    assert str(error.value) == "e.md:1: empty file"


def test_read_transcript_from_a_gbk_file(tmp_path):
    path = tmp_path / "2019-04-02-chat.markdown"
    path.write_bytes(transcript(message("09:00:01", "阿青", "早")).encode("gbk"))
    tr = read_transcript(path)
    assert (tr.day, tr.messages[0].text, tr.warnings) == (datetime.date(2019, 4, 2), "早", [])
