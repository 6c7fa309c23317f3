"""This node among the others sharing the database: its heartbeat, and what its maintenance
does when another node falls silent (``NODE_HEARTBEAT_TIMEOUT``).

A dead node's builds and executions in flight can never finish: every node's maintenance fails
them (``workers.is_gone`` with the dead nodes). Work it had taken from the broker but not yet
claimed would be lost with it (a Redis broker hands a task to one consumer, which buffers a
few), so the node that claims the death queues every waiting build and execution again: tasks
claim their row with a conditional update, so a task queued twice still runs once."""

import logging

from django.conf import settings

from ..models import Deployment, Execution, Node
from . import enqueue

logger = logging.getLogger(__name__)


def beat(started=False):
    Node.beat(settings.NODE_ID, started)


def dead():
    """The other nodes silent for longer than the heartbeat timeout."""
    return Node.silent(settings.NODE_HEARTBEAT_TIMEOUT) - {settings.NODE_ID}


def bury(silent):
    """Claim the deaths not claimed yet (one node wins each) and queue the waiting work again.
    Returns the nodes this call found dead."""
    claimed = [n for n in sorted(silent) if Node.claim_death(n, settings.NODE_HEARTBEAT_TIMEOUT)]
    for node in claimed:
        logger.warning("Node %s is silent: its work in flight fails, waiting work is queued.", node)
    if claimed:
        requeue_waiting()
    return claimed


def requeue_waiting():
    """Queue every waiting (not parked) execution and every waiting build once more."""
    executions = Execution.objects.filter(status=Execution.Status.WAITING, parked=False)
    for pk in executions.values_list("pk", flat=True).iterator():
        enqueue.execution_id(pk)
    for pk in Deployment.objects.filter(status=Deployment.Status.WAITING).values_list(
        "pk", flat=True
    ):
        enqueue.build_id(pk)
