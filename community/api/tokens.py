"""API tokens: who may hold one, and the writes that create and revoke it.

A token authenticates as its user (``Authorization: Token <key>``), with exactly that user's
permissions: it is a convenience for tools, not a grant. Only staff and the owners and admins
of a group hold one ("admins create tokens"); one token per user, the key shown once."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from rest_framework.authtoken.models import Token

from community.models import AuditEntry
from community.selectors import admin_group_ids_of_user


def may_hold_api_token(user) -> bool:
    """Staff, or the owner or an admin of some group."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or admin_group_ids_of_user(user))


@transaction.atomic
def api_token_create(*, user) -> Token:
    """A new token for ``user``, replacing (and so revoking) any earlier one; audited (never the
    key). Raises ``PermissionDenied`` for a user who may not hold one, having written nothing."""
    if not may_hold_api_token(user):
        raise PermissionDenied
    replaced = Token.objects.filter(user=user).delete()[0] > 0
    token = Token.objects.create(user=user)
    AuditEntry.objects.create(actor=user, action="api_token_created", target=user.get_username(),
                              details={"replaced": replaced})
    return token


@transaction.atomic
def api_token_revoke(*, user) -> bool:
    """``user``'s token deleted (requests with it are refused from now on); audited. False when
    there was none."""
    revoked = Token.objects.filter(user=user).delete()[0] > 0
    if revoked:
        AuditEntry.objects.create(actor=user, action="api_token_revoked", target=user.get_username())
    return revoked


@transaction.atomic
def api_token_revoke_for_password_change(*, user) -> bool:
    """``user``'s token deleted because their password changed: a token must not outlive the
    password its holder logged in with to get it. Audited with the cause and no actor (whoever set
    the password — the user, a reset link, an operator — is not known here). False when there was
    none."""
    revoked = Token.objects.filter(user=user).delete()[0] > 0
    if revoked:
        AuditEntry.objects.create(actor=None, action="api_token_revoked", target=user.get_username(),
                                  details={"cause": "password_changed"})
    return revoked
