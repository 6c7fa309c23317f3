"""Cron schedules: next/previous run times (UTC, minute precision)."""

from datetime import UTC, datetime

from croniter import croniter

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
