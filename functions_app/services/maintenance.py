"""What each node's worker cluster does on its own (``manage.py node``), besides running
tasks: maintenance every ``COMPUTE_MAINTENANCE_INTERVAL`` seconds, the cron ticker every
minute, and a prompt reap whenever the configuration version moves (a function deleted or
changed, a deployment replaced, a variable set: its containers on every node go within a
second, once no call is in flight on them)."""

import logging
import threading
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection

from ..models import ConfigVersion
from . import abuse, builder, events, executions, git, nodes, parking, reaper, scheduler

logger = logging.getLogger(__name__)


def run():
    """Reap this node's idle warm containers and those of deleted or replaced deployments, and
    start one for each keep-warm function that has none; claim dead nodes and fail their work
    in flight (and this node's work whose worker died); queue again executions parked by a
    crash; remove repository-check containers left behind; forget ended abuse windows and
    finished event chains."""
    dead = nodes.dead()
    return {
        "nodes_down": nodes.bury(dead),
        "reaped": reaper.reap(),
        "warmed": reaper.keep_warm(),
        "unparked": parking.sweep(),
        "builds_failed": builder.recover(dead_nodes=dead),
        "executions_failed": executions.recover_stuck(dead_nodes=dead),
        "git_checks_removed": git.reap_probes(),
        "limits_pruned": abuse.prune() + events.prune_chains(),
    }


def prompt():
    """After a configuration change: this node's containers that no longer match (deleted
    function, other active deployment, changed variables or limits) and build containers of
    canceled builds go now rather than at the next maintenance."""
    return {
        "reaped": reaper.reap(),
        "warmed": reaper.keep_warm(),
        "builds_failed": builder.recover(dead_nodes=nodes.dead()),
    }


class Clock:
    """When the node's maintenance jobs are due (monotonic seconds)."""

    def __init__(self, now):
        self.maintenance_at = now + settings.COMPUTE_MAINTENANCE_INTERVAL
        self.version = ConfigVersion.current()

    def due(self, now):
        """The jobs due now, in order; each is marked done as it is returned."""
        jobs = []
        version = ConfigVersion.current()
        if version != self.version:
            self.version = version
            jobs.append(("prompt", prompt))
        if now >= self.maintenance_at:
            self.maintenance_at = now + settings.COMPUTE_MAINTENANCE_INTERVAL
            jobs.append(("maintenance", run))
        return jobs


def run_job(name, job):
    """One job; an error is logged, never raised (the cluster keeps running)."""
    try:
        return job()
    except Exception:
        logger.exception("Node %s: %s failed", settings.NODE_ID, name)
        return None


LOOP = 0.5  # seconds between looks at the clock and the configuration version


def serve(alive):
    """The node's side of its cluster, until ``alive()`` turns false: the heartbeat and the
    cron ticker in threads of their own (never held up by a long job: a keep-warm start may
    take a function's timeout), maintenance in this thread."""
    stop = threading.Event()
    beat_once(started=True)
    for target in (_heartbeat, _ticker):
        threading.Thread(target=target, args=(stop,), name=target.__name__, daemon=True).start()
    clock = Clock(time.monotonic())
    try:
        while alive():
            close_old_connections()
            for name, job in clock.due(time.monotonic()):
                run_job(name, job)
            time.sleep(LOOP)
    finally:
        stop.set()


def _heartbeat(stop):
    while not stop.wait(settings.NODE_HEARTBEAT_INTERVAL):
        beat_once()
    connection.close()


def beat_once(started=False):
    close_old_connections()
    run_job("heartbeat", lambda: nodes.beat(started))


def _ticker(stop):
    """At each minute (just after it starts): due cron schedules and delayed executions."""
    while not stop.wait(seconds_to_next_minute()):
        close_old_connections()
        run_job("tick", scheduler.tick)
    connection.close()


def seconds_to_next_minute(now=None):
    now = now or datetime.now(UTC)
    return 60 - now.second - now.microsecond / 1e6 + TICK_DELAY


TICK_DELAY = 0.05  # past the minute's start, so that the tick's clock reads the new minute
