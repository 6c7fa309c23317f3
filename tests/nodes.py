"""Several nodes on one machine, for tests/test_nodes.py and bench/nodes.py: a second Docker
engine of its own (``dockerd`` with its own data root, exec root, pid file and Unix socket,
never a bridge network), and a node's processes (gunicorn, ``manage.py node``, the egress
proxy) as ``bin/run`` starts them, each with its own ``NODE_ID`` and ``DOCKER_HOST``."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(interval)


def _kill_group(process, sig=signal.SIGKILL):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return


class SecondEngine:
    """A Docker engine that only this run uses, in a temporary folder: started empty, stopped
    and removed (with every container and image it holds) by :meth:`stop`."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="fn-engine-", dir="/tmp"))  # short socket paths
        self.host = f"unix://{self.root}/docker.sock"
        self.process = None

    def start(self, timeout=90):
        """Start the engine (call :meth:`stop` in any case: it also removes the folder)."""
        log = open(self.root / "dockerd.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                "dockerd",
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "dockerd.pid"),
                "-H",
                self.host,
                "--bridge=none",
                "--iptables=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(lambda: self.docker("info").returncode == 0, timeout, "second dockerd")
        return self

    def docker(self, *args):
        return subprocess.run(
            ["docker", "-H", self.host, *args], capture_output=True, text=True, check=False
        )

    def copy_image(self, tag, source_host):
        """``docker save | docker load`` of one image from another engine."""
        save = subprocess.Popen(["docker", "-H", source_host, "save", tag], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            ["docker", "-H", self.host, "load", "-q"], stdin=save.stdout, capture_output=True
        )
        save.stdout.close()
        assert save.wait() == 0 and loaded.returncode == 0, loaded.stderr

    def has_image(self, tag):
        return self.docker("image", "inspect", tag).returncode == 0

    def container_ids(self, **labels):
        filters = [
            arg for key, value in labels.items() for arg in ("--filter", f"label={key}={value}")
        ]
        found = self.docker("ps", "-aq", "--no-trunc", *filters).stdout.split()
        return set(found)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # dockerd stops its containers and its containerd
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                _kill_group(self.process)
                self.process.wait()
        for mount in reversed(self._mounts()):
            subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _mounts(self):
        with open("/proc/mounts") as mounts:
            points = [line.split()[1] for line in mounts]
        return [point for point in points if point.startswith(str(self.root) + "/")]


class Node:
    """One node's processes, as ``bin/run`` starts them: gunicorn (TCP port and the API
    socket), ``manage.py node`` (the workers, heartbeat, ticker and maintenance) and the egress
    proxy, in process groups of their own so that a test can ``kill -9`` them."""

    def __init__(self, name, docker_host, env, web_threads=8):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            env,
            NODE_ID=name,
            DOCKER_HOST=docker_host,
            PUBLIC_URL=self.url,
            WEB_THREADS=str(web_threads),
        )
        self.dir = Path(env["STORAGE_DIR"]) / "nodes" / name  # NODE_DIR's default
        self.processes = {}

    def _spawn(self, kind, command):
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.dir / f"{kind}.log", "ab")  # noqa: SIM115
        self.processes[kind] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_web(self, workers=1):
        socket_path = self.dir / "api" / "api.sock"
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        socket_path.unlink(missing_ok=True)
        threads = self.env["WEB_THREADS"]
        self._spawn(
            "web",
            [
                str(VENV / "gunicorn"),
                "console.wsgi:application",
                "--config",
                "console/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--bind",
                f"unix:{socket_path}",
                "--workers",
                str(workers),
                "--threads",
                threads,
                "--worker-class",
                "gthread",
                "--timeout",
                "120",
            ],
        )
        self._spawn("egress", [sys.executable, "manage.py", "egress_proxy"])
        wait_until(self.answers, 60, f"{self.name}'s gunicorn")
        return self

    def start_cluster(self):
        self._spawn("cluster", [sys.executable, "manage.py", "node"])
        return self

    def start(self):
        return self.start_web().start_cluster()

    def answers(self):
        try:
            return requests.get(f"{self.url}/v1/health/version", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def stop_cluster(self):
        """SIGTERM to the cluster: it finishes its tasks in flight and stops."""
        process = self.processes.pop("cluster")
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()

    def kill(self):
        """``kill -9`` of every process of the node (as a machine that dies), at once."""
        for process in self.processes.values():
            _kill_group(process)
        for process in self.processes.values():
            process.wait()
        self.processes = {}

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            _kill_group(process)  # whatever is left of the group
            process.wait()
        self.processes = {}

    def log(self, kind):
        path = self.dir / f"{kind}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""
