"""A service's answer on an HTML page, in one place: run it, show its refusal (on the form, in
the page's list of errors, or as a message), or say what was done and redirect.

The API's counterpart is ``community.api.exceptions``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect

from .errors import Conflict


def error_text(error: ValidationError | dict) -> str:
    """A refusal (a ``ValidationError``, or a form's ``errors``) as one line to show."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return " ".join(message for messages_ in error.values() for message in messages_)


@dataclass(frozen=True)
class Outcome:
    """What ``run_service`` did: the service's ``result``, or its ``error``; with ``response``,
    the redirect to follow when it was done."""

    result: Any = None
    error: ValidationError | None = None
    response: HttpResponse | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def conflict(self) -> bool:
        """Refused because what the user read changed since (the page shows it again, 409)."""
        return isinstance(self.error, Conflict)


def run_service(request, service: Callable, /, *, success: str = "", redirect_to: str | Callable | None = None,
                form: forms.Form | None = None, error_fields: dict[str, str] | None = None,
                errors: list[str] | None = None, **arguments) -> Outcome:
    """``service(**arguments)``, for a page.

    Done: ``success`` (when given) is the next page's message, and ``response`` redirects to
    ``redirect_to`` (a URL, or a function of the service's result that returns one; none when
    not given). Refused (a ``ValidationError``): the refusal is shown on ``form`` when given
    (on the field that ``error_fields`` names for its code, else above the form), appended to
    ``errors`` when given (a page's own list), or else as an error message; the caller shows
    the page again. Other errors (``PermissionDenied``: 403) are left to Django."""
    try:
        result = service(**arguments)
    except ValidationError as error:
        if form is not None:
            code = getattr(error, "code", None)
            form.add_error((error_fields or {}).get(code), error)
        elif errors is not None:
            errors.append(error_text(error))
        else:
            messages.error(request, error_text(error))
        return Outcome(error=error)
    if success:
        messages.success(request, success)
    if redirect_to is None:
        return Outcome(result=result)
    return Outcome(result=result, response=redirect(redirect_to(result) if callable(redirect_to) else redirect_to))
