"""A worker process killed during a run: the run completes, with nothing duplicated.

Real Celery workers (separate processes, prefork pool) on the embedded Redis and on the test
database (``tests.live``), with a heartbeat every second and runs stalled after four seconds,
so that the test takes seconds rather than minutes. Two deaths:

* the pool's child process is killed (the OOM killer's way): the worker puts the task back in
  the queue (``task_reject_on_worker_lost``), its new child takes it, finds the run's
  heartbeat fresh, asks again later, and takes the run over once it is stalled;
* the whole worker is killed: the task was never acknowledged (``acks_late``), so the broker
  hands it to the next worker once its visibility timeout is over.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from community.models import Message
from config.celery import app
from importer.generator import CorpusGenerator
from importer.models import ImportedFile, ImportRun, ImportStatus, UploadedFile
from importer.transcript import parse_transcript
from tests.community.test_flag_worker import real_broker  # noqa: F401 — a fixture
from tests.factories import make_group, make_person
from tests.live import REPO, process_env, shared_database

pytestmark = [pytest.mark.slow, pytest.mark.broker, pytest.mark.django_db(transaction=True)]

FILES = 40
MESSAGES_PER_DAY = 2000


def upload_of_many_days():
    """A queued run of an upload: 40 generated days of 2,000 messages (past days, 2024)."""
    group = make_group(slug="prodarch")
    admin = make_person(group, "周明远-群主", role="owner")
    run = ImportRun.objects.create(group=group, kind="transcripts", status=ImportStatus.QUEUED,
                                   started_by=admin.user, progress={"done": 0, "total": FILES, "current": ""},
                                   options={"confirmed": True})  # its preview was confirmed
    generator = CorpusGenerator(seed=12, members=300)
    expected = 0
    for position, day in enumerate(generator.days(start=dt.date(2024, 1, 1), count=FILES,
                                                  messages_per_day=MESSAGES_PER_DAY)):
        data = day.text.encode()
        expected += len(parse_transcript(day.text, filename=day.filename).messages)
        UploadedFile.objects.create(run=run, position=position, name=day.filename, size=len(data), data=data)
    return run, expected


def worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO", "--pool", "prefork",
             "--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(condition, what: str, *, timeout: float, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}; the workers' log:\n{log.read_text()[-6000:]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # a warm shutdown: the task at hand is finished first
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.mark.parametrize("killed", ["the pool's child", "the whole worker"])
def test_a_run_whose_worker_is_killed_completes_with_nothing_duplicated(killed, real_broker, tmp_path):  # noqa: F811
    run, expected = upload_of_many_days()
    socket = real_broker.removeprefix("unix://").split("?")[0]
    log = tmp_path / "workers.log"
    workers = []
    with shared_database(tmp_path) as database:
        env = process_env(database.url, tmp_path / "var", REDIS_URL=f"redis+socket://{socket}",
                          IMPORT_HEARTBEAT_SECONDS="1", IMPORT_STALLED_SECONDS="4", BROKER_VISIBILITY_TIMEOUT="3")
        try:
            workers.append(worker(env, log))
            app.send_task("importer.import_run_execute", kwargs={"run_id": run.pk})
            committed = wait_for(lambda: database.value(
                "SELECT COUNT(*) FROM importer_importedfile WHERE run_id = ?", (run.pk,)) >= 2,
                "two files committed", timeout=120, log=log)
            assert committed
            if killed == "the pool's child":
                pool = wait_for(lambda: children(workers[0].pid), "the pool's child", timeout=10, log=log)
                for pid in pool:
                    os.kill(pid, signal.SIGKILL)
            else:
                os.killpg(workers[0].pid, signal.SIGKILL)
                workers[0].wait(timeout=10)
                time.sleep(3.5)  # the visibility timeout, after which Redis hands the task out again
                workers.append(worker(env, log))
            left_at = database.value("SELECT COUNT(*) FROM importer_importedfile WHERE run_id = ?", (run.pk,))
            assert left_at < FILES, "the run had finished before its worker was killed"
            # Finished: the report written, then the uploaded files deleted (or kept, had it failed).
            wait_for(lambda: database.value(
                "SELECT status = 'failed' OR (status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM importer_uploadedfile "
                "WHERE run_id = importer_importrun.id)) FROM importer_importrun WHERE id = ?", (run.pk,)),
                "the run to finish", timeout=180, log=log)
        finally:
            for process in workers:
                stop(process)

    run.refresh_from_db()
    files = [f["status"] for f in run.files]
    assert (run.status, run.errors, run.attempts, len(files)) == ("succeeded", [], 2, FILES), log.read_text()[-4000:]
    # Taken over: the files committed before the death are found unchanged, the others imported.
    assert set(files) == {"unchanged", "imported"}
    assert files.count("unchanged") == left_at
    assert (ImportedFile.objects.filter(run=run).count(), UploadedFile.objects.count()) == (FILES, 0)
    assert Message.objects.count() == expected
    assert Message.objects.values("source_day", "key").distinct().count() == expected
