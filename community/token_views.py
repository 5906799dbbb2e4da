"""The API token page: staff and a group's admins create, see once and revoke their own token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token

from .api.tokens import api_token_create, api_token_revoke, may_hold_api_token


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request) -> HttpResponse:
    """GET: whether the user has a token, and since when. POST ``action=create``: a new token,
    its key shown in this response only; POST ``action=revoke``: the token deleted."""
    if not may_hold_api_token(request.user):
        raise PermissionDenied
    key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            key = api_token_create(user=request.user).key
        elif action == "revoke":
            if api_token_revoke(user=request.user):
                messages.success(request, _("Your API token was revoked: requests with it are refused."))
            return redirect("api_token")
        else:
            return HttpResponse(status=400)
    token = Token.objects.filter(user=request.user).first()
    return render(request, "accounts/api_token.html", {"token": token, "key": key})
