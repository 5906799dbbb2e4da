"""The rules never judge as of a day in the future. (Before: a transcript dated 9999-12-31 made
them judge "as of 9999-12-31", flagging everyone as silent for thousands of years.) An as-of day
after today in the group's time zone is taken as today; the command refuses one outright."""

import datetime as dt
import zoneinfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from community.flags import group_as_of_default, group_flags_evaluate
from community.models import Flag, RecordedDay, RuleEvaluation
from community.selectors import last_recorded_day
from tests.factories import make_group, make_membership

pytestmark = pytest.mark.django_db


def today(zone="Asia/Shanghai") -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()


@pytest.fixture
def group():
    group = make_group(slug="prodarch")
    # Silent for a year before today, and every day of the window recorded.
    make_membership(group, nickname="王芳-云汇支付-架构-上海", shares_given=1,
                    joined_at=timezone.now() - dt.timedelta(days=400), last_message_at=timezone.now() - dt.timedelta(days=365))
    RecordedDay.objects.bulk_create([RecordedDay(group=group, day=today() - dt.timedelta(days=n)) for n in range(90)])
    return group


def test_a_recorded_day_in_the_future_does_not_move_the_rules_past_today(group):
    RecordedDay.objects.create(group=group, day=dt.date(9999, 12, 31))

    result = group_flags_evaluate(group=group)

    assert result.as_of == today() == group_as_of_default(group)
    assert RuleEvaluation.objects.get(group=group).as_of == today()
    assert list(Flag.objects.values_list("rule", "as_of", "evidence__days_silent")) == [("silent", today(), 365)]
    assert last_recorded_day(group) == today()  # the directory's "days silent" count to today too


@pytest.mark.parametrize("as_of", [dt.date(9999, 12, 31), "tomorrow"])
def test_an_as_of_day_in_the_future_is_taken_as_today(group, as_of):
    as_of = today() + dt.timedelta(days=1) if as_of == "tomorrow" else as_of

    result = group_flags_evaluate(group=group, as_of=as_of)

    assert result.as_of == today()
    assert list(Flag.objects.values_list("as_of", flat=True)) == [today()]


def test_a_day_in_the_past_is_judged_as_asked(group):
    as_of = today() - dt.timedelta(days=10)

    assert group_flags_evaluate(group=group, as_of=as_of, dry_run=True).as_of == as_of


def test_the_command_refuses_a_future_as_of_and_writes_nothing(group):
    make_group(slug="devarch", time_zone="America/Los_Angeles")
    ahead = today("America/Los_Angeles") + dt.timedelta(days=1)

    with pytest.raises(CommandError) as error:
        call_command("flag_members", "--as-of", ahead.isoformat())

    future_for = "devarch, prodarch" if ahead > today() else "devarch"
    assert str(error.value) == (
        f"--as-of {ahead.isoformat()} is in the future for {future_for}: the rules never judge as of a day after "
        "today (the group's time zone)")
    assert (Flag.objects.count(), RuleEvaluation.objects.count()) == (0, 0)


def test_the_command_judges_as_of_today(group, capsys):
    call_command("flag_members", "--group", "prodarch", "--as-of", today().isoformat())

    assert f"prodarch as of {today().isoformat()}" in capsys.readouterr().out
    assert Flag.objects.count() == 1
