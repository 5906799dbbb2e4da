"""Celery tasks of the importer: thin, keyword-only, idempotent; each calls one service."""

from __future__ import annotations

from celery import shared_task

from community.tasks import TEMPORARY_ERRORS

from .uploads import import_run_execute, import_runs_resume


# A database briefly locked or unreachable when the task claims the run leaves the run queued:
# worth a few quick retries (once claimed, the service turns any error into a failed run).
@shared_task(name="importer.import_run_execute", ignore_result=True, autoretry_for=TEMPORARY_ERRORS,
             retry_backoff=1, retry_backoff_max=30, max_retries=5)
def task_import_run_execute(*, run_id: int) -> None:
    """Import an uploaded run's files (nothing when the run is gone or already claimed)."""
    import_run_execute(run_id=run_id)


@shared_task(name="importer.import_runs_resume", ignore_result=True)
def task_import_runs_resume() -> None:
    """Queue again the uploads left queued (broker down) or interrupted (beat, every five minutes)."""
    import_runs_resume()
