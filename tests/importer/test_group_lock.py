"""The group's import lock serializes imports of the group, and lets the site's writes into the
group go on meanwhile (PostgreSQL: ``FOR NO KEY UPDATE``, which a foreign key's check does not
wait for)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection, connections, transaction

from importer import sql
from shares.models import Share
from tests.factories import make_group, make_member, make_membership

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_share_registered_during_an_import_of_its_group_does_not_wait_for_it():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite has one writer at a time)")
    group = make_group(slug="prodarch")
    speaker = make_member()
    make_membership(group, speaker)
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    waited = {}
    try:
        with transaction.atomic():
            sql.group_lock(group.pk)  # an import's chunk holds the group

            def register():  # the site, on a connection of its own
                try:
                    with connections["default"].cursor() as cursor:
                        cursor.execute("SET lock_timeout = '5s'")
                    Share.objects.create(group=group, speaker=speaker, topic="风控")
                    waited["done"] = True
                finally:
                    connections.close_all()

            thread = threading.Thread(target=register)
            thread.start()
            thread.join(timeout=10)
            # Asked while the import still holds the group: had it waited for the import, the lock
            # timeout would have failed it.
            assert waited == {"done": True}
        # And two imports of the group still wait for each other.
        with transaction.atomic():
            sql.group_lock(group.pk)
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(f"SELECT id FROM community_group WHERE id = {group.pk} FOR NO KEY UPDATE")
    finally:
        other.close()
