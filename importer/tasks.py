"""Celery tasks of the importer: thin, keyword-only, idempotent; each calls one service."""

from __future__ import annotations

from celery import shared_task

from community.tasks import TEMPORARY_ERRORS

from .uploads import RunHeldElsewhere, import_run_execute, import_runs_resume

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
