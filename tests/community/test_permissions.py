import pytest

from community.access import access_for
from tests.factories import make_group, make_member, make_membership, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    group, other_group = make_group(), make_group()
    users = {}
    for name, target, role, status in [
        ("member", group, "member", "active"),
        ("admin", group, "admin", "active"),
        ("owner", group, "owner", "active"),
        ("left", group, "member", "left"),
        ("other_member", other_group, "member", "active"),
        ("other_admin", other_group, "admin", "active"),
    ]:
        users[name] = make_user(name)
        make_membership(target, make_member(name, user=users[name]), role=role, status=status)
    users["staff"] = make_user("staff", staff=True)
    users["no_member"] = make_user("no_member")
    from django.contrib.auth.models import AnonymousUser

    users["anonymous"] = AnonymousUser()
    return group, users


@pytest.mark.parametrize(
    ("who", "member", "admin"),
    [
        ("anonymous", False, False),
        ("no_member", False, False),
        ("member", True, False),
        ("left", False, False),
        ("admin", True, True),
        ("owner", True, True),
        ("other_member", False, False),
        ("other_admin", False, False),
        ("staff", True, True),
    ],
)
def test_roles_per_group(people, who, member, admin):
    group, users = people
    access = access_for(users[who], group)
    assert (access.is_member, access.is_admin) == (member, admin)
