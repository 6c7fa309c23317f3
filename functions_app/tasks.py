"""django-q2 task entry points (enqueued by ``services/enqueue.py``). Tasks take IDs, are
idempotent, and claim their row with a conditional update that only one worker can win."""

from .services import abuse, builder, events, executions, executor, git, scheduler


def build_deployment(deployment_pk):
    builder.build(deployment_pk)


def run_execution(execution_pk):
    executions.run_queued(execution_pk)


def maintain_runtimes():
    """Reap idle warm containers and those of deleted or replaced deployments; fail builds and
    executions whose worker died; remove repository-check containers left behind; forget ended
    abuse windows and finished event chains."""
    return {
        "reaped": executor.reap(),
        "builds_failed": builder.recover(),
        "executions_failed": executions.recover_stuck(),
        "git_checks_removed": git.reap_probes(),
        "limits_pruned": abuse.prune() + events.prune_chains(),
    }


def tick():
    """Every minute: start due cron schedules and release due delayed executions."""
    return len(scheduler.tick())
