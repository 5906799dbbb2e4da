"""The refusal a service raises besides Django's ``ValidationError`` and ``PermissionDenied``."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """What the caller read changed since (its version moved on): nothing was written. The API
    answers 409 (``community.api.exceptions``), as the form pages do."""
