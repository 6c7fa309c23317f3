"""Running one call in a deployment's warm containers (see ``replicas``): one HTTP round trip
on a kept-alive connection to the replica the call's capacity slot routes to, cold-starting a
replica when none runs, then the request's logs from the container's log folder.

The runtime's answer is capped and must come within its timeout; a runtime that misses its
own timeout by ``WEDGED_GRACE`` is removed. What the host keeps about a runtime (its locks and
last use) lives in ``runtime_state``, in a folder no container can see."""

import math
import time
from dataclasses import dataclass, replace
from urllib.parse import unquote

from . import container_files, containers, docker, reaper, replicas, runtime_socket, runtime_state
from .replicas import ColdStartError

LOG_FILE_LIMIT = 5 * 1024 * 1024
LOG_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
WEDGED_GRACE = 5  # seconds past the timeout by which the runtime must have answered
MOST_TRIED = 12  # containers one call tries (every replica there may be, and a cold start)
runtime_name = containers.runtime_name


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


class RuntimeGone(Exception):
    """The container this process knew is no longer there (or no longer listening)."""


def failure(message, code, started):
    return Result(
        500, [], errors=f"{message}\\nError Code: {code}", duration=time.monotonic() - started
    )


def execute(function, deployment, call, slot=0):
    """Run one ``Call`` in the deployment's replicas; ``slot`` is the call's capacity slot.
    A replica found gone (the reaper of another process took it) is forgotten and the call
    goes to another, or to a cold start when none is left; each container is tried once."""
    started = time.monotonic()
    deadline = started + call.timeout
    tried = set()
    while True:
        try:
            runtime = replicas.route(function, deployment, slot, deadline)
        except (ColdStartError, docker.DockerError) as exc:
            return failure(str(exc), 400, started)
        remaining = max(1, math.floor(deadline - time.monotonic()))
        try:
            return _call(runtime, replace(call, timeout=min(call.timeout, remaining)), started)
        except RuntimeGone as exc:
            replicas.forget(runtime)
            if runtime.container_id in tried or len(tried) >= MOST_TRIED:
                return failure(f"Runtime connection failed: {exc}", 500, started)
            tried.add(runtime.container_id)


def _call(runtime, call, started):
    wait = call.timeout + WEDGED_GRACE
    if call.wall_limit is not None:
        wait = min(wait, call.wall_limit - (time.monotonic() - started))
    headers = call.headers | {
        "x-open-runtimes-secret": runtime.secret,
        "x-open-runtimes-timeout": str(max(1, int(call.timeout))),
        "x-open-runtimes-logging": "enabled" if call.logging else "disabled",
    }
    try:
        with runtime.in_use:
            status, response_headers, payload = runtime_socket.request(
                runtime.socket_dir, call.method, call.path, headers, call.body, max(wait, 0.001)
            )
            return _result(runtime, status, response_headers, payload, started)
    except TimeoutError:
        return _timed_out(runtime, started, call.wall_limit, call.timeout)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise RuntimeGone(str(exc)) from None
    except OSError as exc:
        return failure(f"Runtime connection failed: {exc}", 500, started)
    except ValueError as exc:  # a path or header HTTP cannot carry (the API refuses them first)
        return failure(f"Invalid request for the runtime: {exc}", 400, started)


def _timed_out(runtime, started, wall_limit, timeout):
    elapsed = time.monotonic() - started
    if elapsed >= timeout + WEDGED_GRACE - 0.05:
        replicas.retire(runtime.name)  # its own timeout should have answered: it is stuck
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
    logs, errors = collect_logs(runtime, log_id)
    return Result(status, headers, payload, logs, errors, time.monotonic() - started)


def collect_logs(runtime, log_id):
    """The request's log and error files from the container's log folder (then removed).
    ``log_id`` comes from the container: only ``[A-Za-z0-9_-]{1,128}`` names a file."""
    if not 0 < len(log_id) <= 128 or not set(log_id) <= LOG_ID_CHARS:
        return "", ""
    try:
        dir_fd = runtime.logs_fd()
        return _read_log(dir_fd, f"{log_id}_logs.log", "Log"), _read_log(
            dir_fd, f"{log_id}_errors.log", "Error"
        )
    except OSError:
        return "", ""


def _read_log(dir_fd, name, kind):
    found = container_files.take_capped(dir_fd, name, LOG_FILE_LIMIT)
    if found is None:
        return ""
    data, truncated = found
    text = data.decode("utf-8", "replace")
    return text + f"\n{kind} file has been truncated to 5.00MB." if truncated else text


# -- what the rest of the platform calls ---------------------------------------------------------


reap = reaper.reap


def try_file_lock(name):
    """The exclusive lock of a runtime if nobody calls or starts it, else None."""
    return runtime_state.try_exclusive(name)


def _file_lock(name):
    return runtime_state.exclusive(name)


def remove_runtime(deployment):
    labels = {"functions.project": deployment.project_id, "functions.deployment": deployment.uid}
    replicas.retire_all(labels)


def remove_function_runtimes(function):
    """Drop a function's warm containers so the next call starts with its new configuration."""
    labels = {"functions.project": function.project_id, "functions.function": function.uid}
    replicas.retire_all(labels)
