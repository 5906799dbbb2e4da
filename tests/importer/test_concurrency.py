"""Two imports of the same files into the same group at once duplicate nothing (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from community.models import Member, Membership, Message, Name
from importer.services import Source, transcripts_import
from shares.models import Share, SignIn

from .test_services import talk_day

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.postgres
def test_two_concurrent_imports_of_the_same_files_duplicate_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL (run with TEST_POSTGRES=1)")
    files = [Source.from_bytes(f"{day}.md", talk_day(day=day)) for day in ("2024-03-04", "2024-03-05", "2024-03-06")]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(transcripts_import(group_slug="prodarch", sources=files))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [r.ok for r in results] == [True, True]
    # Each file imported once, by one run or the other; the other run found it unchanged.
    assert sum(r.counts.files_skipped for r in results) == 3
    assert sum(r.counts.messages_created for r in results) == 3 * 21
    assert Message.objects.count() == 3 * 21
    assert Share.objects.count() == 3
    assert SignIn.objects.count() == 9
    assert Member.objects.filter(display_name="听众一").count() == 1
    assert Membership.objects.count() == Member.objects.count()
    assert Name.objects.values("member", "group", "normalized", "source").distinct().count() == Name.objects.count()
