"""A crashed worker never strands a run: heartbeats, stalled runs, their requeue and takeover."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from community.models import Message
from config.celery import app
from importer.models import ImportedFile, ImportRun, ImportStatus, UploadedFile
from importer.runs import MAX_ATTEMPTS, Heartbeat, RunHeldElsewhere, import_run_execute
from importer.services import Source, transcripts_import
from importer.tasks import task_import_run_execute
from shares.models import Share, SignIn
from tests.factories import ROLES, client_for, make_cast, make_user
from tests.importer.test_services import talk_day
from tests.importer.test_upload_views import expected

pytestmark = pytest.mark.django_db

DAYS = ("2024-03-04", "2024-03-05")


def running_run(group, *, heartbeat_seconds_ago: float, user=None, days=DAYS) -> ImportRun:
    """A run of an upload that a worker took, its heartbeat last written that long ago."""
    run = ImportRun.objects.create(
        group=group, status=ImportStatus.RUNNING, started_by=user or make_user(), attempts=1, options={"confirmed": True},
        heartbeat_at=timezone.now() - dt.timedelta(seconds=heartbeat_seconds_ago),
        progress={"done": 1, "total": len(days), "current": f"{days[-1]}.md"})
    for position, day in enumerate(days):
        UploadedFile.objects.create(run=run, position=position, name=f"{day}.md", size=1, data=talk_day(day=day))
    return run


@pytest.fixture
def cast():
    return make_cast()


@pytest.mark.django_db(transaction=True)  # the heartbeat's thread has its own connection
def test_the_heartbeat_ticks_while_one_long_piece_of_work_runs(cast):
    run = running_run(cast.group, heartbeat_seconds_ago=60)
    beats = []
    with Heartbeat(run_id=run.pk, interval=0.2):
        for _ in range(6):  # the import, busy with one long file, never calls back meanwhile
            time.sleep(0.25)
            beats.append(ImportRun.objects.get(pk=run.pk).heartbeat_at)
    assert len(set(beats)) >= 3
    assert timezone.now() - beats[-1] < dt.timedelta(seconds=1)


def test_the_settings_acknowledge_late_and_requeue_a_task_whose_worker_died():
    assert (settings.IMPORT_HEARTBEAT_SECONDS, settings.IMPORT_STALLED_SECONDS) == (15, 120)
    assert (app.conf.task_acks_late, app.conf.task_reject_on_worker_lost) == (True, True)
    assert app.conf.broker_transport_options["visibility_timeout"] == 3600
    task = app.tasks["importer.import_run_execute"]
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
    entry = settings.CELERY_BEAT_SCHEDULE["import-runs-resume"]
    assert (entry["task"], entry["schedule"]) == ("importer.import_runs_resume", 60.0)
    assert entry["task"] in app.tasks


def test_a_task_redelivered_while_the_runs_worker_may_live_waits_until_the_run_stalls(cast):
    run = running_run(cast.group, heartbeat_seconds_ago=10, user=cast.admin.user)
    with pytest.raises(RunHeldElsewhere) as held:
        import_run_execute(run_id=run.pk)
    assert 110 <= held.value.retry_in <= 112  # asked again once the heartbeat is two minutes old
    assert (ImportRun.objects.get(pk=run.pk).status, Message.objects.count()) == ("running", 0)


def test_a_stalled_run_is_taken_over_and_skips_the_files_already_committed(cast):
    # The dead worker had committed the first day before it died.
    first = transcripts_import(group_slug="prodarch", sources=[Source.from_bytes(f"{DAYS[0]}.md", talk_day(day=DAYS[0]))])
    run = running_run(cast.group, heartbeat_seconds_ago=121, user=cast.admin.user)

    import_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.attempts, [(f["file"], f["status"]) for f in run.files]) == (
        "succeeded", 2, [(f"{DAYS[0]}.md", "unchanged"), (f"{DAYS[1]}.md", "imported")])
    assert (Message.objects.count(), Share.objects.count(), SignIn.objects.count()) == (42, 2, 6)
    assert dict(ImportedFile.objects.values_list("day", "run")) == {
        dt.date(2024, 3, 4): first.run.pk, dt.date(2024, 3, 5): run.pk}
    assert UploadedFile.objects.count() == 0


def test_a_run_its_workers_died_on_too_often_is_failed(cast):
    run = running_run(cast.group, heartbeat_seconds_ago=121, user=cast.admin.user)
    ImportRun.objects.filter(pk=run.pk).update(attempts=MAX_ATTEMPTS)
    import_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.errors) == ("failed", [
        "the import stopped: its worker died 5 times; queue it again once the cause is fixed"])
    assert (Message.objects.count(), UploadedFile.objects.count()) == (0, 2)


def test_the_run_page_shows_a_stalled_run_and_offers_to_queue_it_again(cast):
    run = running_run(cast.group, heartbeat_seconds_ago=125, user=cast.admin.user)
    beat = timezone.localtime(run.heartbeat_at, cast.group.tz).strftime("%H:%M:%S")
    client = client_for(cast, "admin")
    html = client.get(reverse("import_run", args=["prodarch", run.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    text = (f"Stalled: its worker has given no sign of life since {beat}. It will be queued again within a minute, "
            "or queue it again now; the files already imported are kept.")
    assert '<strong class="status-running" id="run-status">stalled</strong>' in html
    assert text in html
    assert f'action="/g/prodarch/imports/runs/{run.pk}/queue/"' in html
    progress = client.get(reverse("import_run_progress", args=["prodarch", run.pk]), HTTP_ACCEPT_LANGUAGE="en").json()
    assert (progress["stalled"], progress["text"]) == (True, text)


def test_a_run_whose_worker_is_alive_is_not_stalled_and_cannot_be_queued_again(cast):
    run = running_run(cast.group, heartbeat_seconds_ago=20, user=cast.admin.user)
    client = client_for(cast, "admin")
    html = client.get(reverse("import_run", args=["prodarch", run.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Stalled" not in html and "/queue/" not in html
    client.post(reverse("import_run_requeue", args=["prodarch", run.pk]))
    assert ImportRun.objects.get(pk=run.pk).status == "running"


@pytest.mark.parametrize("role", ROLES)
def test_queueing_a_stalled_run_again_is_for_the_groups_admins_and_staff(cast, role, django_capture_on_commit_callbacks):
    run = running_run(cast.group, heartbeat_seconds_ago=121, user=cast.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(cast, role).post(reverse("import_run_requeue", args=["prodarch", run.pk]))
    assert response.status_code == expected(role, 302)
    run.refresh_from_db()
    # Allowed: queued again, and (tasks run at once here) imported.
    assert (run.status, Message.objects.count()) == (("succeeded", 42) if role in ("admin", "staff") else ("running", 0))


def test_the_task_asks_again_later_while_the_run_is_held(cast, monkeypatch):
    run = running_run(cast.group, heartbeat_seconds_ago=10, user=cast.admin.user)
    asked = {}

    def retry(**options):
        asked.update(options)
        return RuntimeError("retried")

    monkeypatch.setattr(task_import_run_execute, "retry", retry)
    with pytest.raises(RuntimeError, match="retried"):
        task_import_run_execute.run(run_id=run.pk)
    assert 110 <= asked["countdown"] <= 112
    assert (asked["max_retries"], type(asked["exc"])) == (10, RunHeldElsewhere)


def test_a_stalled_runs_page_queries(cast, django_assert_num_queries):
    run = running_run(cast.group, heartbeat_seconds_ago=125, user=cast.admin.user)
    client = client_for(cast, "admin")
    # session, user, the group with the user's member and role, the run, whether its files are kept
    with django_assert_num_queries(5):
        response = client.get(reverse("import_run", args=["prodarch", run.pk]))
    assert response.status_code == 200
