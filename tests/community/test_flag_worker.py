"""The rules run by a real Celery worker through a real Redis broker, and by beat.

The worker runs in a thread of the test process against the same database the test writes
(transactional test: the rows are committed, so the worker's own connection sees them)."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from community.models import Flag, RecordedDay
from community.tasks import task_flags_evaluate_all, task_group_flags_evaluate
from config.celery import app
from tests.factories import at, make_group, make_membership


def _pool_reset() -> None:
    """Drop the connection and producer pools, so the next task is sent to the broker configured
    now. kombu keeps them in a registry of its own: a pool closed but left there would be handed
    to the next eager task ("Acquire on closed pool"), so the registry is reset too."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def real_broker(embedded_redis):
    """The Celery app pointed at the embedded Redis, tasks sent for real (not eager)."""
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_eager_propagates")}
    socket = embedded_redis.removeprefix("unix://").split("?")[0]
    app.conf.update(broker_url=f"redis+socket://{socket}", task_always_eager=False, task_eager_propagates=False)
    _pool_reset()
    try:
        yield embedded_redis
    finally:
        app.conf.update(previous)
        _pool_reset()


@pytest.mark.django_db(transaction=True)
def test_worker_evaluates_a_group_queued_through_redis(real_broker):
    group = make_group(slug="prodarch")
    RecordedDay.objects.bulk_create([
        RecordedDay(group=group, day=dt.date(2018, 4, 1) + dt.timedelta(days=i), message_count=5) for i in range(91)
    ])
    silent = make_membership(group, nickname="王芳-云汇支付-架构-上海", joined_at=at("2018-01-01"),
                             last_message_at=at("2018-04-01"), shares_given=1)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        task_flags_evaluate_all.delay()  # fans out: one task per group, through the broker
        result = task_group_flags_evaluate.apply_async(kwargs={"group_id": group.pk}, ignore_result=True)
        assert result.id
        deadline = dt.datetime.now() + dt.timedelta(seconds=30)
        while not Flag.objects.filter(membership=silent).exists() and dt.datetime.now() < deadline:
            time.sleep(0.2)

    flags = list(Flag.objects.filter(group=group).values_list("membership_id", "rule", "status", "as_of"))
    assert flags == [(silent.pk, "silent", "open", dt.date(2018, 6, 30))]


def test_beat_schedule_runs_the_rules_daily_for_every_group():
    entry = settings.CELERY_BEAT_SCHEDULE["flag-members"]
    assert entry["task"] == "community.tasks.task_flags_evaluate_all"
    assert entry["task"] in app.tasks
    schedule = entry["schedule"]
    # Once a day, every day, at 06:30.
    assert (schedule.minute, schedule.hour, schedule.day_of_week) == ({30}, {6}, set(range(7)))
    assert (schedule.day_of_month, schedule.month_of_year) == (set(range(1, 32)), set(range(1, 13)))


def test_beat_schedule_is_read_from_the_environment(monkeypatch):
    from community.broker import crontab_from_text

    assert crontab_from_text("0 5 * * mon-fri", setting="FLAG_MEMBERS_SCHEDULE")._orig_day_of_week == "mon-fri"
    with pytest.raises(Exception, match="FLAG_MEMBERS_SCHEDULE='every day'"):
        crontab_from_text("every day", setting="FLAG_MEMBERS_SCHEDULE")
