"""A talk's Markdown export, and its corrections by the group's admins (staff too): move its
boundaries, change its speaker or topic, delete it as false or undo that.

Who may do what: the export, whoever may see the talk (a 404 otherwise, as for the talk
page). The corrections: the group's admins; a talk the user may not see is a 404, a talk the
user sees but may not correct a 403, and anonymous visitors are sent to log in. Each view
validates a form, calls one service and turns a domain error into a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.access import resolve_group
from community.form_views import run_service
from community.models import Group, Visibility

from . import services
from .archive import (
    DELETED,
    day_discussion,
    day_lines,
    day_messages,
    message_rows,
    talk_boundaries,
    talk_day,
    talk_export,
    talk_rows,
    talk_speakers,
    talks_for_export,
)
from .export import content_disposition, talk_markdown
from .forms import TalkBoundariesForm, TalkDeleteForm, TalkDetailsForm, TalkRestoreForm
from .models import Share, ShareStatus
from .selectors import shares_visible_to

# --- The export ---


@require_GET
def talk_export_markdown(request, group_slug: str, pk: int) -> HttpResponse:
    """The talk as a Markdown file in the shape of the hand-made write-ups; the day's
    discussion only for members of the group (as on the talk page), without the messages of
    a talk of that day they may not see."""
    group = resolve_group(request, group_slug)
    visible = shares_visible_to(request.user)
    share = talks_for_export(visible=visible, group=group).filter(pk=pk).first()
    if share is None:
        raise Http404
    access = request.access
    discussion = message_rows(day_discussion(share=share, visible=visible).messages) if access.is_member else None
    text = talk_markdown(talk_export(share=share, parts=talk_rows(share=share), discussion=discussion))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = content_disposition(day=talk_day(share), topic=share.topic, pk=share.pk)
    if access.is_member or share.visibility != Visibility.PUBLIC:
        response["Cache-Control"] = "private"
    return response


# --- The corrections ---

def _talk_for_admin(request, group_slug: str, pk: int, *, deleted: bool = False) -> tuple[Group, Share]:
    """The group and the talk (delivered; with ``deleted`` — deleting and undoing — also an
    announced share, and a talk or announced share an admin deleted): 404 when the user may
    not see it, 403 when they may not correct it."""
    group = resolve_group(request, group_slug)
    share = shares_visible_to(request.user).filter(group=group, pk=pk).select_related("group", "speaker").first()
    is_deleted = share is not None and share.status == ShareStatus.CANCELLED and DELETED in share.edited_fields
    is_announced = share is not None and share.status == ShareStatus.ANNOUNCED
    if share is None or not (share.status == ShareStatus.DELIVERED or (deleted and (is_deleted or is_announced))):
        raise Http404
    request.access.require_admin()
    return group, share


def _render_correct(request, group: Group, share: Share, *,
                    boundaries_form: TalkBoundariesForm | None = None, details_form: TalkDetailsForm | None = None,
                    status: int = 200) -> HttpResponse:
    """The correction page; after a refused write, the share is read again (the services may
    have changed the instance before refusing, and the transaction was rolled back)."""
    if status != 200:
        share = Share.objects.select_related("group", "speaker").get(pk=share.pk)
    day = talk_day(share)
    # Admins (and staff) see every share of their group: no visibility to apply to the day's talks.
    lines = day_lines(day_messages(group=group, day=day, visible=Share.objects.filter(group=group)))
    current = talk_boundaries(share=share, lines=lines)
    if boundaries_form is None:
        boundaries_form = TalkBoundariesForm(initial={"start": current.start, "qa": current.qa, "end": current.end})
    picked = {name: boundaries_form[name].value() for name in ("start", "qa", "end")}
    details_form = details_form or TalkDetailsForm(
        speakers=talk_speakers(group),
        initial={"speaker": share.speaker_id, "topic": share.topic, "version": share.version},
    )
    return render(request, "shares/archive/correct.html", {
        "group": group,
        "share": share,
        "day": day,
        "lines": lines,
        "picked": {name: str(value) if value not in (None, "") else "" for name, value in picked.items()},
        "boundaries_form": boundaries_form,
        "details_form": details_form,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def talk_correct(request, group_slug: str, pk: int) -> HttpResponse:
    """The day's messages with the talk's parts marked: the admin picks the talk's first
    message, the Q&A's first message (or none) and the last message."""
    group, share = _talk_for_admin(request, group_slug, pk)
    if request.method == "GET":
        return _render_correct(request, group, share)
    form = TalkBoundariesForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        outcome = run_service(
            request, services.talk_boundaries_set, success=_("The talk's boundaries are saved."),
            redirect_to=reverse("shares:talk", kwargs={"group_slug": group.slug, "pk": share.pk}), share=share,
            start_message=data["start"], qa_message=data["qa"], end_message=data["end"], by=request.user,
            note=data["note"],
        )
        if outcome.ok:
            return outcome.response
    return _render_correct(request, group, share, boundaries_form=form, status=400)


@transaction.atomic
def _details_change(*, share: Share, topic: str, version: int, speaker, by) -> None:
    services.share_edit(share=share, topic=topic, abstract=share.abstract, expected_version=version, by=by)
    services.share_reassign(share=share, speaker=speaker, by=by)


@login_required
@require_POST
def talk_details(request, group_slug: str, pk: int) -> HttpResponse:
    """Change the talk's speaker and topic, through the schedule's own services
    (``share_edit``, then ``share_reassign``), in one transaction."""
    group, share = _talk_for_admin(request, group_slug, pk)
    form = TalkDetailsForm(request.POST, speakers=talk_speakers(group))
    if form.is_valid():
        data = form.cleaned_data
        outcome = run_service(
            request, _details_change, success=_("The talk's speaker and topic are saved."),
            redirect_to=reverse("talk_correct", kwargs={"group_slug": group.slug, "pk": share.pk}), share=share,
            topic=data["topic"], version=data["version"], speaker=data["speaker"], by=request.user,
        )
        if outcome.ok:
            return outcome.response
        if outcome.conflict:
            return _render_correct(request, group, share, status=409, details_form=TalkDetailsForm(
                speakers=talk_speakers(group), initial={**data, "version": Share.objects.get(pk=share.pk).version}))
    return _render_correct(request, group, share, details_form=form, status=400)


def _render_delete(request, group: Group, share: Share, *,
                   form: TalkDeleteForm | None = None, status: int = 200) -> HttpResponse:
    deletion = services.talk_deletion(share)
    # An announced share (or one deleted while announced): no talk page to go back to.
    announced = _was_announced(share, deletion)
    return render(request, "shares/archive/delete.html", {
        "group": group,
        "share": share,
        "deletion": deletion,
        "announced": announced,
        "form": form or TalkDeleteForm(announced=announced),
        "restore_form": TalkRestoreForm(),
    }, status=status)


def _was_announced(share: Share, deletion) -> bool:
    if deletion is not None:
        return (deletion.snapshot.get("removed") or {}).get("status") == ShareStatus.ANNOUNCED
    return share.status == ShareStatus.ANNOUNCED


@login_required
@require_http_methods(["GET", "POST"])
def talk_delete(request, group_slug: str, pk: int) -> HttpResponse:
    """Delete a false talk or announced share, with a reason, after this page asks (GET); on a
    deleted one, who deleted it, when and why, and the button that undoes it."""
    group, share = _talk_for_admin(request, group_slug, pk, deleted=True)
    if request.method == "GET":
        return _render_delete(request, group, share)
    announced = share.status == ShareStatus.ANNOUNCED
    form = TalkDeleteForm(request.POST, announced=announced)
    if form.is_valid():
        outcome = run_service(
            request, services.talk_delete,
            success=_("The announced share is deleted. A new import of that day will not bring it back.")
            if announced else _("The talk is deleted. A new import of that day will not bring it back."),
            redirect_to=reverse("talk_delete", kwargs={"group_slug": group.slug, "pk": share.pk}), share=share,
            by=request.user, reason=form.cleaned_data["reason"],
        )
        if outcome.ok:
            return outcome.response
    return _render_delete(request, group, share, form=form, status=400)


@login_required
@require_POST
def talk_restore(request, group_slug: str, pk: int) -> HttpResponse:
    """Undo the deletion of a talk."""
    group, share = _talk_for_admin(request, group_slug, pk, deleted=True)
    form = TalkRestoreForm(request.POST)
    if form.is_valid():
        outcome = run_service(request, services.talk_restore, share=share, by=request.user,
                              note=form.cleaned_data["note"])
        if outcome.ok:
            if share.status == ShareStatus.ANNOUNCED:
                messages.success(request, _("The announced share is back on the schedule."))
                return redirect("shares:share_detail", group_slug=group.slug, pk=share.pk)
            messages.success(request, _("The talk is back in the archive."))
            return redirect("shares:talk", group_slug=group.slug, pk=share.pk)
    return _render_delete(request, group, share, status=400)
