"""The API's errors as DRF writes them, with a throttled request told plainly when to retry,
and a database too busy to answer in time a 503 with ``Retry-After`` (``community.busy``)."""

from __future__ import annotations

from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from community.busy import RETRY_AFTER_SECONDS, busy_message, is_database_busy


def exception_handler(exc, context):
    if is_database_busy(exc):
        return Response({"detail": busy_message()}, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
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
