"""Maintenance of this node's warm containers: extra replicas go once idle for
``FUNCTIONS_REPLICA_IDLE`` seconds, the first replica after ``COMPUTE_INACTIVE_THRESHOLD``
(never for a function that keeps one warm, which gets one started when it has none), and
containers of deployments no longer active, or made before their function's variables or
limits changed (through whichever node), go at once. A container a process is calling or
cold-starting is never touched: its state-file lock is taken without waiting, or it is
skipped."""

import os
import shutil
import time
from pathlib import Path

from django.conf import settings

from ..models import Deployment, Function
from . import containers, docker, replicas, runtime_state


def reap(now=None):
    """Remove what is idle or no longer active; returns the names removed."""
    now = now or time.time()
    _remove_legacy_folders()
    active = {
        (f.project_id, f.deployment_uid): f for f in Function.objects.exclude(deployment_uid="")
    }
    removed, configs = [], {}
    for container in docker.list_containers(containers.mine("runtime")):
        fd = runtime_state.try_exclusive(container["name"])
        if fd is None:
            continue
        try:
            if _reapable(container, active, now) or _stale(container, active, configs):
                replicas.retire(container["name"])
                removed.append(container["name"])
        finally:
            os.close(fd)
    return removed


def _reapable(container, active, now):
    """Checked under the container's exclusive lock: a container seen "created" in the
    listing has since been started (or its starter died), so its state is looked up again."""
    labels = container["labels"]
    project, deployment = labels.get("functions.project"), labels.get("functions.deployment")
    function = active.get((project, deployment))
    role = replicas.role_of(container["name"], f"fn-{project}-{deployment}")
    if function is None or role is None:
        return True
    if role == replicas.STANDBY:
        return False
    idle = runtime_state.idle_for(container["name"], now)
    if role == 0 and function.keep_warm:
        limit = float("inf")
    else:
        limit = (
            settings.COMPUTE_INACTIVE_THRESHOLD if role == 0 else settings.FUNCTIONS_REPLICA_IDLE
        )
    return idle > limit or not docker.container_running(container["name"])


def _stale(container, active, wanted):
    """A container made before its function's settings changed (on any node)."""
    labels = container["labels"]
    key = (labels.get("functions.project"), labels.get("functions.deployment"))
    if key not in wanted:
        deployment = Deployment.objects.filter(function=active[key], uid=key[1]).first()
        wanted[key] = deployment and replicas.settings_hash(active[key], deployment)
    made = labels.get(replicas.SETTINGS_LABEL)
    return bool(made and wanted[key] and made != wanted[key])


def keep_warm():
    """Start the first replica of every enabled keep-warm function that has none; returns
    the names started."""
    started = []
    for function in Function.objects.filter(keep_warm=True, enabled=True).exclude(
        deployment_uid=""
    ):
        name = warm_up(function)
        if name:
            started.append(name)
    return started


def warm_up_by_id(function_pk):
    """After an activation, or keep-warm turned on: the standby of the active deployment, and
    its first replica when the function keeps one warm."""
    function = Function.objects.filter(pk=function_pk).first()
    deployment = _active(function) if function else None
    if deployment is not None:
        replicas.prepare(function, deployment)
        if function.keep_warm and function.enabled:
            warm_up(function, deployment)


def _active(function):
    return Deployment.objects.filter(
        function=function, uid=function.deployment_uid, status=Deployment.Status.READY
    ).first()


def warm_up(function, deployment=None):
    """The function's first replica, started if it is not running (its name, or "")."""
    deployment = deployment or _active(function)
    if deployment is None:
        return ""
    name = replicas.replica_name(deployment, 0)
    if docker.container_running(name):
        return ""
    deadline = time.monotonic() + max(function.timeout, replicas.BACKGROUND_START)
    try:
        replicas.start(function, deployment, 0, deadline)
    except (replicas.ColdStartError, docker.DockerError):
        return ""
    return name


def _remove_legacy_folders():
    """Runtime folders of earlier versions were host directories containers could write."""
    legacy = Path(settings.STORAGE_DIR) / "runtimes"
    if legacy.is_dir() and not legacy.is_symlink():
        shutil.rmtree(legacy, ignore_errors=True)
