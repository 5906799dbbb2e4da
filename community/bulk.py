"""Updating many rows, one prepared statement for all.

Django's ``bulk_update`` writes one ``CASE WHEN id = … THEN …`` per row and field, which
costs more Python than the update itself; this sends ``UPDATE … WHERE id = %s`` once with
``executemany``. Values go through each field's own database preparation.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def rows_update(objects: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of each object (all of one model) to its row; returns the number of rows sent."""
    if not objects:
        return 0
    model = type(objects[0])
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns] + [obj.pk]
        for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
