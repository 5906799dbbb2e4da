"""Group pages of ``community``: a group's settings, for its admins."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .access import group_admin_required
from .form_views import run_service
from .forms import GroupSettingsForm
from .services import GROUP_SETTINGS, group_settings_update


@group_admin_required
def group_settings(request, group_slug: str):
    group = request.group
    form = GroupSettingsForm(request.POST or None, initial={name: getattr(group, name) for name in GROUP_SETTINGS})
    if request.method == "POST" and form.is_valid():
        outcome = run_service(
            request, group_settings_update, success=_("The group's settings were saved."),
            redirect_to=reverse("group_settings", kwargs={"group_slug": group.slug}), form=form,
            error_fields={"placeholders": "announcement_template"},
            group=group, by=request.user, **form.cleaned_data,  # includes the reason
        )
        if outcome.ok:
            return outcome.response
    return render(request, "community/group_settings.html", {"group": group, "form": form})
