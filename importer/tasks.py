"""Celery tasks of the importer: thin, keyword-only, idempotent; each calls one service.

How an import is queued lives here too (``import_run_enqueue``, and ``import_runs_resume`` for
beat), as in ``shares.tasks``: the upload services (``importer.uploads``) import this module and
the tasks run ``importer.runs``, which imports neither — no import cycle."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from celery import current_app, shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from community.tasks import TEMPORARY_ERRORS

from .models import ImportRun, ImportStatus
from .runs import RunHeldElsewhere, import_run_execute

logger = logging.getLogger(__name__)

# A queued run younger than this is left to the task queued with it.
QUEUED_GRACE = dt.timedelta(minutes=1)

# Redelivered while the run's last worker may still be alive: asked again until it is stalled
# (two minutes) or done; beat's resume takes over after that anyway.
HELD_RETRIES = 10


# A database briefly locked or unreachable when the task claims the run leaves the run queued:
# worth a few quick retries (once claimed, the service turns any error into a failed run).
# Acknowledged once done, and put back in the queue when its worker dies: another takes it over.
@shared_task(bind=True, name="importer.import_run_execute", ignore_result=True, autoretry_for=TEMPORARY_ERRORS,
             retry_backoff=1, retry_backoff_max=30, max_retries=5, acks_late=True, reject_on_worker_lost=True)
def task_import_run_execute(self, *, run_id: int) -> None:
    """Import an uploaded run's files (nothing when the run is gone, finished or taken)."""
    try:
        import_run_execute(run_id=run_id)
    except RunHeldElsewhere as held:
        raise self.retry(exc=held, countdown=held.retry_in, max_retries=HELD_RETRIES) from held


@shared_task(name="importer.import_runs_resume", ignore_result=True)
def task_import_runs_resume() -> None:
    """Queue again the uploads left queued (broker down) or stalled (their worker died): beat, every minute."""
    import_runs_resume()


def import_run_enqueue(*, run_id: int) -> bool:
    """Queue the run's import task (run it now when tasks are eager, as in tests).

    One attempt to reach the broker, no retry, so an upload never hangs on a broker that is
    down: the run then keeps the reason in its progress (shown on its page) and stays queued
    for the periodic resume. Returns whether the task was queued."""
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


def _queue_error_set(run_id: int, error: str) -> None:
    progress = ImportRun.objects.filter(pk=run_id).values_list("progress", flat=True).first()
    if progress is not None and progress.get("queue_error", "") != error:
        ImportRun.objects.filter(pk=run_id).update(progress={**progress, "queue_error": error})
