"""The talk archive's list and search across the groups the visitor may see (/talks/)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from community.selectors import user_roles

from .filters import TalkFilter
from .models import Share
from .search import highlight_html, talk_snippets, talks_for_list
from .selectors import shares_visible_to

PER_PAGE = 20


@dataclass(frozen=True)
class TalkRow:
    """A talk as the list shows it: its start in its group's time zone; for a search, the
    topic with the words found marked and a snippet of the talk around them (both escaped)."""

    share: Share
    local_start: dt.datetime | None
    topic_html: SafeString
    snippet_html: SafeString


def _rows(shares: list[Share], terms: list[str]) -> list[TalkRow]:
    snippets = talk_snippets(share_ids=[share.pk for share in shares], terms=terms)
    rows = []
    for share in shares:
        started = share.started_at or share.scheduled_for
        text = snippets.get(share.pk) or share.abstract
        rows.append(TalkRow(
            share=share,
            local_start=started.astimezone(share.group.tz) if started else None,
            topic_html=highlight_html(share.topic, terms, width=None),
            snippet_html=highlight_html(text, terms) if terms and text else SafeString(""),
        ))
    return rows


@require_GET
def talk_list(request) -> HttpResponse:
    """Delivered talks the visitor may see (``shares_visible_to``), newest first, or the best
    matches first for a search; filtered by group, speaker, year and month; 20 a page."""
    visible = shares_visible_to(request.user, roles=user_roles(request.user))
    filterset = TalkFilter(request.GET, queryset=talks_for_list(visible=visible), visible=visible)
    page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "shares/archive/list.html", {
        "filter": filterset,
        "page": page,
        "rows": _rows(list(page.object_list), filterset.search_terms),
        "searching": bool(filterset.search_terms),
    })
