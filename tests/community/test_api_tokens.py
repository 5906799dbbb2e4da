"""API tokens: the page /accounts/token/ where staff and a group's admins create (seen once),
and revoke their own token; a token client gets exactly what the session client gets; staff
manage tokens in the admin; a new password revokes the user's token."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from community.api.tokens import api_token_create
from community.models import AuditEntry
from tests.factories import ROLES, client_for, make_cast, make_user
from tests.pages import html_without_tokens

pytestmark = pytest.mark.django_db

MAY_HOLD = {"admin", "other_admin", "staff"}
URL = reverse("api_token")


@pytest.fixture
def cast():
    return make_cast()


@pytest.mark.parametrize("role", ROLES)
def test_token_page_permissions(cast, role):
    response = client_for(cast, role).get(URL, HTTP_ACCEPT_LANGUAGE="en")

    if role == "anonymous":
        assert (response.status_code, response.url) == (302, "/accounts/login/?next=/accounts/token/")
    elif role in MAY_HOLD:
        assert (response.status_code, "You have no token." in response.content.decode()) == (200, True)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_token_create_permissions(cast, role):
    response = client_for(cast, role).post(URL, {"action": "create"})

    assert response.status_code == (200 if role in MAY_HOLD else 302 if role == "anonymous" else 403)
    assert Token.objects.count() == (1 if role in MAY_HOLD else 0)


def test_token_is_shown_once_right_after_creation(cast):
    client = client_for(cast, "admin")

    created = client.post(URL, {"action": "create"}, HTTP_ACCEPT_LANGUAGE="en")
    later = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    token = Token.objects.get(user=cast.admin.user)
    assert f'value="{token.key}"' in created.content.decode()
    assert f'curl -H "Authorization: Token {token.key}" http://testserver/api/groups/' in created.content.decode()
    assert token.key not in html_without_tokens(later)
    assert "You have a token, created " in later.content.decode()
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.target, entry.details) == (
        cast.admin.user, "api_token_created", cast.admin.user.username, {"replaced": False})
    assert token.key not in str(entry.details) + entry.reason


def test_token_a_new_one_replaces_the_old(cast):
    old = api_token_create(user=cast.admin.user).key

    client_for(cast, "admin").post(URL, {"action": "create"})

    new = Token.objects.get(user=cast.admin.user).key
    assert new != old
    # 403, not 401: session authentication comes first and sends no WWW-Authenticate challenge.
    assert Client(headers={"authorization": f"Token {old}"}).get(reverse("api:group-list")).status_code == 403
    assert AuditEntry.objects.filter(action="api_token_created").first().details == {"replaced": True}


def test_token_revoked_is_refused(cast):
    key = api_token_create(user=cast.staff.user).key

    response = client_for(cast, "staff").post(URL, {"action": "revoke"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")

    assert "Your API token was revoked: requests with it are refused." in response.content.decode()
    assert Token.objects.count() == 0
    refused = Client(headers={"authorization": f"Token {key}"}).get(reverse("api:group-list"),
                                                                    HTTP_ACCEPT_LANGUAGE="en")
    assert (refused.status_code, refused.json()) == (403, {"detail": "Invalid token."})
    assert AuditEntry.objects.filter(action="api_token_revoked").count() == 1


def test_token_unknown_action_is_400(cast):
    response = client_for(cast, "admin").post(URL, {"action": "steal"})

    assert (response.status_code, Token.objects.count()) == (400, 0)


def test_token_page_needs_the_csrf_token(cast):
    client = client_for(cast, "admin", enforce_csrf_checks=True)

    refused = client.post(URL, {"action": "create"})
    csrf = client.get(URL).cookies["csrftoken"].value
    accepted = client.post(URL, {"action": "create", "csrfmiddlewaretoken": csrf})

    assert (refused.status_code, accepted.status_code, Token.objects.count()) == (403, 200, 1)


def test_token_a_member_with_no_admin_role_may_not_hold_one(cast):
    with pytest.raises(PermissionDenied):
        api_token_create(user=cast.member.user)
    assert Token.objects.count() == 0


@pytest.mark.parametrize("path", [
    reverse("api:group-list"),
    reverse("api:member-list") + "?group=prodarch",
    reverse("api:member-list") + "?group=devarch",
    reverse("api:membership-list") + "?group=prodarch",
    reverse("api:message-list") + "?group=prodarch",
    reverse("api:flag-list") + "?group=prodarch",
])
@pytest.mark.parametrize("role", ["admin", "other_admin", "staff"])
def test_token_client_gets_exactly_what_the_session_client_gets(cast, role, path):
    token = api_token_create(user=getattr(cast, role).user)

    with_token = Client(headers={"authorization": f"Token {token.key}"}).get(path)
    with_session = client_for(cast, role).get(path)

    assert (with_token.status_code, with_token.json()) == (with_session.status_code, with_session.json())


def test_token_admin_lists_tokens_for_staff(cast):
    api_token_create(user=cast.admin.user)
    superuser = make_user(staff=True)
    superuser.is_superuser = True
    superuser.save()
    client = Client()
    client.force_login(superuser)

    response = client.get(reverse("admin:authtoken_tokenproxy_changelist"))

    assert response.status_code == 200
    assert cast.admin.user.username in response.content.decode()


# A token dies with the password its holder had: however the password changes.


def _token_works(key: str) -> bool:
    return Client(headers={"authorization": f"Token {key}"}).get(reverse("api:group-list")).status_code == 200


def _revocations() -> list:
    return list(AuditEntry.objects.filter(action="api_token_revoked").values_list("actor", "target", "details"))


def test_token_is_revoked_when_its_user_changes_the_password(cast, django_capture_on_commit_callbacks):
    user = cast.admin.user
    key = api_token_create(user=user).key
    client = Client()
    client.force_login(user)
    assert _token_works(key) is True

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_change"), {
            "old_password": "pw-for-tests-1", "new_password1": "huangpu-2019-li", "new_password2": "huangpu-2019-li"})

    assert (response.status_code, Token.objects.count(), _token_works(key)) == (302, 0, False)
    assert _revocations() == [(None, user.username, {"cause": "password_changed"})]


def test_token_is_revoked_by_a_completed_password_reset(cast, django_capture_on_commit_callbacks):
    user = cast.admin.user
    user.email = "admin@example.com"
    user.save()
    key = api_token_create(user=user).key
    client = Client()
    client.post(reverse("password_reset"), {"email": "admin@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    assert Token.objects.count() == 1  # asking for the link changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url, {"new_password1": "huangpu-2019-li", "new_password2": "huangpu-2019-li"})

    assert (response.status_code, Token.objects.count(), _token_works(key)) == (302, 0, False)
    assert _revocations() == [(None, user.username, {"cause": "password_changed"})]


def test_token_is_revoked_when_an_operator_sets_the_password_in_the_admin(cast, django_capture_on_commit_callbacks):
    user = cast.admin.user
    key = api_token_create(user=user).key
    operator = make_user(staff=True)
    operator.is_superuser = True
    operator.save()
    client = Client()
    client.force_login(operator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:auth_user_password_change", args=[user.pk]), {
            "password1": "huangpu-2019-li", "password2": "huangpu-2019-li", "usable_password": "true"})

    user.refresh_from_db()
    assert (response.status_code, user.check_password("huangpu-2019-li")) == (302, True)
    assert (Token.objects.count(), _token_works(key)) == (0, False)


def test_token_survives_saves_that_keep_the_password(cast, settings):
    # Only a new password revokes: not a login, not an edit of the user, not the stronger hash
    # Django stores when it meets a password hashed by an older hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    user = cast.admin.user
    assert user.password.startswith("md5$")
    key = api_token_create(user=user).key

    client = Client()
    assert client.login(username=user.username, password="pw-for-tests-1") is True
    user.refresh_from_db()
    user.email = "admin@example.com"
    user.save()

    assert user.password.startswith("pbkdf2_sha256$")
    assert (Token.objects.count(), _token_works(key), _revocations()) == (1, True, [])
