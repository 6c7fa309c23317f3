"""Events: what happened (``functions.F.executions.E.create``, ``users.U.update``...) and the
event-triggered executions of the functions subscribed to it.

Beyond Appwrite, functions may subscribe to ``functions.*`` events. Three guards keep that from
looping or fanning out: an event caused by an event-triggered execution of F never triggers F
again; chains of event-triggered executions stop after ``MAX_DEPTH`` links; and each originating
action (an API call, a cron run, a console change...) has a budget of
``FUNCTIONS_EVENT_BUDGET`` event-triggered executions, shared by every execution it leads to
(through events, or through API calls made with their keys) however the chain branches."""

import json
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import events as catalogue
from ..ids import unique_id
from ..models import EventChain, Execution, Function
from . import cache, documents, enqueue
from .execution_requests import Request, new_execution

MAX_DEPTH = 3
CHAIN_RETENTION = timedelta(days=1)  # a chain idle this long is over: its executions are done
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cause:
    """The execution whose code (through its dynamic key) or completion caused an event."""

    function_id: int
    trigger: str
    depth: int
    chain: str = ""

    @classmethod
    def of(cls, execution):
        if not execution:
            return None
        return cls(
            execution.function_id, execution.trigger, execution.event_depth, execution.event_chain
        )

    @classmethod
    def of_caller(cls, caller):
        """The execution whose dynamic key made this API call, if any."""
        if not caller.cause_execution or caller.project is None:
            return None
        return cls.of(
            Execution.objects.filter(project=caller.project, uid=caller.cause_execution).first()
        )


@dataclass(frozen=True)
class Origin:
    """Who caused a change: the user (if any), the execution (if function code did) and the
    event chain the change belongs to ("": the change starts one)."""

    user_id: str = ""
    cause: Cause | None = None
    chain: str = ""

    @classmethod
    def of_caller(cls, caller):
        cause = Cause.of_caller(caller)
        # The key names the chain even while its (synchronous) execution is not stored yet.
        chain = caller.cause_chain or (cause.chain if cause else "")
        return cls(caller.user_id, cause, chain)

    def in_chain(self):
        """This origin, with a chain of its own if it had none (for executions it creates)."""
        return self if self.chain else replace(self, chain=unique_id())


FUNCTION = "functions.[functionId]"
DEPLOYMENT = FUNCTION + ".deployments.[deploymentId]"
EXECUTION = FUNCTION + ".executions.[executionId]"
RULE = "rules.[ruleId]"


def emit(project_id, pattern, params, payload, origin=None):
    """Fire an event once the current transaction commits. ``payload`` may be a callable,
    called only when some function is subscribed."""
    origin = origin or Origin()
    transaction.on_commit(
        lambda: dispatch(
            project_id, pattern, params, payload, origin.user_id, origin.cause, origin.chain
        )
    )


def payload_of(obj):
    """Appwrite's JSON for a function, deployment, execution or rule: the event payload."""
    return documents.of(obj)


def _changed(obj, pattern, params, action, origin, payload):
    """Serialise only if someone is subscribed (``payload`` given: taken before a delete)."""
    lazy = payload if payload is not None else (lambda: payload_of(obj))
    emit(obj.project_id, f"{pattern}.{action}", params, lazy, origin)


def function_changed(function, action, origin=None, payload=None):
    params = {"functionId": function.uid}
    _changed(function, FUNCTION, params, action, origin, payload)


def deployment_changed(deployment, action, origin=None, payload=None):
    params = {"functionId": deployment.function.uid, "deploymentId": deployment.uid}
    _changed(deployment, DEPLOYMENT, params, action, origin, payload)


def execution_changed(execution, action, origin=None, payload=None):
    params = {"functionId": execution.function.uid, "executionId": execution.uid}
    _changed(execution, EXECUTION, params, action, origin, payload)


def rule_changed(rule, action, origin=None, payload=None):
    _changed(rule, RULE, {"ruleId": rule.uid}, action, origin, payload)


def dispatch(project_id, pattern, params, payload, user_id="", cause=None, chain=""):
    """Start every subscribed function the chain's budget allows; returns the executions created."""
    if not subscriptions(project_id):
        return []
    names = catalogue.generate_events(pattern, params)
    depth = cause.depth + 1 if cause and cause.trigger == Execution.Trigger.EVENT else 1
    if depth > MAX_DEPTH:
        return []
    targets = [
        function
        for function in subscribers(project_id, names)
        if not (
            cause and cause.trigger == Execution.Trigger.EVENT and cause.function_id == function.pk
        )
    ]  # F's own event-triggered run never re-triggers F
    if not targets:
        return []
    if callable(payload):
        payload = payload()
    chain = chain or (cause.chain if cause else "") or unique_id()
    started = []
    for function in targets:
        if not within_budget(chain):
            _exhausted(chain, project_id, names[0], targets[len(started) :])
            break
        started.append(_start(function, names[0], payload, user_id, depth, chain))
    return started


def within_budget(chain):
    """Claim one event-triggered execution from the chain's budget (0: no budget)."""
    budget = settings.FUNCTIONS_EVENT_BUDGET
    return not budget or EventChain.claim(chain, budget)


def _exhausted(chain, project_id, event, skipped):
    if EventChain.notice_exhausted(chain):
        logger.warning(
            "Event budget exhausted: chain %s of project %s has started its %d event executions; "
            "no more are created for it (%s not started for %s).",
            chain,
            project_id,
            settings.FUNCTIONS_EVENT_BUDGET,
            ", ".join(function.uid for function in skipped),
            event,
        )


def prune_chains(now=None):
    """Maintenance: forget chains nothing has claimed from for ``CHAIN_RETENTION``."""
    cutoff = (now or timezone.now()) - CHAIN_RETENTION
    return EventChain.objects.filter(updated_at__lt=cutoff).delete()[0]


def subscriptions(project_id):
    """``[(function pk, events)]`` of the project's functions that subscribe to any event
    (cached: most projects have none, and every change to a function is an event)."""
    return cache.lookup(
        "subscriptions",
        project_id,
        lambda: list(
            Function.objects.filter(project_id=project_id)
            .exclude(events=[])
            .values_list("pk", "events")
        ),
        keep=lambda found: True,
    )


def subscribers(project_id, names):
    """Functions subscribed to any of ``names``: matched on the events column alone first."""
    candidates = subscriptions(project_id)
    matching = [pk for pk, subscribed in candidates if catalogue.matches(list(subscribed), names)]
    return list(Function.objects.filter(pk__in=matching)) if matching else []


def _start(function, event, payload, user_id, depth, chain):
    request = Request(
        headers={"user-agent": "Appwrite/1.8.0", "content-type": "application/json"},
        body=json.dumps(payload).encode(),
        trigger=Execution.Trigger.EVENT,
        user_id=user_id,
        event=event,
    )
    execution = new_execution(function, request, Execution.Status.WAITING, chain=chain, depth=depth)
    execution.save()
    enqueue.execution(execution)
    return execution
