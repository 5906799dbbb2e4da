"""The access object (``community.access``): who the visitor is in a group, read once, and the
decorators and context processor built on it."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from community.access import (
    NO_ACCESS,
    access_context,
    access_for,
    group_admin_required,
    group_and_access,
    group_member_required,
    staff_required,
)
from community.models import MembershipRole, MembershipStatus
from tests.factories import make_cast, make_group, make_member, make_membership, make_person, make_user

pytestmark = pytest.mark.django_db

# role: (is_member, is_admin, is_owner, is_staff, has_membership, can_manage_seats)
MATRIX = {
    "anonymous": (False, False, False, False, False, False),
    "no_member": (False, False, False, False, False, False),
    "outsider": (False, False, False, False, False, False),  # a member of another group
    "other_admin": (False, False, False, False, False, False),  # an admin of another group
    "left": (False, False, False, False, False, False),
    "member": (True, False, False, False, True, False),
    "admin": (True, True, False, False, True, True),
    "owner": (True, True, True, False, True, True),
    "staff": (True, True, False, True, False, True),
}


@pytest.fixture
def cast():
    cast = make_cast()  # cast.admin is the group's owner
    cast.owner = cast.admin
    cast.admin = make_person(cast.group, "钱二-管理员", role=MembershipRole.ADMIN)
    cast.left = make_person(cast.group, "走了的人", status=MembershipStatus.LEFT)
    cast.no_member = type("NoMember", (), {"user": make_user()})()
    return cast


def user_of(cast, role):
    return AnonymousUser() if role == "anonymous" else getattr(cast, role).user


def facts(access):
    return (access.is_member, access.is_admin, access.is_owner, access.is_staff, access.has_membership,
            access.can_manage_seats)


@pytest.mark.parametrize("role", MATRIX)
def test_access_for_roles_matrix_in_one_query(cast, role, django_assert_num_queries):
    user = user_of(cast, role)
    user.refresh_from_db() if role != "anonymous" else None  # nothing of the login cached
    with django_assert_num_queries(0 if role == "anonymous" else 1):
        access = access_for(user, cast.group)
        found = facts(access), access.member_id, access.role

    member = getattr(getattr(cast, role, None), "member", None)
    role_in_group = {"member": "member", "admin": "admin", "owner": "owner"}.get(role)
    assert found == (MATRIX[role], member.pk if member is not None else None, role_in_group)


@pytest.mark.parametrize("role", MATRIX)
def test_group_and_access_reads_the_group_and_the_access_in_one_query(cast, role, django_assert_num_queries):
    user = user_of(cast, role)
    with django_assert_num_queries(1):
        group, access = group_and_access(user, "prodarch")
        found = group, facts(access)

    assert found == (cast.group, MATRIX[role])


def test_access_for_staff_is_admin_without_a_query(cast, django_assert_num_queries):
    with django_assert_num_queries(0):
        access = access_for(cast.staff.user, cast.group)
        assert (access.is_member, access.is_admin) == (True, True)


def test_group_and_access_unknown_group_is_404(cast):
    with pytest.raises(Http404):
        group_and_access(cast.member.user, "no-such-group")


def test_self_or_admin_needs_an_active_membership(cast):
    left = access_for(cast.left.user, cast.group)
    member = access_for(cast.member.user, cast.group)
    admin = access_for(cast.admin.user, cast.group)

    assert [left.is_self_or_admin(cast.left.member.pk), member.is_self_or_admin(cast.member.member.pk),
            member.is_self_or_admin(cast.speaker.member.pk), admin.is_self_or_admin(cast.speaker.member.pk),
            NO_ACCESS.is_self_or_admin(None)] == [False, True, False, True, False]


def test_a_member_of_two_groups_has_the_role_of_each(cast, django_assert_num_queries):
    make_membership(cast.other_group, cast.owner.member, role=MembershipRole.MEMBER)

    assert [(a.role, a.is_admin) for a in (access_for(cast.owner.user, g) for g in (cast.group, cast.other_group))] == [
        ("owner", True), ("member", False)]


# --- The decorators ---

@group_member_required
def member_view(request, group_slug):
    return HttpResponse(f"{request.group.slug} {request.access.is_admin}")


@group_admin_required
def admin_view(request, group_slug):
    return HttpResponse(f"{request.group.slug} {request.access.role}")


@staff_required
def staff_view(request):
    return HttpResponse("staff")


def call(view, user, **kwargs):
    request = RequestFactory().get("/g/x/")
    request.user = user
    try:
        response = view(request, **kwargs)
    except Http404:
        return 404, ""
    except Exception as error:  # noqa: BLE001 - the test reads which exception it is
        return type(error).__name__, ""
    if response.status_code == 302:
        return 302, response.url.split("?")[0]
    return response.status_code, response.content.decode()


@pytest.mark.parametrize(("role", "member_answer", "admin_answer"), [
    ("anonymous", (302, "/accounts/login/"), (302, "/accounts/login/")),
    ("no_member", ("PermissionDenied", ""), ("PermissionDenied", "")),
    ("outsider", ("PermissionDenied", ""), ("PermissionDenied", "")),
    ("other_admin", ("PermissionDenied", ""), ("PermissionDenied", "")),
    ("left", ("PermissionDenied", ""), ("PermissionDenied", "")),
    ("member", (200, "prodarch False"), ("PermissionDenied", "")),
    ("admin", (200, "prodarch True"), (200, "prodarch admin")),
    ("owner", (200, "prodarch True"), (200, "prodarch owner")),
    ("staff", (200, "prodarch True"), (200, "prodarch None")),
])
def test_decorators_answer_per_role(cast, role, member_answer, admin_answer):
    user = user_of(cast, role)

    assert (call(member_view, user, group_slug="prodarch"), call(admin_view, user, group_slug="prodarch")) == (
        member_answer, admin_answer)


@pytest.mark.parametrize("role", ["member", "staff"])
def test_decorators_unknown_group_is_404(cast, role):
    user = user_of(cast, role)

    assert (call(member_view, user, group_slug="nope"), call(admin_view, user, group_slug="nope")) == (
        (404, ""), (404, ""))


@pytest.mark.parametrize(("role", "answer"), [
    ("anonymous", (302, "/accounts/login/")), ("member", (404, "")), ("admin", (404, "")), ("staff", (200, "staff")),
])
def test_staff_required(cast, role, answer):
    assert call(staff_view, user_of(cast, role)) == answer


def test_the_403_page_of_a_gated_view(cast, client):
    # Through the URLconf: the directory is for members, the seats for admins.
    client.force_login(cast.member.user)

    assert [client.get("/g/prodarch/members/").status_code, client.get("/g/prodarch/seats/").status_code,
            client.get("/g/nope/seats/").status_code] == [200, 403, 404]


# --- The context processor ---

def test_context_processor_gives_templates_the_access_the_gate_read(cast):
    request = RequestFactory().get("/")
    request.user = cast.admin.user
    member_view(request, group_slug="prodarch")
    template = Template("{{ access.is_member }} {{ access.is_admin }} {{ access.role }}")

    assert (access_context(request)["access"].role, template.render(RequestContext(request))) == (
        "admin", "True True admin")


def test_context_processor_gives_nothing_before_a_gate(cast):
    request = RequestFactory().get("/")
    request.user = cast.admin.user

    assert (access_context(request), Template("[{{ access }}]").render(Context({}))) == ({}, "[]")


def test_a_page_reads_access_without_the_view_passing_it(cast, client):
    client.force_login(cast.member.user)
    response = client.get("/g/prodarch/members/")

    assert (response.context["access"].is_member, response.context["access"].is_admin) == (True, False)
    client.force_login(cast.admin.user)
    assert client.get("/g/prodarch/members/").context["access"].is_admin is True


def test_no_other_group_makes_a_difference(cast):
    # An admin of the other group only, with a member of their own: nothing here.
    other = make_group(slug="third")
    person = make_user()
    make_membership(other, make_member("某人", user=person), role=MembershipRole.OWNER)

    assert facts(access_for(person, cast.group)) == MATRIX["outsider"]
