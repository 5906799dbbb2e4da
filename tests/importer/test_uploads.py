"""Uploads through the web, at the service level: a queued run holding its files, imported by
its task through the same services as the commands, with progress and a per-file report."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from community.models import Member, Membership, Message, Name
from importer import runs
from importer.models import ImportedFile, ImportRun, ImportStatus, UploadedFile
from importer.runs import ProgressRecorder, import_run_execute
from importer.tasks import import_runs_resume
from importer.uploads import import_run_confirm, import_run_requeue, import_upload_create
from shares.models import Share, SignIn
from tests.community.test_flag_worker import real_broker  # noqa: F401 — a fixture
from tests.factories import make_group, make_user
from tests.importer.test_roster import ROSTER
from tests.importer.test_services import talk_day, transcript

pytestmark = pytest.mark.django_db

BAD = transcript("2024-03-05", [("19:61:00", "某人", "时间不对")])
# An upload of transcripts imported at once, without waiting for an admin to confirm its preview
# (for the tests of what happens around the import: the broker, a dead worker, a requeue).
CONFIRMED = {"confirmed": True}


def rows() -> tuple[int, ...]:
    return (Message.objects.count(), Member.objects.count(), Name.objects.count(), Share.objects.count(),
            SignIn.objects.count(), ImportedFile.objects.count())


def upload(files, *, kind="transcripts", options=None, capture):
    group = make_group(slug="prodarch")
    with capture(execute=True):
        run = import_upload_create(group=group, user=make_user("zhou"), kind=kind, files=files, options=options)
    run.refresh_from_db()
    return run


def confirm(run, capture, replace_days=()):
    with capture(execute=True):
        import_run_confirm(run=run, replace_days=list(replace_days), by=run.started_by)
    run.refresh_from_db()
    return run


def test_upload_is_previewed_writes_nothing_then_confirmed_imports_each_file_and_reports_each(
        django_capture_on_commit_callbacks):
    run = upload([("2024-03-04.md", talk_day()), ("bad.md", BAD), ("again.md", talk_day())],
                 capture=django_capture_on_commit_callbacks)

    # The preview: a dry run whose report is kept on the run; nothing written, the files kept.
    assert (run.kind, run.status, run.dry_run, run.started_by_name, run.options["me"]) == (
        "transcripts", "previewed", True, "zhou", "")
    assert rows() == (0, 0, 0, 0, 0, 0)
    assert UploadedFile.objects.filter(run=run).count() == 3
    # (A new talk's share and speaker ids in a preview were rolled back: they name no row.)
    talk = {"speaker_name": "周明远-云汇支付-产品-杭州", "topic": "跨境收单的清结算", "status": "new"}
    previewed = [{**f, "talks": [{k: v for k, v in t.items() if k not in ("share", "speaker")} for t in f["talks"]]}
                 if "talks" in f else f for f in run.preview["files"]]
    assert previewed == [
        {"file": "2024-03-04.md", "status": "imported", "messages": 21, "day": "2024-03-04", "added": 21, "kept": 0,
         "not_in_file": 0, "removed": 0, "shares": 1, "sign_ins": 3, "talks": [talk]},
        {"file": "bad.md", "status": "failed", "messages": 0, "error": "bad.md:9: invalid time 19:61:00"},
        # Each file of a preview is rolled back on its own: the second copy is previewed as the first.
        {"file": "again.md", "status": "imported", "messages": 21, "day": "2024-03-04", "added": 21, "kept": 0,
         "not_in_file": 0, "removed": 0, "shares": 1, "sign_ins": 3, "talks": [talk]},
    ]

    run = confirm(run, django_capture_on_commit_callbacks)

    assert (run.status, run.dry_run, run.options["confirmed"], run.options["replace_days"]) == ("failed", False, True, [])
    share = Share.objects.get()
    assert run.files == [
        {"file": "2024-03-04.md", "status": "imported", "messages": 21, "day": "2024-03-04", "added": 21, "kept": 0,
         "not_in_file": 0, "removed": 0, "shares": 1, "sign_ins": 3,
         "talks": [{**talk, "share": share.pk, "speaker": share.speaker_id}]},
        {"file": "bad.md", "status": "failed", "messages": 0, "error": "bad.md:9: invalid time 19:61:00"},
        {"file": "again.md", "status": "unchanged", "messages": 21, "day": "2024-03-04"},
    ]
    assert run.preview["files"][0]["added"] == 21  # the preview stays beside the result
    assert run.errors == ["bad.md:9: invalid time 19:61:00"]
    assert (run.counts["files_read"], run.counts["files_skipped"], run.counts["files_failed"]) == (3, 1, 1)
    assert {k: run.progress[k] for k in ("done", "total", "current")} == {"done": 3, "total": 3, "current": ""}
    # The bad file left nothing; the good one is all there; the uploaded bytes are gone.
    assert Message.objects.filter(source_day=dt.date(2024, 3, 5)).count() == 0
    assert not Member.objects.filter(display_name="某人").exists()
    assert (Message.objects.count(), Share.objects.count(), SignIn.objects.count()) == (21, 1, 3)
    assert UploadedFile.objects.count() == 0
    assert ImportRun.objects.count() == 1  # the service recorded into the uploaded run


def test_confirming_replaces_only_the_days_chosen_among_those_offered(django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    day = [("09:00:00", "甲乙丙", "早"), ("09:01:00", "丁戊己", "早上好"), ("09:02:00", "甲乙丙", "今天讲什么")]
    first = upload([("2024-03-04.md", transcript("2024-03-04", day)), ("2024-03-05.md", transcript("2024-03-05", day))],
                   options=CONFIRMED, capture=django_capture_on_commit_callbacks)
    assert (first.status, Message.objects.count()) == ("succeeded", 6)
    group = first.group
    with django_capture_on_commit_callbacks(execute=True):
        run = import_upload_create(group=group, user=first.started_by, kind="transcripts", files=[
            ("2024-03-04.md", transcript("2024-03-04", day[:1])), ("2024-03-05.md", transcript("2024-03-05", day[:2]))])
    run.refresh_from_db()
    assert [(f["day"], f["added"], f["kept"], f["not_in_file"]) for f in run.preview["files"]] == [
        ("2024-03-04", 0, 1, 2), ("2024-03-05", 0, 2, 1)]
    with pytest.raises(ValidationError) as refused:
        import_run_confirm(run=run, replace_days=["2024-03-06"], by=run.started_by)
    assert refused.value.code == "not_offered"

    run = confirm(run, django_capture_on_commit_callbacks, replace_days=["2024-03-04"])

    assert (run.status, run.counts["messages_removed"], run.counts["messages_not_in_file"]) == ("succeeded", 2, 3)
    assert sorted(Message.objects.values_list("source_day", "text")) == [
        (dt.date(2024, 3, 4), "早"), (dt.date(2024, 3, 5), "今天讲什么"), (dt.date(2024, 3, 5), "早"),
        (dt.date(2024, 3, 5), "早上好")]
    with pytest.raises(ValidationError) as refused:
        import_run_confirm(run=run, replace_days=[], by=run.started_by)
    assert refused.value.code == "not_previewed"


def test_upload_of_a_roster_imports_through_roster_import(django_capture_on_commit_callbacks):
    run = upload([("members.csv", ROSTER.encode())], kind="roster", options={"mark_missing_left": False},
                 capture=django_capture_on_commit_callbacks)
    assert (run.kind, run.status) == ("roster", "succeeded")
    assert run.files == [{"file": "members.csv", "status": "imported", "rows": 3, "members_created": 3,
                          "names_created": 4, "returning": 0, "marked_left": 0}]
    assert sorted(Membership.objects.values_list("nickname", flat=True)) == ["", "周明远-云汇支付-产品-杭州", "山水"]


def test_upload_of_a_bad_roster_fails_with_line_and_reason_and_writes_nothing(django_capture_on_commit_callbacks):
    bad = "NickName,DisplayName,JoinedAt\n小周,周明远,2023-01-05\n小李,李雷,yesterday\n"
    run = upload([("members.csv", bad.encode())], kind="roster", capture=django_capture_on_commit_callbacks)
    assert (run.status, run.errors) == ("failed", ["members.csv:3: JoinedAt 'yesterday' is not an ISO date (YYYY-MM-DD)"])
    assert (Member.objects.count(), Membership.objects.count()) == (0, 0)


def test_task_delivered_twice_imports_once(django_capture_on_commit_callbacks):
    run = upload([("a.md", talk_day())], capture=django_capture_on_commit_callbacks)
    before = rows()
    assert import_run_execute(run_id=run.pk) is None
    assert rows() == before
    assert ImportRun.objects.get().files == run.files


def test_task_retries_a_claim_that_finds_the_database_locked(monkeypatch):
    from celery.exceptions import Retry
    from django.db import OperationalError

    from importer.tasks import task_import_run_execute

    def locked(**kwargs):
        raise OperationalError("database table is locked: importer_importrun")

    monkeypatch.setattr("importer.tasks.import_run_execute", locked)
    with pytest.raises(Retry, match=r"Retry in \d+s: OperationalError"):  # scheduled again, with backoff
        task_import_run_execute.apply(kwargs={"run_id": 1}, throw=True)
    assert task_import_run_execute.max_retries == 5


def test_execute_of_a_run_that_is_gone_does_nothing():
    assert import_run_execute(run_id=12345) is None


def test_progress_is_written_at_most_once_a_second(monkeypatch):
    run = ImportRun.objects.create(group=make_group(), status=ImportStatus.RUNNING, progress={"total": 5})
    clock = iter([100.0, 100.3, 100.9, 101.2])
    monkeypatch.setattr(runs.time, "monotonic", lambda: next(clock))
    recorder = ProgressRecorder(run_id=run.pk, total=5)
    seen = []
    for index in range(1, 5):
        recorder(index, f"{index}.md")
        run.refresh_from_db()
        seen.append((run.progress["done"], run.progress["current"]))
    assert seen == [(0, "1.md"), (0, "1.md"), (0, "1.md"), (3, "4.md")]
    recorder.finish()
    run.refresh_from_db()
    assert (run.progress["done"], run.progress["total"], run.progress["current"]) == (5, 5, "")


@pytest.fixture
def broker_down(tmp_path):
    """Tasks sent for real, to a broker that is not running; a callable puts things back."""
    from config.celery import app

    keys = ("broker_url", "broker_write_url", "task_always_eager")
    previous = {key: app.conf[key] for key in keys}
    app.conf.update(broker_url=f"redis+socket://{tmp_path}/no-such-redis.sock", broker_write_url=None,
                    task_always_eager=False)

    def restore():
        app.conf.update(previous)

    yield restore
    restore()


def test_broker_down_keeps_the_upload_queued_with_the_reason_then_resume_imports_it(
        broker_down, django_capture_on_commit_callbacks):
    run = upload([("a.md", talk_day())], options=CONFIRMED, capture=django_capture_on_commit_callbacks)

    assert (run.status, run.progress["queue_error"]) == ("queued", "no broker is running")
    assert (UploadedFile.objects.filter(run=run).count(), Message.objects.count()) == (1, 0)
    # The periodic resume leaves a run queued less than a minute ago to its own task ...
    broker_down()
    assert import_runs_resume() == []
    # ... and queues it once it has waited longer.
    ImportRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - dt.timedelta(minutes=2))
    assert import_runs_resume() == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.progress["queue_error"], Message.objects.count()) == ("succeeded", "", 21)
    assert UploadedFile.objects.count() == 0


def test_resume_takes_a_run_whose_heartbeat_stopped_two_minutes_ago():
    group = make_group(slug="prodarch")
    now = timezone.now()
    uploader = make_user("zhou")
    dead = ImportRun.objects.create(group=group, status=ImportStatus.RUNNING, progress={"total": 1},
                                    started_by=uploader, options=CONFIRMED, heartbeat_at=now - dt.timedelta(seconds=121))
    alive = ImportRun.objects.create(group=group, status=ImportStatus.RUNNING, progress={"total": 1},
                                     started_by=uploader, options=CONFIRMED, heartbeat_at=now - dt.timedelta(seconds=100))
    for run in (dead, alive):
        UploadedFile.objects.create(run=run, position=0, name="a.md", size=1, data=talk_day())
    # A command's run has no heartbeat and no uploaded files: never taken.
    command = ImportRun.objects.create(group=group, status=ImportStatus.RUNNING)

    assert import_runs_resume() == [dead.pk]
    assert dict(ImportRun.objects.values_list("pk", "status")) == {
        dead.pk: "succeeded", alive.pk: "running", command.pk: "running"}
    assert ImportRun.objects.get(pk=dead.pk).attempts == 1


def test_requeue_after_the_import_stopped_imports_the_kept_files(monkeypatch, django_capture_on_commit_callbacks):
    def crash(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "transcripts_import", crash)
    run = upload([("a.md", talk_day())], options=CONFIRMED, capture=django_capture_on_commit_callbacks)
    assert (run.status, run.errors) == ("failed", ["the import stopped: RuntimeError: disk full"])
    assert UploadedFile.objects.filter(run=run).count() == 1

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert import_run_requeue(run=run) is True
    run.refresh_from_db()
    assert (run.status, Message.objects.count(), UploadedFile.objects.count()) == ("succeeded", 21, 0)
    assert import_run_requeue(run=run) is False  # nothing left to import


def test_upload_needs_files_and_a_known_kind():
    group, user = make_group(), make_user()
    with pytest.raises(ValueError, match="at least one file"):
        import_upload_create(group=group, user=user, kind="transcripts", files=[])
    with pytest.raises(ValueError, match="unknown import kind"):
        import_upload_create(group=group, user=user, kind="spreadsheet", files=[("a.md", b"x")])
    assert ImportRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_upload_queued_through_redis(real_broker):  # noqa: F811
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app

    group = make_group(slug="prodarch")
    # Wait for the worker's word rather than polling the run: the test database is SQLite's shared
    # in-memory one, whose table locks would fail the worker's writes while this thread reads.
    finished = threading.Event()

    def on_postrun(task=None, state=None, **kwargs):
        if task.name == "importer.import_run_execute":
            finished.set()

    task_postrun.connect(on_postrun, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            run = import_upload_create(group=group, user=make_user("zhou"), kind="transcripts",
                                       files=[("2024-03-04.md", talk_day()), ("bad.md", BAD)], options=CONFIRMED)
            assert finished.wait(timeout=90), "the worker did not run the import"
    finally:
        task_postrun.disconnect(on_postrun)

    run.refresh_from_db()
    assert (run.status, [(f["file"], f["status"]) for f in run.files]) == (
        "failed", [("2024-03-04.md", "imported"), ("bad.md", "failed")])
    assert (Message.objects.count(), UploadedFile.objects.count(), run.progress["done"]) == (21, 0, 2)


def test_a_roster_with_a_carriage_return_inside_a_row_imports(django_capture_on_commit_callbacks):
    # Found by the fuzz test: the csv module raised "new-line character seen in unquoted field".
    run = upload([("members.csv", b"NickName,DisplayName\nLin\rXiao,Zhou\n")], kind="roster",
                 capture=django_capture_on_commit_callbacks)
    assert (run.status, run.files[0]["rows"], run.errors) == ("succeeded", 2, [])
