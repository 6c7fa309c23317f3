"""The benchmark's replica and capacity rows, on ``sleepy`` (a sync ``main`` that sleeps 100 ms,
or ``?s=`` seconds):

7. replica scaling: SCALE_CLIENTS clients for SCALE_SECONDS with one container at most, then
   with the default (as many as the specification and the host allow); then the reaper, as if
   the extra replicas had been idle past ``FUNCTIONS_REPLICA_IDLE``;
8. the concurrency cap (set to 2): queued synchronous calls, synchronous calls past the wait
   (``FUNCTIONS_QUEUE_TIMEOUT`` of the instance), queued async executions, and a hello-world
   function's latency while ``sleepy`` is saturated."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from instance import (
    QUEUE_TIMEOUT,
    RUNTIMES,
    SCALE_CLIENTS,
    SCALE_SECONDS,
    SLEEPY,
    TARGETS,
    active_deployment,
    create_function,
    docker,
    log,
    pct,
    upload,
    wait_for,
)
from measure import enqueue, final_status, load, row, timed_execution

RUNTIME = "python-3.11"
CAP = 2
REPLICA_IDLE = 60  # FUNCTIONS_REPLICA_IDLE's default


def rows(service, api):
    function_id = SLEEPY[0]
    create_function(api, RUNTIME, SLEEPY)
    _, deployment_id = upload(api, RUNTIME, SLEEPY)
    wait_for(lambda: active_deployment(api, function_id) == deployment_id, 30, 0.05)
    result = [replica_row(service, api, deployment_id)]
    service.set_scaling(function_id, max_replicas=0, max_concurrency=CAP)
    return result + cap_rows(service, api)


def running(deployment_id):
    found = docker(
        "ps",
        "-q",
        "--filter",
        f"label=functions.deployment={deployment_id}",
        "--filter",
        "status=running",
    )
    return len(found.split())


def sleepy(api):
    return timed_execution(api, SLEEPY[0])


def replica_row(service, api, deployment_id):
    log(
        f"{SLEEPY[0]}: {SCALE_CLIENTS} clients x {SCALE_SECONDS:.0f} s, one container, then replicas"
    )
    service.set_scaling(SLEEPY[0], max_replicas=1)
    sleepy(api)
    seconds, one, one_errors = load(service, sleepy, SCALE_SECONDS, SCALE_CLIENTS)
    one_rate, single = len(one) / seconds, running(deployment_id)
    service.set_scaling(SLEEPY[0], max_replicas=0)
    seconds, many, many_errors = load(service, sleepy, SCALE_SECONDS, SCALE_CLIENTS)
    many_rate, replicas = len(many) / seconds, running(deployment_id)
    service.reap(REPLICA_IDLE + 1)
    left = running(deployment_id)
    ratio = many_rate / one_rate
    return row(
        f"7 replica scaling: sleep 100 ms, {SCALE_CLIENTS} clients",
        RUNTIME,
        len(one) + len(many),
        f"{single} container: {one_rate:.0f} exec/s; {replicas} replicas: {many_rate:.0f} exec/s "
        f"= {ratio:.1f}x; idle: {replicas} -> {left} container(s); errors "
        f"{len(one_errors) + len(many_errors)}",
        f">= {TARGETS['scaling']}x, 0 errors",
        ratio >= TARGETS["scaling"],
        not one_errors and not many_errors,
    )


def at_once(service, count, path):
    """``count`` synchronous calls started together. Returns [(seconds, HTTP status, or
    "201 failed" for a run that failed, error type)]."""
    barrier = threading.Barrier(count)

    def call(api):
        barrier.wait()
        started = time.perf_counter()
        status, body = api.call(
            "POST", f"/functions/{SLEEPY[0]}/executions", {"path": path, "async": False}
        )
        body = body or {}
        if status == 201 and body.get("status") != "completed":
            status = f"201 {body.get('status')}"  # the run itself failed
        return time.perf_counter() - started, status, body.get("type", "")

    apis = [service.api() for _ in range(count)]
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, apis))


def cap_rows(service, api):
    log(f"{SLEEPY[0]}: concurrency cap {CAP}")
    queued = at_once(service, 6, "/?s=0.1")
    done = [r for r in queued if r[1] == 201]
    waves = max(r[0] for r in queued)
    result = [
        row(
            f"8 cap {CAP}: 6 sync calls of 100 ms at once",
            RUNTIME,
            6,
            f"{len(done)} completed, the last after {waves * 1000:.0f} ms (queued, 3 waves)",
            "all complete",
            len(done) == 6,
        )
    ]
    result.append(over_the_wait(service, api))
    result.append(async_queue(service, api))
    return result


def over_the_wait(service, api):
    """4 calls of 8 s at once (2 run, 2 wait past the queue timeout) while a hello-world
    function keeps being called."""
    other, calm = RUNTIMES[RUNTIME][0], []
    for _ in range(50):
        calm.append(timed_execution(api, other)[0])
    busy, stop = [], threading.Event()

    def keep_calling():
        while not stop.is_set():
            busy.append(timed_execution(api, other)[0])

    caller = threading.Thread(target=keep_calling)
    caller.start()
    try:
        outcome = at_once(service, 4, "/?s=8")
    finally:
        stop.set()
        caller.join()
    completed = [r for r in outcome if r[1] == 201]
    refused = [r for r in outcome if r[1] == 429 and r[2] == "general_rate_limit_exceeded"]
    waited = max((r[0] for r in refused), default=0)
    slower = pct(busy, 50) / pct(calm, 50)
    return row(
        f"8 cap {CAP}: 4 sync calls of 8 s at once; another function meanwhile",
        RUNTIME,
        4 + len(busy),
        f"{len(completed)} completed, {len(refused)} refused 429 after {waited:.1f} s "
        f"(wait {QUEUE_TIMEOUT} s); {other}: {len(busy)} runs, p50 {pct(busy, 50):.1f} ms "
        f"= {slower:.2f}x its p50 before",
        "2 + 2 x 429; other <= 2x",
        len(completed) == 2 and len(refused) == 2,
        slower <= 2,
    )


def async_queue(service, api):
    """6 queued executions of 0.5 s: at most CAP run at once, none fails."""
    started = time.perf_counter()
    ids = [enqueue(api, SLEEPY[0], "/?s=0.5") for _ in range(6)]
    wait_for(lambda: all(final_status(api, SLEEPY[0], i) for i in ids), 60, 0.05)
    elapsed = time.perf_counter() - started
    statuses = [final_status(api, SLEEPY[0], i) for i in ids]
    return row(
        f"8 cap {CAP}: 6 async executions of 0.5 s",
        RUNTIME,
        6,
        f"{statuses.count('completed')} completed in {elapsed:.1f} s (>= 1.5 s: {CAP} at once)",
        "all complete, >= 1.5 s",
        statuses.count("completed") == 6,
        elapsed >= 1.5,
    )
