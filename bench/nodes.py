"""Nodes on this machine: synchronous throughput of one node vs two nodes, and the async drain
rate of one node on the Redis broker vs the ORM broker. Needs PostgreSQL and Redis:

    bin/with-services .venv/bin/python bench/nodes.py [--quick]

Node A runs on this machine's Docker engine, node B on a second ``dockerd`` started for the run
(tests/nodes.py; the python-3.11 image is copied to it with ``docker save | docker load``),
both sharing the database, the broker and a temporary STORAGE_DIR. Progress goes to stderr,
the table (ratios first) to stdout. On one machine both nodes share its CPUs: the two-node row
shows what one more node's processes add here, not what one more machine adds."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.instance import (  # noqa: E402
    PROJECT,
    RUNTIMES,
    Api,
    BenchError,
    create_function,
    expect,
    log,
    upload,
)
from tests.nodes import Node, SecondEngine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICK = "--quick" in sys.argv[1:]
CLIENTS, SECONDS, ROUNDS = 16, 3.0 if QUICK else 10.0, 1 if QUICK else 3
N_DRAIN = 100 if QUICK else 1000
RUNTIME = "python-3.11"
FUNCTION = RUNTIMES[RUNTIME][0]


def manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise BenchError(f"manage.py {args[0]}: {result.stdout}{result.stderr}")
    return result.stdout.strip()


def image_tags(env):
    code = (
        "from functions_app import runtimes\nfrom functions_app.services import images\n"
        f"r = runtimes.get({RUNTIME!r})\nprint(r.image)\nprint(images.base_image(r))\n"
    )
    return manage(env, "shell", "--no-imports", "-c", code).split()


def throughput(apis):
    """Executions per second of ``CLIENTS`` threads, spread over the nodes' endpoints."""
    deadline = time.perf_counter() + SECONDS

    def client(index):
        api, done, errors = apis[index % len(apis)](), 0, 0
        while time.perf_counter() < deadline:
            status, body = api.call("POST", f"/functions/{FUNCTION}/executions", {"body": ""})
            ok = status == 201 and body.get("status") == "completed"
            done, errors = done + ok, errors + (not ok)
        return done, errors

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return sum(d for d, _ in results) / elapsed, sum(e for _, e in results)


def drain(node, env, key):
    """Queue ``N_DRAIN`` async executions while the node's workers are stopped, then start
    them: executions per second from the first completion to the last."""
    if "cluster" in node.processes:
        node.stop_cluster()
    api = Api(node.port, key)
    ids = [
        expect(*api.call("POST", f"/functions/{FUNCTION}/executions", {"async": True}), 202)["$id"]
        for _ in range(N_DRAIN)
    ]
    node.start_cluster()
    code = (
        "import time\nfrom functions_app.models import Execution\n"
        f"q = Execution.objects.filter(function__uid={FUNCTION!r}, trigger='http', status__in=('waiting','processing'))\n"
        "while q.exists():\n    time.sleep(0.05)\n"
        f"done = Execution.objects.filter(uid__in={ids!r})\n"
        "times = sorted(done.values_list('updated_at', flat=True))\n"
        "print((times[-1] - times[0]).total_seconds(), done.filter(status='completed').count())\n"
    )
    seconds, completed = manage(env, "shell", "--no-imports", "-c", code).split()
    return (len(ids) - 1) / float(seconds), int(completed)


def main():
    database, redis = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database.startswith("postgres") or not redis:
        raise SystemExit("run it under bin/with-services (PostgreSQL and Redis)")
    storage = Path(tempfile.mkdtemp(prefix="functions-bench-nodes-"))
    env = dict(
        os.environ,
        STORAGE_DIR=str(storage),
        SECRET_KEY=secrets.token_hex(32),
        LOG_LEVEL="WARNING",
        EGRESS_EXECUTIONS="off",
        EGRESS_BUILDS="off",
        Q_WORKERS="4",
    )
    engine, nodes = SecondEngine(), []
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "createproject", PROJECT, "Bench")
        key = manage(env, "createapikey", "--project", PROJECT).splitlines()[-1]
        engine.start()
        for tag in image_tags(env):
            engine.copy_image(tag, os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
        log("second engine up, python-3.11 copied")
        a = Node("node-a", os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), env, 40)
        b = Node("node-b", engine.host, env, 40)
        nodes += [a, b]
        a.start_web(workers=2).start_cluster()
        api = Api(a.port, key)
        create_function(api, RUNTIME)
        upload(api, RUNTIME)
        b.start_web(workers=2).start_cluster()
        for node in (a, b):  # warm both nodes
            expect(*Api(node.port, key).call("POST", f"/functions/{FUNCTION}/executions", {}), 201)
        one, two = [], []
        for _ in range(ROUNDS):  # interleaved, so that the machine's state drifts alike
            one.append(throughput([lambda: Api(a.port, key)]))
            two.append(throughput([lambda: Api(a.port, key), lambda: Api(b.port, key)]))
        b.stop()
        redis_rate = drain(a, env, key)
        a.stop()
        orm_env = {k: v for k, v in env.items() if k != "REDIS_URL"}
        a_orm = Node(
            "node-a", os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), orm_env, 40
        )
        nodes.append(a_orm)
        a_orm.start_web(workers=2)
        orm_rate = drain(a_orm, orm_env, key)
        report(one, two, redis_rate, orm_rate)
    finally:
        for node in nodes:
            node.stop()
        engine.stop()
        subprocess.run(
            "docker rm -f $(docker ps -aq --filter label=functions.project=bench) 2>/dev/null",
            shell=True,
            check=False,
        )
        shutil.rmtree(storage, ignore_errors=True)


def report(one, two, redis_rate, orm_rate):
    best_one = max(rate for rate, _ in one)
    best_two = max(rate for rate, _ in two)
    errors = sum(e for _, e in one + two)
    print("| measurement | result | ratio |\n| --- | --- | --- |")
    print(
        f"| sync throughput, 1 node ({CLIENTS} clients, {SECONDS:g} s, best of {ROUNDS}) "
        f"| {best_one:.0f}/s | 1.00 |"
    )
    print(
        f"| sync throughput, 2 nodes (same clients, alternate endpoints) "
        f"| {best_two:.0f}/s | {best_two / best_one:.2f} |"
    )
    print(f"| sync errors | {errors} | |")
    print(
        f"| async drain, Redis broker ({N_DRAIN} queued, 1 node) | {redis_rate[0]:.0f}/s "
        f"({redis_rate[1]} completed) | {redis_rate[0] / orm_rate[0]:.2f} |"
    )
    print(
        f"| async drain, ORM broker (same) | {orm_rate[0]:.0f}/s ({orm_rate[1]} completed) | 1.00 |"
    )


if __name__ == "__main__":
    main()
