"""End-to-end benchmark of the Functions platform: one run, one table. See bench/README.md.

Starts an isolated instance (temporary STORAGE_DIR, fresh SQLite database, project ``bench``,
gunicorn + qcluster as subprocesses), drives it through the REST API like a client would, then
removes every process, container and file it made, even when a step fails."""

import contextlib
import http.client
import io
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PROJECT = "bench"
WEB_WORKERS, WEB_THREADS = 2, 8  # one process per vCPU; threads mostly wait on the runtime socket
Q_WORKERS, Q_POLL = "4", "0.05"  # the README defaults
RUNTIMES = {  # runtime id: (function id, entrypoint, source)
    "python-3.11": ("py", "main.py", 'def main(context):\n    return context.res.json({"ok": True})\n'),
    "node-18.0": ("node", "index.js", "module.exports = async (context) => context.res.json({ok: true});\n"),
}  # fmt: skip
QUICK = "--quick" in sys.argv[1:]  # a smoke test of the script itself: small N, not a result
N_UPLOAD, N_COLD, N_RACE, N_WARM, N_ASYNC, N_DRAIN, N_NAIVE = (
    (2, 3, 1, 100, 5, 50, 2) if QUICK else (5, 15, 5, 1000, 20, 500, 10)
)
CLIENTS, LOAD_SECONDS, DRAIN_TIMEOUT = 8, 2.0 if QUICK else 10.0, 300
# executor.reap() removes every runtime container on the engine that its own database does not
# know, so this instance's reaper would kill other instances' (e.g. running test suites) ones.
DROP_REAPER = (
    "from django_q.models import Schedule; "
    "Schedule.objects.filter(func='functions_app.tasks.maintain_runtimes').delete()"
)
SYNC_BODY = {"body": "", "async": False}
TARGETS = {"warm_p50": 5, "warm_p99": 25, "cold_p50": 500, "rate": 300, "upload": 3.0}


class BenchError(Exception):
    pass


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values, q):
    """Nearest-rank percentile of values in seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] * 1000


def wait_for(predicate, timeout, interval):
    """Poll until ``predicate()`` is truthy; returns its value, or None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def docker(*args, check=True):
    result = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise BenchError(f"docker {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def bench_containers():
    return docker("ps", "-aq", "--filter", f"label=functions.project={PROJECT}").split()


def remove_containers():
    ids = bench_containers()
    if ids:
        docker("rm", "-f", *ids, check=False)
    log(f"removed {len(ids)} container(s); left: {len(bench_containers())}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- HTTP clients --------------------------------------------------------------------------------


class Api:
    """A keep-alive JSON client for /v1, authenticated with the bench project's API key."""

    def __init__(self, port, key):
        self.port, self.conn = port, None
        self.headers = {"X-Appwrite-Project": PROJECT, "X-Appwrite-Key": key}

    def call(self, method, path, body=None, content_type="application/json"):
        """(status, decoded body). A kept-alive connection the server closed is reopened once."""
        payload = json.dumps(body) if isinstance(body, dict) else body
        headers = {**self.headers, "Content-Type": content_type} if payload else self.headers
        reused = self.conn is not None
        try:
            return self._send(method, "/v1" + path, payload, headers)
        except (http.client.RemoteDisconnected, ConnectionError):
            if not reused:
                raise
            return self._send(method, "/v1" + path, payload, headers)

    def _send(self, method, path, payload, headers):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        except BaseException:
            self.conn.close()
            self.conn = None
            raise


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(str(self.path))


def answers(path):
    """True when something accepts connections on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
            return True
        except OSError:
            return False


# -- the isolated instance -----------------------------------------------------------------------


class Service:
    """Temporary STORAGE_DIR, migrated database, project and key, gunicorn and qcluster."""

    def __init__(self, stack):
        self.dir = Path(tempfile.mkdtemp(prefix="functions-bench-"))
        stack.callback(shutil.rmtree, self.dir, ignore_errors=True)
        stack.callback(remove_containers)
        stack.callback(self.stop)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env = env | {
            "STORAGE_DIR": str(self.dir), "SECRET_KEY": secrets.token_hex(32), "DEBUG": "false",
            "LOG_LEVEL": "WARNING", "Q_WORKERS": Q_WORKERS, "Q_POLL": Q_POLL,
        }  # fmt: skip
        self.port, self.procs, self.key = free_port(), {}, ""

    def manage(self, *args):
        command = [str(VENV / "python"), "manage.py", *args]
        result = subprocess.run(command, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise BenchError(f"manage.py {args[0]} failed:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def setup(self):
        log(f"STORAGE_DIR={self.dir}")
        self.manage("build_runtime_images", *RUNTIMES)
        self.manage("migrate", "--noinput")
        self.manage("shell", "-c", DROP_REAPER)
        self.manage("createproject", PROJECT, "Bench")
        self.key = self.manage("createapikey", "--project", PROJECT).splitlines()[-1]

    def spawn(self, name, command):
        with open(self.dir / f"{name}.log", "wb") as out:
            self.procs[name] = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def start(self):
        self.spawn("gunicorn", [
            str(VENV / "gunicorn"), "console.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS),
            "--worker-class", "gthread", "--keep-alive", "75", "--timeout", "120",
        ])  # fmt: skip
        self.spawn("qcluster", [str(VENV / "python"), "manage.py", "qcluster"])
        if not wait_for(self.ready, 60, 0.2):
            raise BenchError("gunicorn did not answer within 60 s")
        log(f"gunicorn on 127.0.0.1:{self.port}, qcluster started")

    def ready(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            return self.api().call("GET", "/functions")[0] == 200
        return False

    def api(self):
        return Api(self.port, self.key)

    def stop(self):
        """SIGTERM each process we started, then SIGKILL whatever is left of its session."""
        for name, proc in self.procs.items():
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM for 20 s")
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log(f"stopped {', '.join(self.procs) or 'nothing'}")

    def dump_logs(self):
        for name in self.procs:
            path = self.dir / f"{name}.log"
            if path.exists():
                tail = path.read_text(errors="replace")[-3000:]
                print(f"--- {name}.log (tail) ---\n{tail}", file=sys.stderr)


# -- functions and deployments -------------------------------------------------------------------


def expect(status, body, wanted):
    if status != wanted:
        raise BenchError(f"HTTP {status} (wanted {wanted}): {json.dumps(body)[:500]}")
    return body


def create_function(api, runtime):
    function_id, entrypoint, _ = RUNTIMES[runtime]
    fields = {"functionId": function_id, "name": function_id, "runtime": runtime}
    fields |= {"entrypoint": entrypoint, "execute": ["any"]}
    expect(*api.call("POST", "/functions", fields), 201)


def tarball(name, text):
    data, buffer = text.encode(), io.BytesIO()
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def multipart(fields, archive):
    boundary = uuid.uuid4().hex
    head = f"--{boundary}\r\nContent-Disposition: form-data; name="
    parts = [f'{head}"{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()]
    parts.append(
        f'{head}"code"; filename="code.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n'.encode()
        + archive
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def deployment_ready(api, function_id, deployment_id):
    status, body = api.call("GET", f"/functions/{function_id}/deployments/{deployment_id}")
    expect(status, body, 200)
    if body["status"] in ("failed", "canceled"):
        raise BenchError(
            f"deployment {deployment_id} {body['status']}:\n{body['buildLogs'][-2000:]}"
        )
    return body["status"] == "ready"


def upload(api, runtime):
    """POST a code.tar.gz, poll until ready. Returns (seconds, deployment id)."""
    function_id, entrypoint, source = RUNTIMES[runtime]
    body, content_type = multipart({"activate": "true"}, tarball(entrypoint, source))
    started = time.perf_counter()
    status, deployment = api.call(
        "POST", f"/functions/{function_id}/deployments", body, content_type
    )
    expect(status, deployment, 202)
    if not wait_for(lambda: deployment_ready(api, function_id, deployment["$id"]), 120, 0.02):
        raise BenchError(f"deployment {deployment['$id']} not ready after 120 s")
    return time.perf_counter() - started, deployment["$id"]


def active_deployment(api, function_id):
    return expect(*api.call("GET", f"/functions/{function_id}"), 200)["deploymentId"]


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
    """Remove the warm container and its socket, so the next execution is a cold start."""
    name = runtime_name(deployment_id)
    docker("rm", "-f", name, check=False)
    with contextlib.suppress(FileNotFoundError):
        (service.dir / "runtimes" / name / "server.sock").unlink()  # executor.socket_path


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
    runtime_dir = str(service.dir / "runtimes" / runtime_name(deployment_id))
    args = ["--network", "none", "--user", "1000:1000", "--read-only", "--tmpfs", "/tmp"]
    args += ["--init", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
    args += [f"--env={e}" for e in config["Config"]["Env"]]
    for bind in config["HostConfig"]["Binds"]:
        args += ["-v", bind.replace(runtime_dir, "{folder}")]
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
        rows.append(row("5 upload -> ready (no build commands)", runtime, N_UPLOAD, result,
                        "p50 <= 3 s", p50 <= TARGETS["upload"]))  # fmt: skip
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
        row("1 cold start (sync REST, container removed)", runtime, N_COLD,
            f"p50 {c50:.0f} ms, p95 {c95:.0f} ms", "p50 <= 500 ms", c50 <= TARGETS["cold_p50"]),
        row(f"1 cold start, {CLIENTS} concurrent callers", runtime, N_RACE * CLIENTS,
            f"p50 {r50:.0f} ms, failed {failed}", "0 failed", failed == 0),
        row("2 warm sync latency (1 client, keep-alive)", runtime, N_WARM,
            f"p50 {w50:.2f} ms, p99 {w99:.2f} ms (executor part p50 {s50:.2f} ms)",
            "p50 <= 5 ms, p99 <= 25 ms", w50 <= TARGETS["warm_p50"], w99 <= TARGETS["warm_p99"]),
    ]  # fmt: skip


def other_rows(runtime, m):
    l50, l99, w50, n50 = (pct(m[k], q) for k, q in (("loaded", 50), ("loaded", 99), ("warm", 50), ("naive", 50)))  # fmt: skip
    return [
        row(f"3 throughput ({CLIENTS} clients, {LOAD_SECONDS:.0f} s)", runtime, len(m["loaded"]),
            f"{m['rate']:.0f} exec/s, p50 {l50:.1f} ms, p99 {l99:.1f} ms, errors {m['errors']}",
            ">= 300 exec/s", m["rate"] >= TARGETS["rate"], not m["errors"]),
        row("4 async enqueue -> completed (5 ms GET poll)", runtime, N_ASYNC,
            f"p50 {pct(m['async'], 50):.0f} ms, p95 {pct(m['async'], 95):.0f} ms"),
        row("6 naive: docker run per execution", runtime, N_NAIVE,
            f"p50 {n50:.0f} ms vs warm p50 {w50:.2f} ms = {n50 / w50:.0f}x"),
    ]  # fmt: skip


def drain_row(service, api):
    log(f"python-3.11: drain {N_DRAIN} async executions")
    rate, enqueued, lost, failed = drain(service, api, RUNTIMES["python-3.11"][0])
    result = f"{rate:.0f} exec/s (enqueueing took {enqueued:.1f} s), lost {lost}, failed {failed}"
    return row(f"4 async drain of {N_DRAIN} queued", "python-3.11", N_DRAIN, result,
               "lost = 0", lost == 0, failed == 0)  # fmt: skip


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
    print(f"\nFunctions benchmark, {os.cpu_count()} vCPU ({cpu_model()}), {time.strftime('%Y-%m-%d %H:%M')}, {load}")  # fmt: skip
    print(f"gunicorn {WEB_WORKERS} workers x {WEB_THREADS} threads (gthread); qcluster {Q_WORKERS} workers, "
          f"ORM broker poll {Q_POLL} s; SQLite WAL; client on the same VM, unpinned; latencies client-side")  # fmt: skip
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
