"""Text cut to what a model field holds: the limit is read from the field, never copied."""

from __future__ import annotations

from django.db import models


def max_length(model: type[models.Model], field_name: str) -> int:
    """The ``max_length`` of ``model.field_name`` (a ``CharField``)."""
    limit = model._meta.get_field(field_name).max_length
    if limit is None:
        raise TypeError(f"{model._meta.label}.{field_name} has no max_length")
    return limit


def clip(value: str, model: type[models.Model], field_name: str, *, keep_end: bool = False) -> str:
    """``value`` cut to the field's ``max_length``: its start, or with ``keep_end`` its end (a path,
    whose file name is at the end)."""
    limit = max_length(model, field_name)
    return value[-limit:] if keep_end else value[:limit]
