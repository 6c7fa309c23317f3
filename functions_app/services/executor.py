"""The warm pool: one runtime container per active deployment, found again by name from any
process (web or worker), reached over a Unix socket in the container's socket folder.

A warm call is one HTTP round trip on a kept-alive socket. A cold start creates the container
(network ``none``, read-only root, unprivileged user, limits from the specification) and polls
the socket every few milliseconds until the runtime answers.

The socket and log folders are size-capped tmpfs volumes that exist only while the container
does, so each cold start gets fresh ones. The host reaches into them only through
:mod:`container_files` (no link followed, regular files only, reads capped). What the host
keeps about a runtime (its cold-start lock and the time of its last use) is a file in a
folder no container can see."""

import contextlib
import fcntl
import hashlib
import hmac
import math
import os
import shutil
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from django.conf import settings

from .. import runtimes
from ..models import Function
from . import (
    container_files,
    containers,
    docker,
    egress,
    runtime_socket,
    specifications,
    storage,
)
from .containers import MB, Bind, Scratch
from .environment import container_environment

SOCKET_DIR = "/var/run/opr"
LOGS_DIR = "/mnt/logs"
READY_POLL = 0.005
LOG_FILE_LIMIT = 5 * 1024 * 1024
LOG_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
WEDGED_GRACE = 5  # seconds past the timeout by which the runtime must have answered
runtime_name = containers.runtime_name
_locks = {}
_locks_guard = threading.Lock()
_known = {}  # runtime name -> Runtime, as this process last saw it


@dataclass
class Result:
    status_code: int
    headers: list
    body: bytes = b""
    logs: str = ""
    errors: str = ""
    duration: float = 0.0
    sync_timeout: bool = False


@dataclass(frozen=True)
class Call:
    """One request to a runtime: what to send, the function's own ``timeout`` and, for
    synchronous callers, ``wall_limit``: the most we wait for an answer."""

    method: str
    path: str
    headers: dict
    body: bytes
    timeout: float
    wall_limit: float | None = None
    logging: bool = True


@dataclass(frozen=True)
class Runtime:
    """A running runtime container and the host paths of its socket and log folders."""

    name: str
    container_id: str
    socket_dir: str
    logs_dir: str


class ColdStartError(Exception):
    pass


class RuntimeGone(Exception):
    """The container this process knew is no longer there (or no longer listening)."""


def state_path(name):
    """Host-only: flocked during a cold start; its mtime is the runtime's last use."""
    return Path(settings.STORAGE_DIR) / "runtime-state" / name


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


def execute(function, deployment, call):
    """Run one ``Call`` in the deployment's runtime, cold-starting it when none is warm."""
    started = time.monotonic()
    name = runtime_name(deployment)
    deadline = started + call.timeout
    runtime = _known.get(name) or _find(name)
    if runtime is not None:
        try:
            return _call(runtime, call, started)
        except RuntimeGone:
            forget(name)
    try:
        runtime = start_runtime(function, deployment, deadline)
    except (ColdStartError, docker.DockerError) as exc:
        return failure(str(exc), 400, started)
    remaining = replace(call, timeout=max(1, math.floor(deadline - time.monotonic())))
    try:
        return _call(runtime, remaining, started)
    except RuntimeGone as exc:
        return failure(f"Runtime connection failed: {exc}", 500, started)


def _call(runtime, call, started):
    wait = call.timeout + WEDGED_GRACE
    if call.wall_limit is not None:
        wait = min(wait, call.wall_limit - (time.monotonic() - started))
    headers = call.headers | {
        "x-open-runtimes-secret": secret_for(runtime.name),
        "x-open-runtimes-timeout": str(max(1, int(call.timeout))),
        "x-open-runtimes-logging": "enabled" if call.logging else "disabled",
    }
    try:
        with _file_lock(runtime.name, fcntl.LOCK_SH):
            _touch(runtime.name)
            status, response_headers, payload = runtime_socket.request(
                runtime.socket_dir, call.method, call.path, headers, call.body, max(wait, 0.001)
            )
            _touch(runtime.name)
    except TimeoutError:
        return _timed_out(runtime, started, call.wall_limit, call.timeout)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise RuntimeGone(str(exc)) from None
    except OSError as exc:
        return failure(f"Runtime connection failed: {exc}", 500, started)
    except ValueError as exc:  # a path or header HTTP cannot carry (the API refuses them first)
        return failure(f"Invalid request for the runtime: {exc}", 400, started)
    return _result(runtime, status, response_headers, payload, started)


def _timed_out(runtime, started, wall_limit, timeout):
    elapsed = time.monotonic() - started
    if elapsed >= timeout + WEDGED_GRACE - 0.05:
        retire(runtime.name)  # its own timeout should have answered: the runtime is stuck
    if wall_limit is not None and elapsed >= wall_limit - 0.05:
        result = failure(
            "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the "
            "execution duration doesn't exceed 30 seconds.",
            408,
            started,
        )
        result.sync_timeout = True
        return result
    return failure(
        "Internal curl error has occurred within the executor! Error Number: 28", 500, started
    )


def _result(runtime, status, response_headers, payload, started):
    headers, log_id = [], ""
    for key, value in response_headers:
        key = key.lower()
        if key == "x-open-runtimes-log-id":
            log_id = unquote(value)
        elif not key.startswith("x-open-runtimes-") and key != "transfer-encoding":
            headers.append((key, value))
    logs, errors = collect_logs(runtime.logs_dir, log_id)
    return Result(status, headers, payload, logs, errors, time.monotonic() - started)


def collect_logs(folder, log_id):
    """The request's log and error files from the container's log folder (then removed).
    ``log_id`` comes from the container: only ``[A-Za-z0-9_-]{1,128}`` names a file."""
    if not 0 < len(log_id) <= 128 or not set(log_id) <= LOG_ID_CHARS:
        return "", ""
    try:
        with container_files.directory(folder) as dir_fd:
            return _read_log(dir_fd, f"{log_id}_logs.log", "Log"), _read_log(
                dir_fd, f"{log_id}_errors.log", "Error"
            )
    except OSError:
        return "", ""


def _read_log(dir_fd, name, kind):
    found = container_files.read_capped(dir_fd, name, LOG_FILE_LIMIT)
    container_files.remove(dir_fd, name)
    if found is None:
        return ""
    data, truncated = found
    text = data.decode("utf-8", "replace")
    return text + f"\n{kind} file has been truncated to 5.00MB." if truncated else text


def _touch(name):
    with contextlib.suppress(FileNotFoundError):
        os.utime(state_path(name))


# -- finding and cold-starting -------------------------------------------------------------------


def _find(name):
    """The running container ``name`` (started by any process), or None."""
    try:
        found = docker.running_volumes(name)
    except docker.DockerError:
        return None
    if found is None or SOCKET_DIR not in found[1] or LOGS_DIR not in found[1]:
        return None
    container_id, volumes = found
    runtime = Runtime(name, container_id, volumes[SOCKET_DIR], volumes[LOGS_DIR])
    _known[name] = runtime
    return runtime


def forget(name):
    runtime = _known.pop(name, None)
    if runtime is not None:
        runtime_socket.discard(runtime.socket_dir)


def start_runtime(function, deployment, deadline):
    """Start the deployment's container unless another thread or process already did."""
    name = runtime_name(deployment)
    with _lock(name), _file_lock(name):
        _touch(name)  # a state file left from an earlier container must not read as idle
        runtime = _find(name)
        if runtime is not None and runtime_socket.is_listening(runtime.socket_dir):
            return runtime
        forget(name)
        docker.remove_container(name)  # stopped, or running but not answering
        started = docker.run_container(container_spec(function, deployment, name))
        runtime = Runtime(name, started.id, started.volumes[SOCKET_DIR], started.volumes[LOGS_DIR])
        _wait_ready(runtime, deadline)
        _known[name] = runtime
        return runtime


@contextlib.contextmanager
def _file_lock(name, mode=fcntl.LOCK_EX):
    """The runtime's state-file lock, across processes: exclusive for a cold start or a reap,
    shared while a call is in flight (so the reaper never removes a container in use)."""
    fd = _locked_state(name, mode)
    try:
        yield
    finally:
        os.close(fd)


def try_file_lock(name):
    """The exclusive lock if nobody holds the runtime (no cold start, no call), else None."""
    try:
        return _locked_state(name, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None


def _locked_state(name, mode):
    path = state_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode)
            if _same_file(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # retired (unlinked) while we waited: lock the new file instead


def _same_file(fd, path):
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _wait_ready(runtime, deadline):
    checked = time.monotonic()
    while time.monotonic() < deadline:
        if runtime_socket.is_listening(runtime.socket_dir):
            return
        if time.monotonic() - checked > 0.25:
            checked = time.monotonic()
            if not docker.container_running(runtime.name):
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
    env = container_environment(function, deployment, spec) | {
        "OPEN_RUNTIMES_SOCKET": f"{SOCKET_DIR}/{runtime_socket.SOCKET_NAME}",
        "OPEN_RUNTIMES_SECRET": secret_for(name),
        "OPEN_RUNTIMES_ENTRYPOINT": deployment.entrypoint,
        "OPEN_RUNTIMES_LOGS_DIR": LOGS_DIR,
        "OPEN_RUNTIMES_CPUS": f"{spec.cpus:g}",
        "OPEN_RUNTIMES_MEMORY": str(spec.memory),
        "CI": "true",
    }
    api_binds, api_env = containers.api_bridge()
    egress_binds, egress_env = egress.for_container("execution", deployment, name)
    binds = [Bind(str(code), "/usr/local/server/src/function"), *api_binds, *egress_binds]
    env |= api_env | egress_env
    return containers.Spec(
        name=name,
        image=runtime.image,
        command=["bash", "helpers/start.sh", "bash helpers/server.sh"],
        environment=env,
        labels=containers.labels(deployment, "runtime"),
        binds=binds,
        scratch=[
            Scratch(SOCKET_DIR, MB, shared=True),
            Scratch(LOGS_DIR, settings.COMPUTE_LOGS_SIZE * MB, shared=True),
            Scratch("/tmp", settings.COMPUTE_TMP_SIZE * MB, executable=True),
        ],
        **containers.limits(spec),
    )


# -- retiring -----------------------------------------------------------------------------------


def retire(name):
    """Remove a runtime container (its socket and log volumes go with it)."""
    forget(name)
    docker.remove_container(name)
    with contextlib.suppress(FileNotFoundError):
        state_path(name).unlink()


def remove_runtime(deployment):
    retire(runtime_name(deployment))


def remove_function_runtimes(function):
    """Drop a function's warm containers so the next call starts with its new configuration."""
    for deployment in function.deployments.all():
        if docker.container_exists(runtime_name(deployment)):
            remove_runtime(deployment)


def reap(now=None):
    """Remove runtime containers idle past the threshold or no longer active, skipping any
    that a process is cold-starting or calling right now. Returns the names removed."""
    now = now or time.time()
    _remove_legacy_folders()
    active = {(f.project_id, f.deployment_uid) for f in Function.objects.exclude(deployment_uid="")}
    removed = []
    for container in docker.list_containers(containers.mine("runtime")):
        fd = try_file_lock(container["name"])
        if fd is None:
            continue
        try:
            if _reapable(container, active, now):
                retire(container["name"])
                removed.append(container["name"])
        finally:
            os.close(fd)
    return removed


def _reapable(container, active, now):
    """Checked under the runtime's exclusive lock: a container seen "created" in the listing
    has since been started (or its starter died), so its state is looked up again."""
    labels_ = container["labels"]
    key = (labels_.get("functions.project"), labels_.get("functions.deployment"))
    if key not in active:
        return True
    if _idle_for(container["name"], now) > settings.COMPUTE_INACTIVE_THRESHOLD:
        return True
    return not docker.container_running(container["name"])


def _remove_legacy_folders():
    """Runtime folders of earlier versions were host directories containers could write."""
    legacy = Path(settings.STORAGE_DIR) / "runtimes"
    if legacy.is_dir() and not legacy.is_symlink():
        shutil.rmtree(legacy, ignore_errors=True)


def _idle_for(name, now):
    try:
        return now - state_path(name).stat().st_mtime
    except FileNotFoundError:
        return math.inf
