"""The API's errors, in one place (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``): DRF's own, a
service's refusal in the README's shape, a throttled request told plainly when to retry, and a
database too busy to answer in time a 503 with ``Retry-After`` (``community.busy``).

A service's refusal, whatever the endpoint:
* ``ValidationError``: 400, ``{field: [why]}`` when it is about a field (a model field of its
  ``error_dict``, renamed by the view's ``field_names``; or an error code the view's
  ``error_fields`` names), else ``{"detail": why}``;
* ``Conflict`` (``community.errors``): the same body, 409;
* ``PermissionDenied``: 403 ``{"detail": why}``; so is a ``ValidationError`` whose code says who
  the caller is rather than what they sent (``FORBIDDEN_CODES``);
* ``Http404``: 404 (DRF's own).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import ngettext
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from community.busy import RETRY_AFTER_SECONDS, busy_message, is_database_busy
from community.errors import Conflict

# A member out of the caller's reach (``community.permissions.members_out_of_reach``): who the
# caller is, not what they sent.
FORBIDDEN_CODES = {"out_of_reach"}


def refusal_body(error: DjangoValidationError, *, error_fields: dict[str, str] | None = None,
                 field_names: dict[str, str] | None = None) -> dict:
    """A service's ``ValidationError`` as ``{field: [why]}`` and/or ``{"detail": why}``."""
    error_fields, field_names = error_fields or {}, {"__all__": "detail", **(field_names or {})}
    body: dict[str, list[str]] = {}
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            body.setdefault(field_names.get(name, name), []).extend(messages)
    else:
        for item in error.error_list:
            body.setdefault(error_fields.get(item.code, "detail"), []).extend(item.messages)
    if "detail" in body:
        return {**body, "detail": " ".join(body["detail"])}
    return body


def _refusal(error: DjangoValidationError, view) -> Response:
    set_rollback()  # as DRF does for its own errors: nothing of the request is written
    if not hasattr(error, "error_dict") and {item.code for item in error.error_list} <= FORBIDDEN_CODES:
        return Response({"detail": " ".join(error.messages)}, status=status.HTTP_403_FORBIDDEN)
    body = refusal_body(error, error_fields=getattr(view, "error_fields", None),
                        field_names=getattr(view, "field_names", None))
    code = status.HTTP_409_CONFLICT if isinstance(error, Conflict) else status.HTTP_400_BAD_REQUEST
    return Response(body, status=code)


def exception_handler(exc, context):
    if is_database_busy(exc):
        return Response({"detail": busy_message()}, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, DjangoValidationError):
        return _refusal(exc, context.get("view"))
    if isinstance(exc, DjangoPermissionDenied) and exc.args:  # DRF's own handler would drop the message
        exc = PermissionDenied(str(exc))
    response = drf_exception_handler(exc, context)
    if isinstance(exc, Throttled) and response is not None:
        wait = max(int(exc.wait or 0), 1)
        response.data = {"detail": ngettext(
            "Too many requests: this API takes a limited number of requests a minute from each client. "
            "Try again in %(wait)d second.",
            "Too many requests: this API takes a limited number of requests a minute from each client. "
            "Try again in %(wait)d seconds.",
            wait,
        ) % {"wait": wait}}
    return response
