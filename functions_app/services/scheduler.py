"""Cron schedules: next/previous run times (UTC, minute precision)."""

from datetime import UTC, datetime

from croniter import croniter
from django.db import transaction

from ..models import Execution, Function
from . import enqueue
from .execution_requests import Request, new_execution

CRON_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def expand_cron(expression):
    return CRON_MACROS.get(expression.strip().lower(), expression.strip())


def run_times(expression, now=None, count=1):
    """The next ``count`` run times of a cron expression after ``now``."""
    start = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    iterator = croniter(expand_cron(expression), start)
    return [iterator.get_next(datetime) for _ in range(count)]


def previous_run(expression, now=None):
    start = now or datetime.now(UTC)
    return croniter(expand_cron(expression), start).get_prev(datetime)


def refresh(function, now=None):
    """Keep ``scheduleNext``/``schedulePrevious`` current; unset while the schedule is inactive."""
    if function.schedule_active:
        function.set_schedule_times(
            run_times(function.schedule, now)[0], previous_run(function.schedule, now)
        )
    elif function.schedule_next or function.schedule_previous:
        function.set_schedule_times(None, None)


# -- the ticker -----------------------------------------------------------------------------------


def tick(now=None):
    """Run what is due: cron schedules and delayed (``scheduledAt``) executions.

    Each due function is claimed with a conditional update of ``schedule_next``, so tickers
    running at once (every node runs one) start one execution per function per minute; the
    claim and the execution's row commit together, so a ticker that dies between them loses
    nothing. A function whose ticks were missed while nothing ran is run once and moves on to
    its next future time."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    started = []
    for function in Function.objects.filter(schedule_next__lte=now, enabled=True).exclude(
        schedule=""
    ):
        with transaction.atomic():
            if _claim_tick(function, now):
                started.append(_start_scheduled(function))
    return started + _release_delayed(now)


def _claim_tick(function, now):
    upcoming = run_times(function.schedule, now)[0]
    due = function.schedule_next
    return Function.objects.filter(pk=function.pk, schedule_next=due).update(
        schedule_next=upcoming, schedule_previous=due
    )


def _start_scheduled(function):
    request = Request(trigger=Execution.Trigger.SCHEDULE)
    execution = new_execution(function, request, Execution.Status.WAITING)
    execution.save()
    enqueue.execution(execution)
    return execution


def _release_delayed(now):
    """Delayed executions whose minute has come go to the queue (overdue ones too)."""
    released = []
    due = Execution.objects.filter(status=Execution.Status.SCHEDULED, scheduled_at__lte=now)
    for execution in due:
        if execution.release():
            enqueue.execution(execution)
            released.append(execution)
    return released
