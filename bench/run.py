"""End-to-end benchmark of the Functions platform: one run, one table. See bench/README.md.

Starts an isolated instance (temporary STORAGE_DIR, fresh SQLite database, project ``bench``,
gunicorn + qcluster as subprocesses), drives it through the REST API like a client would, then
removes every process, container and file it made, even when a step fails."""

import contextlib
import http.client
import json
import math
import os
import platform
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from instance import (  # noqa: E402 - bench/ is on sys.path when run as a script
    CLIENTS,
    DRAIN_TIMEOUT,
    LOAD_SECONDS,
    N_ASYNC,
    N_COLD,
    N_DRAIN,
    N_NAIVE,
    N_RACE,
    N_UPLOAD,
    N_WARM,
    PROJECT,
    Q_POLL,
    Q_WORKERS,
    RUNTIMES,
    SYNC_BODY,
    TARGETS,
    WEB_THREADS,
    WEB_WORKERS,
    BenchError,
    Service,
    UnixConnection,
    active_deployment,
    answers,
    create_function,
    docker,
    expect,
    log,
    pct,
    upload,
    wait_for,
)

# -- executions ----------------------------------------------------------------------------------


def describe(execution):
    keys = ("status", "responseStatusCode", "duration", "errors", "message", "type")
    return json.dumps({k: execution[k] for k in keys if k in execution})[:600]


def timed_execution(api, function_id):
    """One synchronous execution. Returns (client seconds, server-reported duration)."""
    started = time.perf_counter()
    status, execution = api.call("POST", f"/functions/{function_id}/executions", SYNC_BODY)
    elapsed = time.perf_counter() - started
    if status != 201 or execution["status"] != "completed":
        raise BenchError(f"execution failed: HTTP {status} {describe(execution)}")
    return elapsed, execution["duration"]


def runtime_name(deployment_id):
    return f"fn-{PROJECT}-{deployment_id}"  # executor.runtime_name


def kill_runtime(service, deployment_id):
    """Remove the warm container (its socket and log volumes go with it), so the next
    execution is a cold start."""
    docker("rm", "-f", "-v", runtime_name(deployment_id), check=False)


def cold_samples(service, api, function_id, deployment_id):
    samples = []
    for _ in range(N_COLD):
        kill_runtime(service, deployment_id)
        time.sleep(0.3)  # let the engine settle, as after an idle eviction
        samples.append(timed_execution(api, function_id)[0])
    return samples


def try_execution(api, function_id):
    """Seconds, or None when the execution failed."""
    try:
        return timed_execution(api, function_id)[0]
    except BenchError as exc:
        log(f"concurrent cold start failed: {exc}")
        return None


def concurrent_cold(service, function_id, deployment_id):
    """CLIENTS simultaneous first calls after the container was removed, N_RACE times."""
    apis, results = [service.api() for _ in range(CLIENTS)], []
    for _ in range(N_RACE):
        kill_runtime(service, deployment_id)
        time.sleep(0.3)
        with ThreadPoolExecutor(CLIENTS) as pool:
            results += pool.map(lambda api: try_execution(api, function_id), apis)
    return [r for r in results if r is not None], results.count(None)


def warm_samples(api, function_id):
    for _ in range(50):
        timed_execution(api, function_id)
    pairs = [timed_execution(api, function_id) for _ in range(N_WARM)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def load_client(service, function_id, deadline):
    api, latencies, errors = service.api(), [], []
    while time.perf_counter() < deadline:
        try:
            latencies.append(timed_execution(api, function_id)[0])
        except (BenchError, OSError, http.client.HTTPException) as exc:
            errors.append(str(exc))
    return latencies, errors


def throughput(service, function_id):
    """CLIENTS threads, each with its own keep-alive connection, for LOAD_SECONDS."""
    started = time.perf_counter()
    deadline = started + LOAD_SECONDS
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(load_client, service, function_id, deadline) for _ in range(CLIENTS)]
        results = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    errors = [e for _, errs in results for e in errs]
    if errors:
        log(f"{len(errors)} failed executions under load, first: {errors[0][:300]}")
    return len(latencies) / elapsed, latencies, len(errors)


# -- async ---------------------------------------------------------------------------------------


def enqueue(api, function_id):
    status, execution = api.call("POST", f"/functions/{function_id}/executions", {"async": True})
    return expect(status, execution, 202)["$id"]


def final_status(api, function_id, execution_id):
    status, body = api.call("GET", f"/functions/{function_id}/executions/{execution_id}")
    expect(status, body, 200)
    return body["status"] if body["status"] in ("completed", "failed") else None


def wait_final(api, function_id, execution_id):
    return wait_for(lambda: final_status(api, function_id, execution_id), 60, 0.005)


def async_samples(api, function_id):
    samples = []
    for _ in range(N_ASYNC):
        started = time.perf_counter()
        execution_id = enqueue(api, function_id)
        if wait_final(api, function_id, execution_id) != "completed":
            raise BenchError(f"async execution {execution_id} did not complete")
        samples.append(time.perf_counter() - started)
        time.sleep(0.05)
    return samples


def pending(api, function_id):
    queries = [
        json.dumps({"method": "equal", "attribute": "status", "values": ["waiting", "processing"]}),
        json.dumps({"method": "limit", "values": [1]}),
    ]
    query = urlencode([("queries[]", q) for q in queries])
    return expect(*api.call("GET", f"/functions/{function_id}/executions?{query}"), 200)["total"]


def enqueue_many(service, function_id):
    def worker(count):
        api = service.api()
        return [enqueue(api, function_id) for _ in range(count)]

    shares = [N_DRAIN // CLIENTS + (i < N_DRAIN % CLIENTS) for i in range(CLIENTS)]
    with ThreadPoolExecutor(CLIENTS) as pool:
        return [i for ids in pool.map(worker, shares) for i in ids]


def drain(service, api, function_id):
    """Enqueue N_DRAIN async executions, wait until none is waiting/processing."""
    started = time.perf_counter()
    ids = enqueue_many(service, function_id)
    enqueued = time.perf_counter() - started
    wait_for(lambda: pending(api, function_id) == 0, DRAIN_TIMEOUT, 0.05)
    elapsed = time.perf_counter() - started
    statuses = [final_status(api, function_id, i) for i in ids]
    lost = sum(s is None for s in statuses)
    if "failed" in statuses:
        first = ids[statuses.index("failed")]
        failure = describe(api.call("GET", f"/functions/{function_id}/executions/{first}")[1])
        log(f"drain: {statuses.count('failed')} failed, first: {failure}")
    return len(ids) / elapsed, enqueued, lost, statuses.count("failed")


# -- naive baseline ------------------------------------------------------------------------------


def naive_args(service, deployment_id):
    """``docker run`` arguments copying the warm container (image, command, env, mounts),
    with a fresh socket folder in place of the runtime's."""
    config = json.loads(docker("inspect", runtime_name(deployment_id)))[0]
    args = ["--network", "none", "--user", "1000:1000", "--read-only", "--tmpfs", "/tmp"]
    args += ["--init", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    args += [f"--env={e}" for e in config["Config"]["Env"]]
    for mount in config["Mounts"]:  # the runtime's socket and log volumes become host folders
        source = {"/var/run/opr": "{folder}", "/mnt/logs": "{folder}/logs"}.get(
            mount["Destination"], mount["Source"]
        )
        args += ["-v", f"{source}:{mount['Destination']}{'' if mount['RW'] else ':ro'}"]
    secret = next(
        e.split("=", 1)[1] for e in config["Config"]["Env"] if e.startswith("OPEN_RUNTIMES_SECRET=")
    )
    return args, [config["Config"]["Image"], *config["Config"]["Cmd"]], secret


def socket_folder(service, name):
    """A runtime folder (socket + logs) the container's uid 1000 can write."""
    folder = service.dir / "naive" / name
    (folder / "logs").mkdir(parents=True)
    for path in (folder, folder / "logs"):
        os.chown(path, 1000, 1000)
    return folder


def naive_once(service, spec, name):
    """docker run, wait for the socket, one request; seconds to the answer (removal excluded)."""
    args, image_and_command, secret = spec
    folder = socket_folder(service, name)
    started = time.perf_counter()
    options = ["--label", f"functions.project={PROJECT}", "--name", name]
    options += [a.replace("{folder}", str(folder)) for a in args]
    docker("run", "-d", *options, *image_and_command)
    if not wait_for(lambda: answers(folder / "server.sock"), 30, 0.005):
        raise BenchError(f"{name} never answered")
    status = naive_request(folder / "server.sock", secret)
    elapsed = time.perf_counter() - started
    docker("rm", "-f", name)
    if status != 200:
        raise BenchError(f"{name} answered HTTP {status}")
    return elapsed


def naive_samples(service, function_id, deployment_id):
    spec = naive_args(service, deployment_id)
    return [naive_once(service, spec, f"fn-bench-naive-{function_id}-{i}") for i in range(N_NAIVE)]


def naive_request(path, secret):
    conn = UnixConnection(path)
    headers = {"x-open-runtimes-secret": secret, "x-open-runtimes-timeout": "15"}
    conn.request("POST", "/", b"", headers | {"content-type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


# -- the run -------------------------------------------------------------------------------------


def row(measurement, runtime, n, result, target="-", *checks):
    """One table line; the verdict is PASS/MISS when the row has a target."""
    verdict = ("PASS" if all(checks) else "MISS") if checks else ""
    return (measurement, runtime, n, result, target, verdict)


def upload_times(api, runtime):
    """N_UPLOAD uploads; the last one ends up active. Returns (seconds list, deployment id)."""
    function_id, times = RUNTIMES[runtime][0], []
    for _ in range(N_UPLOAD):
        seconds, deployment_id = upload(api, runtime)
        times.append(seconds)
    if not wait_for(lambda: active_deployment(api, function_id) == deployment_id, 30, 0.05):
        raise BenchError(f"{deployment_id} was never activated")
    return times, deployment_id


def setup_functions(api):
    """Create both functions and time their uploads. Returns ({runtime: deployment}, rows)."""
    deployments, rows = {}, []
    for runtime in RUNTIMES:
        create_function(api, runtime)
        log(f"{runtime}: {N_UPLOAD} uploads")
        times, deployments[runtime] = upload_times(api, runtime)
        p50 = pct(times, 50) / 1000
        result = f"p50 {p50:.2f} s, max {max(times):.2f} s"
        rows.append(
            row(
                "5 upload -> ready (no build commands)",
                runtime,
                N_UPLOAD,
                result,
                "p50 <= 3 s",
                p50 <= TARGETS["upload"],
            )
        )
    return deployments, rows


def measure_runtime(service, api, runtime, deployment_id):
    function_id, m = RUNTIMES[runtime][0], {}
    log(f"{runtime}: warm x {N_WARM}")
    m["warm"], m["server"] = warm_samples(api, function_id)
    log(f"{runtime}: cold x {N_COLD}")
    m["cold"] = cold_samples(service, api, function_id, deployment_id)
    log(f"{runtime}: {N_RACE} x {CLIENTS} concurrent cold starts")
    m["race"], m["race_failed"] = concurrent_cold(service, function_id, deployment_id)
    log(f"{runtime}: {CLIENTS} clients x {LOAD_SECONDS:.0f} s")
    m["rate"], m["loaded"], m["errors"] = throughput(service, function_id)
    log(f"{runtime}: async x {N_ASYNC}")
    m["async"] = async_samples(api, function_id)
    log(f"{runtime}: naive docker run x {N_NAIVE}")
    m["naive"] = naive_samples(service, function_id, deployment_id)
    return m


def latency_rows(runtime, m):
    c50, c95 = pct(m["cold"], 50), pct(m["cold"], 95)
    r50, failed = (pct(m["race"], 50) if m["race"] else math.nan), m["race_failed"]
    w50, w99, s50 = pct(m["warm"], 50), pct(m["warm"], 99), pct(m["server"], 50)
    return [
        row(
            "1 cold start (sync REST, container removed)",
            runtime,
            N_COLD,
            f"p50 {c50:.0f} ms, p95 {c95:.0f} ms",
            "p50 <= 500 ms",
            c50 <= TARGETS["cold_p50"],
        ),
        row(
            f"1 cold start, {CLIENTS} concurrent callers",
            runtime,
            N_RACE * CLIENTS,
            f"p50 {r50:.0f} ms, failed {failed}",
            "0 failed",
            failed == 0,
        ),
        row(
            "2 warm sync latency (1 client, keep-alive)",
            runtime,
            N_WARM,
            f"p50 {w50:.2f} ms, p99 {w99:.2f} ms (executor part p50 {s50:.2f} ms)",
            "p50 <= 5 ms, p99 <= 25 ms",
            w50 <= TARGETS["warm_p50"],
            w99 <= TARGETS["warm_p99"],
        ),
    ]


def other_rows(runtime, m):
    l50, l99, w50, n50 = (
        pct(m[k], q) for k, q in (("loaded", 50), ("loaded", 99), ("warm", 50), ("naive", 50))
    )
    return [
        row(
            f"3 throughput ({CLIENTS} clients, {LOAD_SECONDS:.0f} s)",
            runtime,
            len(m["loaded"]),
            f"{m['rate']:.0f} exec/s, p50 {l50:.1f} ms, p99 {l99:.1f} ms, errors {m['errors']}",
            ">= 300 exec/s",
            m["rate"] >= TARGETS["rate"],
            not m["errors"],
        ),
        row(
            "4 async enqueue -> completed (5 ms GET poll)",
            runtime,
            N_ASYNC,
            f"p50 {pct(m['async'], 50):.0f} ms, p95 {pct(m['async'], 95):.0f} ms",
        ),
        row(
            "6 naive: docker run per execution",
            runtime,
            N_NAIVE,
            f"p50 {n50:.0f} ms vs warm p50 {w50:.2f} ms = {n50 / w50:.0f}x",
        ),
    ]


def drain_row(service, api):
    log(f"python-3.11: drain {N_DRAIN} async executions")
    rate, enqueued, lost, failed = drain(service, api, RUNTIMES["python-3.11"][0])
    result = f"{rate:.0f} exec/s (enqueueing took {enqueued:.1f} s), lost {lost}, failed {failed}"
    return row(
        f"4 async drain of {N_DRAIN} queued",
        "python-3.11",
        N_DRAIN,
        result,
        "lost = 0",
        lost == 0,
        failed == 0,
    )


def run(service):
    api = service.api()
    deployments, rows = setup_functions(api)
    for runtime, deployment_id in deployments.items():
        m = measure_runtime(service, api, runtime, deployment_id)
        rows += latency_rows(runtime, m) + other_rows(runtime, m)
    rows.append(drain_row(service, api))
    return sorted(rows, key=lambda r: (r[0][0], "drain" in r[0], r[1] != "python-3.11"))


def cpu_model():
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return models[0] if models else platform.machine()


def busy_share(seconds=2.0):
    """How busy the whole machine is (0-1) over ``seconds``, from /proc/stat."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    (total_a, idle_a), _, (total_b, idle_b) = sample(), time.sleep(seconds), sample()
    return 1 - (idle_b - idle_a) / max(1, total_b - total_a)


def print_table(rows, busy_before):
    load = f"machine {busy_before:.0%} busy before the run, load average {os.getloadavg()[0]:.2f} after"
    print(
        f"\nFunctions benchmark, {os.cpu_count()} vCPU ({cpu_model()}), {time.strftime('%Y-%m-%d %H:%M')}, {load}"
    )
    print(
        f"gunicorn {WEB_WORKERS} workers x {WEB_THREADS} threads (gthread); qcluster {Q_WORKERS} workers, "
        f"ORM broker poll {Q_POLL} s; SQLite WAL; client on the same VM, unpinned; latencies client-side"
    )
    header = ("measurement", "runtime", "N", "result", "target", "verdict")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(6)]
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    busy_before = busy_share()
    with contextlib.ExitStack() as stack:
        service = Service(stack)
        try:
            service.setup()
            service.start()
            rows = run(service)
        except BaseException:
            service.dump_logs()
            raise
    print_table(rows, busy_before)


if __name__ == "__main__":
    main()
