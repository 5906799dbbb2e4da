"""Accepting someone from the waiting list: a pending membership and their share registered."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from community.access import group_admin_required
from community.form_views import run_service
from community.models import Application

from .services import application_accept


@group_admin_required
@require_POST
def accept(request, group_slug: str, pk: int):
    group = request.group
    application = get_object_or_404(Application, group=group, pk=pk)
    outcome = run_service(request, application_accept, application=application, by=request.user)
    if not outcome.ok:
        return redirect("seats", group_slug=group.slug)
    share = outcome.result
    messages.success(request, _("Accepted: %(name)s has a pending membership and their share is registered.")
                     % {"name": share.speaker.display_name})
    return redirect("shares:share_detail", group_slug=group.slug, pk=share.pk)
