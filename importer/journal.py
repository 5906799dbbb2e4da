"""What an import run changed, kept so that undoing the run puts every row back exactly.

A run records, before it writes:

* ``rows_before(run_id=, rows=)``: rows it is about to update or delete, as they are now (the
  first image of a row wins: a row the run changes twice comes back as it was before the run);
* ``rows_created(run_id=, model=, ids=)``: rows it created that carry no ``import_run`` column.

``run_undo_rows(run_id=)`` then deletes what the run created and puts back what it changed or
removed, with the same primary keys, parents before children, in the caller's transaction.
Rows created in bulk on the import's hot path (messages, names, members, shares, sign-ins)
carry their run in an ``import_run`` column and are deleted by the undo service itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.core import serializers
from django.db import models

from .models import RunChange, RunChangeAction


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def rows_before(*, run_id: int, rows: Iterable[models.Model] | models.QuerySet) -> int:
    """Keep ``rows`` as they are now, before the run updates or deletes them. A row already kept
    (or created) by the run keeps its first record. Returns the number of rows given."""
    records = []
    for data in serializers.serialize("python", rows):
        records.append(RunChange(run_id=run_id, table=data["model"], row_id=data["pk"],
                                 action=RunChangeAction.UPDATED, before=data["fields"]))
    RunChange.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return len(records)


def rows_created(*, run_id: int, model: type[models.Model], ids: Iterable[int]) -> int:
    """Note rows of ``model`` the run created (undo deletes them)."""
    records = [RunChange(run_id=run_id, table=_label(model), row_id=pk, action=RunChangeAction.CREATED) for pk in ids]
    RunChange.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return len(records)


def _dependency_order(labels: Iterable[str]) -> list[str]:
    """Models ordered so that a model comes after every model it points at (parents first)."""
    remaining = {label: apps.get_model(label) for label in labels}
    ordered: list[str] = []
    while remaining:
        ready = sorted(
            label for label, model in remaining.items()
            if not any(
                field.related_model is not None and _label(field.related_model) in remaining
                and _label(field.related_model) != label
                for field in model._meta.concrete_fields if field.is_relation
            )
        )
        if not ready:  # a cycle: take the rest as they come (nullable links are restored by the second pass)
            ready = sorted(remaining)
        for label in ready:
            ordered.append(label)
            del remaining[label]
    return ordered


def run_undo_rows(*, run_id: int) -> dict[str, int]:
    """Delete the rows the run created (children first) and put back the rows it changed or
    deleted (parents first), as they were before the run. Counts by table and action."""
    counts: dict[str, int] = defaultdict(int)
    created: dict[str, list[int]] = defaultdict(list)
    kept: dict[str, list[dict]] = defaultdict(list)
    for change in RunChange.objects.filter(run_id=run_id).order_by("id"):
        if change.action == RunChangeAction.CREATED:
            created[change.table].append(change.row_id)
        else:
            kept[change.table].append({"model": change.table, "pk": change.row_id, "fields": change.before})
    for label in reversed(_dependency_order(created)):
        apps.get_model(label).objects.filter(pk__in=created[label]).delete()
        counts[f"{label} deleted"] += len(created[label])
    for label in _dependency_order(kept):
        for restored in serializers.deserialize("python", kept[label]):
            restored.save()
        counts[f"{label} restored"] += len(kept[label])
    return dict(counts)
