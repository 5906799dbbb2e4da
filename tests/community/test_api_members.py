"""The members API: GET /api/members/?group= (the directory's rows and permissions: reduced
view for members, full view for admins and staff), GET /api/members/<id>/ (as the profile page
shows a member) and POST /api/groups/<slug>/members/merge/ (as the names page merges)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from community.models import (
    Member,
    MemberMerge,
    MembershipRole,
    MembershipStatus,
    Message,
    Name,
    NameSource,
    RecordedDay,
)
from tests.factories import ROLES, at, client_for, make_cast, make_group, make_member, make_membership, make_message

pytestmark = pytest.mark.django_db

LIST = reverse("api:member-list")
MERGE = reverse("api:member-merge", kwargs={"slug": "prodarch"})


def make_name(member, name, *, group=None, source=NameSource.HEADER, **fields):
    return Name.objects.create(member=member, group=group, name=name, normalized=name.lower(), source=source, **fields)


@pytest.fixture
def cast():
    return make_cast()


@pytest.fixture
def directory_cast(cast):
    """The cast's group with facts on the speaker's and the member's memberships, a removed
    member, names seen in this group and in another, and recorded days."""
    speaker = cast.speaker.membership
    speaker.member.name, speaker.member.company, speaker.member.city = "李东衡", "关天数据", "上海"
    speaker.member.position, speaker.member.wechat_id = "产品", "wxid_li"
    speaker.member.save()
    speaker.last_message_at, speaker.message_count = at("2018-05-20", "23:30"), 42
    speaker.shares_given, speaker.sign_in_count, speaker.next_share_at = 2, 7, at("2018-07-02", "20:00")
    speaker.save()
    make_name(speaker.member, "Donald", group=cast.group)
    make_name(speaker.member, "东衡@别的群", group=cast.other_group)
    member = cast.member.membership
    member.exempt_until, member.exempt_reason = dt.date(2018, 8, 1), "出国"
    member.save()
    cast.removed = make_membership(cast.group, make_member("陈被移出", wechat_id="wxid_chen"),
                                   status=MembershipStatus.REMOVED, nickname="陈被移出-某支付-运营", message_count=1)
    RecordedDay.objects.create(group=cast.group, day=dt.date(2018, 6, 30))
    return cast


def reduced(person, **fields) -> dict:
    membership = person.membership if hasattr(person, "membership") else person
    member = membership.member
    return {
        "id": member.pk, "display_name": member.display_name, "nickname": membership.nickname, "name": member.name,
        "company": member.company, "position": member.position, "city": member.city, "role": membership.role,
        "last_message_day": None, "shares_given": 0, "sign_ins": 0, **fields,
    }


def full(person, **fields) -> dict:
    membership = person.membership if hasattr(person, "membership") else person
    return {
        **reduced(person), "status": membership.status, "wechat_id": membership.member.wechat_id, "names": [],
        "message_count": membership.message_count, "last_message_at": None, "days_silent": None,
        "next_share_at": None, "exempt_until": None, "exempt_reason": "", "nickname_follows_form": True, **fields,
    }


SPEAKER_SEEN = {"last_message_day": "2018-05-20", "shares_given": 2, "sign_ins": 7}


# --- the list: the directory's rows ---

def test_member_list_members_see_the_active_members_reduced(directory_cast):
    cast = directory_cast

    response = client_for(cast, "member").get(LIST, {"group": "prodarch"})

    assert response.json() == {"count": 3, "next": None, "previous": None, "results": [
        reduced(cast.admin),
        reduced(cast.speaker, **SPEAKER_SEEN),
        reduced(cast.member),
    ]}


def test_member_list_admins_see_every_membership_with_the_evidence(directory_cast):
    cast = directory_cast

    response = client_for(cast, "admin").get(LIST, {"group": "prodarch"})

    assert response.json()["results"] == [
        full(cast.admin, nickname_follows_form=False),
        full(cast.speaker, **SPEAKER_SEEN, names=["Donald"], last_message_at="2018-05-20T23:30:00+08:00",
             days_silent=41, next_share_at="2018-07-02T20:00:00+08:00"),
        full(cast.member, exempt_until="2018-08-01", exempt_reason="出国"),
        full(cast.removed),
    ]


def test_member_list_staff_see_the_full_view(directory_cast):
    cast = directory_cast

    rows = client_for(cast, "staff").get(LIST, {"group": "prodarch"}).json()["results"]

    assert [(row["nickname"], row["status"]) for row in rows] == [
        ("周明远-群主", "active"), ("李东衡-关天数据-产品-上海", "active"), ("王芳-云汇支付-架构", "active"),
        ("陈被移出-某支付-运营", "removed"),
    ]


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", 403), ("member", "reduced"), ("outsider", 403), ("speaker", "reduced"), ("admin", "full"),
    ("other_admin", 403), ("staff", "full"),
])
def test_member_list_permissions_are_the_directory_pages(directory_cast, role, expected):
    response = client_for(directory_cast, role).get(LIST, {"group": "prodarch"}, HTTP_ACCEPT_LANGUAGE="en")

    if expected == 403:
        assert (response.status_code, response.json()) == (403, {"detail": (
            "Authentication credentials were not provided." if role == "anonymous"
            else "Only the group's members see its members.")})
    else:
        rows = response.json()["results"]
        assert (response.status_code, len(rows), "status" in rows[0]) == (200, 3 if expected == "reduced" else 4,
                                                                          expected == "full")


def test_member_list_is_403_for_a_removed_member(cast):
    cast.member.membership.status = MembershipStatus.REMOVED
    cast.member.membership.save()

    assert client_for(cast, "member").get(LIST, {"group": "prodarch"}).status_code == 403


@pytest.mark.parametrize(("params", "errors"), [
    ({}, {"group": ["This filter is required."]}),
    ({"group": "nope"}, {"group": ["No group has this slug."]}),
    ({"group": "prodarch", "role": "king"}, {"role": ["Select a valid choice. king is not one of the available choices."]}),
    ({"group": "prodarch", "status": "gone"}, {"status": [
        "Select a valid choice. gone is not one of the available choices."]}),
    ({"group": "prodarch", "sort": "age"}, {"sort": ["Select a valid choice. age is not one of the available choices."]}),
])
@pytest.mark.parametrize("role", ["member", "admin"])
def test_member_list_bad_filters_are_400_naming_the_field(cast, params, errors, role):
    response = client_for(cast, role).get(LIST, params, HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (400, errors)


def nicknames(cast, viewer, **params) -> list[str]:
    response = client_for(cast, viewer).get(LIST, {"group": "prodarch", **params})
    assert response.status_code == 200
    return [row["nickname"] for row in response.json()["results"]]


@pytest.fixture
def filter_cast(cast):
    group = cast.group
    cast.ant_hz = make_membership(group, make_member("甲", company="蚂蚁金服", city="杭州"), nickname="甲-蚂蚁",
                                  role=MembershipRole.ADMIN)
    make_membership(group, make_member("乙", company="蚂蚁金服", city="杭州"), nickname="乙-蚂蚁")
    make_membership(group, make_member("丙", company="蚂蚁金服", city="杭州"), nickname="丙-蚂蚁",
                    role=MembershipRole.ADMIN, status=MembershipStatus.LEFT)
    make_membership(group, make_member("丁", company="财付通", city="杭州"), nickname="丁-财付通", role=MembershipRole.ADMIN)
    make_membership(group, make_member("戊", company="蚂蚁金服", city="上海"), nickname="戊-蚂蚁", role=MembershipRole.ADMIN)
    return cast


def test_member_list_filters_by_status_role_company_and_city(filter_cast):
    assert nicknames(filter_cast, "admin", status="active", role="admin", company="蚂蚁", city="杭州") == ["甲-蚂蚁"]
    assert nicknames(filter_cast, "admin", status="left") == ["丙-蚂蚁"]
    assert nicknames(filter_cast, "admin", role="owner") == ["周明远-群主"]
    assert nicknames(filter_cast, "admin", company="财付") == ["丁-财付通"]
    assert nicknames(filter_cast, "admin", city="上海") == ["戊-蚂蚁"]


def test_member_list_members_filter_only_the_active_members(filter_cast):
    assert nicknames(filter_cast, "member", role="admin", company="蚂蚁") == ["戊-蚂蚁", "甲-蚂蚁"]
    assert nicknames(filter_cast, "member", status="left") == []
    assert nicknames(filter_cast, "member", status="active", city="上海") == ["戊-蚂蚁"]


@pytest.mark.parametrize("role", ["member", "admin"])
def test_member_list_filters_and_orders_as_the_directory_page(filter_cast, role):
    params = {"company": "蚂蚁", "sort": "nickname", "q": "蚂"}
    page = client_for(filter_cast, role).get(reverse("member_directory", kwargs={"group_slug": "prodarch"}), params)

    api = client_for(filter_cast, role).get(LIST, {"group": "prodarch", **params}).json()["results"]

    assert [row.membership.nickname for row in page.context["rows"]] == [row["nickname"] for row in api]
    assert len(api) == (3 if role == "member" else 4)


def test_member_list_name_filter_searches_the_nickname_display_name_and_names_seen_in_the_group(cast):
    by_display_name = make_membership(cast.group, make_member("Alice Wang"), nickname="a")
    by_name = make_membership(cast.group, make_member("王五"), nickname="b")
    make_name(by_name.member, "alice-财付通", group=cast.group)
    make_name(by_name.member, "Alice 王", group=cast.group)  # two matching names, still one row
    by_nickname = make_membership(cast.group, make_member("赵六"), nickname="c-ALICE")
    elsewhere = make_membership(cast.group, make_member("钱七"), nickname="d")
    make_name(elsewhere.member, "alice", group=cast.other_group)  # seen in another group only: not searched
    make_name(elsewhere.member, "alice")  # recorded without a group: not searched either

    response = client_for(cast, "member").get(LIST, {"group": "prodarch", "name": "alice"})

    assert [row["id"] for row in response.json()["results"]] == [
        by_display_name.member_id, by_name.member_id, by_nickname.member_id]


def test_member_list_page_size(cast):
    page = client_for(cast, "member").get(LIST, {"group": "prodarch", "page_size": 2}).json()

    assert (page["count"], len(page["results"]), page["next"]) == (
        3, 2, "http://testserver/api/members/?group=prodarch&page=2&page_size=2")


def test_member_list_with_a_token_is_what_the_session_gets(directory_cast):
    token = Token.objects.create(user=directory_cast.member.user)

    with_token = Client(headers={"authorization": f"Token {token.key}"}).get(LIST, {"group": "prodarch"})
    with_session = client_for(directory_cast, "member").get(LIST, {"group": "prodarch"})

    assert (with_token.status_code, with_token.json()) == (200, with_session.json())


@pytest.mark.parametrize("items", [1, 3])
@pytest.mark.parametrize(("role", "queries"), [
    # session, user, the group with the user's member and role, the FilterSet's group, count, the page
    ("member", 6),
    # the same, the page's names seen in the group and the group's last recorded day
    ("admin", 8),
    # session, user, group, the FilterSet's group, count, the page, names, last recorded day
    ("staff", 8),
])
def test_member_list_query_count(cast, django_assert_num_queries, items, role, queries):
    for n in range(items):
        member = make_member(f"新成员{n}", company="支付")
        make_membership(cast.group, member, last_message_at=at("2018-05-20"))
        make_membership(cast.other_group, member)
        make_name(member, f"别名{n}", group=cast.group)
        make_name(member, f"又名{n}", group=cast.group)
    RecordedDay.objects.create(group=cast.group, day=dt.date(2018, 6, 1))
    client = client_for(cast, role)

    with django_assert_num_queries(queries):
        response = client.get(LIST, {"group": "prodarch", "company": "支付", "sort": "last_message"})

    assert len(response.json()["results"]) == items


# --- one member ---

def detail(member) -> str:
    return reverse("api:member-detail", kwargs={"pk": member.pk})


@pytest.fixture
def profile_cast(cast):
    """The speaker is also a member of the other group; names in both groups and one without."""
    speaker = cast.speaker.member
    speaker.name, speaker.company, speaker.position, speaker.city = "李东衡", "关天数据", "产品", "上海"
    speaker.save()
    cast.speaker.membership.joined_at = at("2018-01-02", "09:00")
    cast.speaker.membership.save()
    make_membership(cast.other_group, speaker, nickname="东衡@开发群", status=MembershipStatus.LEFT,
                    joined_at=at("2017-03-01", "10:00"), left_at=at("2017-12-31", "23:00"))
    make_name(speaker, "李东衡-关天数据-产品-上海", group=cast.group, first_seen=at("2018-01-02", "09:05"),
              last_seen=at("2018-06-30", "21:00"))
    make_name(speaker, "东衡@开发群", group=cast.other_group, first_seen=at("2017-03-01", "10:00"))
    make_name(speaker, "Donald Li", source=NameSource.ROSTER)
    return cast


PRODARCH_MEMBERSHIP = {"group": "prodarch", "nickname": "李东衡-关天数据-产品-上海", "role": "member",
                       "status": "active", "joined_at": "2018-01-02T09:00:00+08:00", "left_at": None}
DEVARCH_MEMBERSHIP = {"group": "devarch", "nickname": "东衡@开发群", "role": "member", "status": "left",
                      "joined_at": "2017-03-01T10:00:00+08:00", "left_at": "2017-12-31T23:00:00+08:00"}
PRODARCH_NAME = {"name": "李东衡-关天数据-产品-上海", "group": "prodarch", "source": "header",
                 "first_seen": "2018-01-02T09:05:00+08:00", "last_seen": "2018-06-30T21:00:00+08:00"}


def test_member_detail_shows_only_what_the_shared_groups_know(profile_cast):
    cast = profile_cast

    response = client_for(cast, "member").get(detail(cast.speaker.member))

    assert response.json() == {
        "id": cast.speaker.member.pk, "display_name": "李东衡-关天数据-产品-上海", "name": "李东衡",
        "company": "关天数据", "position": "产品", "city": "上海",
        "memberships": [PRODARCH_MEMBERSHIP],
        "names": [PRODARCH_NAME],
    }


@pytest.mark.parametrize("role", ["speaker", "staff"])
def test_member_detail_the_member_themself_and_staff_see_everything(profile_cast, role):
    response = client_for(profile_cast, role).get(detail(profile_cast.speaker.member))

    # 支付产品群 sorts before 支付开发群; names oldest first, a name never seen last.
    assert (response.json()["memberships"], response.json()["names"]) == (
        [PRODARCH_MEMBERSHIP, DEVARCH_MEMBERSHIP],
        [{"name": "东衡@开发群", "group": "devarch", "source": "header", "first_seen": "2017-03-01T10:00:00+08:00",
          "last_seen": None},
         PRODARCH_NAME,
         {"name": "Donald Li", "group": None, "source": "roster", "first_seen": None, "last_seen": None}],
    )


@pytest.mark.parametrize(("role", "expected"), [
    ("anonymous", 403), ("member", 200), ("outsider", 404), ("speaker", 200), ("admin", 200),
    ("other_admin", 404), ("staff", 200),
])
def test_member_detail_permissions(cast, role, expected):
    assert client_for(cast, role).get(detail(cast.speaker.member)).status_code == expected


def test_member_detail_an_unknown_member_is_the_same_404(cast):
    unknown = client_for(cast, "outsider").get(reverse("api:member-detail", kwargs={"pk": 999999}))
    hidden = client_for(cast, "outsider").get(detail(cast.speaker.member))

    assert (unknown.status_code, unknown.json()) == (hidden.status_code, hidden.json()) == (
        404, {"detail": "未找到。"})


def test_member_detail_a_removed_member_is_seen_by_admins_only(cast):
    removed = make_membership(cast.group, status=MembershipStatus.REMOVED)

    assert client_for(cast, "member").get(detail(removed.member)).status_code == 404
    assert client_for(cast, "admin").get(detail(removed.member)).json()["memberships"][0]["status"] == "removed"


@pytest.mark.parametrize("names", [1, 3])
def test_member_detail_query_count(cast, django_assert_num_queries, names):
    for n in range(names):
        make_name(cast.speaker.member, f"名字{n}", group=cast.group)
    client = client_for(cast, "member")

    # session, user, the member, their memberships with groups, the viewer's member, the viewer's roles, names
    with django_assert_num_queries(7):
        response = client.get(detail(cast.speaker.member))

    assert len(response.json()["names"]) == names


# --- merging two members ---

@pytest.fixture
def merge_cast(cast):
    cast.keep = make_membership(cast.group, make_member("刘一"), nickname="刘一-快钱-产品")
    cast.dup = make_membership(cast.group, make_member("刘一 (2)"), nickname="刘一")
    make_message(cast.group, cast.dup.member, at("2018-05-20"), "你好")
    return cast


def merge(cast, role, body, **kwargs):
    return client_for(cast, role).post(MERGE, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **kwargs)


def test_member_merge_moves_everything_and_records_it(merge_cast):
    cast = merge_cast

    response = merge(cast, "admin", {"into": cast.keep.member_id, "other": cast.dup.member_id, "reason": "同一个人"})

    record = MemberMerge.objects.get()
    assert (response.status_code, response.json()) == (201, {
        "id": record.pk, "into": cast.keep.member_id, "merged_member_id": cast.dup.member_id,
        "merged_name": "刘一 (2)", "reason": "同一个人", "moved": record.evidence["counts"],
    })
    assert record.evidence["counts"]["messages"] == 1
    assert (record.by, record.automatic) == (cast.admin.user, False)
    assert not Member.objects.filter(pk=cast.dup.member_id).exists()
    assert Message.objects.get().sender_id == cast.keep.member_id


@pytest.mark.parametrize("role", ROLES)
def test_member_merge_permissions(merge_cast, role):
    cast = merge_cast

    response = merge(cast, role, {"into": cast.keep.member_id, "other": cast.dup.member_id, "reason": "同一个人"})

    allowed = role in ("admin", "staff")
    assert response.status_code == (201 if allowed else 403)
    assert Member.objects.filter(pk=cast.dup.member_id).exists() is not allowed
    assert MemberMerge.objects.count() == (1 if allowed else 0)


def test_member_merge_refusals_name_the_field_and_change_nothing(merge_cast):
    cast = merge_cast
    stranger = make_membership(make_group(), make_member("外人"))
    keep, dup = cast.keep.member_id, cast.dup.member_id

    assert merge(cast, "admin", {"into": keep, "other": dup}).json() == {"reason": ["This field is required."]}
    assert merge(cast, "admin", {"into": keep, "other": dup, "reason": " "}).json() == {
        "reason": ["This field may not be blank."]}
    assert merge(cast, "admin", {"into": keep, "other": keep, "reason": "x"}).json() == {
        "other": ["Choose two different members: a member cannot be merged with itself."]}
    assert merge(cast, "admin", {"into": keep, "other": stranger.member_id, "reason": "x"}).json() == {
        "other": ["This member is not a member of this group."]}
    assert merge(cast, "admin", {"into": "刘", "other": dup, "reason": "x"}).json() == {
        "into": ["A valid integer is required."]}
    assert merge(cast, "admin", {"into": cast.speaker.member.pk, "other": cast.member.member.pk, "reason": "x"}).json() == {
        "detail": "Both members have a login: a merge would leave one login without its member. Ask a site operator."}
    assert (MemberMerge.objects.count(), Member.objects.filter(pk__in=[keep, dup]).count()) == (0, 2)


def test_member_merge_staff_may_merge_any_two_members(merge_cast):
    stranger = make_membership(make_group(), make_member("外人"))

    response = merge(merge_cast, "staff", {"into": merge_cast.keep.member_id, "other": stranger.member_id, "reason": "x"})

    assert response.status_code == 201
    assert not Member.objects.filter(pk=stranger.member_id).exists()


def test_member_merge_of_an_unknown_group_is_404(merge_cast):
    response = client_for(merge_cast, "staff").post(
        reverse("api:member-merge", kwargs={"slug": "nope"}),
        {"into": merge_cast.keep.member_id, "other": merge_cast.dup.member_id, "reason": "x"},
        content_type="application/json")

    assert response.status_code == 404


def test_member_merge_with_a_session_needs_the_csrf_token_but_not_with_a_token(merge_cast):
    cast = merge_cast
    body = {"into": cast.keep.member_id, "other": cast.dup.member_id, "reason": "同一个人"}
    session = Client(enforce_csrf_checks=True)
    session.force_login(cast.admin.user)
    token = Token.objects.create(user=cast.admin.user)

    refused = session.post(MERGE, body, content_type="application/json")
    assert (refused.status_code, MemberMerge.objects.count()) == (403, 0)

    accepted = Client(enforce_csrf_checks=True, headers={"authorization": f"Token {token.key}"}).post(
        MERGE, body, content_type="application/json")
    assert (accepted.status_code, MemberMerge.objects.count()) == (201, 1)
