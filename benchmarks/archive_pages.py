"""The talk archive's pages: server time of the talk page, the list and the search.

For each run a fresh, migrated database (as ``import_speed`` makes them) gets the 100k
corpus of ``importer.generator`` through the real importer, plus one long talk (1,500
messages, 60 sign-ins) written directly; then the search index is built
(``shares.search.talk_index_refresh``, timed) and each page is requested in-process with
Django's test ``Client`` by a logged-in member of the group: a few warm-up requests, then
the median of ``REQUESTS`` requests, and the number of queries of one of them. Everything
after the set-up runs in one child process (``python -m benchmarks.archive_pages --child``)
with the project's real settings (``DEBUG`` off), its own ``VAR_DIR`` and ``DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from . import Figure, Goal
from .import_speed import (
    PostgresDatabases,
    SqliteDatabases,
    child_env,
    corpus,
    default_repeat,
    migrate,
    run_process,
    size_label,
)

GROUP_SLUG = "bench"
DEFAULT_SIZE = 100_000
REQUESTS = 25
WARM_UP = 3
PAGE_GOAL_MS = 50
SEARCH_GOAL_MS = 200
LONG_TALK_MESSAGES = 1_500
LONG_TALK_SIGN_INS = 60
# Words of the generator's talks: a Chinese one (幂等, a "thing") and an English one (Kafka, a "tech").
SEARCHES = {"search_zh": "幂等", "search_en": "kafka", "search_two_words": "对账 redis"}


# ---------------------------------------------------------------------------------------
# The parent: databases, runs, figures
# ---------------------------------------------------------------------------------------


def run(*, sizes: list[int] | None, repeat: int | None, database: str, emit, log) -> None:
    """Measure every size (100k by default); ``emit`` gets each size's figures when known."""
    root = Path(tempfile.mkdtemp(prefix="bench-archive-"))
    databases = (
        SqliteDatabases(root) if database == "sqlite" or database.startswith("sqlite:")
        else PostgresDatabases(database, root)
    )
    try:
        migrate(databases, log)
        for size in sizes or [DEFAULT_SIZE]:
            data = corpus(size, log)
            samples = []
            for n in range(1, (repeat or default_repeat(size)) + 1):
                url, var_dir = databases.fresh()
                log(f"archive {size_label(size)} run {n}: importing, indexing and requesting the pages ...")
                args = ["-m", "benchmarks.archive_pages", "--child", str(data.folder), "--group", GROUP_SLUG]
                output = run_process(args, child_env(url, var_dir), f"archive pages at {size_label(size)}")
                databases.discard(var_dir)
                sample = json.loads(output.strip().splitlines()[-1])
                samples.append(sample)
                log(f"archive {size_label(size)} run {n}: " + ", ".join(
                    f"{name} {page['median_ms']:.1f} ms ({page['queries']} queries)"
                    for name, page in sample["pages"].items()) + f"; index {sample['index_seconds']:.1f}s")
            emit(figures_for(size, samples))
    finally:
        databases.close()
        shutil.rmtree(root, ignore_errors=True)


def figures_for(size: int, samples: list[dict]) -> list[Figure]:
    label = size_label(size)
    first = samples[0]
    shape = (f"{first['messages']:,} messages, {first['talks']} talks, {first['talk_messages']:,} talk messages, "
             f"{first['terms']:,} index terms")
    goals = {
        "talk_page": Goal(f"< {PAGE_GOAL_MS} ms", below=PAGE_GOAL_MS),
        "list": Goal(f"< {PAGE_GOAL_MS} ms", below=PAGE_GOAL_MS),
    }
    notes = {
        "talk_page": f"{LONG_TALK_MESSAGES:,} messages, {LONG_TALK_SIGN_INS} sign-ins",
        "list": "first page (20 talks)",
    }
    figures = []
    for name, page in first["pages"].items():
        results = f", {page['results']} found" if page.get("results") is not None else ""
        note = notes.get(name) or f"q={page['query']!r}{results}"
        figures.append(Figure(
            name=f"archive.{name}", size=label, unit="ms",
            samples=tuple(sample["pages"][name]["median_ms"] for sample in samples),
            goal=goals.get(name, Goal(f"< {SEARCH_GOAL_MS} ms", below=SEARCH_GOAL_MS)),
            note=f"{note}; {page['queries']} queries; median of {REQUESTS} requests per run", digits=1,
        ))
    figures.append(Figure(
        name="archive.index_all", size=label, unit="s",
        samples=tuple(sample["index_seconds"] for sample in samples), note=f"index every talk after import: {shape}",
        digits=2,
    ))
    return figures


# ---------------------------------------------------------------------------------------
# The child: import, the long talk, the index, the requests
# ---------------------------------------------------------------------------------------


def _long_talk(group_slug: str):
    """A delivered talk of 1,500 messages (talk, interruptions, Q&A) and 60 sign-ins on the day
    after the corpus, with 300 more messages of discussion that day."""
    import datetime as dt
    import hashlib

    from community.models import Group, Membership, MembershipStatus, Message, Visibility
    from importer.generator import AREAS, TECHS, THINGS
    from shares.models import Origin, Share, ShareStatus, SignIn, TalkMessage, TalkPart

    group = Group.objects.get(slug=group_slug)
    members = list(Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE, role="member")
                   .order_by("id").values_list("member_id", flat=True)[:LONG_TALK_SIGN_INS + 1])
    speaker_id, audience = members[0], members[1:]
    last = Message.objects.filter(group=group).order_by("-sent_at").values_list("sent_at", flat=True).first()
    day = last.astimezone(group.tz).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(19, 30), tzinfo=group.tz)
    rows, parts = [], []

    def message(moment, sender_id, text, part=None):
        key = hashlib.sha1(f"long-talk|{moment.isoformat()}|{len(rows)}".encode()).hexdigest()
        rows.append(Message(group=group, sender_id=sender_id, sender_name=str(sender_id), sent_at=moment, text=text,
                            source_day=day, key=key))
        parts.append(part)

    for n in range(300):  # the day's other discussion, in the morning
        message(start - dt.timedelta(hours=10) + dt.timedelta(seconds=60 * n), audience[n % len(audience)], f"闲聊{n}")
    for n in range(LONG_TALK_MESSAGES):
        moment = start + dt.timedelta(seconds=4 * n)
        thing, area, tech = THINGS[n % len(THINGS)], AREAS[n % len(AREAS)], TECHS[n % len(TECHS)]
        if n < 1_200:
            if n % 25 == 24:
                message(moment, audience[n % len(audience)], f"不好意思插一句，{thing}是怎么做的？", TalkPart.INTERRUPTION)
            else:
                message(moment, speaker_id, f"第{n}段：{area}里的{thing}，我们用{tech}来做，配合补偿流程。", TalkPart.TALK)
        elif n % 2:
            message(moment, audience[n % len(audience)], f"请教一下，{thing}这块你们是怎么做的？", TalkPart.QA)
        else:
            message(moment, speaker_id, f"我们是在账务系统里统一做的{thing}", TalkPart.QA)
    Message.objects.bulk_create(rows, batch_size=500)
    ended = start + dt.timedelta(seconds=4 * LONG_TALK_MESSAGES)
    share = Share.objects.create(
        group=group, speaker_id=speaker_id, topic="支付网关的架构演进（长篇）", status=ShareStatus.DELIVERED, day=day,
        scheduled_for=start, started_at=start, ended_at=ended, visibility=Visibility.MEMBERS, origin=Origin.IMPORT,
        sign_in_count=len(audience),
    )
    TalkMessage.objects.bulk_create(
        [TalkMessage(share=share, message=row, part=part) for row, part in zip(rows, parts, strict=True) if part],
        batch_size=500)
    SignIn.objects.bulk_create([
        SignIn(share=share, member_id=member_id, signed_at=start - dt.timedelta(minutes=10), origin=Origin.IMPORT)
        for member_id in audience
    ])
    return share, members[-1]


def _time(client, url: str) -> tuple[list[float], int, str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: status {response.status_code}")
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    count = len(queries)  # now: every request clears the connection's query log
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times, count, html


def child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.archive_pages --child")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--group", required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from urllib.parse import urlencode

    from django.contrib.auth import get_user_model
    from django.test import Client

    from community.models import Member, Message
    from importer.services import transcript_sources, transcripts_import
    from shares.models import Share, TalkIndexTerm, TalkMessage
    from shares.search import talk_index_refresh

    result = transcripts_import(group_slug=args.group, sources=transcript_sources([args.folder]))
    if result.errors:
        print(f"{len(result.errors)} files failed, e.g. {result.errors[0]}", file=sys.stderr)
    share, reader_id = _long_talk(args.group)
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk load in production: without statistics
        # on the rows just written, the planner picks nested loops over thousands of rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    started = time.perf_counter()
    talk_index_refresh()
    index_seconds = time.perf_counter() - started

    user = get_user_model().objects.create_user(username="bench-reader", password="bench-password-1")
    Member.objects.filter(pk=reader_id).update(user=user)
    client = Client()
    client.force_login(user)
    pages = {"talk_page": (f"/g/{args.group}/talks/{share.pk}/", None), "list": ("/talks/", None)}
    pages.update({name: ("/talks/?" + urlencode({"q": query}), query) for name, query in SEARCHES.items()})
    measured = {}
    for name, (url, query) in pages.items():
        times, queries, html = _time(client, url)
        found = re.search(r'class="muted result-count">\D*([\d,]+)', html)
        measured[name] = {"url": url, "query": query, "median_ms": median(times), "samples_ms": times,
                          "queries": queries, "results": int(found.group(1).replace(",", "")) if query and found else None}
    json.dump({
        "messages": Message.objects.count(),
        "talks": Share.objects.delivered().count(),
        "talk_messages": TalkMessage.objects.count(),
        "terms": TalkIndexTerm.objects.count(),
        "index_seconds": index_seconds,
        "pages": measured,
    }, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["--child"]:
        raise SystemExit("run the benchmark with: python -m benchmarks --only archive")
    raise SystemExit(child(sys.argv[2:]))
