"""An admin's power stops at their group (issue 11, point 1).

The rule (``community.permissions.members_out_of_reach``): a member is out of a user's reach
when they have a login, or an owner or admin role, or an active or pending membership, in a
group the user does not run (a login counts with any membership in such a group); staff are
exempt, and one's own member is within one's reach. Over two groups, A and B, every path that could
carry an admin of A into B is asked: a login or an invitation (a), an application's WeChat id
(c), the merge API (d), the names page's merge and a suggested link's confirmation. The
importer's paths (b, rosters, automatic merges) are in ``tests/importer/test_reach.py``.
"""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from community.models import (
    Application,
    Invitation,
    Member,
    MemberMerge,
    Membership,
    MembershipStatus,
    NameLink,
    NameLinkStatus,
)
from community.permissions import member_out_of_reach, members_out_of_reach
from community.services import OUT_OF_REACH, invitation_accept, invitation_create
from shares.models import Share
from tests.factories import (
    at,
    client_for,
    make_group,
    make_member,
    make_membership,
    make_message,
    make_person,
    make_user,
)

pytestmark = pytest.mark.django_db

STRONG = "lanting-2018-xu"
ACTORS = ["a_admin", "both_admin", "staff", "a_member", "b_admin"]
TARGETS = ["a_member_only", "a_pending", "a_left", "b_former", "b_owner", "b_owner_left_in_a", "b_admin_left",
           "b_member", "b_pending", "with_login", "b_former_with_login"]
LOGINS = {"with_login", "b_former_with_login"}
# Out of each actor's reach, among the targets: the rule, written out.
OUT = {
    # A login whose person belongs only to A is A's admin's to decide; one that belongs to B too is not.
    "a_admin": {"b_owner", "b_owner_left_in_a", "b_admin_left", "b_member", "b_pending", "b_former_with_login"},
    "both_admin": set(),
    "staff": set(),
    # Runs no group at all: everything with a login, a role or a seat anywhere.
    "a_member": set(TARGETS) - {"a_left"},
    # Runs B: only who has no seat in A, no login and no role beyond B.
    "b_admin": set(TARGETS) - {"a_left", "b_owner_left_in_a"},
}
ADMINS_OF_A = {"a_admin", "both_admin", "staff"}


@pytest.fixture
def world():
    """Two groups. Actors: A's owner, an admin of both, staff, a plain member of A, B's admin.
    Targets, none with a login but the two ``*with_login``, each with a membership in A (what the pages
    of A require) and, for some, a tie to B."""
    a = make_group(slug="a-group", name="甲群")
    b = make_group(slug="b-group", name="乙群")
    both_admin = make_person(a, "两群管理员-某支付-运营", role="admin")
    make_membership(b, both_admin.member, role="admin")
    actors = {
        "a_admin": make_person(a, "甲群主-某支付-产品", role="owner"),
        "both_admin": both_admin,
        "staff": SimpleNamespace(user=make_user(staff=True)),
        "a_member": make_person(a, "甲群成员-某支付-开发"),
        "b_admin": make_person(b, "乙群管理员-某银行-产品", role="admin"),
    }

    def target(name, in_a=MembershipStatus.ACTIVE, b_role=None, b_status=MembershipStatus.ACTIVE, login=False):
        member = make_member(name, user=make_user() if login else None)
        make_membership(a, member, status=in_a)
        if b_role is not None:
            make_membership(b, member, role=b_role, status=b_status)
        return member

    targets = {
        "a_member_only": target("甲群普通成员"),
        "a_pending": target("甲群待入群", in_a=MembershipStatus.PENDING),
        "a_left": target("甲群已退群", in_a=MembershipStatus.LEFT),
        "b_former": target("乙群前成员", b_role="member", b_status=MembershipStatus.LEFT),
        "b_owner": target("乙群群主-某钱包-总监", b_role="owner"),
        # The case (a): B's owner, who had left A.
        "b_owner_left_in_a": target("乙群群主二号", in_a=MembershipStatus.LEFT, b_role="owner"),
        "b_admin_left": target("乙群前管理员", b_role="admin", b_status=MembershipStatus.LEFT),
        "b_member": target("乙群成员", b_role="member"),
        "b_pending": target("乙群待入群", b_role="member", b_status=MembershipStatus.PENDING),
        "with_login": target("有登录的成员", login=True),
        "b_former_with_login": target("有登录的乙群前成员", b_role="member", b_status=MembershipStatus.LEFT, login=True),
    }
    return SimpleNamespace(a=a, b=b, actors=actors, targets=targets, **actors)


def user_of(world, actor):
    return world.actors[actor].user


def client_of(world, actor, **options) -> Client:
    return client_for(SimpleNamespace(**world.actors), actor, **options)


def ties(member_id):
    """Everything that gives a person power: their memberships (group, role, status) and login."""
    return (
        sorted(Membership.objects.filter(member_id=member_id).values_list("group__slug", "role", "status")),
        Member.objects.filter(pk=member_id).values_list("user_id", flat=True).first(),
    )


# --- The rule ---

@pytest.mark.parametrize("actor", ACTORS)
def test_the_rule_over_two_groups(world, actor):
    ids = {member.pk: name for name, member in world.targets.items()}

    beyond = members_out_of_reach(user=user_of(world, actor), member_ids=ids)

    assert {ids[pk] for pk in beyond} == OUT[actor]
    assert {name for name, member in world.targets.items() if member_out_of_reach(member, user_of(world, actor))} == OUT[actor]


def test_the_rule_for_nobody_and_for_every_member(world, django_assert_num_queries):
    everything = set(TARGETS) - {"a_left"}
    names = {member.pk: name for name, member in world.targets.items()}
    for nobody in (AnonymousUser(), None):
        assert {names[pk] for pk in members_out_of_reach(user=nobody, member_ids=names)} == everything
    # Without ids: every member, in one query, whatever their number.
    with django_assert_num_queries(1):
        beyond = members_out_of_reach(user=user_of(world, "a_admin"))
    # Besides the targets: the admins of B. Not A's owner (themself) nor A's plain member (a login in A only).
    assert {names.get(pk, pk) for pk in beyond} == OUT["a_admin"] | {world.both_admin.member.pk, world.b_admin.member.pk}
    assert members_out_of_reach(user=user_of(world, "staff")) == set()


# --- (a) A login or an invitation ---

def login_outcome(actor, target):
    """What giving ``target`` a login in A does for ``actor``: "created", "has_login" (the page
    says so) or 403."""
    if actor not in ADMINS_OF_A:
        return 403
    if target in LOGINS:
        return "has_login"
    seat = target not in ("a_left", "b_owner_left_in_a")
    if actor == "staff" or (seat and target not in OUT[actor]):
        return "created"
    return 403


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_create_a_login_for_whom(world, actor, target):
    member = world.targets[target]
    before = ties(member.pk)
    data = {"username": "newlogin", "email": "", "password": STRONG, "password_confirm": STRONG}

    response = client_of(world, actor).post(
        f"{reverse('account_create', kwargs={'member_id': member.pk})}?group=a-group", data, HTTP_ACCEPT_LANGUAGE="en")

    expected = login_outcome(actor, target)
    created = get_user_model().objects.filter(username="newlogin").first()
    if expected == "created":
        assert (response.status_code, ties(member.pk)) == (302, (before[0], created.pk))
    elif expected == "has_login":
        assert (response.status_code, created, ties(member.pk)) == (200, None, before)
        assert response.context["form"].non_field_errors() == ["This member already has a login."]
    else:
        assert (response.status_code, created, ties(member.pk)) == (403, None, before)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", ACTORS)
def test_who_may_invite_whom(world, actor, target):
    member = world.targets[target]

    response = client_of(world, actor).post(
        f"{reverse('account_invite', kwargs={'member_id': member.pk})}?group=a-group", HTTP_ACCEPT_LANGUAGE="en")

    expected = login_outcome(actor, target)
    if expected == "created":
        token = response.context["link"].removeprefix("http://testserver/accounts/join/").removesuffix("/")
        assert list(Invitation.objects.values_list("member_id", "token_hash")) == [
            (member.pk, hashlib.sha256(token.encode()).hexdigest())]
    else:
        assert (response.status_code, Invitation.objects.count()) == (200 if expected == "has_login" else 403, 0)


def test_an_admin_cannot_give_a_login_to_another_groups_owner_who_had_left_their_group(world):
    """The issue's case (a): ``/accounts/create/ID/?group=A`` for B's owner, left from A."""
    owner = world.targets["b_owner_left_in_a"]
    data = {"username": "b-owner", "email": "", "password": STRONG, "password_confirm": STRONG}

    response = client_of(world, "a_admin").post(f"/accounts/create/{owner.pk}/?group=a-group", data)

    assert response.status_code == 403
    assert (Member.objects.get(pk=owner.pk).user, get_user_model().objects.filter(username="b-owner").exists()) == (
        None, False)


def test_an_invitation_is_void_once_its_member_is_out_of_the_admins_reach(world):
    member = world.targets["a_member_only"]
    _, token = invitation_create(member=member, group=world.a, created_by=world.a_admin.user)
    make_membership(world.b, member, role="admin")  # since made an admin of B

    page = Client().get(f"/accounts/join/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    with pytest.raises(ValidationError) as refused:
        invitation_accept(token=token, username="taken-over", password=STRONG)

    assert page.status_code == 410
    assert "This invitation link is no longer valid: ask an admin of the group for a new one." in page.content.decode()
    assert refused.value.code == "invitation_revoked"
    assert (Member.objects.get(pk=member.pk).user, get_user_model().objects.filter(username="taken-over").exists()) == (
        None, False)


def test_an_invitation_of_an_admin_of_both_groups_stays_valid(world):
    member = world.targets["b_member"]
    _, token = invitation_create(member=member, group=world.a, created_by=world.both_admin.user)

    user = invitation_accept(token=token, username="b-member", password=STRONG)

    assert Member.objects.get(pk=member.pk).user == user


# --- (d) and every merge path ---

def merge_allowed(actor, target):
    return actor in ADMINS_OF_A and target not in OUT[actor]


@pytest.fixture
def alias(world):
    """A plain member of A, without a login: the member kept in the merges below."""
    member = make_member("别名-某支付-产品")
    make_membership(world.a, member)
    make_message(world.a, member, at("2024-01-02"), "别名的消息")
    return member


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", ACTORS)
def test_merge_api_per_actor_and_target(world, alias, actor, target):
    member = world.targets[target]
    before = ties(member.pk)

    response = client_of(world, actor).post(
        reverse("api:member-merge", kwargs={"slug": "a-group"}), {"into": alias.pk, "other": member.pk, "reason": "同一人"},
        content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    if merge_allowed(actor, target):
        assert (response.status_code, Member.objects.filter(pk=member.pk).exists()) == (201, False)
        # The kept member has the merged one's memberships elsewhere, and its login if it had one.
        assert ties(alias.pk) == (sorted([("a-group", "member", "active")] + [m for m in before[0] if m[0] != "a-group"]),
                                  before[1])
    else:
        assert (response.status_code, ties(member.pk), MemberMerge.objects.count()) == (403, before, 0)
        if actor in ADMINS_OF_A:
            assert response.json() == {"detail": (
                f"Out of your reach: {member.display_name} has a login, or a role or a membership in a group you "
                "do not run. Ask a site operator.")}


def test_an_admin_cannot_merge_another_groups_admin_into_their_own_member(world):
    """The issue's case (d): ``POST /api/groups/A/members/merge/`` moving B's admin membership."""
    b_admin = make_member("乙群管理员二号")
    make_membership(world.a, b_admin)
    make_membership(world.b, b_admin, role="admin")
    attacker = world.a_admin.member

    response = client_of(world, "a_admin").post(
        "/api/groups/a-group/members/merge/", {"into": attacker.pk, "other": b_admin.pk, "reason": "同一人"},
        content_type="application/json")

    assert response.status_code == 403
    assert ties(b_admin.pk) == ([("a-group", "member", "active"), ("b-group", "admin", "active")], None)
    assert ties(attacker.pk)[0] == [("a-group", "owner", "active")]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", ACTORS)
def test_names_page_merge_per_actor_and_target(world, alias, actor, target):
    member = world.targets[target]
    before = ties(member.pk)
    client = client_of(world, actor)
    data = {"keep": alias.pk, "other": member.pk}

    preview = client.get("/g/a-group/names/merge/", data, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/g/a-group/names/merge/", {**data, "reason": "同一人"}, HTTP_ACCEPT_LANGUAGE="en")

    refusal = (f"Out of your reach: {member.display_name} has a login, or a role or a membership in a group you do "
               "not run. Ask a site operator.")
    if actor not in ADMINS_OF_A:
        assert (preview.status_code, response.status_code, ties(member.pk)) == (403, 403, before)
    elif merge_allowed(actor, target):
        assert (preview.context["errors"], 'class="button danger"' in preview.content.decode()) == ([], True)
        assert (response.status_code, Member.objects.filter(pk=member.pk).exists()) == (302, False)
    else:
        # Said on the confirmation screen already, without the button; a post is refused the same way.
        assert (preview.context["errors"], 'class="button danger"' in preview.content.decode()) == ([refusal], False)
        assert (response.status_code, response.context["errors"], ties(member.pk)) == (200, [refusal], before)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("actor", ACTORS)
def test_confirming_a_suggested_link_per_actor_and_target(world, alias, actor, target):
    member = world.targets[target]
    link = NameLink.objects.create(group=world.a, member=alias, other=member,
                                   evidence={"rule": "the same well-formed nickname in another group",
                                             "why_not_merged": OUT_OF_REACH})
    before = ties(member.pk)

    response = client_of(world, actor).post(
        f"/g/a-group/names/links/{link.pk}/decide/", {"decision": "confirm", "keep": "member", "reason": "同一人"},
        follow=True, HTTP_ACCEPT_LANGUAGE="en")

    if actor not in ADMINS_OF_A:
        assert (response.status_code, ties(member.pk), NameLink.objects.get().status) == (403, before, "suggested")
    elif merge_allowed(actor, target):
        assert (Member.objects.filter(pk=member.pk).exists(), NameLink.objects.count()) == (False, 0)
        assert MemberMerge.objects.get().evidence["name_link"]["evidence"]["why_not_merged"] == OUT_OF_REACH
    else:
        assert [str(m) for m in response.context["messages"]] == [
            f"Out of your reach: {member.display_name} has a login, or a role or a membership in a group you do not "
            "run. Ask a site operator."]
        assert (ties(member.pk), NameLink.objects.get().status) == (before, NameLinkStatus.SUGGESTED)


@pytest.mark.parametrize(("actor", "confirmable"), [("a_admin", False), ("both_admin", True), ("staff", True)])
def test_the_names_page_says_who_may_confirm_a_link_out_of_reach(world, alias, actor, confirmable):
    owner = world.targets["b_owner"]
    NameLink.objects.create(group=world.a, member=alias, other=owner,
                            evidence={"rule": "the same well-formed nickname in another group", "name": "乙群群主-某钱包-总监",
                                      "why_not_merged": OUT_OF_REACH})

    response = client_of(world, actor).get("/g/a-group/names/", HTTP_ACCEPT_LANGUAGE="en")

    html = " ".join(response.content.decode().split())
    assert ('value="confirm"' in html) is confirmable
    assert ("Out of your reach: 乙群群主-某钱包-总监 has a login, or a role or a membership in a group you do not run. "
            "Only a site operator, or someone who runs every group involved (when neither has a login), can confirm "
            "this link; you may reject it." in html) is not confirmable
    assert "the same full nickname, seen in another group" in html
    assert "not merged: the member it points at was out of reach of the admin who uploaded the file" in html
    assert 'value="reject"' in html


def test_rejecting_a_link_out_of_reach_is_for_the_groups_admin(world, alias):
    owner = world.targets["b_owner"]
    link = NameLink.objects.create(group=world.a, member=alias, other=owner, evidence={"why_not_merged": OUT_OF_REACH})

    client_of(world, "a_admin").post(f"/g/a-group/names/links/{link.pk}/decide/", {"decision": "reject"})

    assert (NameLink.objects.get().status, ties(owner.pk)[0]) == (
        NameLinkStatus.REJECTED, [("a-group", "member", "active"), ("b-group", "owner", "active")])


# --- (c) An application's WeChat id ---

APPLICATION = {"name": "赵六", "company": "某支付", "position": "产品经理", "city": "杭州",
               "share_topic": "跨境收款的合规", "share_abstract": "讲讲 KYC"}


@pytest.mark.parametrize("actor", ["a_admin", "both_admin", "staff"])
def test_an_accepted_application_with_another_groups_admin_wechat_id_is_a_new_member(world, actor):
    """The issue's case (c): A's form, filled with the WeChat id of C's admin, accepted by A's admin."""
    c = make_group(slug="c-group", name="丙群")
    c_admin = make_member("丙群管理员", wechat_id="wxid_c_admin")
    make_membership(c, c_admin, role="admin")
    Client().post("/g/a-group/apply/", {**APPLICATION, "wechat_id": "wxid_c_admin"})
    application = Application.objects.get()

    response = client_of(world, actor).post(f"/g/a-group/seats/applications/{application.pk}/accept/")

    application.refresh_from_db()
    applicant = application.member
    assert response.status_code == 302
    assert applicant.pk != c_admin.pk
    assert (applicant.display_name, applicant.wechat_id) == ("赵六-某支付-产品经理-杭州", "")
    assert ties(applicant.pk) == ([("a-group", "member", "pending")], None)
    assert ties(c_admin.pk) == ([("c-group", "admin", "active")], None)
    assert Member.objects.get(pk=c_admin.pk).wechat_id == "wxid_c_admin"
    assert Share.objects.get().speaker_id == applicant.pk
    # The login that followed in the issue: for the applicant, whom A runs; never for C's admin.
    data = {"username": "applicant", "email": "", "password": STRONG, "password_confirm": STRONG}
    assert client_of(world, "a_admin").post(f"/accounts/create/{c_admin.pk}/?group=a-group", data).status_code == 403
    assert client_of(world, "a_admin").post(f"/accounts/create/{applicant.pk}/?group=a-group", data).status_code == 302
    assert (Member.objects.get(pk=c_admin.pk).user, Member.objects.get(pk=applicant.pk).user.username) == (
        None, "applicant")


def test_the_seats_page_shows_an_applications_wechat_id_as_a_hint(world):
    known = world.targets["a_member_only"]
    Member.objects.filter(pk=known.pk).update(wechat_id="wxid_known")
    c_admin = make_member("丙群管理员", wechat_id="wxid_c_admin")
    make_membership(make_group(slug="c-group"), c_admin, role="admin")
    Application.objects.create(group=world.a, wechat_id="wxid_known", **APPLICATION)
    Application.objects.create(group=world.a, wechat_id="wxid_c_admin", **{**APPLICATION, "name": "钱七"})

    response = client_of(world, "a_admin").get("/g/a-group/seats/", HTTP_ACCEPT_LANGUAGE="en")

    html = " ".join(response.content.decode().split())
    hint = ("The WeChat id is as the applicant typed it: a hint for you, never used to find a member. "
            "Accepting makes a new member.")
    assert html.count(hint) == 2
    assert html.count("WeChat id: wxid_known") == html.count("WeChat id: wxid_c_admin") == 1
    # A member of this group with that id is named; one of another group is not.
    assert ("A member of this group has this WeChat id: 甲群普通成员 (active). If the applicant is that person, merge "
            "the two on the names page after accepting.") in html
    assert "丙群管理员" not in html
    assert [a.known_membership for a in response.context["applications"]] == [
        Membership.objects.get(group=world.a, member=known), None]

