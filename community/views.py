"""Group pages of ``community``: a group's settings, for its admins."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from .forms import GroupSettingsForm
from .models import Group
from .permissions import is_group_admin
from .services import GROUP_SETTINGS, group_settings_update


@login_required
def group_settings(request, group_slug: str):
    group = get_object_or_404(Group, slug=group_slug)
    if not is_group_admin(request.user, group):
        raise PermissionDenied
    form = GroupSettingsForm(request.POST or None, initial={name: getattr(group, name) for name in GROUP_SETTINGS})
    if request.method == "POST" and form.is_valid():
        try:
            group_settings_update(group=group, by=request.user, **form.cleaned_data)  # includes the reason
        except ValidationError as error:
            form.add_error("announcement_template" if error.code == "placeholders" else None, error)
        else:
            messages.success(request, _("The group's settings were saved."))
            return redirect("group_settings", group_slug=group.slug)
    return render(request, "community/group_settings.html", {"group": group, "form": form})
