"""The few statements the import runs once per day file, in plain SQL.

Each ORM query costs a quarter to half a millisecond of Python before the database sees
it; per file that adds up to more than the inserts themselves. The statements here are
portable between SQLite (3.24+) and PostgreSQL, and take values already validated by the
parser. Datetimes go through ``db_datetime``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from dataclasses import dataclass

from django.db import DatabaseError, connection, models

from community.models import Group, Message, Name, RecordedDay

from .models import ExactJSONEncoder, ImportedFile, RunChange
from .transcript import RawMessage


def db_datetime(moment: dt.datetime | None):
    """What the backend stores for an aware datetime (SQLite: naive UTC text)."""
    if moment is None or connection.vendor != "sqlite":
        return moment
    return _sqlite_datetime(moment)


def _sqlite_datetime(moment: dt.datetime | None) -> str | None:
    """``db_datetime`` on SQLite, for loops that asked ``connection.vendor`` once (it costs a context lookup)."""
    return None if moment is None else moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def db_datetimes(day: dt.date, messages: list[RawMessage], moments: list[dt.datetime]) -> list:
    """The values the backend stores for the day's aware moments, without Django's per-value cost.

    SQLite stores naive UTC text. When the day has one UTC offset (no DST change that day,
    the usual case) it is applied by arithmetic; otherwise each moment is converted."""
    if connection.vendor != "sqlite":
        return moments
    if not moments:
        return []
    tz = moments[0].tzinfo
    start, end = dt.datetime.combine(day, dt.time.min, tzinfo=tz), dt.datetime.combine(day, dt.time.max, tzinfo=tz)
    offset = start.utcoffset()
    if offset != end.utcoffset():
        return [m.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ") for m in moments]
    return [(dt.datetime.combine(day, m.time) - offset).isoformat(" ") for m in messages]


# SQLite has one writer at a time, and its busy wait is no queue: a writer waiting for the lock
# sleeps and tries again, every 100 ms at most. A long write that commits and begins again at once
# would starve every other writer (the site's logins and saves) until it ends; between two of its
# transactions it leaves the database free this long.
SQLITE_PAUSE_BETWEEN_TRANSACTIONS = 0.1


def writers_let_in() -> None:
    """Between two transactions of a long write (a roster's chunks): let waiting writers in."""
    if connection.vendor == "sqlite":
        time.sleep(SQLITE_PAUSE_BETWEEN_TRANSACTIONS)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def group_lock(group_id: int) -> None:
    """Hold the group's row until the transaction ends: imports of one group run one at a time.

    ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: the rows others insert meanwhile that point at the
    group (a share registered on the site) check their foreign key with ``FOR KEY SHARE``, which
    ``FOR UPDATE`` would make wait for the import's transaction.
    SQLite needs nothing more: its ``BEGIN IMMEDIATE`` already holds the only write lock."""
    if connection.vendor == "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {_table(Group)} WHERE id = %s FOR NO KEY UPDATE", [group_id])


def imported_hashes(group_id: int, day: dt.date) -> set[str]:
    """The hashes of the files imported into the group's day (none: the day is fresh)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sha256 FROM {_table(ImportedFile)} WHERE group_id = %s AND day = %s", [group_id, day])
        return {row[0] for row in cursor.fetchall()}


def newest_name_id(group_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(id) FROM {_table(Name)} WHERE group_id = %s", [group_id])
        row = cursor.fetchone()
    return row[0] or 0


def day_recorded(group_id: int, day: dt.date, message_count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(RecordedDay)} (group_id, day, message_count) VALUES (%s, %s, %s) "
            "ON CONFLICT (group_id, day) DO UPDATE SET message_count = excluded.message_count",
            [group_id, day, message_count],
        )


def file_imported(group_id: int, day: dt.date, sha256: str, path: str, run_id: int, message_count: int,
                  at: dt.datetime) -> None:
    """Remember that the file (its hash) was imported into the day; already remembered: nothing."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(ImportedFile)} (group_id, day, sha256, path, run_id, message_count, imported_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (group_id, day, sha256) DO NOTHING",
            [group_id, day, sha256, path, run_id, message_count, db_datetime(at)],
        )


def message_ids(group_id: int, day: dt.date) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, id FROM {_table(Message)} WHERE group_id = %s AND source_day = %s", [group_id, day])
        return dict(cursor.fetchall())


DAY_MESSAGE_COLUMNS = ("id", "sender_id", "sender_name", "sent_at", "kind", "text", "url", "key", "source_line")


def day_messages(group_id: int, day: dt.date) -> list[tuple]:
    """The stored messages of the group's day (``DAY_MESSAGE_COLUMNS``), in the record's order,
    ``sent_at`` aware (UTC)."""
    columns = ", ".join(connection.ops.quote_name(c) for c in DAY_MESSAGE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {_table(Message)} WHERE group_id = %s AND source_day = %s "
                       "ORDER BY sent_at, id", [group_id, day])
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":  # naive UTC (text, or a datetime through Django's converter)
        utc = dt.UTC
        rows = [(*row[:3], (dt.datetime.fromisoformat(row[3]) if isinstance(row[3], str) else row[3]).replace(tzinfo=utc),
                 *row[4:]) for row in rows]
    return rows


# Names per statement in ``names_elsewhere`` (SQLite's oldest limit of parameters is 999).
NAMES_PER_STATEMENT = 900


def names_elsewhere(group_id: int, normalized: set[str] | list[str]) -> dict[str, set[int]]:
    """The members known under each of these normalized names outside the group (in another group,
    or in none: a name with no group), as ``Name.objects.filter(normalized__in=…).exclude(group_id=…)``
    would find them; without the ORM's cost, a day's names at a time."""
    found: dict[str, set[int]] = {}
    wanted = list(normalized)
    table = _table(Name)
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), NAMES_PER_STATEMENT):
            chunk = wanted[start:start + NAMES_PER_STATEMENT]
            cursor.execute(f"SELECT DISTINCT normalized, member_id FROM {table} WHERE normalized IN "
                           f"({', '.join(['%s'] * len(chunk))}) AND (group_id IS NULL OR group_id <> %s)",
                           [*chunk, group_id])
            for name, member_id in cursor.fetchall():
                found.setdefault(name, set()).add(member_id)
    return found


MESSAGE_COLUMNS = ("group_id", "sender_id", "sender_name", "sent_at", "kind", "text", "url", "source_day",
                   "source_file", "source_line", "key", "import_run")


def messages_insert(rows: list[tuple]) -> None:
    """Insert messages (tuples in ``MESSAGE_COLUMNS`` order, ``sent_at`` through ``db_datetime``)
    with one prepared statement: Django's ``bulk_create`` costs more per row than the rest of the import."""
    if not rows:
        return
    columns = ", ".join(connection.ops.quote_name(c) for c in MESSAGE_COLUMNS)
    placeholders = ", ".join(["%s"] * len(MESSAGE_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {_table(Message)} ({columns}) VALUES ({placeholders})", rows)


# Fields ``rows_insert`` writes as they are; dates and moments are adapted (SQLite: text).
_PLAIN = {"BigIntegerField", "BooleanField", "CharField", "ForeignKey", "IntegerField", "OneToOneField",
          "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SlugField",
          "SmallIntegerField", "TextField"}


def _adapter(field: models.Field, sqlite: bool):
    kind = field.get_internal_type()
    if kind in _PLAIN or not sqlite and kind in ("DateTimeField", "DateField"):
        return None
    if kind == "DateTimeField":
        return _sqlite_datetime
    if kind == "DateField":
        return lambda value: None if value is None else value.isoformat()
    raise TypeError(f"rows_insert: {field.model._meta.label}.{field.name} is a {kind}")


@dataclass(frozen=True)
class _InsertPlan:
    """What ``rows_insert`` needs of a model and its columns, worked out once per (model, columns, backend):
    the fields given and the others (taking their defaults), and how values are adapted."""

    given: tuple
    others: tuple
    convert: tuple  # (index among the given columns, adapter) for the values to adapt
    default_adapters: tuple  # an adapter (or None) per other field
    names: str


@functools.cache
def _insert_plan(model: type[models.Model], columns: tuple[str, ...], vendor: str) -> _InsertPlan:
    meta, sqlite = model._meta, vendor == "sqlite"
    given = tuple(meta.get_field(name) for name in columns)
    others = tuple(f for f in meta.concrete_fields if not f.primary_key and f not in given)
    convert = tuple((i, adapt) for i, adapt in enumerate(_adapter(f, sqlite) for f in given) if adapt is not None)
    return _InsertPlan(given, others, convert, tuple(_adapter(f, sqlite) for f in others),
                       ", ".join(connection.ops.quote_name(f.column) for f in given + others))


def rows_insert(model: type[models.Model], columns: list[str], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (tuples of the values of ``columns``, fields' attribute names) into
    ``model``'s table, its other columns taking their fields' defaults, and return the new ids
    in the rows' order: multi-row ``INSERT … RETURNING id`` statements (SQLite 3.35+ and
    PostgreSQL return the rows in the order given, as Django's ``bulk_create`` relies on).
    Django's ``bulk_create`` needs model instances and prepares every value through its query
    compiler, several times the cost of the insert itself. Plain columns only (text, numbers,
    booleans, dates, moments, foreign keys): a model with another kind of field is refused.
    The fields and adapters are worked out once per model and columns (a new member is one
    row, inserted hundreds of times a run)."""
    if not rows:
        return []
    vendor = connection.vendor
    plan = _insert_plan(model, tuple(columns), vendor)
    given, others, convert = plan.given, plan.others, plan.convert
    defaults = []
    for field, adapt in zip(others, plan.default_adapters, strict=True):
        value = field.get_default()  # per call: a default may be a callable (``timezone.now``)
        defaults.append(value if adapt is None else adapt(value))
    defaults = tuple(defaults)
    if vendor == "postgresql":
        return _rows_insert_unnest(model, list(given), list(others), rows, defaults)
    row = "(" + ", ".join(["%s"] * (len(given) + len(others))) + ")"
    limit = connection.features.max_query_params
    size = max(1, limit // (len(given) + len(others))) if limit else 1000
    head = f"INSERT INTO {_table(model)} ({plan.names}) VALUES "
    tail = f" RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            params: list = []
            batch = rows[start:start + size]
            for values in batch:
                if convert:
                    values = list(values)
                    for i, adapt in convert:
                        values[i] = adapt(values[i])
                params.extend(values)
                params.extend(defaults)
            cursor.execute(head + ", ".join([row] * len(batch)) + tail, params)
            returned = cursor.fetchall()
            if len(returned) != len(batch):
                raise DatabaseError(f"rows_insert: {len(batch)} rows sent, {len(returned)} ids returned")
            ids.extend(pk for (pk,) in returned)
    return ids


def _rows_insert_unnest(model, given, others, rows, defaults) -> list[int]:
    """PostgreSQL: one ``INSERT … SELECT … FROM UNNEST(arrays) RETURNING id``, a parameter per
    column, whatever the rows (as Django's own ``bulk_create`` does where it can): two to three
    times faster than a ``VALUES`` list of thousands of parameters."""
    fields = given + others
    arrays = [list(column) for column in zip(*rows, strict=True)] + [[value] * len(rows) for value in defaults]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    unnest = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {_table(model)} ({names}) SELECT * FROM UNNEST({unnest}) "
                       f"RETURNING {connection.ops.quote_name(model._meta.pk.column)}", arrays)
        ids = [pk for (pk,) in cursor.fetchall()]
    if len(ids) != len(rows):
        raise DatabaseError(f"rows_insert: {len(rows)} rows sent, {len(ids)} ids returned")
    return ids


def names_counts_update(rows: list[tuple[int, dt.datetime | None, dt.datetime | None, int]]) -> None:
    """Set names' first and last sightings and counts: (id, first_seen, last_seen, times_seen)."""
    if not rows:
        return
    table = _table(Name)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS n SET first_seen = v.first_seen, last_seen = v.last_seen, times_seen = v.times_seen "
                "FROM UNNEST(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::integer[]) "
                "AS v(id, first_seen, last_seen, times_seen) WHERE n.id = v.id",
                [list(column) for column in zip(*rows, strict=True)])
        else:
            cursor.executemany(f"UPDATE {table} SET first_seen = %s, last_seen = %s, times_seen = %s WHERE id = %s",
                               [(_sqlite_datetime(first), _sqlite_datetime(last), times, pk)
                                for pk, first, last, times in rows])


def run_changes_insert(rows: list[tuple[int, str, int, str, dict]]) -> None:
    """Journal rows (run, table, row id, action, fields before) with one prepared statement, a
    row already kept by the run keeping its first record, as ``importer.journal`` does: for the
    thousands of rows a roster changes per chunk, Django's ``bulk_create`` of ``RunChange`` costs
    several times the chunk's own writes. ``before`` is encoded as the model field encodes it."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f) for f in ("run_id", "table", "row_id", "action", "before"))
    conflict = f"ON CONFLICT ({quote('run_id')}, {quote('table')}, {quote('row_id')}) DO NOTHING"
    values = [(run, table, row_id, action, json.dumps(before, cls=ExactJSONEncoder))
              for run, table, row_id, action, before in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {_table(RunChange)} ({columns}) SELECT * FROM UNNEST(%s::bigint[], "
                           f"%s::text[], %s::bigint[], %s::text[], %s::jsonb[]) {conflict}",
                           [list(column) for column in zip(*values, strict=True)])
        else:
            cursor.executemany(f"INSERT INTO {_table(RunChange)} ({columns}) VALUES (%s, %s, %s, %s, %s) {conflict}",
                               values)
