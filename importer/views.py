"""Upload pages (/g/<group_slug>/imports/…), for the group's admins and staff: others get 403,
anonymous visitors the login page. Views validate a form, call one service, and redirect to
the run's page, which follows the import's progress and then shows its per-file report.

Transcripts are previewed before anything is written: the run's page shows, per file and day,
what the import would add, the stored messages the files lack (with a "replace these days"
choice), the talks and sign-ins; the admin confirms and the same run imports. A finished run
is undone from its page, after a page that says what will change (or why it cannot be)."""

from __future__ import annotations

from dataclasses import asdict

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.access import group_admin_required
from community.form_views import run_service
from community.models import Group
from shares.wiki_views import ACTION_LABELS

from .forms import UPLOAD_FORMS, ImagesForm, RosterForm, TranscriptsForm
from .models import ImportKind, ImportRun, ImportStatus
from .undo import NOT_UNDOABLE, UndoRefused, import_run_undo, import_run_undo_plan
from .uploads import import_run_confirm, import_run_requeue, import_upload_create, replaceable_days

RECENT_RUNS = 20
# What the list of runs reads: not the per-file reports, which may be long.
RUN_LIST_FIELDS = ["id", "group_id", "kind", "status", "dry_run", "started_by_name", "started_at", "finished_at",
                   "counts", "progress"]


def _run_of(group: Group, pk: int) -> ImportRun:
    return get_object_or_404(ImportRun.objects.select_related("group"), pk=pk, group=group)


@group_admin_required
@require_http_methods(["GET", "POST"])
def upload(request, group_slug: str):
    """Transcripts (several files or a zip) or a member list; the group's recent runs."""
    group = request.group
    forms = {"transcripts": TranscriptsForm(prefix="transcripts"), "roster": RosterForm(prefix="roster")}
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind not in forms:
            kind = "transcripts"
        form = forms[kind] = UPLOAD_FORMS[kind](request.POST, request.FILES, prefix=kind)
        if form.is_valid():
            return _create(request, group, form)
    runs = ImportRun.objects.filter(group=group).only(*RUN_LIST_FIELDS)[:RECENT_RUNS]
    return render(request, "importer/upload.html", {
        "group": group, "transcripts_form": forms["transcripts"],
        "roster_form": forms["roster"], "runs": runs,
    }, status=400 if request.method == "POST" else 200)


@group_admin_required
@require_http_methods(["GET", "POST"])
def images(request, group_slug: str):
    """The exported image folder: many files at once, or a zip of it."""
    group = request.group
    form = ImagesForm(prefix="images")
    if request.method == "POST":
        form = ImagesForm(request.POST, request.FILES, prefix="images")
        if form.is_valid():
            return _create(request, group, form)
    return render(request, "importer/images.html", {"group": group, "form": form},
                  status=400 if request.method == "POST" else 200)


def _create(request, group: Group, form):
    run = import_upload_create(group=group, user=request.user, kind=form.kind, files=form.cleaned_data["entries"],
                               options=form.options())
    # The task was queued (or run, when eager) once the upload committed; say if it could not be.
    run.refresh_from_db(fields=["status", "progress"])
    if run.status == ImportStatus.QUEUED and run.progress.get("queue_error"):
        messages.warning(request, _("The files are saved, but the import could not be started now: it will start "
                                    "by itself within a few minutes, or use “Queue again”."))
    else:
        messages.success(request, _("%(count)s file(s) uploaded.") % {"count": len(form.cleaned_data["entries"])})
    return redirect("import_run", group.slug, run.pk)


@group_admin_required
@require_GET
def run_detail(request, group_slug: str, pk: int):
    """A run: its progress while it works, then its counts and per-file report."""
    group = request.group
    run = _run_of(group, pk)
    previewed = run.status == ImportStatus.PREVIEWED
    return render(request, "importer/run.html", {
        "group": group, "run": run, "progress": _progress(run),
        "can_requeue": ((run.status in (ImportStatus.QUEUED, ImportStatus.FAILED) or run.is_stalled)
                        and run.uploads.exists()),
        # Errors of the run as a whole (the import stopped), not already in a file's line.
        "run_errors": [e for e in run.errors if e not in {f.get("error") for f in run.files}],
        "previewed": previewed, "preview_days": _preview_days(run) if previewed else [],
        "replaceable": replaceable_days(run) if previewed else [],
        "can_undo": run.status not in NOT_UNDOABLE and not run.dry_run,
    })


def _preview_days(run: ImportRun) -> list[dict]:
    """The preview's lines, per file and day: what the import would add and lack, talks, sign-ins."""
    lines = []
    for report in run.preview.get("files", ()):
        talks = report.get("talks") or []
        lines.append({**report, "talks_changed": [t for t in talks if t["status"] in ("new", "changed", "removed")],
                      "talks_deleted": [t for t in talks if t["status"] == "deleted"]})
    return lines


@group_admin_required
@require_POST
def run_confirm(request, group_slug: str, pk: int):
    """Import a previewed upload for real, replacing the days the admin chose."""
    group = request.group
    run = _run_of(group, pk)
    run_service(request, import_run_confirm, success=_("Confirmed: the import is queued."), run=run,
                replace_days=request.POST.getlist("replace_days"), by=request.user)
    return redirect("import_run", group.slug, run.pk)


@group_admin_required
@require_http_methods(["GET", "POST"])
def run_undo(request, group_slug: str, pk: int):
    """What undoing the run will change (days, messages, talks, sign-ins, images), and the
    button; or why it cannot be undone now (later runs and corrections, to undo first)."""
    group = request.group
    run = _run_of(group, pk)
    if run.status in NOT_UNDOABLE or run.dry_run:
        messages.warning(request, _("This import has nothing to undo."))
        return redirect("import_run", group.slug, run.pk)
    status = 200
    if request.method == "POST":
        try:
            import_run_undo(run_id=run.pk, user=request.user)
        except UndoRefused:
            status = 409  # changed meanwhile: the page says by what
        else:
            messages.success(request, _("Import %(id)s was undone: its days are as they were before it.") % {"id": run.pk})
            return redirect("import_run", group.slug, run.pk)
    plan = import_run_undo_plan(run=run)
    corrections = [{**asdict(c), "label": ACTION_LABELS.get(c.action, c.action)} for c in plan.corrections]
    return render(request, "importer/undo.html", {"group": group, "run": run, "plan": plan,
                                                  "corrections": corrections,
                                                  "is_transcripts": run.kind == ImportKind.TRANSCRIPTS}, status=status)


@group_admin_required
@require_GET
def run_progress(request, group_slug: str, pk: int):
    """The run's progress as JSON, polled by the run's page."""
    group = request.group
    return JsonResponse(_progress(_run_of(group, pk)))


@group_admin_required
@require_POST
def run_requeue(request, group_slug: str, pk: int):
    """Queue the run's import again (after the broker was down, the import stopped, or its worker died)."""
    group = request.group
    run = _run_of(group, pk)
    if import_run_requeue(run=run):
        messages.success(request, _("The import is queued."))
    else:
        messages.warning(request, _("The import could not be queued: the task queue is still unreachable, or there "
                                    "is nothing left to import."))
    return redirect("import_run", group.slug, run.pk)


def _progress(run: ImportRun) -> dict:
    progress = run.progress
    done, total = progress.get("done", 0), progress.get("total", 0)
    finished = run.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    stalled = run.is_stalled
    if stalled:
        text = _("Stalled: its worker has given no sign of life since %(time)s. It will be queued again within a "
                 "minute, or queue it again now; the files already imported are kept.") % {
            "time": timezone.localtime(run.heartbeat_at, run.group.tz).strftime("%H:%M:%S")}
    elif run.status == ImportStatus.PREVIEWED:
        text = _("Preview ready: nothing is written until you confirm.")
    elif run.status == ImportStatus.QUEUED:
        text = _("Waiting for a worker to start the import…")
        if progress.get("queue_error"):
            text = _("Not started: the task queue is unreachable. It will be queued again within a few minutes.")
    elif finished:
        text = _("Finished: %(done)s of %(total)s file(s).") % {"done": done, "total": total}
    else:
        text = _("%(done)s of %(total)s file(s) done. Now: %(current)s") % {
            "done": done, "total": total, "current": progress.get("current", "")}
    return {"id": run.pk, "kind": run.kind, "status": run.status, "finished": finished, "stalled": stalled,
            "done": done, "total": total, "current": progress.get("current", ""),
            "queue_error": progress.get("queue_error", ""), "text": text}
