"""A 100,000-row roster import beside web writes (logins, API writes) finds no 500, and no 503:
the roster writes in short transactions, so that a request waits for a few of them at most.

Each in a process of its own, as in production (``tests.importer.roster_beside_web``): the
import, two clients logging in, two registering shares through the API; on the test database
shared through ``tests.live`` (on SQLite a file in WAL mode, as in production; on PostgreSQL
the test database itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.authtoken.models import Token

from community.models import Member, Membership
from shares.models import Share
from tests.factories import make_group, make_person
from tests.live import REPO, process_env, shared_database

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 100_000


def start(role: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.importer.roster_beside_web", role, *args], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def output(process: subprocess.Popen, timeout: float):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-5000:]
    return json.loads(out.strip().splitlines()[-1])


def test_a_100000_row_roster_beside_logins_and_api_writes_answers_no_500(tmp_path):
    group = make_group(slug="prodarch")
    zhou = make_person(group, "周明远-云汇支付-产品-杭州")
    # Hashed as in production: the processes run with the real settings' hashers, not the tests' fast one.
    zhou.user.password = PBKDF2PasswordHasher().encode("a long password 1", "saltsaltsalt")
    zhou.user.save()
    token = Token.objects.create(user=zhou.user)
    stop = tmp_path / "stop"
    with shared_database(tmp_path) as database:
        env = process_env(database.url, tmp_path / "var", API_THROTTLE_USER="1000000/minute", LOG_LEVEL="WARNING")
        clients = [start("login", ["--username", zhou.user.username, "--password", "a long password 1",
                                   "--until", str(stop)], env) for _ in range(2)]
        clients += [start("api", ["--token", token.key, "--until", str(stop)], env) for _ in range(2)]
        try:
            imported = output(start("import", ["--rows", str(ROWS)], env), timeout=1800)
        finally:
            stop.touch()
        requests = [output(client, timeout=120) for client in clients]

    assert (imported["ok"], imported["report"]["members_created"]) == (True, ROWS), imported
    logins = Counter(status for done in requests[:2] for status, _seconds in done)
    writes = Counter(status for done in requests[2:] for status, _seconds in done)
    # Every login and every API write succeeded while the roster was written: no 500, no 503.
    assert set(logins) == {302} and set(writes) == {201}, (logins, writes)
    assert logins[302] >= 10 and writes[201] >= 50, (logins, writes)
    assert Membership.objects.filter(group=group).count() == ROWS + 1
    assert Member.objects.filter(wechat_id__startswith="wxid_").count() == ROWS
    assert Share.objects.filter(group=group).count() == writes[201]
    waits = sorted(seconds for done in requests for _status, seconds in done)
    print(f"roster of {ROWS:,} rows in {imported['seconds']:.1f}s beside {len(waits)} requests "
          f"({logins[302]} logins, {writes[201]} API writes); seconds per request: median "
          f"{waits[len(waits) // 2]:.2f}, 95th percentile {waits[len(waits) * 95 // 100]:.2f}, slowest {waits[-1]:.2f}")
