"""The processes of ``tests/importer/test_roster_beside_web.py``: a long roster import, and web
clients writing beside it, each in a process of its own as in production (a worker, web servers):

    python -m tests.importer.roster_beside_web import --rows N
    python -m tests.importer.roster_beside_web login --username U --password P --until FILE
    python -m tests.importer.roster_beside_web api --token T --until FILE

``import`` imports a generated member list of N rows (``importer.generator.large_roster_csv``)
into the group ``prodarch`` through ``roster_import`` (what ``manage.py import_roster`` and an
upload's task do). ``login`` logs in, and ``api`` registers shares through the API with a token,
over and over until FILE exists (a pause of THINK_SECONDS between two); every request goes through the whole middleware stack
(Django's test client, the real settings). Each prints one JSON object: the import's report
and seconds, or each request's status and seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

# Between two requests of a client: a busy site, not a benchmark of the database's writes (four
# clients writing back to back would measure SQLite's one writer at a time, not the roster).
THINK_SECONDS = 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.importer.roster_beside_web")
    parser.add_argument("role", choices=["import", "login", "api"])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--token")
    parser.add_argument("--until", type=Path)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test import Client

    from importer.generator import large_roster_csv
    from importer.services import Source, roster_import

    if args.role == "import":
        data = large_roster_csv(args.rows)
        started = time.perf_counter()
        result = roster_import(group_slug="prodarch", source=Source.from_bytes("members.csv", data))
        print(json.dumps({"seconds": time.perf_counter() - started, "ok": result.ok, "report": result.files[0],
                          "errors": result.errors}))
        return 0

    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()  # a day to give the share on
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {args.token}" if args.token else "")
    done = []
    while not args.until.exists():
        started = time.perf_counter()
        if args.role == "login":
            response = Client(raise_request_exception=False).post(
                "/accounts/login/", {"username": args.username, "password": args.password})
        else:
            response = client.post("/api/shares/", {"group": "prodarch", "topic": f"风控 {os.getpid()}-{len(done)}",
                                                    "preferred_days": [later]}, content_type="application/json")
        done.append((response.status_code, time.perf_counter() - started))
        time.sleep(THINK_SECONDS)
    print(json.dumps(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
