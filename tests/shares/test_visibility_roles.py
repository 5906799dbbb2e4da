"""``user_roles`` reads in one query what ``shares_visible_to`` and ``access_for`` otherwise ask
in three: both ways give the same answer for every role."""

import pytest
from django.contrib.auth.models import AnonymousUser

from community.access import access_for
from community.models import MembershipRole, MembershipStatus, Visibility
from community.selectors import user_roles
from shares.selectors import shares_visible_to
from tests.factories import at, make_cast, make_membership, make_share, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    cast = make_cast()
    for group, speaker in ((cast.group, cast.speaker.member), (cast.other_group, cast.outsider.member)):
        for n, visibility in enumerate(Visibility.values):
            make_share(group, speaker, topic=f"{group.slug}-{visibility}", visibility=visibility,
                       start=at(f"2018-05-2{n}"))
    # A member who left the group, and one who is an admin in one group and a member of the other.
    cast.left = make_membership(cast.group, nickname="走了的人", status=MembershipStatus.LEFT)
    cast.left.member.user = make_user()
    cast.left.member.save()
    make_membership(cast.other_group, cast.admin.member, role=MembershipRole.MEMBER, nickname="周明远")
    cast.no_member = make_user()
    return cast


def _users(cast):
    yield "anonymous", AnonymousUser()
    for role in ["member", "speaker", "admin", "outsider", "other_admin", "staff"]:
        yield role, getattr(cast, role).user
    yield "left", cast.left.member.user
    yield "no_member", cast.no_member


def test_roles_give_the_same_visible_shares_and_access_as_the_three_queries(cast, django_assert_num_queries):
    for name, user in _users(cast):
        with django_assert_num_queries(0 if name == "anonymous" else 1):
            roles = user_roles(user)
        expected = sorted(shares_visible_to(user).values_list("topic", flat=True))
        assert sorted(shares_visible_to(user, roles=roles).values_list("topic", flat=True)) == expected, name
        for group in (cast.group, cast.other_group):
            staff = getattr(user, "is_staff", False)
            from_roles = (staff or group.pk in roles.member_groups, staff or group.pk in roles.admin_groups)
            access = access_for(user, group)
            assert from_roles == (access.is_member, access.is_admin), (name, group.slug)


def test_roles_of_an_admin_in_one_group_and_member_of_another(cast):
    roles = user_roles(cast.admin.user)

    assert roles.member_id == cast.admin.member.pk
    assert roles.roles == {cast.group.pk: MembershipRole.OWNER, cast.other_group.pk: MembershipRole.MEMBER}
    assert (roles.member_groups, roles.admin_groups) == ({cast.group.pk, cast.other_group.pk}, {cast.group.pk})
    assert user_roles(cast.left.member.user).roles == {}
    assert user_roles(cast.left.member.user).member_id == cast.left.member_id
    assert user_roles(cast.no_member).member_id is None
