"""django-q2 task entry points. Tasks take IDs, are enqueued on commit, are idempotent,
and claim their row with a conditional update that only one worker can win."""

from django.db import transaction
from django_q.tasks import async_task


def _enqueue(func, *args):
    transaction.on_commit(lambda: async_task(func, *args))


def enqueue_build(deployment):
    _enqueue("functions_app.tasks.build_deployment", deployment.pk)


def enqueue_execution(execution):
    _enqueue("functions_app.tasks.run_execution", execution.pk)


def build_deployment(deployment_pk):
    from .services import builder

    builder.build(deployment_pk)


def run_execution(execution_pk):
    from .services import executions

    executions.run_queued(execution_pk)


def maintain_runtimes():
    """Reap idle warm containers and those of deleted or replaced deployments; fail builds and
    executions whose worker died; forget ended abuse windows and finished event chains."""
    from .services import abuse, builder, events, executions, executor

    return {
        "reaped": executor.reap(),
        "builds_failed": builder.recover(),
        "executions_failed": executions.recover_stuck(),
        "limits_pruned": abuse.prune() + events.prune_chains(),
    }


def tick():
    """Every minute: start due cron schedules and release due delayed executions."""
    from .services import scheduler

    return len(scheduler.tick())
