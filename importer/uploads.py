"""Uploads in the web UI: transcripts, a roster or image files, imported by a Celery task
through the same services as the commands.

Guarantees:
* an upload is one transaction: its run (status ``queued``) and its files, or nothing;
* the task is queued once that has committed; when the broker is down the upload is kept,
  the run stays ``queued`` with the reason, and it is queued again by the periodic
  ``importer.import_runs_resume`` (every minute) or by an admin's "queue again";
* a run is imported once at a time: the task claims it (``queued`` → ``running``) before
  anything, so a task delivered twice, or queued twice, does nothing the second time;
* while it works, the run's ``heartbeat_at`` is written every ``IMPORT_HEARTBEAT_SECONDS``
  by a thread of its own (it ticks inside one long file too). A run whose heartbeat stopped
  for ``IMPORT_STALLED_SECONDS`` is stalled (its worker died): the task, redelivered by the
  broker (acknowledged late, rejected when its worker is lost), takes it over; beat's resume
  and an admin's "queue again" queue it again. Taking it over imports it again from the
  start, which skips the files already committed (unchanged); a run taken over more than
  ``MAX_ATTEMPTS`` times is failed instead;
* each file imports alone (the services' transactions): a bad file fails with
  ``file:line: reason`` and the others import; no exception escapes the task for a bad file;
* progress (files done, total, current file) is written on the run at most once a second;
* transcripts are previewed first: the task runs the import as a dry run (nothing written),
  keeps its report on the run (``ImportRun.preview``: per file and day, the messages to add,
  the stored messages the file lacks, talks and sign-ins) and the run waits (``previewed``)
  until an admin confirms it (``import_run_confirm``), choosing the days to replace; the task
  then imports the same files for real into the same run;
* once the run has finished, the uploaded bytes are deleted (not after a preview).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError

from community.models import Group

from .images import images_store
from .models import ImportKind, ImportRun, ImportStatus, UploadedFile
from .services import Source, roster_import, transcripts_import

logger = logging.getLogger(__name__)

# A queued run younger than this is left to the task queued with it.
QUEUED_GRACE = dt.timedelta(minutes=1)
PROGRESS_INTERVAL = 1.0  # seconds between two writes of the progress
MAX_ATTEMPTS = 5  # workers that may die on one run before it is failed


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
        UploadedFile(run=run, position=position, name=name[:255], size=len(data), data=data)
        for position, (name, data) in enumerate(files)
    ])
    transaction.on_commit(lambda: import_run_enqueue(run_id=run.pk))
    return run


def import_run_enqueue(*, run_id: int) -> bool:
    """Queue the run's import task (run it now when tasks are eager, as in tests).

    One attempt to reach the broker, no retry, so an upload never hangs on a broker that is
    down: the run then keeps the reason in its progress (shown on its page) and stays queued
    for the periodic resume. Returns whether the task was queued."""
    from .tasks import task_import_run_execute

    conf = current_app.conf
    # Cleared before the task is sent: the task may start (and save the run) before this returns.
    _queue_error_set(run_id, "")
    if conf.task_always_eager:
        task_import_run_execute.apply_async(kwargs={"run_id": run_id})
        return True
    error = ""
    url = conf.broker_write_url or conf.broker_url or ""
    if url.startswith("redis+socket://") and not Path(url.removeprefix("redis+socket://").split("?")[0]).exists():
        error = "no broker is running"
    else:
        try:
            with task_import_run_execute.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=0)
                task_import_run_execute.apply_async(kwargs={"run_id": run_id}, connection=connection, retry=False)
        except (BrokerError, OSError) as failure:
            error = f"the broker is unreachable ({failure})"
    if error:
        _queue_error_set(run_id, error)
        logger.warning("import run %s not queued: %s; the periodic resume will queue it", run_id, error)
    return not error


def import_runs_resume() -> list[int]:
    """Queue again the runs left behind (beat, every minute): queued for more than a minute
    (the broker was down when they were uploaded) or stalled (their worker died; importing
    again is safe: unchanged files are skipped). Returns their ids."""
    now = timezone.now()
    stalled = list(ImportRun.objects.stalled(now).filter(uploads__isnull=False).distinct().values_list("pk", flat=True))
    ImportRun.objects.stalled(now).filter(pk__in=stalled).update(status=ImportStatus.QUEUED)
    waiting = list(
        ImportRun.objects.filter(status=ImportStatus.QUEUED, started_at__lt=now - QUEUED_GRACE).values_list("pk", flat=True)
    )
    for run_id in sorted(set(waiting) | set(stalled)):
        import_run_enqueue(run_id=run_id)
    return sorted(set(waiting) | set(stalled))


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


class RunHeldElsewhere(Exception):
    """Another worker is importing the run and is alive (its heartbeat is fresh): try again in ``retry_in`` seconds."""

    def __init__(self, run_id: int, retry_in: float):
        super().__init__(f"import run {run_id} is being imported by another worker")
        self.retry_in = retry_in


def import_run_execute(*, run_id: int) -> ImportRun | None:
    """Import a queued (or stalled) run's files through the importer's services; None when
    there is nothing to do (the run is gone, finished, or was taken by another task).
    Raises ``RunHeldElsewhere`` when a live worker holds the run: a task redelivered after its
    worker died finds the run so until its heartbeat is old enough to call it stalled."""
    if not _claim(run_id):
        held = ImportRun.objects.filter(pk=run_id, status=ImportStatus.RUNNING).values_list("heartbeat_at", flat=True)
        beat = held.first()
        if beat is not None:
            stalls_at = beat + dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS)
            raise RunHeldElsewhere(run_id, max(1.0, (stalls_at - timezone.now()).total_seconds() + 1))
        logger.info("import run %s: not queued (gone, finished or taken by another task), nothing to do", run_id)
        return None
    run = ImportRun.objects.select_related("group", "started_by").get(pk=run_id)
    if run.attempts > MAX_ATTEMPTS:
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(),
            errors=[*run.errors, f"the import stopped: its worker died {run.attempts - 1} times; queue it again "
                                 "once the cause is fixed"])
        run.refresh_from_db()
        return run
    uploads = list(UploadedFile.objects.filter(run=run).values_list("pk", "name"))
    sources = [Source(label=name, read=_reader(pk)) for pk, name in uploads]
    progress = ProgressRecorder(run_id=run.pk, total=len(sources))
    with Heartbeat(run_id=run.pk):
        try:
            _import(run, sources, progress)
        except Exception as error:  # noqa: BLE001 — a bug or an outage must not leave the run "running"
            # The files are kept: once the cause is fixed, an admin queues the run again.
            logger.exception("import run %s stopped", run_id)
            ImportRun.objects.filter(pk=run_id).update(
                status=ImportStatus.FAILED, finished_at=timezone.now(),
                errors=[*run.errors, f"the import stopped: {type(error).__name__}: {error}"],
            )
        else:
            if not ImportRun.objects.filter(pk=run_id, status=ImportStatus.PREVIEWED).exists():
                UploadedFile.objects.filter(run_id=run_id).delete()
    progress.finish()
    run.refresh_from_db()
    return run


def _claim(run_id: int) -> bool:
    """Take the run for this worker: queued, or stalled (its worker died). One statement, so
    that of two tasks at once only one takes it."""
    now = timezone.now()
    stalled = Q(status=ImportStatus.RUNNING,
                heartbeat_at__lt=now - dt.timedelta(seconds=settings.IMPORT_STALLED_SECONDS))
    return bool(ImportRun.objects.filter(Q(status=ImportStatus.QUEUED) | stalled, pk=run_id).update(
        status=ImportStatus.RUNNING, heartbeat_at=now, attempts=F("attempts") + 1))


class Heartbeat:
    """While the block runs, write the run's ``heartbeat_at`` every ``IMPORT_HEARTBEAT_SECONDS``
    from a thread of its own, with its own database connection: it ticks whatever the import
    is doing (one long file, one long roster). A beat that finds the database busy is skipped:
    the next one comes ``IMPORT_HEARTBEAT_SECONDS`` later, well before the run would stall."""

    def __init__(self, *, run_id: int, interval: float | None = None):
        self.run_id = run_id
        self.interval = settings.IMPORT_HEARTBEAT_SECONDS if interval is None else interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"import-run-{run_id}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stop.wait(self.interval):
                try:
                    ImportRun.objects.filter(pk=self.run_id, status=ImportStatus.RUNNING).update(
                        heartbeat_at=timezone.now())
                except DatabaseError as error:
                    logger.warning("import run %s: heartbeat not written (%s)", self.run_id, error)
        finally:
            connections.close_all()  # this thread's connections only


class UploaderGone(Exception):
    """The login that uploaded a run is gone: the run has nobody whose reach limits its evidence."""


def _import(run: ImportRun, sources: list[Source], progress: ProgressRecorder) -> None:
    options, user = run.options, run.started_by
    if user is None and run.kind in (ImportKind.TRANSCRIPTS, ImportKind.ROSTER):
        # An upload acts for its uploader (importer.identity): without one it would act as an
        # operator on the command line, whose reach is not limited.
        raise UploaderGone("the login that uploaded these files no longer exists; upload them again")
    if run.kind == ImportKind.TRANSCRIPTS:
        confirmed = bool(options.get("confirmed"))
        replace_days = [dt.date.fromisoformat(day) for day in options.get("replace_days") or ()]
        result = transcripts_import(group_slug=run.group.slug, sources=sources, me=options.get("me", ""), user=user,
                                    run=run, progress=progress, dry_run=not confirmed, replace_days=replace_days)
        if not confirmed and result.counts.files_failed < result.counts.files_read:
            # The preview is ready: nothing is written until an admin confirms it.
            ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.PREVIEWED)
    elif run.kind == ImportKind.ROSTER:
        roster_import(group_slug=run.group.slug, source=sources[0], user=user, run=run,
                      mark_missing_left=bool(options.get("mark_missing_left")), progress=progress)
    else:
        run.status, run.started_at = ImportStatus.RUNNING, timezone.now()
        result = images_store(group=run.group, sources=sources, user=user, progress=progress, run_id=run.pk)
        run.counts, run.files, run.errors = result.counts, result.files, result.errors[:1000]
        run.status = ImportStatus.FAILED if result.errors else ImportStatus.SUCCEEDED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "started_at", "counts", "files", "errors", "finished_at"])


def _reader(upload_id: int):
    """Read one uploaded file's bytes when its turn comes: one file in memory at a time."""
    def read() -> bytes:
        return bytes(UploadedFile.objects.values_list("data", flat=True).get(pk=upload_id))
    return read


class ProgressRecorder:
    """The ``progress(index, label)`` callback of the services, written on the run at most
    once a second (the import is not slowed by it), and at the end."""

    def __init__(self, *, run_id: int, total: int):
        self.run_id, self.total, self.last = run_id, total, 0.0

    def __call__(self, index: int, label: str) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            _progress_set(self.run_id, done=index - 1, total=self.total, current=label)

    def finish(self) -> None:
        _progress_set(self.run_id, done=self.total, total=self.total, current="")


def _progress_set(run_id: int, **values) -> None:
    # Read and write in one statement's worth of time; only this run's task writes progress.
    # Progress is advice for the page: a write that finds the row locked (SQLite without a busy
    # wait) is skipped, never the import's failure. Its own savepoint keeps the import's
    # transaction usable.
    try:
        with transaction.atomic():
            progress = ImportRun.objects.filter(pk=run_id).values_list("progress", flat=True).first()
            if progress is not None:
                ImportRun.objects.filter(pk=run_id).update(progress={**progress, **values, "at": _now()})
    except OperationalError as error:
        logger.warning("import run %s: progress not recorded (%s)", run_id, error)


def _queue_error_set(run_id: int, error: str) -> None:
    progress = ImportRun.objects.filter(pk=run_id).values_list("progress", flat=True).first()
    if progress is not None and progress.get("queue_error", "") != error:
        ImportRun.objects.filter(pk=run_id).update(progress={**progress, "queue_error": error})


def _now() -> str:
    return timezone.now().isoformat()
