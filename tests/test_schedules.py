"""Cron schedules and delayed executions, driven with a controlled clock."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from functions_app.models import Execution, Function
from functions_app.services import scheduler

from .deploy import deploy_echo, wait_execution, wait_for
from .helpers import expect_error

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


def due_time(function_id="echo"):
    return wait_for(lambda: Function.objects.get(uid=function_id).schedule_next, 30)


def test_cron_runs_on_its_minute(functions):
    deploy_echo(functions, "python-3.11", schedule="* * * * *")
    fn = functions.get("echo")
    next_run = due_time()
    assert next_run.second == 0 and next_run > datetime.now(UTC) - timedelta(minutes=1)
    assert scheduler.tick(next_run - timedelta(seconds=1)) == []  # not yet
    [started] = scheduler.tick(next_run)
    done = wait_execution(functions, "echo", started.uid)
    assert (done.trigger.value, done.status.value, done.requestpath) == (
        "schedule",
        "completed",
        "/",
    )
    refreshed = Function.objects.get(uid="echo")
    assert (
        refreshed.schedule_previous == next_run
        and refreshed.schedule_next == next_run + timedelta(minutes=1)
    )
    assert fn.schedule == "* * * * *"


def test_two_tickers_start_one_execution_per_minute(functions):
    deploy_echo(functions, "python-3.11", schedule="* * * * *")
    now = due_time()
    results, barrier = [], threading.Barrier(2)

    def ticker():
        barrier.wait()
        results.extend(scheduler.tick(now))
        connection.close()

    threads = [threading.Thread(target=ticker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1
    assert Execution.objects.filter(trigger="schedule").count() == 1


def test_missed_ticks_are_not_replayed(functions):
    deploy_echo(functions, "python-3.11", schedule="* * * * *")
    late = due_time() + timedelta(minutes=30)
    assert len(scheduler.tick(late)) == 1
    assert scheduler.tick(late) == []
    assert Function.objects.get(uid="echo").schedule_next == late + timedelta(minutes=1)


def test_disabled_or_undeployed_functions_do_not_run(functions):
    deploy_echo(functions, "python-3.11", schedule="*/5 * * * *")
    now = due_time()
    functions.update("echo", "Echo", schedule="*/5 * * * *", enabled=False, entrypoint="main.py")
    assert Function.objects.get(uid="echo").schedule_next is None
    assert scheduler.tick(now + timedelta(hours=1)) == []


def minute_from_now(minutes=2):
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(second=0, microsecond=0)


def test_delayed_execution_runs_at_its_minute(functions):
    deploy_echo(functions, "python-3.11")
    at = minute_from_now()
    ex = functions.create_execution(
        "echo", xasync=True, scheduled_at=at.isoformat(), path="/delayed"
    )
    assert (ex.status.value, ex.trigger.value) == ("scheduled", "schedule")
    assert ex.scheduledat.startswith(at.strftime("%Y-%m-%dT%H:%M"))
    assert scheduler.tick(at - timedelta(minutes=1)) == []
    assert [e.uid for e in scheduler.tick(at)] == [ex.id]
    done = wait_execution(functions, "echo", ex.id)
    assert (done.status.value, done.requestpath) == ("completed", "/delayed")


def test_deleted_delayed_execution_never_runs(functions):
    deploy_echo(functions, "python-3.11")
    at = minute_from_now(3)
    ex = functions.create_execution("echo", xasync=True, scheduled_at=at.isoformat())
    functions.delete_execution("echo", ex.id)
    assert scheduler.tick(at + timedelta(minutes=5)) == []
    expect_error(lambda: functions.get_execution("echo", ex.id), 404, "execution_not_found")


def test_scheduled_at_validation(functions):
    deploy_echo(functions, "python-3.11")
    odd = (minute_from_now() + timedelta(seconds=30)).isoformat()
    expect_error(
        lambda: functions.create_execution("echo", xasync=True, scheduled_at=odd),
        400,
        "general_bad_request",
    )
    expect_error(
        lambda: functions.create_execution("echo", xasync=True, scheduled_at="tomorrow"),
        400,
        "general_bad_request",
    )
    assert Execution.objects.count() == 0
