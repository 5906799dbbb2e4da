"""The talk search: its index (built after import, never inside it) and its reads.

The index is an inverted index the project owns, the same on SQLite and PostgreSQL: a
``TalkIndexTerm`` row per (delivered share, term) with the best place the term was found
(topic > abstract > talk text), and a ``TalkIndex`` row per share recording which state of
the share it was built from. The words are ``shares.tokens``' (jieba for Chinese). A query
word matches the terms that start with it, a range on the term column's index; a query of
several words finds the talks that have all of them.

Shares not indexed yet (new, or edited since: their version moved on) are still found, by
their topic or abstract as typed, until the refresh (queued after every import, and every
ten minutes by beat) indexes them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Share, ShareStatus, TalkIndex, TalkIndexTerm, TalkMessage, TermWeight
from .tokens import normalize, prefix_end, query_terms, snippet_spans, text_terms, word_characters

logger = logging.getLogger(__name__)

# Shares indexed per transaction: a few tens of thousands of messages in memory at most.
BATCH_SIZE = 50
# A query asks for at most this many words (each one is a subquery).
MAX_QUERY_TERMS = 8
SNIPPET_WIDTH = 120
LIST_FIELDS = ("id", "topic", "abstract", "started_at", "scheduled_for", "sign_in_count", "version", "group",
               "group__slug", "group__name", "group__time_zone", "speaker", "speaker__display_name",
               "speaker__company")


# --- Building the index ---


@dataclass
class IndexRefresh:
    """What a refresh did: shares indexed, terms written, shares whose index was dropped
    (no longer delivered; a deleted share takes its index along) and the batches
    (transactions) it took."""

    indexed: int = 0
    terms: int = 0
    dropped: int = 0
    batches: int = 0


def share_terms(*, topic: str, abstract: str, texts: Iterable[str]) -> dict[str, int]:
    """Every term of a share with the best place it occurs (``TermWeight``)."""
    weights: dict[str, int] = {}
    for text in texts:
        for term in text_terms(text):
            weights[term] = TermWeight.TEXT
    for term in text_terms(abstract):
        weights[term] = TermWeight.ABSTRACT
    for term in text_terms(topic):
        weights[term] = TermWeight.TOPIC
    return weights


def stale_share_ids() -> list[int]:
    """Delivered shares whose index is missing or out of date, in id order: never indexed, or
    indexed at another version (edited since), or whose talk messages are not the ones
    indexed (a re-import replaced them). Three queries whatever the number of shares."""
    indexed = {
        share_id: (version, count, total)
        for share_id, version, count, total in TalkIndex.objects.values_list(
            "share_id", "version", "message_count", "message_id_sum")
    }
    talks = {
        share_id: (count, total or 0)
        for share_id, count, total in TalkMessage.objects.order_by().values("share_id")
        .annotate(count=Count("message_id"), total=Sum("message_id")).values_list("share_id", "count", "total")
    }
    stale = []
    for share_id, version in Share.objects.delivered().order_by("pk").values_list("pk", "version"):
        state = indexed.get(share_id)
        if state != (version, *talks.get(share_id, (0, 0))):
            stale.append(share_id)
    return stale


def talk_index_refresh(*, share_ids: Iterable[int] | None = None, rebuild: bool = False,
                       batch_size: int = BATCH_SIZE, progress: Callable[[int, int], None] | None = None) -> IndexRefresh:
    """(Re)build the search index of the given shares; with ``share_ids`` None, of every stale
    delivered share (``stale_share_ids``), or of every delivered share with ``rebuild``.
    The index of a share that is no longer delivered is dropped.

    Each batch of ``batch_size`` shares is one transaction of a constant number of queries;
    the batch's share rows are locked meanwhile, so two refreshes never interleave on a
    share. Idempotent: run twice with ``share_ids=None``, the second run finds nothing stale
    and writes nothing. ``progress(done, total)`` is called after each batch."""
    result = IndexRefresh()
    undelivered = TalkIndex.objects.exclude(share__status=ShareStatus.DELIVERED)
    if share_ids is not None:
        ids = sorted(set(share_ids))
        undelivered = undelivered.filter(share_id__in=ids)
    elif rebuild:
        ids = list(Share.objects.delivered().order_by("pk").values_list("pk", flat=True))
    else:
        ids = stale_share_ids()
    dropped = list(undelivered.values_list("share_id", flat=True))
    if dropped:
        with transaction.atomic():
            _drop(dropped)
        result.dropped = len(dropped)
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        _index_batch(batch, result)
        if progress:
            progress(start + len(batch), len(ids))
    return result


def _drop(share_ids: Sequence[int]) -> None:
    TalkIndexTerm.objects.filter(share_id__in=share_ids).delete()
    TalkIndex.objects.filter(share_id__in=share_ids).delete()


@transaction.atomic
def _index_batch(share_ids: Sequence[int], result: IndexRefresh) -> None:
    shares = list(
        Share.objects.select_for_update().filter(pk__in=share_ids, status=ShareStatus.DELIVERED).order_by("pk")
        .values_list("pk", "topic", "abstract", "version")
    )
    if not shares:
        return
    texts: dict[int, list[str]] = {pk: [] for pk, *_ in shares}
    fingerprints: dict[int, list[int]] = {pk: [0, 0] for pk, *_ in shares}
    for share_id, message_id, text in TalkMessage.objects.filter(share_id__in=texts).order_by().values_list(
            "share_id", "message_id", "message__text"):
        if text:
            texts[share_id].append(text)
        fingerprint = fingerprints[share_id]
        fingerprint[0] += 1
        fingerprint[1] += message_id
    rows: list[tuple[int, str, int]] = []
    indexes = []
    now = timezone.now()
    for pk, topic, abstract, version in shares:
        terms = share_terms(topic=topic, abstract=abstract, texts=texts[pk])
        rows.extend((pk, term, weight) for term, weight in terms.items())
        count, total = fingerprints[pk]
        indexes.append(TalkIndex(share_id=pk, version=version, message_count=count, message_id_sum=total,
                                 term_count=len(terms), indexed_at=now))
    _drop(list(texts))
    _terms_insert(rows)
    TalkIndex.objects.bulk_create(indexes)
    result.indexed += len(indexes)
    result.terms += len(rows)
    result.batches += 1


def _terms_insert(rows: list[tuple[int, str, int]]) -> None:
    """One prepared statement for thousands of rows (one query, whatever their number)."""
    if not rows:
        return
    table = connection.ops.quote_name(TalkIndexTerm._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (share_id, term, weight) VALUES (%s, %s, %s)", rows)


# --- Reading: the list and the search ---


def talks_for_list(*, visible: QuerySet[Share]) -> QuerySet[Share]:
    """The delivered shares among ``visible`` (``shares_visible_to``), newest first, with what
    the list shows of them, their group and their speaker loaded (and nothing more)."""
    return (
        visible.filter(status=ShareStatus.DELIVERED)
        .select_related("group", "speaker")
        .only(*LIST_FIELDS)
        .order_by(F("started_at").desc(nulls_last=True), "-id")
    )


def talks_search(talks: QuerySet[Share], query: str) -> tuple[QuerySet[Share], list[str]]:
    """The shares of ``talks`` that match ``query``, best first, and the words searched for.

    An indexed share matches when it has, for every query word (``query_terms``), a term
    starting with it, or, for a short Chinese word, each of its characters as a term (where
    jieba cut the word up in that talk); it ranks by the best place of each word (topic 3,
    abstract 2, text 1, summed), then newest first. A share not indexed at its current version matches when
    its topic or abstract contains every word as typed (topic 3 per word, else 2). A query
    with no word worth searching (only stop words or punctuation) looks for the query as
    typed in the topics. The result carries ``search_rank``."""
    query = " ".join(query.split())
    terms = query_terms(query)[:MAX_QUERY_TERMS]
    newest = (F("started_at").desc(nulls_last=True), "-id")
    if not terms:
        return (talks.filter(topic__icontains=query).annotate(search_rank=Value(TermWeight.TOPIC))
                .order_by("-search_rank", *newest), [query] if query else [])
    fresh = Q(talk_index__version=F("version"))
    stale = Q(talk_index__isnull=True) | ~fresh
    index_hit = fresh
    ranks = []
    for term in terms:
        hit, rank = _term_match(term)
        index_hit &= hit
        ranks.append(rank)
    words = normalize(query).split()[:MAX_QUERY_TERMS]
    in_topic = reduce(and_, (Q(topic__icontains=word) for word in words))
    in_abstract = reduce(and_, (Q(topic__icontains=word) | Q(abstract__icontains=word) for word in words))
    matches = talks.filter(index_hit | (stale & in_abstract)).annotate(
        search_rank=Case(
            When(fresh, then=reduce(lambda a, b: a + b, ranks)),
            When(in_topic, then=Value(TermWeight.TOPIC * len(terms))),
            default=Value(TermWeight.ABSTRACT * len(terms)),
            output_field=IntegerField(),
        )
    )
    return matches.order_by("-search_rank", *newest), terms


def _term_match(word: str) -> tuple[Q, Coalesce]:
    """The condition that a share has a term starting with ``word`` (or, for a short Chinese
    word, each of its characters as a term of its own), and the best place it has it."""
    terms = TalkIndexTerm.objects.all()
    in_range = Q(term__gte=word, term__lt=prefix_end(word))
    hit = Q(pk__in=terms.filter(in_range).values("share_id"))
    places = [in_range]
    characters = word_characters(word)
    if characters:
        hit |= reduce(and_, (Q(pk__in=terms.filter(term=character).values("share_id")) for character in characters))
        places.append(Q(term=characters[0]))
    best = [
        Subquery(terms.filter(place, share_id=OuterRef("pk")).order_by("-weight").values("weight")[:1],
                 output_field=IntegerField())
        for place in places
    ]
    return hit, Coalesce(*best, Value(0))


def talk_snippets(*, share_ids: Sequence[int], terms: Sequence[str]) -> dict[int, str]:
    """For each share, the text of the first message of its talk (talk, interruptions, Q&A;
    by time) that contains one of ``terms`` (case-insensitive). One query, which reads only
    the messages of those shares: a subquery per share (a join would let PostgreSQL scan every
    message of the record for the words)."""
    if not share_ids or not terms:
        return {}
    contains = reduce(or_, (Q(message__text__icontains=term) for term in terms))
    first = (TalkMessage.objects.filter(contains, share_id=OuterRef("pk"))
             .order_by("message__sent_at", "message_id").values("message__text")[:1])
    found = (Share.objects.filter(pk__in=share_ids).annotate(snippet=Subquery(first)).order_by()
             .values_list("pk", "snippet"))
    return {pk: text for pk, text in found if text is not None}


def highlight_html(text: str, words: Sequence[str], *, width: int | None = SNIPPET_WIDTH) -> SafeString:
    """``text`` (cut to about ``width`` characters around the first word found, or whole when
    ``width`` is None) escaped, with the words found wrapped in ``<mark>``. Nothing of the
    text ever becomes markup. Empty when no word occurs and a width is given."""
    spans = snippet_spans(text, words, width=width if width is not None else max(len(text), 1))
    if not spans:
        return mark_safe("") if width is not None else escape(text)
    return mark_safe("".join(f"<mark>{escape(piece)}</mark>" if hit else escape(piece) for piece, hit in spans))  # noqa: S308 - every piece is escaped
