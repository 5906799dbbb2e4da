"""The home page: the groups, the shares coming up and the latest talks."""

from __future__ import annotations

from django.shortcuts import render

from community.selectors import groups_with_counts

from .selectors import latest_talks, upcoming_shares


def home(request):
    return render(
        request,
        "home.html",
        {
            "groups": groups_with_counts(),
            "upcoming": upcoming_shares(request.user),
            "latest": latest_talks(request.user),
        },
    )
