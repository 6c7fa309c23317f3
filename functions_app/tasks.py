"""django-q2 task entry points (enqueued by ``services/enqueue.py``). Tasks take IDs, are
idempotent, and claim their row with a conditional update that only one worker can win."""

from .services import abuse, builder, events, executions, git, parking, reaper, scheduler


def build_deployment(deployment_pk):
    builder.build(deployment_pk)


def run_execution(execution_pk):
    executions.run_queued(execution_pk)


def maintain_runtimes():
    """Reap idle warm containers and those of deleted or replaced deployments, and start one
    for each keep-warm function that has none; fail builds and executions whose worker died;
    queue again executions parked by a crash; remove repository-check containers left behind;
    forget ended abuse windows and finished event chains."""
    return {
        "reaped": reaper.reap(),
        "warmed": reaper.keep_warm(),
        "unparked": parking.sweep(),
        "builds_failed": builder.recover(),
        "executions_failed": executions.recover_stuck(),
        "git_checks_removed": git.reap_probes(),
        "limits_pruned": abuse.prune() + events.prune_chains(),
    }


def warm_up(function_pk):
    """A deployment was activated, or keep-warm turned on: prepare the function's standby
    container, and start its first replica if it keeps one warm."""
    reaper.warm_up_by_id(function_pk)


def tick():
    """Every minute: start due cron schedules and release due delayed executions."""
    return len(scheduler.tick())
