"""django-q2 task entry points (enqueued by ``services/enqueue.py``). Tasks take IDs, are
idempotent, and claim their row with a conditional update that only one worker can win.

Periodic work is not a task: each node's cluster (``manage.py node``) runs it for its own
engine (``services/maintenance.py``); the functions below stay callable for tests and
operators."""

from .services import builder, executions, maintenance, reaper, scheduler


def build_deployment(deployment_pk):
    builder.build(deployment_pk)


def run_execution(execution_pk):
    executions.run_queued(execution_pk)


def maintain_runtimes():
    """This node's maintenance, at once (see ``services.maintenance.run``)."""
    return maintenance.run()


def warm_up(function_pk):
    """A deployment was activated, or keep-warm turned on: prepare the function's standby
    container, and start its first replica if it keeps one warm."""
    reaper.warm_up_by_id(function_pk)


def tick():
    """Start due cron schedules and release due delayed executions."""
    return len(scheduler.tick())
