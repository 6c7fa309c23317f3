"""The warm pool: one runtime container per active deployment, found again by name and labels
from any process (web or worker), reached over a Unix socket in a bind-mounted directory.

A warm call is one HTTP round trip on a kept-alive socket. A cold start creates the container
(network ``none``, read-only root, unprivileged user, limits from the specification) and polls
the socket every few milliseconds until the runtime answers."""

import contextlib
import fcntl
import hashlib
import hmac
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings

from .. import runtimes
from . import docker, runtime_socket, specifications, storage, variables
from .environment import function_environment

RUNTIME_UID = 1000
SOCKET_DIR = "/var/run/opr"
SOCKET_NAME = "server.sock"
READY_POLL = 0.005
API_DIR = "/var/run/opr-api"
API_PORT = 3080
_locks = {}
_locks_guard = threading.Lock()


@dataclass
class Result:
    status_code: int
    headers: list
    body: bytes = b""
    logs: str = ""
    errors: str = ""
    duration: float = 0.0
    sync_timeout: bool = False


class ColdStartError(Exception):
    pass


def runtime_name(deployment):
    return f"fn-{deployment.project_id}-{deployment.uid}"


def runtime_dir(name):
    return Path(settings.STORAGE_DIR) / "runtimes" / name


def socket_path(name):
    return runtime_dir(name) / SOCKET_NAME


def secret_for(name):
    """Each container's secret, derivable by every process without a lookup."""
    return hmac.new(settings.SECRET_KEY.encode(), name.encode(), hashlib.sha256).hexdigest()[:32]


def _lock(name):
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def failure(message, code, started):
    return Result(
        500, [], errors=f"{message}\\nError Code: {code}", duration=time.monotonic() - started
    )


# -- executing ----------------------------------------------------------------------------------


def execute(function, deployment, method, path, headers, body, timeout, wall_limit=None):
    """Run one request in the deployment's runtime. ``timeout`` is the function's own limit;
    ``wall_limit`` (synchronous callers) caps how long we wait for an answer."""
    started = time.monotonic()
    name = runtime_name(deployment)
    deadline = started + timeout
    try:
        return _call(
            function, deployment, name, method, path, headers, body, timeout, wall_limit, started
        )
    except FileNotFoundError:
        pass  # no socket: not running here yet
    except ConnectionRefusedError:
        runtime_socket.discard(str(socket_path(name)))
    try:
        start_runtime(function, deployment, deadline)
    except (ColdStartError, docker.DockerError) as exc:
        return failure(str(exc), 400, started)
    remaining = max(1, math.floor(deadline - time.monotonic()))
    try:
        return _call(
            function, deployment, name, method, path, headers, body, remaining, wall_limit, started
        )
    except OSError as exc:
        return failure(f"Runtime connection failed: {exc}", 500, started)


def _call(function, deployment, name, method, path, headers, body, timeout, wall_limit, started):
    sock = str(socket_path(name))
    wait = (
        timeout + 5
        if wall_limit is None
        else min(timeout + 5, wall_limit - (time.monotonic() - started))
    )
    request_headers = {
        **headers,
        "x-open-runtimes-secret": secret_for(name),
        "x-open-runtimes-timeout": str(max(1, int(timeout))),
        "x-open-runtimes-logging": "enabled" if function.logging else "disabled",
    }
    _touch(name)
    try:
        status, response_headers, payload = runtime_socket.request(
            sock, method, path, request_headers, body, max(wait, 0.001)
        )
    except TimeoutError:
        return _timed_out(started, wall_limit)
    except (FileNotFoundError, ConnectionRefusedError):
        raise
    except OSError as exc:
        return failure(f"Runtime connection failed: {exc}", 500, started)
    return _result(name, status, response_headers, payload, started)


def _timed_out(started, wall_limit):
    elapsed = time.monotonic() - started
    if wall_limit is not None and elapsed >= wall_limit - 0.05:
        result = failure(
            "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the "
            "execution duration doesn't exceed 30 seconds.", 408, started,
        )  # fmt: skip
        result.sync_timeout = True
        return result
    return failure(
        "Internal curl error has occurred within the executor! Error Number: 28", 500, started
    )


def _result(name, status, response_headers, payload, started):
    headers, log_id = [], ""
    for key, value in response_headers:
        key = key.lower()
        if key == "x-open-runtimes-log-id":
            log_id = unquote(value)
        elif not key.startswith("x-open-runtimes-") and key != "transfer-encoding":
            headers.append((key, value))
    logs, errors = _collect_logs(name, log_id)
    return Result(status, headers, payload, logs, errors, time.monotonic() - started)


def _collect_logs(name, log_id):
    if not log_id or "/" in log_id or log_id.startswith("."):
        return "", ""
    folder = runtime_dir(name) / "logs"
    return _read_log(folder / f"{log_id}_logs.log", "Log"), _read_log(
        folder / f"{log_id}_errors.log", "Error"
    )


def _read_log(path, kind, limit=5 * 1024 * 1024):
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        path.unlink()
    except FileNotFoundError:
        return ""
    text = data[:limit].decode("utf-8", "replace")
    return text + f"\n{kind} file has been truncated to 5.00MB." if len(data) > limit else text


def _touch(name):
    with contextlib.suppress(FileNotFoundError):
        os.utime(runtime_dir(name) / "last-used")


# -- cold starts ---------------------------------------------------------------------------------


def start_runtime(function, deployment, deadline):
    """Start the deployment's container unless another thread or process already did."""
    name = runtime_name(deployment)
    with _lock(name), _file_lock(name):
        if runtime_socket.is_listening(str(socket_path(name))):
            return
        _prepare_dirs(name)
        try:
            docker.run_container(**container_spec(function, deployment, name))
        except docker.Conflict:
            if not docker.container_running(name):
                docker.remove_container(name)
                docker.run_container(**container_spec(function, deployment, name))
        _wait_ready(name, deadline)


@contextlib.contextmanager
def _file_lock(name):
    """Serialises cold starts of one runtime across processes (web workers and task workers)."""
    path = runtime_dir(name).parent / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _prepare_dirs(name):
    folder = runtime_dir(name)
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    (folder / "last-used").touch()
    for path in (folder, folder / "logs"):
        os.chown(path, RUNTIME_UID, RUNTIME_UID)
    stale = folder / SOCKET_NAME
    if stale.exists() and not runtime_socket.is_listening(str(stale)):
        stale.unlink()


def _wait_ready(name, deadline):
    sock = str(socket_path(name))
    checked = time.monotonic()
    while time.monotonic() < deadline:
        if os.path.exists(sock) and runtime_socket.is_listening(sock):
            return
        if time.monotonic() - checked > 0.25:
            checked = time.monotonic()
            if not docker.container_running(name):
                raise ColdStartError("The runtime stopped while starting the server.")
        time.sleep(READY_POLL)
    raise ColdStartError("Cold start timeout exceeded while starting the server.")


def container_spec(function, deployment, name):
    runtime = runtimes.get(function.runtime)
    if runtime is None:
        raise ColdStartError(f'Runtime "{function.runtime}" is not supported')
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    code = storage.code_dir(deployment)
    if not code.is_dir():
        raise ColdStartError("The deployment's build output is missing. Redeploy the function.")
    env = function_environment(function, deployment, spec) | variables.environment(function) | {
        "OPEN_RUNTIMES_SOCKET": f"{SOCKET_DIR}/{SOCKET_NAME}",
        "OPEN_RUNTIMES_SECRET": secret_for(name),
        "OPEN_RUNTIMES_ENTRYPOINT": deployment.entrypoint,
        "OPEN_RUNTIMES_CPUS": f"{spec.cpus:g}",
        "OPEN_RUNTIMES_MEMORY": str(spec.memory),
        "CI": "true",
    }  # fmt: skip
    mounts = [
        (str(code), "/usr/local/server/src/function", "ro"),
        (str(runtime_dir(name)), SOCKET_DIR, "rw"),
        (str(runtime_dir(name) / "logs"), "/mnt/logs", "rw"),
    ]
    if settings.API_SOCKET.exists():
        mounts.append((str(settings.API_SOCKET.parent), API_DIR, "rw"))
        env |= {
            "OPEN_RUNTIMES_API_SOCKET": f"{API_DIR}/{settings.API_SOCKET.name}",
            "OPEN_RUNTIMES_API_PORT": str(API_PORT),
            "APPWRITE_FUNCTION_API_ENDPOINT": f"http://127.0.0.1:{API_PORT}/v1",
        }
    return {
        "name": name,
        "image": runtime.image,
        "command": ["bash", "helpers/start.sh", "bash helpers/server.sh"],
        "environment": env,
        "labels": labels(deployment, "runtime"),
        "mounts": mounts,
        "network": "none",
        "read_only": True,
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
        **limits(spec),
    }


def limits(spec, memory_floor=0):
    return {
        "cpus": spec.cpus,
        "memory_mb": max(spec.memory, memory_floor),
        "pids": 128 * max(1, math.ceil(spec.cpus)),
        "user": f"{RUNTIME_UID}:{RUNTIME_UID}",
    }


def instance_id():
    """Tells this installation's containers from another's on a shared engine (by database)."""
    db = settings.DATABASES["default"]
    return hashlib.sha256(f"{db.get('HOST', '')}/{db['NAME']}".encode()).hexdigest()[:12]


def labels(deployment, kind):
    return {
        "functions.managed": "1",
        "functions.instance": instance_id(),
        "functions.kind": kind,
        "functions.project": deployment.project_id,
        "functions.function": deployment.function.uid,
        "functions.deployment": deployment.uid,
    }


# -- retiring -----------------------------------------------------------------------------------


def remove_runtime(deployment):
    name = runtime_name(deployment)
    runtime_socket.discard(str(socket_path(name)))
    docker.remove_container(name)
    shutil.rmtree(runtime_dir(name), ignore_errors=True)


def remove_function_runtimes(function):
    """Drop a function's warm containers so the next call starts with its new configuration."""
    for deployment in function.deployments.all():
        if docker.container_exists(runtime_name(deployment)):
            remove_runtime(deployment)


def reap(now=None):
    """Remove runtime containers idle past the threshold or no longer active. Returns names."""
    from ..models import Function

    now = now or time.time()
    threshold = settings.COMPUTE_INACTIVE_THRESHOLD
    active = {(f.project_id, f.deployment_uid) for f in Function.objects.exclude(deployment_uid="")}
    removed = []
    mine = {
        "functions.managed": "1",
        "functions.kind": "runtime",
        "functions.instance": instance_id(),
    }
    for container in docker.list_containers(mine):
        labels_ = container["labels"]
        key = (labels_.get("functions.project"), labels_.get("functions.deployment"))
        if (
            key not in active
            or not container["running"]
            or _idle_for(container["name"], now) > threshold
        ):
            docker.remove_container(container["name"])
            shutil.rmtree(runtime_dir(container["name"]), ignore_errors=True)
            removed.append(container["name"])
    return removed


def _idle_for(name, now):
    try:
        return now - (runtime_dir(name) / "last-used").stat().st_mtime
    except FileNotFoundError:
        return math.inf
