"""A group's member directory: who may read it, what members and admins see (the reduced and
the full view), search, filters, order, pages, names kept as text, and its query count."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from community.models import MembershipRole, MembershipStatus, Name, NameSource, RecordedDay
from tests.factories import at, client_for, make_cast, make_group, make_member, make_membership
from tests.pages import html_without_tokens

pytestmark = pytest.mark.django_db

URL = reverse("member_directory", kwargs={"group_slug": "prodarch"})
MEMBER_COLUMNS = ["nickname", "name", "company", "city", "role", "last-message", "shares-given", "talks-hosted", "sign-ins"]
ADMIN_COLUMNS = ["nickname", "name", "company", "city", "role", "status", "wechat", "last-message", "days-silent",
                 "message-count", "shares-given", "talks-hosted", "next-share", "sign-ins", "exemption", "nickname-form"]


@pytest.fixture
def world():
    return make_cast()


class _Table(HTMLParser):
    """The directory as the reader sees it: one dict per member row, cell class → text."""

    def __init__(self):
        super().__init__()
        self.rows, self.headers, self._cell, self._in_head = [], [], None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and "member-row" in (attrs.get("class") or ""):
            self.rows.append({})
        elif tag in ("td", "th") and self._in_head:
            self.headers.append("")
            self._cell = "header"
        elif tag in ("td", "th") and self.rows:
            self._cell = attrs.get("class", "").split()[0]
            self.rows[-1][self._cell] = ""

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell == "header":
            self.headers[-1] += data
        elif self._cell:
            self.rows[-1][self._cell] += data

    @classmethod
    def of(cls, response):
        table = cls()
        table.feed(response.content.decode())
        table.rows = [{key: " ".join(value.split()) for key, value in row.items()} for row in table.rows]
        return table


def nicknames(response):
    return [row["nickname"] for row in _Table.of(response).rows]


def get(client, **params):
    return client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


# --- who may read it ---

@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", "login"), ("member", 200), ("outsider", 403), ("speaker", 200), ("admin", 200),
    ("other_admin", 403), ("staff", 200),
])
def test_directory_permissions(world, role, expected):
    response = client_for(world, role).get(URL)

    assert (response.status_code, getattr(response, "url", None)) == (
        (302, "/accounts/login/?next=" + URL) if expected == "login" else (expected, None)
    )


def test_directory_of_an_unknown_group_is_404(world):
    response = client_for(world, "staff").get(reverse("member_directory", kwargs={"group_slug": "nope"}))

    assert response.status_code == 404


def test_directory_is_403_for_a_removed_member(world):
    world.member.membership.status = MembershipStatus.REMOVED
    world.member.membership.save()

    assert client_for(world, "member").get(URL).status_code == 403


# --- what members and admins see ---

@pytest.fixture
def directory_world(world):
    """The cast's group with facts on every membership, a removed and a pending member, and a
    member of the other group only."""
    speaker = world.speaker.membership
    speaker.member.name, speaker.member.company, speaker.member.city = "李东衡", "关天数据", "上海"
    speaker.member.position, speaker.member.wechat_id = "产品", "wxid_li"
    speaker.member.save()
    # 23:30 in Shanghai on May 20th: 15:30 UTC the same day.
    speaker.last_message_at, speaker.message_count = at("2018-05-20", "23:30"), 42
    speaker.shares_given, speaker.sign_in_count = 2, 7
    speaker.next_share_at = at("2018-07-02", "20:00")
    speaker.save()
    member = world.member.membership
    member.member.name, member.member.company, member.member.position = "王芳", "云汇支付", "架构"
    member.member.save()
    # 00:30 in Shanghai on June 1st is still May 31st in UTC: the group's day is June 1st.
    member.last_message_at, member.message_count, member.sign_in_count = at("2018-06-01", "00:30"), 3, 1
    member.exempt_until, member.exempt_reason = dt.date(2018, 8, 1), "出国"
    member.save()
    removed = make_membership(world.group, make_member("陈被移出", name="陈", company="某支付", wechat_id="wxid_chen"),
                              status=MembershipStatus.REMOVED, nickname="陈被移出-某支付-运营", message_count=1)
    pending = make_membership(world.group, make_member("待入群的人"), status=MembershipStatus.PENDING, nickname="新人")
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 6, 30))
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 6, 10))
    RecordedDay.objects.create(group=world.other_group, day=dt.date(2018, 12, 31))
    return world, removed, pending


def test_directory_members_see_the_active_members_without_status_or_evidence(directory_world):
    world, removed, _pending = directory_world

    response = get(client_for(world, "member"))

    table = _Table.of(response)
    assert table.headers == ["group nickname", "name", "company", "city", "position", "last message", "shares given",
                             "talks hosted", "sign-ins"]
    assert table.rows == [
        {"nickname": "周明远-群主", "name": "", "company": "", "city": "", "role": "owner", "last-message": "never",
         "shares-given": "0", "talks-hosted": "0", "sign-ins": "0"},
        {"nickname": "李东衡-关天数据-产品-上海", "name": "李东衡", "company": "关天数据", "city": "上海", "role": "产品",
         "last-message": "2018-05-20", "shares-given": "2", "talks-hosted": "0", "sign-ins": "7"},
        {"nickname": "王芳-云汇支付-架构", "name": "王芳", "company": "云汇支付", "city": "", "role": "架构",
         "last-message": "2018-06-01", "shares-given": "0", "talks-hosted": "0", "sign-ins": "1"},
    ]
    html = html_without_tokens(response)
    # Links carry database ids, which may contain any digits: the message count is looked for outside them.
    html_without_links = re.sub(r'href="[^"]*"', "", html)
    for hidden in ["陈被移出", "新人", "wxid_li", "status", "42", "出国", "2018-07-02", "days silent"]:
        assert hidden not in html_without_links
    assert f'href="{reverse("member_profile", kwargs={"pk": world.speaker.member.pk})}"' in html
    assert response.context["filter"].form.fields.keys() == {"q", "role", "position", "city", "company", "sort"}


def test_directory_admins_see_every_membership_with_status_and_evidence(directory_world):
    world, removed, pending = directory_world

    response = get(client_for(world, "admin"))

    table = _Table.of(response)
    assert table.headers == ["group nickname", "name", "company", "city", "position", "status", "WeChat id",
                             "last message", "days silent", "messages", "shares given", "talks hosted", "next scheduled share",
                             "sign-ins", "exemption", "nickname form"]
    assert [list(row) for row in table.rows] == [ADMIN_COLUMNS] * 5
    assert table.rows == [
        {"nickname": "周明远-群主", "name": "", "company": "", "city": "", "role": "owner", "status": "active",
         "wechat": "", "last-message": "never", "days-silent": "—", "message-count": "0", "shares-given": "0", "talks-hosted": "0",
         "next-share": "—", "sign-ins": "0", "exemption": "—", "nickname-form": "✗ does not follow"},
        {"nickname": "新人", "name": "", "company": "", "city": "", "role": "", "status": "pending",
         "wechat": "", "last-message": "never", "days-silent": "—", "message-count": "0", "shares-given": "0", "talks-hosted": "0",
         "next-share": "—", "sign-ins": "0", "exemption": "—", "nickname-form": "✗ does not follow"},
        {"nickname": "李东衡-关天数据-产品-上海", "name": "李东衡", "company": "关天数据", "city": "上海", "role": "产品",
         "status": "active", "wechat": "wxid_li", "last-message": "2018-05-20", "days-silent": "41", "message-count": "42",
         "shares-given": "2", "talks-hosted": "0", "next-share": "2018-07-02 20:00", "sign-ins": "7", "exemption": "—",
         "nickname-form": "✓ follows"},
        {"nickname": "王芳-云汇支付-架构", "name": "王芳", "company": "云汇支付", "city": "", "role": "架构",
         "status": "active", "wechat": "", "last-message": "2018-06-01", "days-silent": "29", "message-count": "3",
         "shares-given": "0", "talks-hosted": "0", "next-share": "—", "sign-ins": "1", "exemption": "until 2018-08-01: 出国",
         "nickname-form": "✓ follows"},
        {"nickname": "陈被移出-某支付-运营", "name": "陈", "company": "某支付", "city": "", "role": "", "status": "removed",
         "wechat": "wxid_chen", "last-message": "never", "days-silent": "—", "message-count": "1", "shares-given": "0", "talks-hosted": "0",
         "next-share": "—", "sign-ins": "0", "exemption": "—", "nickname-form": "✓ follows"},
    ]
    assert response.context["as_of"] == dt.date(2018, 6, 30)
    assert "evidence as of the last recorded day, 2018-06-30" in response.content.decode()
    assert "status" in response.context["filter"].form.fields


def test_directory_staff_see_the_full_view(directory_world):
    world, removed, pending = directory_world

    response = get(client_for(world, "staff"))

    assert len(_Table.of(response).rows) == 5
    assert list(_Table.of(response).rows[0]) == ADMIN_COLUMNS


def test_directory_days_silent_without_a_recorded_day_is_unknown(world):
    world.member.membership.last_message_at = at("2018-06-01", "12:00")
    world.member.membership.save()

    rows = _Table.of(get(client_for(world, "admin"))).rows

    assert [(row["nickname"], row["last-message"], row["days-silent"]) for row in rows] == [
        ("周明远-群主", "never", "—"), ("李东衡-关天数据-产品-上海", "never", "—"), ("王芳-云汇支付-架构", "2018-06-01", "—"),
    ]


# --- search, filters, order ---

def test_directory_search_over_nickname_name_and_company(directory_world):
    world, removed, _pending = directory_world
    client = client_for(world, "member")

    assert nicknames(get(client, q="群主")) == ["周明远-群主"]
    assert nicknames(get(client, q="王芳")) == ["王芳-云汇支付-架构"]
    assert nicknames(get(client, q="关天")) == ["李东衡-关天数据-产品-上海"]
    assert nicknames(get(client, q="支付")) == ["王芳-云汇支付-架构"]
    assert nicknames(get(client, q="陈")) == []
    assert nicknames(get(client_for(world, "admin"), q="陈")) == ["陈被移出-某支付-运营"]


def test_directory_search_ignores_names_seen_in_other_groups(world):
    Name.objects.create(member=world.member.member, group=world.other_group, name="秘密别名", normalized="秘密别名",
                        source=NameSource.HEADER)

    response = get(client_for(world, "admin"), q="秘密别名")

    assert nicknames(response) == []
    assert "No member matches." in response.content.decode()


def test_directory_filters_by_role_position_city_and_company(directory_world):
    world, _removed, _pending = directory_world
    client = client_for(world, "member")

    assert nicknames(get(client, role="owner")) == ["周明远-群主"]
    assert nicknames(get(client, role="member")) == ["李东衡-关天数据-产品-上海", "王芳-云汇支付-架构"]
    assert nicknames(get(client, position="架构")) == ["王芳-云汇支付-架构"]
    assert nicknames(get(client, city="上海")) == ["李东衡-关天数据-产品-上海"]
    assert nicknames(get(client, company="云汇")) == ["王芳-云汇支付-架构"]
    assert nicknames(get(client, company="支付", role="owner")) == []


def test_directory_status_filter_is_for_admins_only(directory_world):
    world, _removed, _pending = directory_world

    admin_view = get(client_for(world, "admin"), status="removed")
    member_view = get(client_for(world, "member"), status="removed")

    assert nicknames(admin_view) == ["陈被移出-某支付-运营"]
    assert nicknames(get(client_for(world, "admin"), status="pending")) == ["新人"]
    # Members have no status filter: the parameter is ignored and the removed member stays out.
    assert nicknames(member_view) == ["周明远-群主", "李东衡-关天数据-产品-上海", "王芳-云汇支付-架构"]


def test_directory_an_unknown_filter_value_is_explained_not_an_error(directory_world):
    world, _removed, _pending = directory_world

    response = get(client_for(world, "member"), role="king", sort="messages")

    assert response.status_code == 200
    assert nicknames(response) == ["周明远-群主", "李东衡-关天数据-产品-上海", "王芳-云汇支付-架构"]
    assert set(response.context["filter"].errors) == {"role", "sort"}
    assert "Select a valid choice. king is not one of the available choices." in response.content.decode()


@pytest.mark.parametrize(("sort", "role", "expected"), [
    ("nickname", "member", ["周明远-群主", "李东衡-关天数据-产品-上海", "王芳-云汇支付-架构"]),
    ("last_message", "member", ["王芳-云汇支付-架构", "李东衡-关天数据-产品-上海", "周明远-群主"]),
    ("shares_given", "member", ["李东衡-关天数据-产品-上海", "周明远-群主", "王芳-云汇支付-架构"]),
    ("sign_ins", "member", ["李东衡-关天数据-产品-上海", "王芳-云汇支付-架构", "周明远-群主"]),
    ("messages", "admin", ["李东衡-关天数据-产品-上海", "王芳-云汇支付-架构", "陈被移出-某支付-运营", "周明远-群主", "新人"]),
])
def test_directory_sorts(directory_world, sort, role, expected):
    world, _removed, _pending = directory_world

    assert nicknames(get(client_for(world, role), sort=sort)) == expected


# --- pages ---

def test_directory_has_fifty_members_a_page_and_keeps_the_search_in_page_links(world):
    for n in range(117):
        make_membership(world.group, make_member(f"会员{n:03d}"), nickname=f"会员{n:03d}-某公司-产品")
    client = client_for(world, "member")

    first = get(client, q="会员")
    third = get(client, q="会员", page=3)
    beyond = get(client, q="会员", page=99)

    assert nicknames(first) == [f"会员{n:03d}-某公司-产品" for n in range(50)]
    assert nicknames(third) == [f"会员{n:03d}-某公司-产品" for n in range(100, 117)]
    assert nicknames(beyond) == nicknames(third)
    html = first.content.decode()
    assert "117 members" in html
    assert "page 1 of 3" in html
    assert '<a rel="next" href="?q=%E4%BC%9A%E5%91%98&amp;page=2">' in html
    assert '<a rel="prev" href="?q=%E4%BC%9A%E5%91%98&amp;page=2">' in third.content.decode()


# --- names are text ---

def test_directory_renders_names_as_text(world):
    attacker = make_member("<script>alert(1)</script>", name="<img src=x onerror=alert(2)>", company='"><b>x</b>')
    make_membership(world.group, attacker, nickname="<script>alert(1)</script>")

    html = get(client_for(world, "admin")).content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in html
    assert '<td class="name" data-label="name">&lt;img src=x onerror=alert(2)&gt;</td>' in html
    assert '&quot;&gt;&lt;b&gt;x&lt;/b&gt;' in html


# --- queries ---

@pytest.mark.parametrize("items", [1, 3])
@pytest.mark.parametrize(("role", "queries"), [
    # session, user, the group with the user's member and role, count, the page
    ("member", 5),
    # the same, and the group's last recorded day
    ("admin", 6),
    # session, user, group, count, the page, the last recorded day
    ("staff", 6),
])
def test_directory_query_count(world, django_assert_num_queries, items, role, queries):
    other = make_group(slug="third")
    for n in range(items):
        member = make_member(f"新成员{n}", company="支付", city="北京")
        make_membership(world.group, member, role=MembershipRole.ADMIN if n == 0 else MembershipRole.MEMBER,
                        last_message_at=at("2018-05-20"), exempt_until=dt.date(2018, 9, 1), exempt_reason="休假")
        make_membership(other, member)
        Name.objects.create(member=member, group=world.group, name=f"别名{n}", normalized=f"别名{n}",
                            source=NameSource.HEADER)
    RecordedDay.objects.create(group=world.group, day=dt.date(2018, 6, 1))
    client = client_for(world, role)

    with django_assert_num_queries(queries):
        response = client.get(URL, {"company": "支付", "sort": "last_message"})

    assert len(response.context["rows"]) == items
