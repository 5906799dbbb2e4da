"""Celery tasks of ``community``: thin, idempotent, one service call each."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .flags import group_flags_evaluate
from .models import Group

logger = logging.getLogger(__name__)

# A database that is briefly unreachable or locked is worth retrying; anything else is a bug to log.
TEMPORARY_ERRORS = (OperationalError, InterfaceError)


@shared_task(bind=True, autoretry_for=TEMPORARY_ERRORS, retry_backoff=5, retry_backoff_max=600, max_retries=5)
def task_group_flags_evaluate(self, *, group_id: int, as_of: str | None = None) -> dict[str, int] | None:
    """Evaluate one group's rules (``as_of`` an ISO date; default the last imported day)."""
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        logger.warning("flags: group %s is gone, nothing evaluated", group_id)
        return None
    try:
        result = group_flags_evaluate(group=group, as_of=dt.date.fromisoformat(as_of) if as_of else None)
    except TEMPORARY_ERRORS:
        logger.warning("flags: group %s: temporary database error, retry %s", group.slug, self.request.retries + 1)
        raise
    except Exception:
        logger.exception("flags: evaluating group %s failed", group.slug)
        raise
    counts = result.counts()
    logger.info("flags: group %s as of %s: %s", group.slug, result.as_of, counts)
    return counts


@shared_task
def task_flags_evaluate_all() -> int:
    """Queue the evaluation of every group (run daily by beat). Returns the number queued."""
    group_ids = list(Group.objects.order_by("pk").values_list("pk", flat=True))
    for group_id in group_ids:
        task_group_flags_evaluate.delay(group_id=group_id)
    return len(group_ids)
