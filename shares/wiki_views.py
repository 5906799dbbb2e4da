"""The wiki pages of a group's schedule: a share's history and restore, the group's schedule
page with its editor and history. Like the schedule pages, they check who asks, validate a
form, call one service of ``shares.wiki`` and turn a domain error into a message."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.access import Access, group_admin_required, group_member_required
from community.form_views import run_service
from community.models import Group

from . import wiki
from .models import SchedulePage, ShareStatus
from .views import REVISION_ACTIONS, _share, markdown_html

ACTION_LABELS = {**REVISION_ACTIONS, "restored": gettext_lazy("restored")}


# --- Forms (they only check input; the services decide) ---

class RestoreForm(forms.Form):
    # The version the admin saw: restoring over a newer version is a conflict.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SchedulePageForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("body (Markdown)"), widget=forms.Textarea(attrs={"rows": 20}),
                           required=False)
    note = forms.CharField(label=gettext_lazy("what changed (optional)"), max_length=300, required=False)
    # The version the editor saw: a save against a newer version is a conflict.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _labelled(entries: list[wiki.HistoryEntry]) -> list[wiki.HistoryEntry]:
    for entry in entries:
        entry.revision.action_label = ACTION_LABELS.get(entry.revision.action, entry.revision.action)
    return entries


# --- A share's history ---

def _render_share_history(request, group: Group, access: Access, pk: int, *, status: int = 200) -> HttpResponse:
    """The share's history, read fresh (after a failed restore too)."""
    share = _share(request, group, pk)
    return render(request, "shares/wiki/share_history.html", {
        "group": group,
        "share": share,
        "entries": _labelled(wiki.share_history(share=share)),
        "can_restore": access.is_admin and share.status != ShareStatus.CANCELLED,
    }, status=status)


@group_member_required
@require_GET
def share_history(request, group_slug: str, pk: int) -> HttpResponse:
    """Every version of the share — who, when, what — with what changed from the one before."""
    group, access = request.group, request.access
    return _render_share_history(request, group, access, pk)


@group_member_required
@require_GET
def share_revision(request, group_slug: str, pk: int, version: int) -> HttpResponse:
    """One version of the share as it was, and what changed from it to the share as it is now."""
    group, access = request.group, request.access
    share = _share(request, group, pk)
    revision = next((r for r in share.revisions.all() if r.version == version), None)
    if revision is None:
        raise Http404
    revision.action_label = ACTION_LABELS.get(revision.action, revision.action)
    fields, changes = wiki.share_revision_changes(share=share, revision=revision)
    return render(request, "shares/wiki/share_revision.html", {
        "group": group,
        "share": share,
        "revision": revision,
        "fields": fields,
        "changes": changes,
        "can_restore": access.is_admin and share.status != ShareStatus.CANCELLED and version != share.version,
    })


@group_admin_required
@require_POST
def share_restore(request, group_slug: str, pk: int, version: int) -> HttpResponse:
    """An admin brings back an earlier version's topic, abstract and visibility."""
    group, access = request.group, request.access
    share = _share(request, group, pk)
    form = RestoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete: nothing was restored."))
        return _render_share_history(request, group, access, pk, status=400)
    outcome = run_service(
        request, wiki.share_restore, success=_("Version %(version)d is restored.") % {"version": version},
        redirect_to=reverse("shares:share_history", kwargs={"group_slug": group.slug, "pk": share.pk}),
        share=share, version=version, expected_version=form.cleaned_data["expected_version"], by=request.user,
    )
    status = 409 if outcome.conflict else 200
    return outcome.response or _render_share_history(request, group, access, pk, status=status)


# --- The group's schedule page ---

@group_member_required
@require_GET
def schedule_page(request, group_slug: str) -> HttpResponse:
    """The group's schedule page: how to register, what makes a good talk (sanitized Markdown)."""
    group = request.group
    page = wiki.schedule_page_of(group=group)
    return render(request, "shares/wiki/schedule_page.html", {
        "group": group, "page": page, "body_html": markdown_html(page.body),
    })


def _render_page_edit(request, group: Group, page: SchedulePage, form: SchedulePageForm, *,
                      status: int = 200, theirs: str | None = None) -> HttpResponse:
    return render(request, "shares/wiki/schedule_page_edit.html", {
        "group": group,
        "page": page,
        "form": form,
        # After a conflict: what the editor's text changes in the current one.
        "conflict_diff": wiki.diff_html(page.body, theirs) if theirs is not None else None,
    }, status=status)


@group_admin_required
@require_http_methods(["GET", "POST"])
def schedule_page_edit(request, group_slug: str) -> HttpResponse:
    """Admins edit the page's Markdown; the hidden version catches an edit made meanwhile."""
    group = request.group
    page = wiki.schedule_page_of(group=group)
    if request.method == "GET":
        form = SchedulePageForm(initial={"body": page.body, "version": page.version})
        return _render_page_edit(request, group, page, form)
    form = SchedulePageForm(request.POST)
    if form.is_valid():
        outcome = run_service(
            request, wiki.schedule_page_edit, success=_("The schedule page is saved."),
            redirect_to=reverse("shares:schedule_page", kwargs={"group_slug": group.slug}),
            group=group, body=form.cleaned_data["body"], note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"], by=request.user,
        )
        if outcome.ok:
            return outcome.response
        if outcome.conflict:
            # Keep what the editor typed; the version moves to the current one, so that saving
            # again (after reading the current text) is a deliberate overwrite.
            page = wiki.schedule_page_of(group=group)
            data = request.POST.copy()
            data["version"] = str(page.version)
            return _render_page_edit(request, group, page, SchedulePageForm(data), status=409,
                                     theirs=form.cleaned_data["body"].replace("\r\n", "\n"))
    return _render_page_edit(request, group, page, form)


def _render_page_history(request, group: Group, access: Access, *, status: int = 200) -> HttpResponse:
    page = wiki.schedule_page_of(group=group)
    return render(request, "shares/wiki/schedule_page_history.html", {
        "group": group,
        "page": page,
        "entries": wiki.schedule_page_history(page=page),
        "can_restore": access.is_admin,
    }, status=status)


@group_member_required
@require_GET
def schedule_page_history(request, group_slug: str) -> HttpResponse:
    """Every version of the schedule page — who, when, the note — with its diff."""
    group, access = request.group, request.access
    return _render_page_history(request, group, access)


@group_admin_required
@require_POST
def schedule_page_restore(request, group_slug: str, version: int) -> HttpResponse:
    """An admin brings back an earlier text of the page, as a new version."""
    group, access = request.group, request.access
    form = RestoreForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was incomplete: nothing was restored."))
        return _render_page_history(request, group, access, status=400)
    outcome = run_service(
        request, wiki.schedule_page_restore, success=_("Version %(version)d is restored.") % {"version": version},
        redirect_to=reverse("shares:schedule_page_history", kwargs={"group_slug": group.slug}),
        group=group, version=version, expected_version=form.cleaned_data["expected_version"], by=request.user,
    )
    return outcome.response or _render_page_history(request, group, access, status=409 if outcome.conflict else 200)

