"""Placeholder for a page that is being built in this change: a 404 until its view lands.

Removed before the change is committed; nothing may link here in a release."""

from django.http import Http404


def not_yet(request, **kwargs):
    raise Http404
