"""The API's errors as DRF writes them, with a throttled request told plainly when to retry."""

from __future__ import annotations

from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
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
