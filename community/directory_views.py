"""A group's member directory, for the group's members (a reduced view) and its admins.

Members see the active members only, without status, rule evidence or WeChat id; the
group's owner and admins (and staff) see every membership with its status and the facts
the group rules read. Anonymous visitors are sent to log in; logged-in people who are not
members of the group get a 403, as on the other member-only group pages.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .access import group_member_required
from .filters import AdminDirectoryFilter, DirectoryFilter
from .selectors import directory_memberships, directory_rows, last_recorded_day

PER_PAGE = 50


@group_member_required
@require_GET
def directory(request, group_slug: str) -> HttpResponse:
    """The group's members, searched, filtered, ordered and 50 to a page."""
    group, access = request.group, request.access
    filter_class = AdminDirectoryFilter if access.is_admin else DirectoryFilter
    filterset = filter_class(
        request.GET or None, queryset=directory_memberships(group=group, include_inactive=access.is_admin)
    )
    page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    as_of = last_recorded_day(group) if access.is_admin else None
    return render(request, "community/directory.html", {
        "group": group,
        "filter": filterset,
        "page": page,
        "rows": directory_rows(page.object_list, group=group, as_of=as_of),
        "as_of": as_of,
        # The filters beyond the search box stay folded on a phone unless one is in use.
        "filters_open": any(request.GET.get(name) for name in filterset.filters if name != "q"),
    })
