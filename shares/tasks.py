"""Celery tasks of the shares app: thin, keyword-only, idempotent; each calls one service."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import current_app, shared_task
from kombu.exceptions import OperationalError

from .search import talk_index_refresh

logger = logging.getLogger(__name__)


@shared_task(name="shares.talk_index_refresh", ignore_result=True)
def task_talk_index_refresh(*, share_ids: list[int] | None = None) -> None:
    """Index the given shares again, or every stale delivered share (beat, every ten minutes)."""
    talk_index_refresh(share_ids=share_ids)


def talk_index_refresh_enqueue(*, share_ids: list[int] | None = None) -> bool:
    """Queue ``task_talk_index_refresh`` (run it now when tasks are eager, as in tests).

    One attempt to reach the broker, no retry: when it is down this returns False at once
    (after a warning in the log) instead of holding up the caller (an import that has just
    committed); the shares stay stale, still found by their topic, until the periodic
    refresh indexes them. The embedded broker's socket is looked for first: when it is
    absent (nothing started it), not even a connection is tried."""
    # The configuration, read without finalising the app (which imports every tasks module):
    # the import benchmark times this call when it finds no broker.
    conf = current_app.conf
    task = task_talk_index_refresh
    if conf.task_always_eager:
        task.apply_async(kwargs={"share_ids": share_ids})
        return True
    url = conf.broker_write_url or conf.broker_url or ""
    if url.startswith("redis+socket://") and not Path(url.removeprefix("redis+socket://").split("?")[0]).exists():
        logger.warning("talk index refresh not queued (no broker at %s); the periodic refresh will do it", url)
        return False
    try:
        with task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            task.apply_async(kwargs={"share_ids": share_ids}, connection=connection, retry=False)
    except (OperationalError, OSError) as error:
        logger.warning("talk index refresh not queued (broker unreachable: %s); the periodic refresh will do it", error)
        return False
    return True
