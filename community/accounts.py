"""Account pages: an admin gives a member a login (an invitation link or an account), and the
invited person sets a password. Password change and reset are Django's views (account_urls)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .form_views import run_service
from .forms import AccountForm
from .models import Group, Member
from .services import account_create, invitation_accept, invitation_check, invitation_create, member_login_authorize

# An unknown or used link is gone for good (404); an expired or revoked one existed (410: ask for a new one).
_INVALID_STATUS = {"invitation_unknown": 404, "invitation_used": 404, "member_has_login": 404, "invitation_expired": 410,
                   "invitation_revoked": 410}


def _member_and_group(request, member_id: int) -> tuple[Member, Group]:
    """The member and the group (``?group=<slug>``) of an admin page; 403 unless the user runs it."""
    group = get_object_or_404(Group, slug=request.GET.get("group", ""))
    member = get_object_or_404(Member, pk=member_id)
    try:
        member_login_authorize(member=member, group=group, by=request.user)
    except ValidationError:
        pass  # Already has a login: the page says so.
    return member, group


@never_cache
@login_required
def invite(request, member_id: int):
    member, group = _member_and_group(request, member_id)
    context = {"member": member, "group": group, "link": None}
    if request.method == "POST":
        outcome = run_service(request, invitation_create, member=member, group=group, created_by=request.user)
        if outcome.ok:
            invitation, token = outcome.result
            context["link"] = request.build_absolute_uri(reverse("account_join", kwargs={"token": token}))
            context["invitation"] = invitation
    return render(request, "accounts/invite.html", context)


@never_cache
@sensitive_post_parameters("password", "password_confirm")
@login_required
def create(request, member_id: int):
    member, group = _member_and_group(request, member_id)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = run_service(
            request, account_create, redirect_to="home", form=form, member=member, group=group,
            created_by=request.user, username=form.cleaned_data["username"], password=form.cleaned_data["password"],
            email=form.cleaned_data["email"],
        )
        if outcome.ok:
            messages.success(request, _("%(member)s can now log in as %(username)s.") % {
                "member": member, "username": outcome.result.username})
            return outcome.response
    return render(request, "accounts/create.html", {"member": member, "group": group, "form": form})


def _invalid(request, error: ValidationError):
    return render(request, "accounts/join_invalid.html", {"error": error}, status=_INVALID_STATUS[error.code])


@never_cache
@sensitive_post_parameters("password", "password_confirm")
def join(request, token: str):
    try:
        invitation = invitation_check(token=token)
    except ValidationError as error:
        return _invalid(request, error)
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as error:
            if getattr(error, "code", None) in _INVALID_STATUS:
                return _invalid(request, error)
            form.add_error(None, error)
        else:
            login(request, user)
            messages.success(request, _("Welcome, %(username)s: you are logged in.") % {"username": user.username})
            return redirect("home")
    return render(request, "accounts/join.html", {"invitation": invitation, "form": form})
