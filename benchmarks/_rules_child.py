"""The group-rules evaluation, in its own process: ``python -m benchmarks._rules_child --members N --messages M``.

Started by ``benchmarks.rules_speed`` with ``DATABASE_URL`` and ``VAR_DIR`` pointing at a
throw-away migrated database. Fills one group with N memberships and M messages over 181
recorded days (in SQL, quickly), brings the memberships' facts up to date as an import does,
then times ``group_flags_evaluate``: the first run (which writes the flags) and the runs after
it (which find them unchanged), counting the queries of each. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

DAYS = 181  # 2018-01-01 … 2018-06-30
FIRST_DAY = dt.date(2018, 1, 1)


def fill(group_id: int, members: int, messages: int) -> None:
    """Members 1…N (every 10th silent since March, every 20th with a bad nickname, every 3rd
    without a share) and M messages spread over the record, in a handful of SQL statements."""
    from django.db import connection

    from community.models import Member, Membership, RecordedDay

    postgres = connection.vendor == "postgresql"
    Member.objects.bulk_create(
        [Member(display_name=f"成员{i}-某支付-产品-上海") for i in range(members)], batch_size=5000
    )
    member_ids = list(Member.objects.order_by("id").values_list("id", flat=True))
    joined = dt.datetime(2017, 12, 1, tzinfo=dt.UTC)
    Membership.objects.bulk_create([
        Membership(group_id=group_id, member_id=member_id, joined_at=joined,
                   nickname=f"user{i}" if i % 20 == 0 else f"成员{i}-某支付-产品-上海",
                   shares_given=0 if i % 3 == 0 else 1)
        for i, member_id in enumerate(member_ids)
    ], batch_size=5000)
    RecordedDay.objects.bulk_create([
        RecordedDay(group_id=group_id, day=FIRST_DAY + dt.timedelta(days=i), message_count=messages // DAYS)
        for i in range(DAYS)
    ])
    first_member = member_ids[0]
    # Every 10th member wrote only in the first 60 days: silent since March.
    day = "(CASE WHEN (i %% %s) %% 10 = 0 THEN (i * 7919) %% 60 ELSE (i * 7919) %% %s END)"
    if postgres:
        rows = "SELECT g::bigint AS i FROM generate_series(0, %s - 1) AS g"
        sent = (f"TIMESTAMP WITH TIME ZONE '2018-01-01 02:00:00+00' + ({day} * INTERVAL '1 day') "
                "+ ((i %% 36000) * INTERVAL '1 second')")
        key = "md5(i::text)"
        prefix = ""
    else:
        rows = "s"
        sent = f"datetime('2018-01-01 02:00:00', '+' || {day} || ' days', '+' || (i %% 36000) || ' seconds')"
        key = "printf('%%040d', i)"
        prefix = "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < %s) "
    sql = (f"{prefix}INSERT INTO community_message (group_id, sender_id, sender_name, sent_at, kind, text, url, "
           f"source_day, source_file, key) SELECT %s, %s + (i %% %s), 'x', {sent}, 'text', '你好', '', NULL, '', {key} "
           f"FROM ({rows}) AS t" if postgres else
           f"{prefix}INSERT INTO community_message (group_id, sender_id, sender_name, sent_at, kind, text, url, "
           f"source_day, source_file, key) SELECT %s, %s + (i %% %s), 'x', {sent}, 'text', '你好', '', NULL, '', {key} "
           f"FROM {rows}")
    params = [group_id, first_member, members, members, DAYS]
    params = params + [messages] if postgres else [messages, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._rules_child")
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from community.flags import group_flags_evaluate
    from community.models import Flag, Group
    from community.services import membership_facts_refresh

    group = Group.objects.create(slug="bench", name="bench")
    started = time.perf_counter()
    fill(group.pk, args.members, args.messages)
    fill_seconds = time.perf_counter() - started
    started = time.perf_counter()
    membership_facts_refresh(group_id=group.pk)
    facts_seconds = time.perf_counter() - started

    runs = []
    for _ in range(1 + args.repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = group_flags_evaluate(group=group)
            seconds = time.perf_counter() - started
        runs.append({"seconds": seconds, "queries": len(queries), "counts": result.counts()})
    print(json.dumps({
        "members": args.members, "messages": args.messages, "fill_seconds": fill_seconds,
        "facts_seconds": facts_seconds, "flags": Flag.objects.filter(group=group).count(), "runs": runs,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
