"""Running an uploaded import: what the import task does with a queued run.

Guarantees:
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
  until an admin confirms it (``importer.uploads.import_run_confirm``); the task then imports
  the same files for real into the same run;
* once the run has finished, the uploaded bytes are deleted (not after a preview).

It queues nothing: queuing is ``importer.tasks``'s, which calls this module (so no cycle).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from .images import images_store
from .models import ImportKind, ImportRun, ImportStatus, UploadedFile
from .services import Source, roster_import, transcripts_import

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0  # seconds between two writes of the progress
MAX_ATTEMPTS = 5  # workers that may die on one run before it is failed


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


def _now() -> str:
    return timezone.now().isoformat()
