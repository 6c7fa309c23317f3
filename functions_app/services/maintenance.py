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
    """When each periodic job of the node is due (monotonic seconds and UTC minutes)."""

    def __init__(self, now, minute):
        self.maintenance_at = now + settings.COMPUTE_MAINTENANCE_INTERVAL
        self.minute = minute
        self.version = ConfigVersion.current()

    def due(self, now, minute):
        """The jobs due now, in order; each is marked done as it is returned."""
        jobs = []
        if minute != self.minute:
            self.minute = minute
            jobs.append(("tick", scheduler.tick))
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


def serve(alive):
    """The node's side of its cluster, until ``alive()`` turns false: a heartbeat thread
    (never held up by a long job) and the periodic jobs in this thread."""
    stop = threading.Event()
    beat_once(started=True)
    threading.Thread(target=_heartbeat, args=(stop,), name="node-heartbeat", daemon=True).start()
    clock = Clock(time.monotonic(), _minute())
    try:
        while alive():
            close_old_connections()
            for name, job in clock.due(time.monotonic(), _minute()):
                run_job(name, job)
            time.sleep(LOOP)
    finally:
        stop.set()


LOOP = 0.5  # seconds between looks at the clock and the configuration version


def _minute():
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _heartbeat(stop):
    while not stop.wait(settings.NODE_HEARTBEAT_INTERVAL):
        beat_once()
    connection.close()


def beat_once(started=False):
    close_old_connections()
    run_job("heartbeat", lambda: nodes.beat(started))
