from community.names import (
    NicknameParts,
    is_weak_name,
    is_well_formed_nickname,
    name_core,
    normalize_name,
    parse_nickname,
)


def test_normalize_name_unifies_separators_and_case():
    assert normalize_name("陈小明Ab～星河支付 | 产品 | 杭州") == "陈小明ab-星河支付-产品-杭州"


def test_normalize_name_folds_full_width_forms():
    assert normalize_name("周一帆－云桥科技＿研发") == "周一帆-云桥科技-研发"


def test_normalize_name_treats_lost_emoji_as_separator():
    assert normalize_name("郑远?蓝海付?架构?成都") == "郑远-蓝海付-架构-成都"


def test_normalize_name_drops_noise_at_the_ends():
    assert normalize_name("  星辰?? ") == "星辰"


def test_normalize_name_collapses_spaces_between_parts():
    assert normalize_name("Kevin   Lu  北辰科技") == "kevin-lu-北辰科技"


def test_normalize_name_empty_string():
    assert normalize_name("") == ""


def test_parse_nickname_four_parts():
    assert parse_nickname("马一鸣-青松支付-产品-南京") == NicknameParts("马一鸣", "青松支付", "产品", "南京")


def test_parse_nickname_three_parts():
    assert parse_nickname("林夕_远山数科_开发") == NicknameParts("林夕", "远山数科", "开发")


def test_parse_nickname_spaces_as_separators():
    assert parse_nickname("宋青 白鹭金服 风控 厦门") == NicknameParts("宋青", "白鹭金服", "风控", "厦门")


def test_parse_nickname_pipes_with_spaces_keep_spaces_inside_parts():
    assert parse_nickname("Amy Lin 林安|云帆|清算") == NicknameParts("Amy Lin 林安", "云帆", "清算")


def test_parse_nickname_city_in_the_middle_is_moved_to_city():
    assert parse_nickname("石头-武汉-楚天付-打杂") == NicknameParts("石头", "楚天付", "打杂", "武汉")


def test_parse_nickname_three_parts_with_a_city_miss_an_element():
    assert parse_nickname("何川—远航支付-贵州") is None


def test_parse_nickname_drops_status_marks():
    assert parse_nickname("吴岚-星海(前)-测试-重庆") == NicknameParts("吴岚", "星海", "测试", "重庆")


def test_parse_nickname_bare_names_are_not_well_formed():
    assert [parse_nickname(s) for s in ("Zed", "晚风", "许诺 Jack ??", "")] == [None, None, None, None]


def test_parse_nickname_five_parts_is_not_well_formed():
    assert parse_nickname("a-b-c-d-e") is None


def test_is_well_formed_nickname_matches_parse():
    assert (is_well_formed_nickname("马一鸣-青松支付-产品"), is_well_formed_nickname("马一鸣")) == (True, False)


def test_name_core_first_part():
    assert name_core("马一鸣-青松支付-产品经理-南京") == "马一鸣"


def test_name_core_bare_name_ties_to_full_nickname():
    assert name_core("喜鹊") == name_core("喜鹊-支付产品-上海")


def test_name_core_city_then_yi_as_dash():
    assert name_core("上海一王立新") == "王立新"


def test_name_core_company_first():
    assert name_core("鑫达付－赵一凡") == "赵一凡"


def test_name_core_role_first():
    assert name_core("支付产品-lucas-上海") == "lucas"


def test_name_core_casefolds_latin():
    assert name_core("Kiwi-青松-PM") == "kiwi"


def test_is_weak_name_single_character():
    assert is_weak_name("赵") is True


def test_is_weak_name_common_latin_first_name():
    assert is_weak_name("Michael") is True


def test_is_weak_name_two_character_chinese_name_is_not_weak():
    assert is_weak_name("晚风") is False


def test_is_weak_name_short_latin_name():
    assert is_weak_name("Kai") is True


def test_is_weak_name_me():
    assert is_weak_name("我") is True


def test_is_weak_name_full_nickname_is_not_weak():
    assert is_weak_name("马一鸣-青松支付-产品") is False


def test_is_weak_name_three_character_name_is_not_weak():
    assert is_weak_name("马一鸣") is False
