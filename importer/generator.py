"""Deterministic generator of realistic WeChat-group transcripts (demo data, benchmarks).

Stdlib only, no Django. Every name, company, topic and phrase below is invented here;
only the *shape* of the files follows the real exports (see TRANSCRIPT_FORMAT.md):

    ---
    layout:     source<SP>
    title:      "2018-05-20-WeChat"
    date:       2018-05-20 12:00:00
    author:     PaymentGroup
    lines:      125<SP>
    tag:<TAB><TAB>  [chat]
    ---
    > 09:00:30  NAME<SP><SP>
    <SP><SP><SP>
    content<SP><SP>
    <SP><SP><SP>

Each day is generated from its own ``random.Random`` seeded with ``(seed, date)``, so a
day's content does not depend on the range requested, output is byte-identical for the
same seed, and memory stays flat however many days are streamed.

Usage::

    python -m importer.generator OUT_DIR --days 30 --messages-per-day 300 --seed 1
"""

from __future__ import annotations

import argparse
import csv
import io
import time as _time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from itertools import accumulate
from pathlib import Path
from random import Random

__all__ = [
    "CorpusGenerator",
    "GeneratedDay",
    "GeneratedPerson",
    "GeneratedTalk",
    "day_filename",
    "main",
    "write_corpus",
]

# ---------------------------------------------------------------------------------------
# Word lists (all invented)
# ---------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶"
    "程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤柏窦蓝练简"
)
GIVEN_CHARS = (
    "砚澈珩屿煦岚琦骁湛翊铮璟昕朗泓彦瑜柯溪墨衡岳舟逸蔓筠杉棠樾峤珂霁沅芮蘅槿祺骞晗钰"
    "溯岑锴烨翀鹤旻澜淇骐韬翎羿芃璠劭埕曜珣昶禹湄蓁苒玥琰皓晔潇渝"
)
EN_NICKS = (
    "Zeno", "Oreo", "Milo.Z", "Kiko", "Yuki_pay", "Finch", "Rowan", "Tango", "Nuvo",
    "Aster", "Bolt", "Juno", "Pika", "Quill", "Rhea", "Sage", "Toby_w", "Vega", "Wren",
    "Xeno", "Yoyo", "Zed", "Cobalt", "Dash", "Fern", "Gogo", "Halo", "Iris_l", "Jett",
    "mochi", "tofu", "kiwi.g", "lumen", "quark", "maple", "pixel", "orbit", "nimbus",
)
COMPANIES = (
    "云汇支付", "瀚银通", "衡信付", "乐享付科技", "嘉禾金服", "盛联收单", "星河钱包", "恒通宝",
    "鼎付科技", "极简付", "万象金融", "融信达", "安付通", "澄明支付", "泓润支付", "蓝海清算",
    "汇科金服", "青禾数科", "启明金科", "维度支付", "宸星科技", "江岸银行", "北辰银行",
    "南湖农商行", "东岳消费金融", "禾木电商", "拾光出行", "橙子外卖", "栖云旅行", "麦田保险",
    "朗豫数据", "九霄支付", "谷雨科技", "方舟收银", "Paylio", "FINSTACK", "小满钱包", "凌波科技",
)
POSITIONS = (
    "产品", "产品经理", "PM", "高级PM", "架构师", "架构", "研发", "开发", "技术总监", "风控",
    "清结算", "运营", "测试", "CTO", "产品总监", "支付PL", "项目经理", "后台PM", "BD", "合规",
    "研发经理", "财务", "技术负责人",
)
CITIES = (
    "北京", "上海", "深圳", "杭州", "广州", "南京", "成都", "武汉", "西安", "重庆", "苏州",
    "厦门", "长沙", "天津", "郑州", "合肥", "济南", "青岛", "福州", "昆明", "大连", "贵阳",
)
CITY_ABBR = {"北京": "BJ", "上海": "SH", "深圳": "SZ", "杭州": "HZ", "广州": "GZ"}
SEPARATORS = ("-",) * 12 + ("—", "—", "_", "_", "～", "～", "|", " ", " ", " - ", "?")

AREAS = (
    "聚合支付", "跨境支付", "预付卡", "账户体系", "清结算", "对账", "风控", "支付网关", "收银台",
    "分账", "代扣", "代付", "退款", "红包营销", "会员积分", "条码支付", "银行存管", "供应链金融",
    "反洗钱", "商户入网", "通道路由", "手续费计费", "资金归集", "外汇结汇", "NFC支付", "刷脸支付",
    "信用支付", "虚拟账户", "备付金管理", "差错处理", "交易监控", "清分", "出款", "发票与税务",
)
THINGS = (
    "幂等", "对账差错", "通道切换", "限额", "手续费", "掉单", "重复扣款", "退款失败", "T+1结算",
    "日切", "冲正", "撤销", "风控规则", "黑名单", "异步通知", "签名验签", "证书更新", "报文格式",
    "分布式事务", "会计分录", "头寸管理", "轧差", "账期", "子商户号", "实名认证", "四要素校验",
    "绑卡", "快捷支付", "协议支付", "部分退款", "超时关单", "订单状态机", "商户结算周期",
)
ASPECTS = (
    "的设计与实践", "的架构演进", "从0到1", "踩过的那些坑", "的合规要点", "的产品设计",
    "系统建设经验", "的运营思考", "的技术选型", "中的数据一致性", "的监控与报警", "的性能优化",
    "的业务模型", "的灰度与容灾", "的成本核算",
)
TOPIC_FORMS = ("{a}{b}", "{a}{b}", "{a}{b}", "浅谈{a}", "{a}：{t}{b}", "聊聊{a}里的{t}", "{a}与{t}",
               "{a}实战分享")
MORNING = ("早上好", "大家早", "早", "早安[太阳]", "各位早")
EVENING = ("晚安", "睡了，晚安", "还有人在吗", "大家早点休息")
WEEKEND = ("周末愉快", "周末还在加班的举手", "周末群里也挺热闹")
ORGS = ("央行", "网联", "银联", "监管", "人行分支机构", "清算协会", "发卡行", "收单行")
SYSTEMS = ("支付核心", "账务系统", "清算系统", "网关层", "收银台", "订单系统", "风控系统",
           "对账平台", "营销系统", "商户平台")
TECHS = ("分库分表", "Redis", "Kafka", "消息队列", "定时任务", "TCC", "本地事务表", "状态机",
         "规则引擎", "流式计算", "数据仓库", "Elasticsearch")
FACTORS = ("业务量", "通道能力", "合规要求", "团队规模", "资金成本", "商户类型", "上线节奏")

STICKERS = ("[强]", "[捂脸]", "[抱拳]", "[呲牙]", "[偷笑]", "[微笑]", "[鼓掌]", "[玫瑰]",
            "[奸笑]", "[机智]", "[耶]", "[握手]", "[坏笑]", "[憨笑]", "[发呆]", "[流汗]",
            "[得意]", "[害羞]", "[旺柴]", "[色]", "[可怜]", "[让我看看]")
SIGN_INS = ("签到", "签到", "签到", "签到！", "签到!", "[OK]", "[OK]", "报到", "签到[玫瑰]",
            "签到[强]", "签到~", "签到，学习", "签到 来晚了", "[OK][OK]")

QUESTIONS = (
    "{area}里{thing}一般怎么处理？",
    "请教一下，{thing}这块大家是怎么做的？",
    "有没有做过{area}的朋友？想请教下{thing}的问题",
    "{thing}是放在{sys}做还是{sys2}做比较好？",
    "最近{org}对{area}有新的要求吗？",
    "{area}的{thing}，你们用什么方案？",
    "问个问题，{thing}出现不一致的时候以谁为准？",
    "{sys}和{sys2}之间的{thing}怎么保证？",
    "小白请教：{area}和{area2}的区别主要在哪？",
    "大家{area}一天大概多少笔？{thing}压力大吗",
)
ANSWERS = (
    "我们是在{sys}里统一做的{thing}",
    "一般以{org}的文件为准，{thing}要单独记录",
    "这个要看{factor}，没有标准答案",
    "{org}那边有规范，可以找来看看",
    "之前踩过坑，{thing}一定要提前设计好",
    "我们用的是{tech}，目前还能扛住",
    "同意楼上，{thing}不能偷懒",
    "{area}本质上还是{thing}的问题",
    "先把{thing}做扎实，再谈{area}",
    "我理解{sys}只负责记录，{thing}交给{sys2}",
    "看量级，量小的话{tech}就够了",
    "这个问题去年我们也讨论过，最后拆成了两个阶段做",
)
CHATTER = (
    "哈哈哈", "哈哈", "学习了", "涨知识了",
    "mark一下", "这个厉害了", "+1", "有道理", "确实", "是的", "不一定", "收到", "谢谢",
    "有同感", "说得好", "好问题", "求资料", "同问", "蹲一个答案", "我也想知道", "顶",
    "在路上，晚点细看", "刚开完会，爬楼中", "楼上正解", "这个得具体看", "可以私聊",
    "今天群里好热闹", "加班中……", "又是被{thing}支配的一天",
)
JOKES = (
    "哈哈，{thing}一出问题就得通宵[捂脸]",
    "产品说这个需求很简单，{thing}怎么实现我不管[捂脸]",
    "周五下午上线{area}，勇士啊[偷笑]",
    "做{area}的头发都少[流汗]",
    "对账对到怀疑人生",
    "老板问{thing}为什么还没好，我说在排队[机智]",
    "{area}界的段子手又上线了",
)
LONG_TEXTS = (
    "我补充一点，{area}这块除了{thing}之外，还要考虑{thing2}，尤其是{sys}和{sys2}之间的交互，"
    "如果没有统一的流水号，后面对账会非常痛苦。我们之前的做法是先落{sys}，再异步通知{sys2}，"
    "失败了靠{tech}重试，基本能覆盖九成以上的场景。",
    "说下我们的经验：{area}上线前一定要把{thing}的边界case列清楚，比如超时、重复通知、"
    "金额不一致、{thing2}等等，每一种都要有明确的处理方式和负责人，否则出了问题大家互相推。",
    "从{org}的角度看，{area}最关心的还是资金安全和{thing}，所以方案评审的时候，"
    "{factor}反而是次要的。我们被检查过一次，重点就是看{thing2}的留痕。",
)
SPECIALS = (
    "金额字段用 <decimal> 还是 <long>？",
    "{sys} & {sys2} 两边一起改，排期好难",
    "**重点**：{thing}要做好，别等出事",
    "订单号 #{n} 这笔卡在{thing}了",
    "if (amount > 0 && status == PAID) 这种判断不够",
    "费率 0.{n}% < 0.6%，还算可以",
    "用 <a href=\"#\">后台</a> 查一下就知道了",
    "`{tech}` 配置错了一个参数_结果全挂",
    "1. {thing} 2. {thing2} 3. 其他 —— 就这三块",
    "A&B 测试之后再定{area}方案",
)
WELCOMES = (
    "欢迎@{nick}?", "欢迎新朋友@{nick}?加入", "欢迎@{nick}?，请先看下群公告",
    "欢迎@{nick} 入群[鼓掌]", "@{nick}?欢迎，记得按规则改群昵称哦",
)
LINK_TITLES = (
    "{org}发布{area}新规，这几点要注意", "一文读懂{area}的{thing}", "{company}{area}系统架构揭秘",
    "深度 | {area}的下半场", "{area}行业报告：{thing}成为新焦点", "&amp;quot;{thing}&amp;quot;到底难在哪",
)
DOMAINS = ("mp.example.net", "news.example.com", "blog.example.org", "tech.example.cn")
FILE_FORMS = ("{area}技术规范.pdf", "{area}接口文档v{n}.docx", "{company}{area}方案.pptx",
              "{thing}处理流程.pdf", "{area}对账文件格式说明.xlsx", "{area}白皮书（{n}版）.pdf")
DIGEST_ITEMS = (
    "{company}宣布完成新一轮融资，将重点投入{area}业务",
    "{org}就{area}中的{thing}发布征求意见稿，要求各机构在规定期限内完成自查",
    "{company}上线新版{area}产品，号称{thing}耗时缩短一半",
    "多家机构因{thing}问题被处罚，{area}合规压力持续加大",
    "业内人士认为，{area}市场将从规模竞争转向精细化运营，{thing}能力成为关键",
    "{company}与{company2}达成战略合作，共同探索{area}场景",
)

OPENINGS = (
    "大家好，我是{name}，目前在{company}负责{position}相关的工作，做支付大概{y}年了。",
    "大家好，我是来自{company}的{name}，很荣幸今天有机会和大家交流。",
    "大家晚上好！先简单做个自我介绍，我叫{name}，在{company}做{position}。",
)
INTROS = (
    "今天和大家分享的主题是“{topic}”，主要分{k}个部分。",
    "今天和大家分享的主题主要是{topic}，内容比较多，我尽量讲快一点。",
    "今天的主题是{topic}，讲的不对的地方欢迎大家指正。",
)
BODY = (
    "先说{thing}。{area}里最容易被忽视的就是{thing}，很多团队等到出问题才补。",
    "第{k}部分讲{thing2}。我们最早的方案是直接在{sys}里处理，后来量上来了就拆到了{sys2}。",
    "这里有个关键点：{thing}必须和{thing2}放在同一个事务边界里，否则对账的时候一定对不上。",
    "从产品角度看，{area}的用户其实是两类：商户和终端用户，两边的诉求经常是冲突的。",
    "我们踩过一个坑：{org}要求的{thing}字段，和{sys}里的定义不一致，上线后才发现。",
    "技术上我们用{tech}来做{thing}，配合{tech2}做补偿，目前日均量级可以支撑。",
    "这张图是我们{area}的整体架构，大家可以看一下，左边是接入层，右边是{sys}。",
    "关于{factor}，我的建议是不要一开始就追求完美，先把{thing}跑通。",
    "另外，{thing}的监控很重要，我们设置了分钟级的报警，出现异常可以第一时间处理。",
    "总结一下这部分：{area}的核心是{thing}，{thing2}是保障，{factor}决定了节奏。",
)
INTERRUPTIONS = ("[强]", "图片有点糊，能发个大图吗", "这个好", "不好意思插一句，{thing}是怎么做的？",
                 "[鼓掌]", "mark", "讲得很清楚")
SIGN_OFFS = ("以上是我的分享，谢谢大家", "分享完毕", "今天的分享就这些，谢谢大家！",
             "以上就是今天的内容，谢谢大家[抱拳]", "我的分享到这里，欢迎大家提问")
THANKS = ("谢谢分享[鼓掌]", "感谢分享", "[强][强][强]", "[鼓掌][鼓掌]", "干货满满", "学习了，谢谢",
          "感谢老师的分享[抱拳]")
QA_QUESTIONS = (
    "请教一下，{thing}这块你们是怎么做的？",
    "刚才提到的{thing2}，能再展开说说吗？",
    "{area}里如果遇到{thing}，一般怎么兜底？",
    "你们{sys}大概多少人在维护？",
    "{org}检查的时候重点看什么？",
)

ANNOUNCEMENT = (
    "今天请到一位朋友，@{nick}{gap}给大家做分享，主题是{qs}{topic}{qe}{sp}开始时间为【{hhmm}】；"
    "欢迎欢迎[鼓掌][鼓掌][鼓掌]！（注： 1.嘉宾分享期间其他人不要发言打断嘉宾分享。"
    "2.分享完成后请大家积极补充和提问；3.烦请领取红包签到，谢谢！)"
)
CORRECTION_PREFIX = "抱歉，更正一下分享主题。"
SIGN_IN_CALL = "在线同学签个到吧，用这个手势： [OK]"
STOP_SIGN_IN = "停止签到"
START_CALL = ("请@{nick}  开始分享", "请@{nick} 开始分享。", "请@{nick}?开始分享")

# content kinds for free chat, weights roughly as observed in real exports
_KINDS = ("text", "sticker", "image", "question", "answer", "long", "mention", "quote",
          "special", "link", "url", "file", "id", "empty", "joke")
_KIND_WEIGHTS = (46, 10, 3, 10, 10, 3, 6, 1.5, 1, 0.5, 0.4, 0.3, 0.25, 0.25, 2)
_KIND_CUM = list(accumulate(_KIND_WEIGHTS))
# hour-of-day weights for free chat
_HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.3, 1, 3, 6, 10, 11, 10, 7, 6, 9, 10, 10, 9, 7, 6,
                 7, 8, 6, 3)
_HOUR_CUM = list(accumulate(_HOUR_WEIGHTS))
_START_TIMES = ((19, 30),) * 14 + ((20, 0),) * 3 + ((20, 30),) * 2 + ((16, 0), (17, 30), (18, 0))

_TS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


def day_filename(day: date) -> str:
    """Jekyll-post style file name of a day's transcript."""
    return f"{day.isoformat()}-WeChat.markdown"


# ---------------------------------------------------------------------------------------
# Data records
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedPerson:
    name: str
    company: str
    position: str
    city: str
    nickname: str  # group nickname, what mentions and quotes use
    header_name: str  # what the exporting phone shows in message headers
    wxid: str
    joined_on: date
    wechat_name: str = ""  # own WeChat nickname (roster NickName); equals nickname if bare
    role: str = "member"  # "owner" | "admin" | "member"


@dataclass
class GeneratedTalk:
    day: date
    speaker: GeneratedPerson
    topic: str  # the final topic (after any correction)
    start: time  # announced/planned start; the speaker's run begins at or after it
    announced: bool  # False: 2017-style (host asks for [OK] then invites the speaker)
    sign_in_names: list[str]  # header names that signed in before start, unique, in order
    host: str = ""  # header name of the admin who announced / hosted
    corrected: bool = False  # a wrong topic was announced first, then corrected
    reposted: bool = False  # another member reposted the announcement verbatim
    run_length: int = 0  # messages in the speaker's run (incl. opening and sign-off)
    sign_off: time | None = None


@dataclass
class GeneratedDay:
    day: date
    text: str
    message_count: int
    talks: list[GeneratedTalk] = field(default_factory=list)
    declared_lines: int | None = None  # the front matter's `lines` (None: key omitted)
    merged_pairs: int = 0  # duplicated (merged-export) message pairs in the day

    @property
    def filename(self) -> str:
        return day_filename(self.day)


# ---------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------


class _Fill(dict):
    """str.format_map helper that draws each slot lazily from the word lists."""

    __slots__ = ("rng",)

    def __init__(self, rng: Random):
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        if key[-1] == "2":  # a "second" slot differs from the first one
            first = self.get(key[:-1])
            while value == first:
                value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> str:
        c = self.rng.choice
        if key in ("area", "area2"):
            return c(AREAS)
        if key in ("thing", "thing2"):
            return c(THINGS)
        if key in ("sys", "sys2"):
            return c(SYSTEMS)
        if key in ("tech", "tech2"):
            return c(TECHS)
        if key == "org":
            return c(ORGS)
        if key == "factor":
            return c(FACTORS)
        if key in ("company", "company2"):
            return c(COMPANIES)
        if key == "n":
            return str(self.rng.randint(2, 99))
        if key == "y":
            return str(self.rng.randint(2, 12))
        if key == "k":
            return "三四五"[self.rng.randrange(3)]
        raise KeyError(key)


class CorpusGenerator:
    """Seeded generator of a group's members and daily transcripts."""

    def __init__(
        self,
        *,
        seed: int = 0,
        members: int = 300,
        group_title: str = "支付技术茶话会",
        epoch: date = date(2017, 5, 1),
        weekday_talk_rate: float = 0.85,
        weekend_talk_rate: float = 0.08,
        unannounced_rate: float = 0.2,
        merged_day_rate: float = 0.02,
        lines_mismatch_rate: float = 0.12,
        digest_rate: float = 0.15,
    ):
        if members < 12:
            raise ValueError("members must be at least 12")
        self.seed = seed
        self.group_title = group_title
        self.epoch = epoch
        self.weekday_talk_rate = weekday_talk_rate
        self.weekend_talk_rate = weekend_talk_rate
        self.unannounced_rate = unannounced_rate
        self.merged_day_rate = merged_day_rate
        self.lines_mismatch_rate = lines_mismatch_rate
        self.digest_rate = digest_rate
        rng = Random(f"people:{seed}")
        self.people: list[GeneratedPerson] = self._make_people(rng, members)
        # heavy-tailed activity: a few talk a lot, most rarely
        self._activity = [1.0 / (1 + i) ** 0.8 for i in range(members)]
        rng.shuffle(self._activity)
        self._activity[0] = max(self._activity)  # the owner is active
        self._by_join = sorted(range(members), key=lambda i: self.people[i].joined_on)
        self._join_dates = [self.people[i].joined_on for i in self._by_join]

    # -- people -------------------------------------------------------------------------

    def _make_people(self, rng: Random, count: int) -> list[GeneratedPerson]:
        people: list[GeneratedPerson] = []
        used: set[str] = set()
        used_wxid: set[str] = set()
        for i in range(count):
            while True:
                name = rng.choice(SURNAMES) + "".join(
                    rng.choice(GIVEN_CHARS) for _ in range(1 if rng.random() < 0.3 else 2)
                )
                if name not in used:
                    used.add(name)
                    break
            company = rng.choice(COMPANIES)
            position = rng.choice(POSITIONS)
            city = rng.choice(CITIES)
            r = rng.random()
            if r < 0.5:
                wechat_name = name
            elif r < 0.85:
                wechat_name = rng.choice(EN_NICKS)  # bare English nicks are shared by several
            elif r < 0.93:
                wechat_name = "??" + name[1:] + ("??" if rng.random() < 0.5 else "")
            else:
                wechat_name = name[0] + "小" + rng.choice(GIVEN_CHARS)
            role = "owner" if i == 0 else "admin" if i <= 3 else "member"
            nickname = self._make_nickname(rng, name, wechat_name, company, position, city, role)
            if role == "owner":
                header = "我"
            elif role == "admin" or nickname == wechat_name:
                header = nickname
            else:
                header = nickname if rng.random() < 0.6 else wechat_name
            while True:
                if rng.random() < 0.8:
                    wxid = "wxid_" + "".join(rng.choice(_ALNUM) for _ in range(14))
                else:
                    wxid = rng.choice(("pay", "fin", "dev", "pm", "acc")) + "".join(
                        rng.choice(_ALNUM) for _ in range(rng.randint(5, 9))
                    )
                if wxid not in used_wxid:
                    used_wxid.add(wxid)
                    break
            if i <= 3:  # the owner and admins founded the group
                joined = self.epoch - timedelta(days=rng.randint(21, 40))
            elif rng.random() < 0.4:
                joined = self.epoch - timedelta(days=rng.randint(0, 20))
            else:
                joined = self.epoch + timedelta(days=rng.randint(1, 540))
            people.append(
                GeneratedPerson(
                    name=name, company=company, position=position, city=city,
                    nickname=nickname, header_name=header, wxid=wxid, joined_on=joined,
                    wechat_name=wechat_name, role=role,
                )
            )
        return people

    @staticmethod
    def _make_nickname(rng: Random, name: str, wechat: str, company: str, position: str,
                       city: str, role: str) -> str:
        sep = rng.choice(SEPARATORS)
        r = rng.random() if role == "member" else rng.random() * 0.6
        if r < 0.42:
            parts = [name, company, position, city]
            if rng.random() < 0.1 and city in CITY_ABBR:
                parts[3] = CITY_ABBR[city]
        elif r < 0.62:
            parts = [name, company, position]
        elif r < 0.70:
            parts = [name, company + position]
        elif r < 0.76:
            parts = [wechat if wechat.isascii() else name + rng.choice(EN_NICKS),
                     company, position, city]
        elif r < 0.81:
            return f"{name} {company} {position}" + (" " if rng.random() < 0.2 else "")
        elif r < 0.86:
            return f"{company}{position}-{name}"
        elif r < 0.88:
            return f"{name}（{company}）"
        else:
            return wechat  # never set a group nickname
        nick = sep.join(parts)
        return nick

    # -- roster -------------------------------------------------------------------------

    def roster_csv(self, *, encoding: str = "utf-8", until: date | None = None) -> bytes:
        """Member list as exported from the phone: one row per member (with ``until``, per
        member who had joined by that day: an export cannot list people who join later)."""
        rng = Random(f"roster:{self.seed}")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["NickName", "DisplayName", "RemarkName", "UserName", "JoinedAt", "Sex"])
        for p in self.people:
            if until is not None and p.joined_on > until:
                continue
            display = "" if p.nickname == p.wechat_name else p.nickname
            remark = f"{p.name}-{p.company}" if rng.random() < 0.2 else ""
            w.writerow([p.wechat_name, display, remark, p.wxid, p.joined_on.isoformat(),
                        rng.choice("0112")])
        return buf.getvalue().encode(encoding, errors="replace")

    # -- days ---------------------------------------------------------------------------

    def days(self, *, start: date, count: int, messages_per_day: int) -> Iterator[GeneratedDay]:
        for k in range(count):
            yield self.day(start + timedelta(days=k), messages_per_day)

    def _eligible(self, day: date) -> list[int]:
        n = bisect_right(self._join_dates, day)
        return self._by_join[: max(n, 12)]

    def day(self, day: date, messages: int) -> GeneratedDay:
        """Generate one day with (exactly) ``messages`` messages."""
        rng = Random(f"day:{self.seed}:{day.isoformat()}")
        return _DayBuilder(self, rng, day, max(0, messages)).build()


class _DayBuilder:
    def __init__(self, gen: CorpusGenerator, rng: Random, day: date, n: int):
        self.g = gen
        self.rng = rng
        self.day = day
        self.n = n
        self.fill = _Fill(rng)
        # (sec, order, header name, content, trailing blanks, person or None)
        self.events: list[tuple[int, int, str, str, str, GeneratedPerson | None]] = []
        self.order = 0
        elig = gen._eligible(day)
        self.pool = [gen.people[i] for i in elig]
        self.cum = list(accumulate(gen._activity[i] for i in elig))
        self.members = [p for p in self.pool if p.role == "member"]
        self.admins = [p for p in self.pool if p.role != "member"]
        self.recent: list[tuple[str, str]] = []  # (nickname, text) for quotes

    # helpers
    def emit(self, sec: int, who: GeneratedPerson, text: str, tail: str = "  ") -> None:
        if sec > 86399:
            sec = 86399
        self.events.append((sec, self.order, who.header_name, text, tail, who))
        self.order += 1

    def someone(self, exclude: GeneratedPerson | None = None) -> GeneratedPerson:
        while True:
            p = self.rng.choices(self.pool, cum_weights=self.cum)[0]
            if p is not exclude:
                return p

    def image(self, sec: int) -> str:
        d = self.day
        ts = _TS[sec]
        return (f"![{d.isoformat()} {ts}](http://static.example.org/img/"
                f"{d:%Y%m}/{d:%Y%m%d}_{ts.replace(':', '')}.png)")

    def f(self, template: str, **fixed: str) -> str:
        fill = self.fill
        fill.clear()
        if fixed:
            fill.update(fixed)
        return template.format_map(fill)

    def topic(self) -> tuple[str, str]:
        """A talk topic and the payment area it is about."""
        rng = self.rng
        area = rng.choice(AREAS)
        return rng.choice(TOPIC_FORMS).format(a=area, b=rng.choice(ASPECTS), t=rng.choice(THINGS)), area

    # build
    def build(self) -> GeneratedDay:
        g, rng, n, day = self.g, self.rng, self.n, self.day
        merged = n >= 20 and rng.random() < g.merged_day_rate
        base = n if not merged else max((n + 1) // 2, int(n * 0.56))
        talks: list[GeneratedTalk] = []
        blocked: tuple[int, int] | None = None
        weekend = day.weekday() >= 5
        talk_rate = g.weekend_talk_rate if weekend else g.weekday_talk_rate
        if base >= 40 and len(self.members) >= 8 and rng.random() < talk_rate:
            talk, blocked = self.talk(base)
            talks.append(talk)
        self.welcomes(base)
        if rng.random() < g.digest_rate and len(self.events) < base:
            self.emit(rng.randint(6 * 3600, 9 * 3600), self.someone(), self.digest())
        self.chat(base - len(self.events), blocked)
        self.events.sort()
        body, count, pairs = self.render(merged, n)
        header, declared = self.front_matter(talks, count)
        return GeneratedDay(day=day, text=header + body, message_count=count, talks=talks,
                            declared_lines=declared, merged_pairs=pairs)

    def front_matter(self, talks: list[GeneratedTalk], count: int) -> tuple[str, int | None]:
        g, rng, d = self.g, self.rng, self.day.isoformat()
        old = (bool(talks) and not talks[0].announced and rng.random() < 0.7) or rng.random() < 0.04
        author = "PaymentGroup"
        if talks and rng.random() < 0.93:
            author = talks[0].speaker.header_name
        lines = [
            "---",
            "layout:     source ",
            f'title:      "{d}-WeChat"',
            f"date:       {d} 12:00:00",
        ]
        declared: int | None
        if old:
            lines.append(f'author:     "{author}"')
            declared = None
        else:
            lines.append(f"author:     {author}")
            declared = count
            if count > 5 and rng.random() < g.lines_mismatch_rate:
                declared = count - rng.randint(1, max(1, count // 15))
            lines.append(f"lines:      {declared} ")
        lines.append("tag:\t\t  [chat]" if rng.random() < 0.8 else "tag:       [chat]")
        if old or rng.random() < 0.03:
            lines.append('header-img: "img/post-bg-groupchat.jpg"')
        lines.append("---")
        return "\n".join(lines) + "\n", declared

    def render(self, merged: bool, n: int) -> tuple[str, int, int]:
        events = self.events
        dup: set[int] = set()
        if merged:
            extra = n - len(events)
            if 0 < extra <= len(events):
                dup = set(self.rng.sample(range(len(events)), extra))
        out = []
        ap = out.append
        for i, (sec, _o, name, text, tail, who) in enumerate(events):
            ts = _TS[sec]
            ap(f"> {ts}  {name}  \n   \n{text}{tail}\n   \n")
            if i in dup:
                # the second phone's copy: same time and text, under the other name
                ap(f"> {ts}  {_other_name(who)}  \n   \n{text}{tail}\n   \n")
        return "".join(out), len(events) + len(dup), len(dup)

    # -- talk ---------------------------------------------------------------------------

    def talk(self, budget: int) -> tuple[GeneratedTalk, tuple[int, int]]:
        g, rng = self.g, self.rng
        speaker = rng.choice(self.members)
        host = rng.choice(self.admins)
        h, m = rng.choice(_START_TIMES)
        start = h * 3600 + m * 60
        topic, area = self.topic()
        announced = rng.random() >= g.unannounced_rate
        n_sign = min(rng.randint(8, 60), max(3, budget // 8))
        run_len = min(rng.randint(15, 80), max(15, budget // 4))
        n_qa = min(rng.randint(4, 24), max(2, budget // 10))
        signers = self.pick_distinct(n_sign, exclude=(speaker, host))
        corrected = reposted = False
        sign_names: list[str] = []
        if announced:
            ann_at = rng.randint(max(8 * 3600, start - 10 * 3600), start - 40 * 60)
            nick = speaker.nickname
            if rng.random() < 0.06:
                corrected = True
                self.emit(ann_at, host, self.announcement(nick, self.topic()[0], h, m))
                ann_at += rng.randint(120, 1200)
                self.emit(ann_at, host, CORRECTION_PREFIX + self.announcement(nick, topic, h, m))
                final = self.events[-1][3][len(CORRECTION_PREFIX):]
            else:
                final = self.announcement(nick, topic, h, m)
                self.emit(ann_at, host, final)
            if rng.random() < 0.3:
                reposted = True
                self.emit(ann_at + rng.randint(5, 300), self.someone(exclude=speaker), final)
            window = (ann_at + 1, start - 1)
        else:
            call_at = start - rng.randint(10 * 60, 18 * 60)
            self.emit(call_at, host, SIGN_IN_CALL)
            window = (call_at + 1, start - 1)
        # sign-ins, crowded towards the start time
        lo, hi = window
        times = sorted(
            hi - int((hi - lo) * rng.random() ** 2.5) if rng.random() < 0.7 else rng.randint(lo, hi)
            for _ in signers
        )
        for sec, p in zip(times, signers, strict=True):
            self.emit(sec, p, "[OK]" if not announced and rng.random() < 0.85
                      else rng.choice(SIGN_INS))
            sign_names.append(p.header_name)
            if rng.random() < 0.04:  # signs in twice; counts once
                self.emit(min(hi, sec + rng.randint(1, 30)), p, "签到")
        if rng.random() < (0.4 if announced else 0.7):
            self.emit(start - rng.randint(0, 1), host, STOP_SIGN_IN)
        # keep late talks inside the day: shrink the gaps if needed
        expected = run_len * 62 + n_qa * 160 + 200
        scale = min(1.0, (86399 - start) * 0.9 / expected)

        def gap(lo: int, hi: int) -> int:
            return max(1, int(rng.randint(lo, hi) * scale))

        t = start + rng.randint(0, 90)
        if not announced:
            self.emit(t, host, rng.choice(START_CALL).format(nick=speaker.nickname))
            t += gap(3, 40)
        # the speaker's run
        fill = self.fill
        fill.clear()
        first = self.f(rng.choice(OPENINGS).replace("{name}", speaker.name)
                       .replace("{company}", speaker.company).replace("{position}", speaker.position))
        self.emit(t, speaker, first)
        t += gap(10, 60)
        self.emit(t, speaker, self.f(rng.choice(INTROS).replace("{topic}", topic), area=area))
        interrupts = set(rng.sample(range(2, run_len), min(rng.randint(0, 3), run_len - 2)))
        for k in range(2, run_len - 1):
            t += gap(15, 95)
            if k in interrupts:
                self.emit(t, self.someone(exclude=speaker), self.f(rng.choice(INTERRUPTIONS)))
                t += gap(3, 20)
            if rng.random() < 0.16:
                self.emit(t, speaker, self.image(min(t, 86399)), " ")
                if rng.random() < 0.3:  # text and image in the same second
                    self.emit(t, speaker, self.f(rng.choice(BODY), area=area))
            else:
                self.emit(t, speaker, self.f(rng.choice(BODY), area=area))
        t += gap(15, 60)
        self.emit(t, speaker, rng.choice(SIGN_OFFS))
        sign_off = min(t, 86399)
        # Q&A
        nick = speaker.nickname
        for k in range(n_qa):
            t += gap(5, 120)
            r = rng.random() if k else 0.0  # the first one is always a question
            if r < 0.45:
                q = self.someone(exclude=speaker)
                self.emit(t, q, f"@{nick}{rng.choice(('?', ' ', '?'))}" + self.f(rng.choice(QA_QUESTIONS)))
                t += gap(20, 180)
                ans = self.f(rng.choice(ANSWERS))
                if rng.random() < 0.5:
                    ans = f"@{q.nickname} {ans}"
                self.emit(t, speaker, ans)
            elif r < 0.85:
                self.emit(t, self.someone(exclude=speaker), rng.choice(THANKS))
            else:
                self.emit(t, self.someone(exclude=speaker), self.f(rng.choice(ANSWERS)))
        talk = GeneratedTalk(
            day=self.day, speaker=speaker, topic=topic, start=time(h, m), announced=announced,
            sign_in_names=list(dict.fromkeys(sign_names)), host=host.header_name,
            corrected=corrected, reposted=reposted, run_length=run_len, sign_off=_sec_time(sign_off),
        )
        return talk, (start - 60, sign_off + 1)

    def announcement(self, nick: str, topic: str, h: int, m: int) -> str:
        rng = self.rng
        qs, qe = rng.choice((("“", "”"), ("“", "”"), ("“", "”"), ('"', '"'), ("「", "」")))
        return ANNOUNCEMENT.format(
            nick=nick, gap=rng.choice((" ", " ", "?", "  ")), qs=(" " + qs) if rng.random() < 0.7 else qs,
            topic=topic, qe=qe, sp=rng.choice((" ", "", "，")), hhmm=f"{h:02d}:{m:02d}",
        )

    def pick_distinct(self, k: int, exclude: tuple[GeneratedPerson, ...]) -> list[GeneratedPerson]:
        seen: set[str] = {p.header_name for p in exclude}
        out: list[GeneratedPerson] = []
        tries = 0
        while len(out) < k and tries < k * 6:
            tries += 1
            p = self.someone()
            if p.header_name not in seen:
                seen.add(p.header_name)
                out.append(p)
        return out

    # -- free chat ----------------------------------------------------------------------

    def welcomes(self, budget: int) -> None:
        rng = self.rng
        new = [p for p in self.pool if p.joined_on == self.day]
        for p in new:
            if len(self.events) + 2 > budget:
                return
            sec = rng.randint(8 * 3600, 22 * 3600)
            who = rng.choice(self.admins) if rng.random() < 0.6 else self.someone(exclude=p)
            self.emit(sec, who, rng.choice(WELCOMES).format(nick=p.nickname))
            if rng.random() < 0.5:
                self.emit(sec + rng.randint(5, 120), p, rng.choice(("谢谢", "大家好", "谢谢群主",
                                                                     "大家好，请多关照[抱拳]")))

    def digest(self) -> str:
        rng = self.rng
        target = rng.randint(2000, 6000)
        parts = [f"【支付资讯早班车】{self.day.month}月{self.day.day}日 "]
        size = len(parts[0])
        k = 1
        while size < target:
            s = f"{k}、" + self.f(rng.choice(DIGEST_ITEMS)) + "；"
            parts.append(s)
            size += len(s)
            k += 1
        parts.append("（以上内容整理自公开报道，仅供参考）")
        return "".join(parts)

    def chat(self, n: int, blocked: tuple[int, int] | None) -> None:
        if n <= 0:
            return
        rng = self.rng
        rand = rng.random
        choice = rng.choice
        hours = rng.choices(range(24), cum_weights=_HOUR_CUM, k=n)
        secs = []
        b0, b1 = blocked if blocked else (-1, -1)
        for h in hours:
            s = h * 3600 + int(rand() * 3600)
            tries = 0
            while b0 <= s < b1 and tries < 4:
                s = rng.choices(range(24), cum_weights=_HOUR_CUM)[0] * 3600 + int(rand() * 3600)
                tries += 1
            if b0 <= s < b1:
                s = b1 + int(rand() * (86400 - b1)) if b1 < 86400 else int(rand() * b0)
            secs.append(s)
        secs.sort()
        kinds = rng.choices(_KINDS, cum_weights=_KIND_CUM, k=n)
        people = rng.choices(self.pool, cum_weights=self.cum, k=n)
        f = self.f
        prev = people[0]
        recent = self.recent
        emit = self.emit
        weekendish = self.day.weekday() >= 4
        for sec, kind, who in zip(secs, kinds, people, strict=True):
            if rand() < 0.35:
                who = prev  # runs of messages by one sender
            prev = who
            tail = "  "
            if kind == "text":
                r = rand()
                if r < 0.2 and sec < 37800:
                    text = choice(MORNING)
                elif r < 0.15 and sec > 79200:
                    text = choice(EVENING)
                elif r < 0.05 and weekendish:
                    text = choice(WEEKEND)
                else:
                    text = f(choice(CHATTER))
                if rand() < 0.2:
                    text += choice(STICKERS)
            elif kind == "sticker":
                text = choice(STICKERS) * (1 if rand() < 0.7 else rng.randint(2, 3))
            elif kind == "question":
                text = f(choice(QUESTIONS))
            elif kind == "answer":
                text = f(choice(ANSWERS))
                if rand() < 0.05:
                    text += "。 "  # content that itself ends in a blank
            elif kind == "long":
                text = f(choice(LONG_TEXTS))
            elif kind == "joke":
                text = f(choice(JOKES))
            elif kind == "mention":
                other = self.someone(exclude=who)
                if rand() < 0.15:
                    text = choice(WELCOMES).format(nick=other.nickname)
                else:
                    text = f"@{other.nickname}{choice(('?', '?', ' '))}" + f(
                        choice(QUESTIONS) if rand() < 0.5 else choice(ANSWERS))
            elif kind == "quote":
                if recent:
                    qn, qt = choice(recent)
                    colon = ":" if rand() < 0.7 else "："
                    text = (f"「{qn}{colon}{qt}」 - - - - - - - - - - - - - - - "
                            + f(choice(ANSWERS) if rand() < 0.6 else choice(CHATTER)))
                else:
                    text = f(choice(ANSWERS))
            elif kind == "special":
                text = f(choice(SPECIALS))
            elif kind == "image":
                text = self.image(sec)
                tail = " "
            elif kind == "link":
                amp = "&amp;amp;" if rand() < 0.7 else "&amp;amp;amp;"
                biz = "".join(choice(_ALNUM) for _ in range(12))
                text = (f"[{f(choice(LINK_TITLES))}](http://{choice(DOMAINS)}/s?__biz={biz}=="
                        f"{amp}mid={rng.randint(10**8, 10**9)}{amp}idx=1{amp}sn="
                        f"{''.join(choice(_ALNUM) for _ in range(16))}#rd)")
            elif kind == "url":
                text = (f"https://{choice(DOMAINS)}/{choice(('articles', 'p', 'wiki', 'docs'))}/"
                        f"{rng.randint(1000, 99999)}.html")
            elif kind == "file":
                text = f(choice(FILE_FORMS))
            elif kind == "id":
                text = who.wxid + ":"
            else:  # empty: the export wrote an empty content cell
                text = ""
            if kind in ("question", "answer", "long") and len(recent) < 40:
                recent.append((who.nickname, text.rstrip()))
            elif kind in ("question", "answer", "long"):
                recent[rng.randrange(40)] = (who.nickname, text.rstrip())
            emit(sec, who, text, tail)


def _other_name(p: GeneratedPerson) -> str:
    """The name a second exporting phone shows for ``p`` (merged-export days)."""
    if p.role == "owner":
        return p.name if p.header_name == "我" else "我"
    return p.wechat_name if p.header_name == p.nickname else p.nickname


def _sec_time(sec: int) -> time:
    return time(sec // 3600, sec // 60 % 60, sec % 60)


# ---------------------------------------------------------------------------------------
# Writing a corpus
# ---------------------------------------------------------------------------------------


def write_corpus(out_dir: Path, *, seed: int, days: int, messages_per_day: int, start: date,
                 members: int = 300) -> list[Path]:
    """Write one ``YYYY-MM-DD-WeChat.markdown`` per day plus ``roster.csv`` into ``out_dir``.

    Returns the day files' paths (in date order); the roster is ``out_dir / "roster.csv"``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gen = CorpusGenerator(seed=seed, members=members)
    paths: list[Path] = []
    for gd in gen.days(start=start, count=days, messages_per_day=messages_per_day):
        p = out_dir / gd.filename
        p.write_bytes(gd.text.encode("utf-8"))
        paths.append(p)
    (out_dir / "roster.csv").write_bytes(gen.roster_csv())
    return paths


def large_roster_csv(rows: int) -> bytes:
    """A member list of ``rows`` distinct members, as large as wanted (the roster benchmark and
    the test of a long roster beside web writes): WeChat ids ``wxid_0000000``…, own nicknames
    ``微信N``, group nicknames ``成员N-某支付K-产品-上海`` (name, company, role, city), joined in
    January 2019."""
    lines = ["UserName,NickName,DisplayName,JoinedAt"]
    lines += [f"wxid_{n:07d},微信{n},成员{n}-某支付{n % 50}-产品-上海,2019-01-{1 + n % 28:02d}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m importer.generator",
                                 description="Generate synthetic WeChat group transcripts.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--messages-per-day", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--members", type=int, default=300)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2018, 1, 1),
                    help="first day, YYYY-MM-DD (default 2018-01-01)")
    args = ap.parse_args(argv)
    t0 = _time.perf_counter()
    paths = write_corpus(args.out_dir, seed=args.seed, days=args.days,
                         messages_per_day=args.messages_per_day, start=args.start,
                         members=args.members)
    dt = _time.perf_counter() - t0
    total = args.days * args.messages_per_day
    print(f"wrote {len(paths)} day files (~{total} messages) and roster.csv to {args.out_dir} "
          f"in {dt:.1f}s ({total / dt if dt else 0:,.0f} messages/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
