"""Timed requests and load, shared by the benchmark's rows."""

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

from instance import CLIENTS, SYNC_BODY, BenchError, expect, log


def describe(execution):
    keys = ("status", "responseStatusCode", "duration", "errors", "message", "type")
    return json.dumps({k: execution[k] for k in keys if k in execution})[:600]


def timed_execution(api, function_id, path=None):
    """One synchronous execution. Returns (client seconds, server-reported duration)."""
    body = SYNC_BODY if path is None else {**SYNC_BODY, "path": path}
    started = time.perf_counter()
    status, execution = api.call("POST", f"/functions/{function_id}/executions", body)
    elapsed = time.perf_counter() - started
    if status != 201 or execution["status"] != "completed":
        raise BenchError(f"execution failed: HTTP {status} {describe(execution)}")
    return elapsed, execution["duration"]


def timed_read(api, request):
    started = time.perf_counter()
    status, body = api.call(*request)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"{request[1]}: HTTP {status} {json.dumps(body)[:300]}")
    return elapsed, 0.0


def load_client(service, run, deadline):
    api, latencies, errors = service.api(), [], []
    while time.perf_counter() < deadline:
        try:
            latencies.append(run(api)[0])
        except (BenchError, OSError, http.client.HTTPException) as exc:
            errors.append(str(exc))
    return latencies, errors


def load(service, run, seconds, clients=CLIENTS):
    """``clients`` threads, each with its own keep-alive connection, calling ``run(api)`` for
    ``seconds``. Returns (seconds, latencies, errors)."""
    started = time.perf_counter()
    deadline = started + seconds
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(load_client, service, run, deadline) for _ in range(clients)]
        results = [f.result() for f in futures]
    latencies = [x for lat, _ in results for x in lat]
    errors = [e for _, errs in results for e in errs]
    if errors:
        log(f"{len(errors)} failed requests under load, first: {errors[0][:300]}")
    return time.perf_counter() - started, latencies, errors


def enqueue(api, function_id, path="/"):
    body = {"async": True, "path": path}
    status, execution = api.call("POST", f"/functions/{function_id}/executions", body)
    return expect(status, execution, 202)["$id"]


def final_status(api, function_id, execution_id):
    status, body = api.call("GET", f"/functions/{function_id}/executions/{execution_id}")
    expect(status, body, 200)
    return body["status"] if body["status"] in ("completed", "failed") else None


def row(measurement, runtime, n, result, target="-", *checks):
    """One table line; the verdict is PASS/MISS when the row has a target."""
    verdict = ("PASS" if all(checks) else "MISS") if checks else ""
    return (measurement, runtime, n, result, target, verdict)
