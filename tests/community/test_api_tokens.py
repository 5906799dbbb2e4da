"""API tokens: the page /accounts/token/ where staff and a group's admins create (seen once),
and revoke their own token; a token client gets exactly what the session client gets; staff
manage tokens in the admin."""

import pytest
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
