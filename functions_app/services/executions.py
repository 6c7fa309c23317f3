"""Creating and running executions, whatever triggered them."""

import logging
from contextlib import contextmanager
from datetime import UTC, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import roles
from ..errors import AppwriteError
from ..models import Deployment, Execution, ProjectUser
from . import (
    cache,
    capacity,
    deferred,
    enqueue,
    events,
    executor,
    functions,
    headers,
    keys,
    parking,
    sync_slots,
    workers,
)
from .execution_requests import Request, new_execution

LOG_LIMIT = 1_000_000
logger = logging.getLogger(__name__)
NO_DEPLOYMENT = (
    "The execution could not be completed because a corresponding deployment was not found. A function "
    "deployment needs to be created before it can be executed. Please create a deployment for your function and try again."
)
NOT_READY = "The execution could not be completed because the build is not ready. Please wait for the build to complete and try again."
AT_CAPACITY = (
    "The function is running as many executions as it may at once ({limit}), and none ended "
    "within {wait:g} seconds. Please try again after some time, or run the execution "
    "asynchronously."
)


def truncate(text, kind="Logs"):
    if len(text) <= LOG_LIMIT:
        return text
    notice = f"[WARNING] {kind} truncated. The output exceeded {LOG_LIMIT} characters.\n"
    return notice + text[-(LOG_LIMIT - len(notice)) :]


def parse_scheduled_at(value):
    """``scheduledAt``: a whole minute, more than a minute from now."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, such as year 0 or month 13
        moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if (
        moment is None
        or moment.second
        or moment.microsecond
        or moment <= timezone.now() + timedelta(seconds=60)
    ):
        raise AppwriteError(
            "general_bad_request",
            "Execution schedule must be a valid date, and at least 1 minute from now",
        )
    return moment


def find_active_deployment(function):
    if not function.deployment_uid:
        return None
    return cache.lookup(
        "deployment",
        (function.pk, function.deployment_uid),
        lambda: Deployment.objects.filter(function=function, uid=function.deployment_uid).first(),
        keep=is_ready,  # other states still change
    )


def is_ready(deployment):
    return deployment is not None and deployment.status == Deployment.Status.READY


def active_deployment(function):
    """The function's active deployment, with Appwrite's errors when there is none or it is not ready."""
    deployment = find_active_deployment(function)
    if deployment is None:
        raise AppwriteError(
            "deployment_not_found",
            "Deployment not found. Create a deployment before trying to execute a function",
        )
    if deployment.status != Deployment.Status.READY:
        raise AppwriteError("build_not_ready")
    return deployment


def check_execute_permission(caller, function):
    if caller.privileged:
        return
    message = roles.execute_denied_message(caller_roles(caller), list(function.execute))
    if message:
        raise AppwriteError("user_unauthorized", message)


def caller_roles(caller):
    user = caller.user
    if user is None:
        return roles.caller_roles(None)
    teams = [(team.uid, []) for team in user.teams.all()]
    return roles.caller_roles(
        user.uid,
        teams,
        verified=user.email_verification or user.phone_verification,
        labels=list(user.labels),
    )


def user_jwt(function, user_id):
    """A JWT for the project user the run is for, good in the function's project only. Only
    project users ever have one: console accounts (the admins) are never a run's user, so
    function code never holds an admin's identity."""
    if not user_id:
        return ""
    user = ProjectUser.objects.filter(project_id=function.project_id, uid=user_id, status=True)
    if not user.exists():
        return ""
    return keys.mint_user_jwt(user_id, function.project_id, function.timeout + 60)


def runtime_headers(function, execution, request):
    """What the function sees: the caller's headers, and the platform's ``x-appwrite-*``."""
    seen = headers.from_caller(request.headers)
    seen.update(
        {
            "x-appwrite-execution-id": execution.uid,
            "x-appwrite-key": keys.mint_dynamic_key(
                function.project_id,
                function.pk,
                function.scopes,
                function.timeout + 60,
                execution.uid,
                execution.event_chain,
            ),
            "x-appwrite-trigger": execution.trigger,
            "x-appwrite-user-id": request.user_id,
            "x-appwrite-user-jwt": user_jwt(function, request.user_id),
            "x-appwrite-country-code": "",
            "x-appwrite-continent-code": "",
            "x-appwrite-continent-eu": "false",
        }
    )
    if request.client_ip:
        seen["x-appwrite-client-ip"] = request.client_ip
    if request.event is not None:
        seen["x-appwrite-event"] = request.event
    return seen


def call_runtime(function, deployment, execution, request, wall_limit=None, slot=None):
    """Run in the deployment's warm containers; the caller records the result."""
    call = executor.Call(
        request.method,
        request.path,
        runtime_headers(function, execution, request),
        request.body,
        function.timeout,
        wall_limit,
        logging=function.logging,
    )
    return executor.execute(function, deployment, call, slot.index if slot else 0)


def record(function, deployment, execution, result, save=True):
    """The outcome on the execution row (written now, or by the caller when ``save`` is off)."""
    logged = function.logging
    outcome = (
        result.status_code,
        headers.response_list(result.headers),
        truncate(result.logs) if logged else "",
        truncate(result.errors, "Errors") if logged else "",
        result.duration,
        deployment.uid,
    )
    execution.finish(*outcome) if save else execution.settle(*outcome)


@contextmanager
def capacity_for(function):
    """A slot of the function for a synchronous run, after waiting up to
    ``FUNCTIONS_QUEUE_TIMEOUT`` for one; ``429`` when none came free."""
    slot = capacity.acquire(function, settings.FUNCTIONS_QUEUE_TIMEOUT)
    if slot is None:
        limit, wait = capacity.limits(function).concurrency, settings.FUNCTIONS_QUEUE_TIMEOUT
        raise AppwriteError(
            "general_rate_limit_exceeded", AT_CAPACITY.format(limit=limit, wait=wait)
        )
    try:
        yield slot
    finally:
        capacity.release(slot)
        parking.wake(function)


def run_sync(function, deployment, execution, request):
    """A synchronous run within the process's and the function's capacity (the row is the
    caller's to write)."""
    with sync_slots.slot(function.project_id, function.pk), capacity_for(function) as slot:
        wall_limit = settings.FUNCTIONS_SYNC_TIMEOUT
        return call_runtime(function, deployment, execution, request, wall_limit, slot)


def create_http_execution(caller, function, request, run_async, scheduled_at):
    """POST /functions/{id}/executions after parameter validation."""
    if not function.enabled and not caller.privileged:
        raise AppwriteError("function_not_found")
    functions.check_runtime_available(function.runtime)
    deployment = active_deployment(function)
    check_execute_permission(caller, function)
    origin = events.Origin.of_caller(caller).in_chain()
    if scheduled_at or run_async:
        execution, result = _queue(function, request, scheduled_at, origin.chain), None
    else:
        execution = new_execution(
            function, request, Execution.Status.PROCESSING, chain=origin.chain
        )
        result = run_sync(function, deployment, execution, request)
        record(function, deployment, execution, result)  # before the answer, as on Appwrite
        if result.sync_timeout:
            raise AppwriteError("function_synchronous_timeout")
    events.execution_changed(execution, "create", origin)
    return execution, result


def _queue(function, request, scheduled_at, chain):
    """Async executions wait for a worker; delayed ones for the ticker to release them."""
    execution = new_execution(
        function,
        request,
        Execution.Status.SCHEDULED if scheduled_at else Execution.Status.WAITING,
        scheduled_at,
        chain,
    )
    execution.save()
    if not scheduled_at:
        enqueue.execution(execution)
    return execution


def domain_deployment(function):
    """The active deployment for a domain request, with the router's error for each state."""
    deployment = find_active_deployment(function)
    if deployment is None:
        raise AppwriteError("deployment_not_found")
    if deployment.status != Deployment.Status.READY:
        kind = {
            Deployment.Status.FAILED: "build_failed",
            Deployment.Status.CANCELED: "build_canceled",
        }.get(deployment.status, "build_not_ready")
        raise AppwriteError(kind)
    return deployment


def create_domain_execution(function, request):
    """A plain HTTP request to the function's domain: run synchronously, as a guest."""
    if not function.enabled:
        raise AppwriteError("function_not_found")
    deployment = domain_deployment(function)
    if not {"any", "guests"} & set(function.execute):
        raise AppwriteError("function_execute_permission_missing")
    execution = new_execution(function, request, Execution.Status.PROCESSING)
    result = run_sync(function, deployment, execution, request)
    record(function, deployment, execution, result, save=False)
    deferred.save(execution)  # after the answer, as Appwrite's router records it
    return execution, result


def run_queued(execution_pk):
    """The worker side of async, scheduled, cron and event executions."""
    execution = Execution.claim(execution_pk, workers.current())
    if execution is None:
        return None
    function = execution.function
    request = Request.of(execution)
    request.event = request.event or ""  # a queued run always names its event, as on Appwrite
    try:
        deployment = active_deployment(function)
    except AppwriteError as exc:
        message = NO_DEPLOYMENT if exc.type == "deployment_not_found" else NOT_READY
        execution.finish(500, [], "", message, 0.0, deployment_uid="")
        announce_finished(execution)
        return execution
    slot = capacity.try_acquire_worker(function) or parking.park(
        execution, function, workers.current()
    )
    if slot is None:
        return execution  # parked: a run of this function that ends queues it again
    try:
        result = call_runtime(function, deployment, execution, request, slot=slot)
    finally:
        capacity.release(slot)
        parking.wake(function)
    record(function, deployment, execution, result)
    announce_finished(execution)
    return execution


def announce_finished(execution):
    """``functions.F.executions.E.update`` once a worker finishes an execution."""
    origin = events.Origin(execution.user_id, events.Cause.of(execution))
    events.execution_changed(execution, "update", origin)


def delete_execution(execution, origin=None):
    if execution.status not in (
        Execution.Status.COMPLETED,
        Execution.Status.FAILED,
        Execution.Status.SCHEDULED,
    ):
        raise AppwriteError("execution_in_progress")
    payload = events.payload_of(execution)
    execution.delete()
    events.execution_changed(execution, "delete", origin, payload)


def recover_stuck(now=None, dead_nodes=frozenset()):
    """Maintenance: executions left ``processing`` by a worker that died (on this node or with
    a dead node), or past their timeout plus a maintenance interval, are failed with the reason."""
    now = now or timezone.now()
    failed = []
    for execution in Execution.objects.filter(status=Execution.Status.PROCESSING).select_related(
        "function"
    ):
        reason = _interruption(execution, now, dead_nodes)
        if reason:
            logger.warning(
                "Execution %s of %s failed: %s", execution.uid, execution.project_id, reason
            )
            execution.finish(500, [], execution.logs, reason, 0.0)
            failed.append(execution.uid)
    return failed


def _interruption(execution, now, dead_nodes):
    if workers.is_gone(execution.worker, dead_nodes):
        return f"The execution was interrupted: its worker ({execution.worker}) stopped."
    limit = (
        execution.function.timeout + executor.WEDGED_GRACE + settings.COMPUTE_MAINTENANCE_INTERVAL
    )
    if (now - execution.updated_at).total_seconds() > limit:
        return "The execution was interrupted: it outlived its timeout (worker stopped?)."
    return None
