"""The benchmark's isolated instance and its HTTP clients: a temporary STORAGE_DIR, gunicorn,
qcluster and the egress proxy as subprocesses, the REST client, and the functions and
deployments it measures."""

import contextlib
import http.client
import io
import ipaddress
import json
import math
import os
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PROJECT = "bench"
# One process per vCPU; threads mostly wait on the runtime socket. 40 threads (and synchronous
# caps to match) let 32 clients of a slow function in, for the replica and cap rows.
WEB_WORKERS, WEB_THREADS = 2, 40
SYNC_CAP = "36"
Q_WORKERS, Q_POLL = "4", "0.05"  # the README defaults
RUNTIMES = {  # runtime id: (function id, entrypoint, source)
    "python-3.11": (
        "py",
        "main.py",
        'def main(context):\n    return context.res.json({"ok": True})\n',
    ),
    "node-18.0": (
        "node",
        "index.js",
        "module.exports = async (context) => context.res.json({ok: true});\n",
    ),
}
# A slow function: sleeps ?s= seconds (0.1 by default) in a sync main, on the runtime's threads.
SLEEPY = (
    "sleepy",
    "main.py",
    "import time\n\n\ndef main(context):\n"
    '    time.sleep(float(context.req.query.get("s", "0.1")))\n'
    '    return context.res.json({"ok": True})\n',
)
QUICK = "--quick" in sys.argv[1:]  # a smoke test of the script itself: small N, not a result
N_UPLOAD, N_COLD, N_RACE, N_WARM, N_ASYNC, N_DRAIN, N_NAIVE = (
    (2, 3, 1, 100, 5, 50, 3) if QUICK else (5, 15, 5, 1000, 20, 500, 15)
)
CLIENTS, LOAD_SECONDS, DRAIN_TIMEOUT = 8, 2.0 if QUICK else 10.0, 300
ROUNDS = 2 if QUICK else 5  # floor and execution rows alternate this many times
SCALE_CLIENTS, SCALE_SECONDS = 32, 3.0 if QUICK else 8.0
QUEUE_TIMEOUT = "5"  # FUNCTIONS_QUEUE_TIMEOUT of the instance: the cap row waits it out
# No reaping during the run: a measurement must never find its container gone.
SYNC_BODY = {"body": "", "async": False}
TARGETS = {
    "warm_p50": 5,
    "warm_p99": 25,
    "cold_p50": 500,
    "rate": 300,
    "upload": 3.0,
    "latency_ratio": 1.5,  # execution p50 / floor p50, at most
    "rate_ratio": 0.5,  # execution throughput / floor throughput, at least
    "cold_ratio": 1.1,  # cold start p50 / bare docker run p50, at most
    "scaling": 2.0,  # slow function under 32 clients: replicas / one container, at least
}


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


def registry_gateways():
    """Package registries that resolve to a non-public address on this network (a gateway, as
    in a sandbox), for ``EGRESS_INTERNAL_HOSTS``: builds that install packages reach them."""
    found = set()
    for host in ("registry.npmjs.org", "pypi.org", "files.pythonhosted.org"):
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM):
                if not ipaddress.ip_address(info[4][0]).is_global:
                    found.add(f"{info[4][0]}:443")
    return ",".join(sorted(found))


class Service:
    """Temporary STORAGE_DIR, migrated database, project and key, gunicorn, qcluster, egress proxy."""

    def __init__(self, stack):
        self.dir = Path(tempfile.mkdtemp(prefix="functions-bench-"))
        stack.callback(shutil.rmtree, self.dir, ignore_errors=True)
        stack.callback(remove_containers)
        stack.callback(self.stop)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.env = env | {
            "STORAGE_DIR": str(self.dir),
            "SECRET_KEY": secrets.token_hex(32),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "Q_WORKERS": Q_WORKERS,
            "Q_POLL": Q_POLL,
            "WEB_THREADS": str(WEB_THREADS),
            "FUNCTIONS_SYNC_CONCURRENCY": SYNC_CAP,
            "FUNCTIONS_SYNC_PROJECT_CONCURRENCY": SYNC_CAP,
            "FUNCTIONS_SYNC_FUNCTION_CONCURRENCY": SYNC_CAP,
            "FUNCTIONS_QUEUE_TIMEOUT": QUEUE_TIMEOUT,
            "EGRESS_INTERNAL_HOSTS": registry_gateways(),
        }
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
        self.manage("createproject", PROJECT, "Bench")
        self.key = self.manage("createapikey", "--project", PROJECT).splitlines()[-1]

    def set_scaling(self, function_id, **fields):
        """keep_warm / max_replicas / max_concurrency, as the console saves them."""
        code = (
            "from functions_app.models import Function\n"
            "from functions_app.services import functions\n"
            f"function = Function.objects.get(project_id={PROJECT!r}, uid={function_id!r})\n"
            "current = {k: getattr(function, k) for k in "
            "('keep_warm', 'max_replicas', 'max_concurrency')}\n"
            f"functions.update_scaling(function, current | {fields!r})\n"
        )
        self.manage("shell", "-c", code)

    def reap(self, seconds_ahead):
        """Maintenance's reaper, as if ``seconds_ahead`` had passed; returns how many went."""
        code = (
            "import time\nfrom functions_app.services import reaper\n"
            f"print(len(reaper.reap(time.time() + {seconds_ahead})))\n"
        )
        return int(self.manage("shell", "-c", code).splitlines()[-1])

    def spawn(self, name, command):
        with open(self.dir / f"{name}.log", "wb") as out:
            self.procs[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self):
        self.spawn(
            "gunicorn",
            [
                str(VENV / "gunicorn"),
                "console.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WEB_WORKERS),
                "--threads",
                str(WEB_THREADS),
                "--worker-class",
                "gthread",
                "--keep-alive",
                "75",
                "--timeout",
                "120",
            ],
        )
        # The workers alone, not ``manage.py node``: its maintenance would reap between samples
        # (the bench calls the reaper itself when a row needs it).
        self.spawn("qcluster", [str(VENV / "python"), "manage.py", "qcluster"])
        # Builds that install packages (the conformance functions' do) go through it.
        self.spawn("egress", [str(VENV / "python"), "manage.py", "egress_proxy"])
        if not wait_for(self.ready, 60, 0.2):
            raise BenchError("gunicorn did not answer within 60 s")
        log(f"gunicorn on 127.0.0.1:{self.port}, qcluster and egress proxy started")

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


def create_function(api, runtime, spec=None):
    function_id, entrypoint, _ = spec or RUNTIMES[runtime]
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


def upload(api, runtime, spec=None):
    """POST a code.tar.gz, poll until ready. Returns (seconds, deployment id)."""
    function_id, entrypoint, source = spec or RUNTIMES[runtime]
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
