import datetime as dt
import hashlib
import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Invitation, Member
from community.services import account_create, invitation_accept, invitation_check, invitation_create
from tests.factories import make_group, make_member, make_membership, make_user

pytestmark = pytest.mark.django_db

User = get_user_model()
STRONG = "lanting-2018-xu"


@pytest.fixture
def people():
    """A group with a member who has no login yet, and a user for every role around it."""
    group, other_group = make_group(slug="prodarch"), make_group(slug="other")
    target = make_member("王五-银联-产品")
    make_membership(group, target)
    users = {}
    for name, where, role in [
        ("member", group, "member"),
        ("admin", group, "admin"),
        ("owner", group, "owner"),
        ("other_member", other_group, "member"),
        ("other_admin", other_group, "admin"),
    ]:
        users[name] = make_user(name)
        make_membership(where, make_member(name, user=users[name]), role=role)
    users["staff"] = make_user("staff", staff=True)
    users["no_member"] = make_user("no_member")
    users["anonymous"] = AnonymousUser()
    return group, target, users


def _invite(people) -> tuple[Invitation, str]:
    group, target, users = people
    return invitation_create(member=target, group=group, created_by=users["admin"])


# invitation_create


def test_invitation_create_by_group_admin_stores_only_the_hash_valid_14_days(people):
    group, target, users = people
    before = timezone.now()
    invitation, token = invitation_create(member=target, group=group, created_by=users["admin"])
    after = timezone.now()
    row = Invitation.objects.get()
    assert row.pk == invitation.pk
    assert (row.member, row.group, row.created_by, row.used_at, row.used_by) == (target, group, users["admin"], None, None)
    assert len(token) == 43
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.token_hash != token
    assert row.expires_at - row.created_at == dt.timedelta(days=14)
    assert before <= row.created_at <= after


@pytest.mark.parametrize("who", ["owner", "staff"])
def test_invitation_create_by_owner_or_staff_succeeds(people, who):
    group, target, users = people
    invitation, _ = invitation_create(member=target, group=group, created_by=users[who])
    assert list(Invitation.objects.values_list("pk", "created_by")) == [(invitation.pk, users[who].pk)]


@pytest.mark.parametrize("who", ["anonymous", "no_member", "member", "other_member", "other_admin"])
def test_invitation_create_by_non_admin_is_denied(people, who):
    group, target, users = people
    with pytest.raises(PermissionDenied):
        invitation_create(member=target, group=group, created_by=users[who])
    assert Invitation.objects.count() == 0


def test_invitation_create_for_member_of_another_group_is_denied(people):
    group, _, users = people
    outsider = make_member("外人")
    make_membership(make_group(), outsider)
    with pytest.raises(PermissionDenied):
        invitation_create(member=outsider, group=group, created_by=users["admin"])
    assert Invitation.objects.count() == 0


def test_invitation_create_for_member_with_login_is_invalid(people):
    group, target, users = people
    target.user = make_user("wangwu")
    target.save()
    with pytest.raises(ValidationError) as caught:
        invitation_create(member=target, group=group, created_by=users["admin"])
    assert caught.value.code == "member_has_login"
    assert Invitation.objects.count() == 0


def test_invitation_create_again_invalidates_the_earlier_link(people):
    first, first_token = _invite(people)
    second, second_token = _invite(people)
    assert list(Invitation.objects.values_list("pk", flat=True)) == [second.pk]
    with pytest.raises(ValidationError) as caught:
        invitation_check(token=first_token)
    assert caught.value.code == "invitation_unknown"
    assert invitation_check(token=second_token) == second


# invitation_accept


def test_invitation_accept_creates_and_links_the_login(people):
    _, target, _ = people
    invitation, token = _invite(people)
    user = invitation_accept(token=token, username="wangwu", password=STRONG, email="wangwu@example.com")
    invitation.refresh_from_db()
    target.refresh_from_db()
    assert (user.username, user.email, user.check_password(STRONG)) == ("wangwu", "wangwu@example.com", True)
    assert target.user == user
    assert invitation.used_by == user
    assert invitation.used_at is not None


def test_invitation_accept_twice_is_rejected(people):
    _, token = _invite(people)
    invitation_accept(token=token, username="wangwu", password=STRONG)
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=token, username="wangwu2", password=STRONG)
    assert caught.value.code == "invitation_used"
    assert list(User.objects.filter(username__startswith="wangwu").values_list("username", flat=True)) == ["wangwu"]


def test_invitation_accept_expired_is_rejected(people):
    invitation, token = _invite(people)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=token, username="wangwu", password=STRONG)
    assert caught.value.code == "invitation_expired"
    assert User.objects.filter(username="wangwu").exists() is False


def test_invitation_accept_unknown_token_is_rejected(people):
    _invite(people)
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token="not-a-token", username="wangwu", password=STRONG)
    assert caught.value.code == "invitation_unknown"


def test_invitation_accept_weak_password_creates_nothing(people):
    _, target, _ = people
    invitation, token = _invite(people)
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=token, username="wangwu", password="123")
    assert list(caught.value.error_dict) == ["password"]
    assert [e.code for e in caught.value.error_dict["password"]] == [
        "password_too_short", "password_too_common", "password_entirely_numeric",
    ]
    invitation.refresh_from_db()
    target.refresh_from_db()
    assert (User.objects.count(), target.user, invitation.used_at) == (users_before, None, None)


def test_invitation_accept_username_taken_creates_nothing(people):
    _, target, _ = people
    invitation, token = _invite(people)
    users_before = User.objects.count()
    with pytest.raises(ValidationError) as caught:
        invitation_accept(token=token, username="member", password=STRONG)
    assert [e.code for e in caught.value.error_dict["username"]] == ["unique"]
    invitation.refresh_from_db()
    target.refresh_from_db()
    assert (User.objects.count(), target.user, invitation.used_at) == (users_before, None, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_invitation_accept_two_at_once_only_one_succeeds(people):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (run with TEST_POSTGRES=1)")
    _, target, _ = people
    _, token = _invite(people)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def accept(username):
        try:
            barrier.wait()
            results.append(invitation_accept(token=token, username=username, password=STRONG).username)
        except ValidationError as error:
            errors.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(results), errors) == (1, ["invitation_used"])
    target.refresh_from_db()
    assert target.user.username == results[0]
    assert User.objects.filter(username__in=["first", "second"]).count() == 1


# account_create


def test_account_create_by_admin_links_a_login_and_drops_open_invitations(people):
    group, target, users = people
    _invite(people)
    user = account_create(member=target, group=group, username="wangwu", password=STRONG, created_by=users["admin"])
    target.refresh_from_db()
    assert (target.user, user.check_password(STRONG)) == (user, True)
    assert Invitation.objects.count() == 0


@pytest.mark.parametrize("who", ["anonymous", "no_member", "member", "other_member", "other_admin"])
def test_account_create_by_non_admin_is_denied(people, who):
    group, target, users = people
    with pytest.raises(PermissionDenied):
        account_create(member=target, group=group, username="wangwu", password=STRONG, created_by=users[who])
    assert User.objects.filter(username="wangwu").exists() is False


def test_account_create_for_member_with_login_is_invalid(people):
    group, target, users = people
    target.user = make_user("wangwu")
    target.save()
    with pytest.raises(ValidationError) as caught:
        account_create(member=target, group=group, username="wangwu2", password=STRONG, created_by=users["admin"])
    assert caught.value.code == "member_has_login"
    assert User.objects.filter(username="wangwu2").exists() is False


# Pages: who may give a login


def _page(name, target):
    return f"{reverse(name, kwargs={'member_id': target.pk})}?group=prodarch"


def _client_for(users, who) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(users[who])
    return client


ADMIN_PAGE_CASES = [
    ("member", 403),
    ("other_member", 403),
    ("no_member", 403),
    ("other_admin", 403),
    ("admin", 200),
    ("owner", 200),
    ("staff", 200),
]


@pytest.mark.parametrize("name", ["account_invite", "account_create"])
def test_admin_pages_send_anonymous_to_login(people, name):
    _, target, _ = people
    for method in ("get", "post"):
        response = getattr(Client(), method)(_page(name, target))
        assert (response.status_code, response["Location"]) == (
            302, f"/accounts/login/?next=/accounts/{name.split('_')[1]}/{target.pk}/%3Fgroup%3Dprodarch",
        )
    assert (Invitation.objects.count(), Member.objects.get(pk=target.pk).user) == (0, None)


@pytest.mark.parametrize("name", ["account_invite", "account_create"])
@pytest.mark.parametrize(("who", "status"), ADMIN_PAGE_CASES)
def test_admin_pages_get_per_role(people, name, who, status):
    _, target, users = people
    response = _client_for(users, who).get(_page(name, target))
    assert response.status_code == status
    if status == 200:
        assert response.context["member"] == target


@pytest.mark.parametrize(("who", "status"), ADMIN_PAGE_CASES)
def test_invite_page_post_per_role(people, who, status):
    _, target, users = people
    response = _client_for(users, who).post(_page("account_invite", target))
    assert response.status_code == status
    if status == 200:
        invitation = Invitation.objects.get()
        token = response.context["link"].removeprefix("http://testserver/accounts/join/").removesuffix("/")
        assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert f'value="{response.context["link"]}" readonly' in response.content.decode()
    else:
        assert Invitation.objects.count() == 0


@pytest.mark.parametrize(("who", "status"), [(who, 302 if status == 200 else status) for who, status in ADMIN_PAGE_CASES])
def test_create_page_post_per_role(people, who, status):
    _, target, users = people
    data = {"username": "wangwu", "email": "", "password": STRONG, "password_confirm": STRONG}
    response = _client_for(users, who).post(_page("account_create", target), data)
    assert response.status_code == status
    target.refresh_from_db()
    if status == 302:
        assert response["Location"] == "/"
        assert target.user == User.objects.get(username="wangwu")
    else:
        assert (target.user, User.objects.filter(username="wangwu").exists()) == (None, False)


def test_admin_pages_unknown_group_is_404(people):
    _, target, users = people
    client = _client_for(users, "staff")
    url = reverse("account_invite", kwargs={"member_id": target.pk})
    assert [client.get(url).status_code, client.get(f"{url}?group=nope").status_code] == [404, 404]


def test_invite_page_for_member_with_login_offers_no_link(people):
    _, target, users = people
    target.user = make_user("wangwu")
    target.save()
    client = _client_for(users, "admin")
    page = client.get(_page("account_invite", target), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This member already has a login." in page
    assert "Create the invitation link" not in page
    response = client.post(_page("account_invite", target), HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.context["link"], Invitation.objects.count()) == (200, None, 0)
    assert [str(m) for m in response.context["messages"]] == ["This member already has a login."]


def test_create_page_weak_password_shows_error_and_creates_nothing(people):
    _, target, users = people
    data = {"username": "wangwu", "password": "123", "password_confirm": "123"}
    response = _client_for(users, "admin").post(_page("account_create", target), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors == {"password": [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]}
    target.refresh_from_db()
    assert (target.user, User.objects.filter(username="wangwu").exists()) == (None, False)


# The join page


def _join_url(token):
    return reverse("account_join", kwargs={"token": token})


def _join_data(username="wangwu", password=STRONG, confirm=None):
    return {"username": username, "email": "", "password": password, "password_confirm": confirm or password}


def test_join_page_shows_the_form(client, people):
    _, target, _ = people
    invitation, token = _invite(people)
    response = client.get(_join_url(token))
    assert response.status_code == 200
    assert response.context["invitation"] == invitation
    assert list(response.context["form"].fields) == ["username", "email", "password", "password_confirm"]
    assert target.display_name in response.content.decode()


def test_join_page_query_count(client, people, django_assert_num_queries):
    _, token = _invite(people)
    # The invitation, then the rule that let its admin invite, asked again: the admin's member and
    # role in the group (one query), the member's membership there, the member's reach.
    with django_assert_num_queries(4):
        response = client.get(_join_url(token))
    assert response.status_code == 200


def test_join_accept_logs_in_and_redirects_home(client, people):
    _, target, _ = people
    invitation, token = _invite(people)
    response = client.post(_join_url(token), _join_data(), HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response["Location"]) == (302, "/")
    user = User.objects.get(username="wangwu")
    target.refresh_from_db()
    invitation.refresh_from_db()
    assert (target.user, invitation.used_by) == (user, user)
    assert invitation.used_at is not None
    assert client.session["_auth_user_id"] == str(user.pk)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert [str(m) for m in home.context["messages"]] == ["Welcome, wangwu: you are logged in."]


def test_join_used_link_is_404_and_creates_nothing(client, people):
    _, token = _invite(people)
    invitation_accept(token=token, username="wangwu", password=STRONG)
    users_before = User.objects.count()
    get = client.get(_join_url(token), HTTP_ACCEPT_LANGUAGE="en")
    post = client.post(_join_url(token), _join_data(username="again"))
    assert (get.status_code, post.status_code, User.objects.count()) == (404, 404, users_before)
    assert "This invitation link has already been used." in get.content.decode()


def test_join_unknown_link_is_404(client, people):
    _invite(people)
    response = client.get(_join_url("x" * 43), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "This invitation link is not valid." in response.content.decode()


def test_join_expired_link_is_410_and_creates_nothing(client, people):
    invitation, token = _invite(people)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    get = client.get(_join_url(token), HTTP_ACCEPT_LANGUAGE="en")
    post = client.post(_join_url(token), _join_data())
    assert (get.status_code, post.status_code) == (410, 410)
    assert "This invitation link has expired." in get.content.decode()
    assert User.objects.filter(username="wangwu").exists() is False


def test_join_weak_password_shows_error_and_creates_nothing(client, people):
    _, target, _ = people
    invitation, token = _invite(people)
    response = client.post(_join_url(token), _join_data(password="123"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors == {"password": [
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]}
    assert "This password is too common." in response.content.decode()
    target.refresh_from_db()
    invitation.refresh_from_db()
    assert (target.user, invitation.used_at, User.objects.filter(username="wangwu").exists()) == (None, None, False)
    assert "_auth_user_id" not in client.session


def test_join_username_taken_shows_error_and_creates_nothing(client, people):
    _, target, _ = people
    _, token = _invite(people)
    users_before = User.objects.count()
    response = client.post(_join_url(token), _join_data(username="member"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors == {"username": ["A user with that username already exists."]}
    target.refresh_from_db()
    assert (target.user, User.objects.count()) == (None, users_before)


def test_join_passwords_differ_creates_nothing(client, people):
    _, token = _invite(people)
    response = client.post(_join_url(token), _join_data(confirm="other-2018-xu"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors == {"password_confirm": ["The two passwords differ."]}
    assert User.objects.filter(username="wangwu").exists() is False


def test_join_post_without_csrf_token_is_refused(people):
    _, token = _invite(people)
    response = Client(enforce_csrf_checks=True).post(_join_url(token), _join_data())
    assert response.status_code == 403
    assert User.objects.filter(username="wangwu").exists() is False


# Password change and reset


def test_password_change_requires_login(client):
    response = client.get(reverse("password_change"))
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/accounts/password_change/")


def test_password_change_sets_the_new_password(client):
    user = make_user("wangwu", password=STRONG)
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    response = client.post(reverse("password_change"), {
        "old_password": STRONG, "new_password1": "huangpu-2019-li", "new_password2": "huangpu-2019-li",
    })
    assert (response.status_code, response["Location"]) == (302, "/accounts/password_change/done/")
    user.refresh_from_db()
    assert user.check_password("huangpu-2019-li") is True
    assert client.get(response["Location"]).status_code == 200


def test_password_reset_mails_a_link_that_sets_a_new_password(client):
    user = make_user("wangwu", password=STRONG)
    user.email = "wangwu@example.com"
    user.save()
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "wangwu@example.com"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/password_reset/done/")
    assert client.get(response["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wangwu@example.com"]
    links = re.findall(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body)
    assert len(links) == 1
    confirm = client.get(links[0])
    assert confirm.status_code == 302  # Django moves the token into the session first.
    form_url = confirm["Location"]
    assert client.get(form_url).context["validlink"] is True
    response = client.post(form_url, {"new_password1": "huangpu-2019-li", "new_password2": "huangpu-2019-li"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/reset/done/")
    assert client.get(response["Location"]).status_code == 200
    user.refresh_from_db()
    assert user.check_password("huangpu-2019-li") is True
    # The link works once.
    assert client.get(links[0], follow=True).context["validlink"] is False


def test_password_reset_unknown_address_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert (response.status_code, response["Location"], len(mail.outbox)) == (302, "/accounts/password_reset/done/", 0)
