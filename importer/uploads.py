"""Uploads in the web UI: transcripts, a roster or image files, imported by a Celery task
(``importer.tasks``, which runs them through ``importer.runs``) with the same services as the
commands.

Guarantees:
* an upload is one transaction: its run (status ``queued``) and its files, or nothing;
* the task is queued once that has committed; when the broker is down the upload is kept,
  the run stays ``queued`` with the reason, and it is queued again by the periodic
  ``importer.import_runs_resume`` (every minute) or by an admin's "queue again";
* transcripts are previewed first (``importer.runs``) and the run waits (``previewed``) until
  an admin confirms it (``import_run_confirm``), choosing the days to replace; the task then
  imports the same files for real into the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from community.lengths import clip
from community.models import Group

from .models import ImportKind, ImportRun, ImportStatus, UploadedFile
from .tasks import import_run_enqueue


@transaction.atomic
def import_upload_create(*, group: Group, user, kind: str, files: Sequence[tuple[str, bytes]],
                         options: dict | None = None) -> ImportRun:
    """Record an upload: a ``queued`` run holding its files, whose import task is queued once
    this has committed. ``files``: (name, bytes) in the order they are to be imported."""
    if kind not in ImportKind.values:
        raise ValueError(f"unknown import kind {kind!r}")
    if not files:
        raise ValueError("an upload needs at least one file")
    run = ImportRun.objects.create(
        group=group, kind=kind, status=ImportStatus.QUEUED, started_by=user, started_by_name=user.get_username(),
        options=options or {}, progress={"done": 0, "total": len(files), "current": "", "at": _now()},
    )
    UploadedFile.objects.bulk_create([
        UploadedFile(run=run, position=position, name=clip(name, UploadedFile, "name", keep_end=True), size=len(data), data=data)
        for position, (name, data) in enumerate(files)
    ])
    transaction.on_commit(lambda: import_run_enqueue(run_id=run.pk))
    return run


def import_run_requeue(*, run: ImportRun) -> bool:
    """Queue again a run whose files are still here: queued (the broker was down), failed
    because the import stopped, or stalled (its worker died). Returns whether it was queued
    now (False: nothing to queue, or the broker is still down — the run then stays queued)."""
    if not run.uploads.exists():
        return False
    again = ImportRun.objects.filter(pk=run.pk, status__in=[ImportStatus.QUEUED, ImportStatus.FAILED])
    if not (again.update(status=ImportStatus.QUEUED, attempts=0)
            or ImportRun.objects.stalled().filter(pk=run.pk).update(status=ImportStatus.QUEUED, attempts=0)):
        return False
    return import_run_enqueue(run_id=run.pk)


def replaceable_days(run: ImportRun) -> list[str]:
    """The days of a previewed run whose stored messages its files lack (ISO, in order): the
    days an admin may choose to replace."""
    return sorted({report["day"] for report in run.preview.get("files", ())
                   if report.get("status") == "imported" and report.get("not_in_file")})


@transaction.atomic
def import_run_confirm(*, run: ImportRun, replace_days: Sequence[str], by) -> ImportRun:
    """Confirm a previewed upload of transcripts: the same run is queued again and imports its
    files for real, replacing ``replace_days`` (ISO days the preview showed stored messages the
    files lack: those go; every other day only gains). ``ValidationError`` when the run is not
    waiting for a confirmation or a day was not offered; nothing is written then."""
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.status != ImportStatus.PREVIEWED:
        raise ValidationError(_("This import is not waiting for a confirmation."), code="not_previewed")
    offered = set(replaceable_days(run))
    chosen = sorted(set(replace_days))
    if not set(chosen) <= offered:
        raise ValidationError(_("Only the days the preview shows with stored messages missing from the files can be "
                                "replaced."), code="not_offered")
    run.options = {**run.options, "confirmed": True, "replace_days": chosen, "confirmed_by": by.get_username()}
    run.status, run.dry_run, run.attempts = ImportStatus.QUEUED, False, 0  # its preview's worker is done with it
    run.progress = {"done": 0, "total": run.uploads.count(), "current": "", "at": _now()}
    run.save(update_fields=["options", "status", "dry_run", "attempts", "progress"])
    transaction.on_commit(lambda: import_run_enqueue(run_id=run.pk))
    return run


def _now() -> str:
    return timezone.now().isoformat()
