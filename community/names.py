"""Nickname and name utilities (plain Python, no Django).

The group rules ask every member to use ``姓名-公司-岗位`` or ``姓名-公司-岗位-地区``
as group nickname. In practice the separators vary (``-``, ``—``, ``_``, ``～``,
``|``, ``、``, spaces, and ``?`` where an emoji was lost in export) and parts come in
other orders. These helpers give:

* ``normalize_name``: a lookup key that ignores those differences;
* ``parse_nickname``: the parts of a nickname that follows the rule, else ``None``;
* ``name_core``: the personal-name part, to tie ``鸽子`` to ``鸽子-支付产品-上海``;
* ``is_weak_name``: names too short or too common to merge on their own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Separators between nickname parts, after NFKC (which folds the full-width forms
# －＿～｜ to -_~|). '?' is what the export left of an emoji used as a separator.
_SEPARATOR_CHARS = "-—–_~|?、/\u2014\u2013\u2015\u2012\u30fc\u301c"
_HARD_SEPARATORS = re.compile("[" + re.escape(_SEPARATOR_CHARS) + "]+")
_SEPARATOR_OR_SPACE = re.compile("[" + re.escape(_SEPARATOR_CHARS) + r"\s]+")
_SPACES = re.compile(r"\s+")
# Parenthesised status markers that are not part of a company or role: 东软(前).
_STATUS_MARK = re.compile(r"\((?:前|原|已离职|离职|求职ing|求职中|在职)\)")

_PROVINCES = (
    "北京 上海 天津 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 "
    "湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 内蒙 广西 西藏 宁夏 "
    "新疆 香港 澳门"
)
_CITIES = (
    "深圳 广州 杭州 南京 苏州 成都 武汉 西安 长沙 郑州 青岛 厦门 宁波 无锡 合肥 福州 "
    "济南 大连 沈阳 长春 哈尔滨 石家庄 太原 南昌 南宁 昆明 贵阳 兰州 西宁 银川 乌鲁木齐 "
    "拉萨 呼和浩特 海口 三亚 珠海 佛山 东莞 中山 惠州 汕头 温州 嘉兴 绍兴 金华 台州 "
    "常州 徐州 南通 扬州 烟台 潍坊 临沂 洛阳 保定 唐山 廊坊 秦皇岛 大庆 吉林市 鞍山 "
    "泉州 漳州 莆田 赣州 九江 芜湖 蚌埠 宜昌 襄阳 株洲 湘潭 岳阳 衡阳 桂林 柳州 北海 "
    "遵义 绵阳 德阳 宜宾 南充 泸州 库尔勒 喀什 克拉玛依 包头 鄂尔多斯 淄博 威海 日照 "
    "镇江 泰州 盐城 湖州 义乌 昆山 江阴 张家港 常熟 上饶 开封 新乡 南阳 "
    "京 沪 深 穗 杭 蓉 渝 津 "
    "bj sh sz gz hz cd wh xa nj tj cq pek sha can "
    "beijing shanghai shenzhen guangzhou hangzhou chengdu nanjing wuhan xian "
    "hongkong hk singapore tokyo"
)
CITY_NAMES: frozenset[str] = frozenset((_PROVINCES + " " + _CITIES).split())
_CITY_SUFFIXES = ("市", "省")

# Words that mark a part as a company or a role rather than a personal name.
_COMPANY_WORDS = (
    "支付", "银行", "金融", "金服", "金控", "科技", "网络", "数据", "集团", "公司", "信息",
    "软件", "电商", "保险", "证券", "基金", "钱包", "银联", "银通", "信贷", "理财", "资本",
    "互金", "金信", "银商", "付通", "聚合", "技术", "电子", "平台", "网", "贷",
)
_ROLE_WORDS = (
    "产品", "经理", "开发", "研发", "技术", "架构", "总监", "运营", "需求", "测试", "设计",
    "工程师", "打杂", "风控", "商务", "合规", "清结算", "管理", "主管", "负责", "程序",
    "市场", "销售", "渠道", "业务", "项目", "pm", "pl", "cto", "ceo", "vp", "qa", "pd",
    "techlead", "leader", "dev", "engineer", "manager", "director",
)

# Bare names too common to identify anyone (compared casefolded).
_COMMON_BARE = frozenset(
    """
    我 daniel david alan allen alex amy andy angel anna aaron ben bill bob cathy chris
    cynthia eric frank grace helen henry jack jacky james jason jay jerry jim jimmy joe
    john kevin leo lily linda lisa lucy mark mary michael mike nancy nick peter ray
    richard robin sam sean simon sunny susan tim tom tony vincent william kun betty
    merry cherry coco echo emma jane jenny jessica joy judy kelly kate lee lynn max
    oking rocer steven stephen terry vivian wendy will
    """.split()
)

_CJK = re.compile(r"[\u3400-\u9fff]")
_CITY_DASH = re.compile(r"^(\w{2,3}?)一(?=[\u3400-\u9fff]{2,3}$)")


def normalize_name(s: str) -> str:
    """Lookup key for a name: NFKC, casefolded, one '-' between parts, no noise.

    ``"程琳Wa～杉德支付 | 产品"`` and ``"程琳wa-杉德支付-产品"`` give the same key;
    lost-emoji ``?`` and separators at the ends are dropped (``"修炼??"`` -> ``"修炼"``).
    """
    if not s:
        return ""
    return _normalize(s)


@lru_cache(maxsize=65536)
def _normalize(s: str) -> str:
    text = unicodedata.normalize("NFKC", s).strip()
    text = _SEPARATOR_OR_SPACE.sub("-", text).strip("-")
    return text.casefold()


@dataclass(frozen=True)
class NicknameParts:
    name: str
    company: str
    position: str
    city: str = ""


def _is_city(part: str) -> bool:
    key = part.strip().casefold()
    if key in CITY_NAMES:
        return True
    return key.endswith(_CITY_SUFFIXES) and key[:-1] in CITY_NAMES


def _clean_part(part: str) -> str:
    return _SPACES.sub(" ", _STATUS_MARK.sub("", part)).strip()


@lru_cache(maxsize=65536)
def _split_parts(s: str) -> tuple[str, ...]:
    """Parts of a nickname in their original case (NFKC, cleaned, non-empty).

    Explicit separators win; only when there are none do spaces separate parts,
    so ``"Jin He 何瑾|新生|跨境支付"`` keeps ``"Jin He 何瑾"`` as one part.
    """
    text = unicodedata.normalize("NFKC", s).strip()
    # "北京一张泽雄": a "一" (yi) typed as a dash after a city.
    m = _CITY_DASH.match(text)
    if m and _is_city(m.group(1)):
        text = m.group(1) + "-" + text[m.end():]
    parts = [_clean_part(p) for p in _HARD_SEPARATORS.split(text)]
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        parts = [p for p in _SPACES.split(text.replace("?", " ")) if p]
    return tuple(parts)


def parse_nickname(s: str) -> NicknameParts | None:
    """The parts of a nickname that follows ``姓名-公司-岗位[-地区]``, else ``None``.

    Choices (the rule is about having the elements, not about their order):

    * 3 parts are name, company, role -- unless one of them is a known city, which
      means an element is missing (``唐帆—翼支付-云南``, ``司徒言午-深圳-支付PM``).
    * 4 parts: the known city among them (the last one if several) is the city and
      the other three, in order, are name, company, role (``胖民工-成都-金信服-打杂``);
      without a known city the 4th part is taken as the place.
    * 1, 2 or 5+ parts are not well formed (``Ray``, ``七夜``, ``田伟 David ????``).
    * Status marks such as ``(前)`` are dropped from the parts.
    """
    if not s:
        return None
    parts = _split_parts(s)
    if len(parts) == 3:
        if any(_is_city(p) for p in parts):
            return None
        return NicknameParts(parts[0], parts[1], parts[2])
    if len(parts) == 4:
        city_indexes = [i for i, p in enumerate(parts) if _is_city(p)]
        city_index = city_indexes[-1] if city_indexes else 3
        rest = [p for i, p in enumerate(parts) if i != city_index]
        if city_index != 3 and any(_is_city(p) for p in rest):
            return None
        return NicknameParts(rest[0], rest[1], rest[2], parts[city_index])
    return None


def is_well_formed_nickname(s: str) -> bool:
    return parse_nickname(s) is not None


def _looks_like_name(part: str) -> bool:
    key = part.casefold()
    if _is_city(part) or not re.search(r"[^\W\d_]", key):
        return False
    if any(w in key for w in _COMPANY_WORDS) or any(w in key for w in _ROLE_WORDS):
        return False
    return True


def name_core(s: str) -> str:
    """The personal-name part of a nickname, normalized.

    The first part that is not a city, a company-like or a role-like word: so
    ``李雄峰-今日头条-支付PL-北京`` -> ``李雄峰``, ``北京一张泽雄`` -> ``张泽雄``,
    ``信达付－李爱强`` -> ``李爱强`` (``付`` marks a payment company),
    ``支付产品-ellery-上海`` -> ``ellery``. Falls back to the first part.
    """
    if not s:
        return ""
    return _name_core(s)


@lru_cache(maxsize=65536)
def _name_core(s: str) -> str:
    parts = _split_parts(s)
    if not parts:
        return normalize_name(s)
    chosen = parts[0]
    if len(parts) > 1:
        first = parts[0]
        if not _looks_like_name(first) or (
            # "信达付": a short company name ending in 付 before a personal name.
            len(first) >= 3 and first.endswith("付") and _CJK.search(first)
        ):
            for part in parts[1:]:
                if _looks_like_name(part):
                    chosen = part
                    break
    return normalize_name(chosen)


def is_weak_name(s: str) -> bool:
    """True for names that must never be merged on their own evidence.

    A single CJK character (``王``), ``我``, a Latin name of at most three letters
    (``Ray``), a common bare Latin first name (``Daniel``), or anything shorter than two
    characters. A two-character Chinese name (``唐帆``) is a full name: surname and
    given name, not weak on its own.
    """
    key = normalize_name(s)
    if len(key) <= 1 or key in _COMMON_BARE:
        return True
    if _CJK.search(key):
        return len(key) < 2
    return len(key) <= 3
