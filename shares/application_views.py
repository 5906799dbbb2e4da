"""Accepting someone from the waiting list: a pending membership and their share registered."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.models import Application, Group
from community.permissions import is_group_admin

from .services import application_accept


@login_required
@require_POST
def accept(request, group_slug: str, pk: int):
    group = get_object_or_404(Group, slug=group_slug)
    if not is_group_admin(request.user, group):
        raise PermissionDenied
    application = get_object_or_404(Application, group=group, pk=pk)
    try:
        share = application_accept(application=application, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("seats", group_slug=group.slug)
    messages.success(request, _("Accepted: %(name)s has a pending membership and their share is registered.")
                     % {"name": share.speaker.display_name})
    return redirect("shares:share_detail", group_slug=group.slug, pk=share.pk)
