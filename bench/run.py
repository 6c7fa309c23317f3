"""End-to-end benchmark of the Functions platform: one run, one table. See bench/README.md.

Starts an isolated instance (temporary STORAGE_DIR, fresh SQLite database, project ``bench``,
gunicorn + qcluster as subprocesses), drives it through the REST API like a client would, then
removes every process, container and file it made, even when a step fails.

Executions are compared with a floor measured in the same run, interleaved with them: a plain
authenticated API request (``GET /v1/functions/runtimes`` with the key), sequential and under
the same clients. The targets are ratios to it, since absolute figures vary by machine."""

import contextlib
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

import scaling
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
    ROUNDS,
    RUNTIMES,
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
from measure import describe, enqueue, final_status, load, row, timed_execution, timed_read

FLOOR = ("GET", "/functions/runtimes")  # a plain authenticated read
HEALTH = ("GET", "/health/version")  # the same without credentials (shown, not a target)

# -- requests ------------------------------------------------------------------------------------


def runtime_name(deployment_id):
    return f"fn-{PROJECT}-{deployment_id}"  # replicas.replica_name(deployment, 0)


def kill_runtime(service, deployment_id):
    """Remove the deployment's running containers (their socket and log volumes go with them),
    as an idle eviction would, so the next execution is a cold start. Its standby, created but
    not started, stays: it is what a cold start after an eviction finds."""
    running = docker(
        "ps",
        "-q",
        "--filter",
        f"label=functions.deployment={deployment_id}",
        "--filter",
        "status=running",
    ).split()
    if running:
        docker("rm", "-f", "-v", *running, check=False)


# -- sequential, interleaved ---------------------------------------------------------------------


def sequential(api, function_id):
    """ROUNDS x (floor, health, execution) blocks of N_WARM / ROUNDS sequential requests each,
    after a warm-up. Returns {kind: (client seconds, server seconds)}."""
    kinds = {
        "floor": lambda: timed_read(api, FLOOR),
        "health": lambda: timed_read(api, HEALTH),
        "exec": lambda: timed_execution(api, function_id),
    }
    for run in kinds.values():
        for _ in range(50):
            run()
    samples = {kind: [] for kind in kinds}
    for _ in range(ROUNDS):
        for kind, run in kinds.items():
            samples[kind] += [run() for _ in range(N_WARM // ROUNDS)]
    return {kind: ([s[0] for s in got], [s[1] for s in got]) for kind, got in samples.items()}


# -- throughput, interleaved ---------------------------------------------------------------------


def throughput(service, function_id):
    """ROUNDS x (floor, execution) windows of LOAD_SECONDS / ROUNDS under CLIENTS clients."""
    runs = {
        "floor": lambda api: timed_read(api, FLOOR),
        "exec": lambda api: timed_execution(api, function_id),
    }
    totals = {kind: [0.0, [], 0] for kind in runs}
    for _ in range(ROUNDS):
        for kind, run in runs.items():
            seconds, latencies, errors = load(service, run, LOAD_SECONDS / ROUNDS)
            totals[kind][0] += seconds
            totals[kind][1] += latencies
            totals[kind][2] += len(errors)
    return {k: (len(lat) / sec, lat, errors) for k, (sec, lat, errors) in totals.items()}


# -- cold starts ---------------------------------------------------------------------------------


def cold_sample(service, api, function_id, deployment_id):
    kill_runtime(service, deployment_id)
    time.sleep(0.3)  # let the engine settle, as after an idle eviction
    return timed_execution(api, function_id)[0]


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


def cold_and_naive(service, api, function_id, deployment_id):
    """Cold starts and bare ``docker run`` samples, alternating. Returns (cold, naive)."""
    spec, cold, naive = naive_args(service, deployment_id), [], []
    for index in range(max(N_COLD, N_NAIVE)):
        if index < N_COLD:
            cold.append(cold_sample(service, api, function_id, deployment_id))
        if index < N_NAIVE:
            naive.append(naive_once(service, spec, f"fn-bench-naive-{function_id}-{index}"))
    return cold, naive


# -- async ---------------------------------------------------------------------------------------


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


def enqueue_many(service, function_id, count=N_DRAIN, path="/"):
    def worker(share):
        api = service.api()
        return [enqueue(api, function_id, path) for _ in range(share)]

    shares = [count // CLIENTS + (i < count % CLIENTS) for i in range(CLIENTS)]
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
    if not wait_for(lambda: answers(folder / "server.sock"), 30, 0.002):
        raise BenchError(f"{name} never answered")
    status = naive_request(folder / "server.sock", secret)
    elapsed = time.perf_counter() - started
    docker("rm", "-f", name)
    if status != 200:
        raise BenchError(f"{name} answered HTTP {status}")
    return elapsed


def naive_request(path, secret):
    conn = UnixConnection(path)
    headers = {"x-open-runtimes-secret": secret, "x-open-runtimes-timeout": "15"}
    conn.request("POST", "/", b"", headers | {"content-type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status


# -- the run -------------------------------------------------------------------------------------


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
    log(f"{runtime}: floor, health and warm executions x {N_WARM}, interleaved")
    m["seq"] = sequential(api, function_id)
    log(f"{runtime}: cold starts x {N_COLD} and bare docker run x {N_NAIVE}, alternating")
    m["cold"], m["naive"] = cold_and_naive(service, api, function_id, deployment_id)
    log(f"{runtime}: {N_RACE} x {CLIENTS} concurrent cold starts")
    m["race"], m["race_failed"] = concurrent_cold(service, function_id, deployment_id)
    log(f"{runtime}: floor and executions, {CLIENTS} clients, {LOAD_SECONDS:.0f} s each")
    m["load"] = throughput(service, function_id)
    log(f"{runtime}: async x {N_ASYNC}")
    m["async"] = async_samples(api, function_id)
    return m


def floor_rows(runtime, m):
    (f_lat, _), (h_lat, _) = m["seq"]["floor"], m["seq"]["health"]
    f_rate, f_loaded, f_errors = m["load"]["floor"]
    return [
        row(
            "0 floor: GET /functions/runtimes (key), 1 client",
            runtime,
            len(f_lat),
            f"p50 {pct(f_lat, 50):.2f} ms, p99 {pct(f_lat, 99):.2f} ms "
            f"(GET /health/version, no key: p50 {pct(h_lat, 50):.2f} ms)",
        ),
        row(
            f"0 floor throughput ({CLIENTS} clients)",
            runtime,
            len(f_loaded),
            f"{f_rate:.0f} req/s, p50 {pct(f_loaded, 50):.1f} ms, errors {f_errors}",
        ),
    ]


def latency_rows(runtime, m):
    c50, c95, n50 = pct(m["cold"], 50), pct(m["cold"], 95), pct(m["naive"], 50)
    r50, failed = (pct(m["race"], 50) if m["race"] else math.nan), m["race_failed"]
    warm, server = m["seq"]["exec"]
    w50, w99, s50 = pct(warm, 50), pct(warm, 99), pct(server, 50)
    f50 = pct(m["seq"]["floor"][0], 50)
    return [
        row(
            "1 cold start vs bare docker run (sync REST)",
            runtime,
            N_COLD,
            f"p50 {c50:.0f} ms (p95 {c95:.0f}) vs docker run p50 {n50:.0f} ms = {c50 / n50:.2f}x",
            f"<= {TARGETS['cold_ratio']}x",
            c50 <= TARGETS["cold_ratio"] * n50,
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
            len(warm),
            f"p50 {w50:.2f} ms = {w50 / f50:.2f}x floor, p99 {w99:.2f} ms "
            f"(executor part p50 {s50:.2f} ms)",
            f"p50 <= {TARGETS['latency_ratio']}x floor",
            w50 <= TARGETS["latency_ratio"] * f50,
        ),
    ]


def other_rows(runtime, m):
    rate, loaded, errors = m["load"]["exec"]
    f_rate = m["load"]["floor"][0]
    return [
        row(
            f"3 throughput ({CLIENTS} clients)",
            runtime,
            len(loaded),
            f"{rate:.0f} exec/s = {rate / f_rate:.2f}x floor, p50 {pct(loaded, 50):.1f} ms, "
            f"p99 {pct(loaded, 99):.1f} ms, errors {errors}",
            f">= {TARGETS['rate_ratio']}x floor, 0 errors",
            rate >= TARGETS["rate_ratio"] * f_rate,
            not errors,
        ),
        row(
            "4 async enqueue -> completed (5 ms GET poll)",
            runtime,
            N_ASYNC,
            f"p50 {pct(m['async'], 50):.0f} ms, p95 {pct(m['async'], 95):.0f} ms",
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
        rows += floor_rows(runtime, m) + latency_rows(runtime, m) + other_rows(runtime, m)
    rows.append(drain_row(service, api))
    rows += scaling.rows(service, api)
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


def print_table(rows, busy_before, load_before):
    load = (
        f"machine {busy_before:.0%} busy before the run, load average {load_before:.2f} before "
        f"and {os.getloadavg()[0]:.2f} after"
    )
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
    load_before, busy_before = os.getloadavg()[0], busy_share()
    with contextlib.ExitStack() as stack:
        service = Service(stack)
        try:
            service.setup()
            service.start()
            rows = run(service)
        except BaseException:
            service.dump_logs()
            raise
    print_table(rows, busy_before, load_before)


if __name__ == "__main__":
    main()
