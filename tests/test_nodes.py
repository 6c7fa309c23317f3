"""Two nodes on one machine (docs/scaling.md): node A on the machine's Docker engine, node B on a
second engine of its own (tests/nodes.py), each with its gunicorn, ``manage.py node`` and egress
proxy, sharing the tests' PostgreSQL database, Redis broker and STORAGE_DIR. One two-node
setup serves every scenario of this module, in order; the cron schedule set in the first runs
while the others do.

Nodes need a database server and a shared broker: on SQLite with the ORM broker (bin/test's
first leg) the module is skipped; bin/test's PostgreSQL + Redis leg runs it."""

import collections
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from appwrite.services.functions import Functions
from django.conf import settings as django_settings
from django.core.management import call_command

from functions_app import runtimes
from functions_app.models import ApiKey, Deployment, Execution, Function, Node, Project
from functions_app.services import images
from functions_app.services.callers import KEY_SCOPES

from .conftest import (
    CLUSTER_SETTINGS,
    database_url_of_tests,
    make_client,
    purge_broker,
    remove_test_containers,
)
from .deploy import upload, wait_deployment, wait_for
from .nodes import Node as NodeProcesses
from .nodes import SecondEngine

ON_SERVERS = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(
    os.environ.get("REDIS_URL")
)
pytestmark = [
    pytest.mark.docker,
    pytest.mark.nodes,
    # The tests only read rows (READ COMMITTED: each query sees the nodes' commits); the mark
    # makes pytest-django create the test database, and a rollback after each test changes
    # nothing of the module's setup.
    pytest.mark.django_db,
    pytest.mark.skipif(
        not ON_SERVERS, reason="nodes share a database server and Redis (bin/test's second leg)"
    ),
]

RUNTIME = "python-3.11"
HEARTBEAT_TIMEOUT = 8
NODE_SETTINGS = {
    "NODE_HEARTBEAT_INTERVAL": "1",
    "NODE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    "COMPUTE_MAINTENANCE_INTERVAL": "4",
    "Q_WORKERS": "3",
    "FUNCTIONS_WORKER_CONCURRENCY": "3",
    "EGRESS_EXECUTIONS": "off",
    "EGRESS_BUILDS": "off",
    "LOG_LEVEL": "warning",
}
# Logs "<container host name>:<how many runs that container served>": a run made twice would
# leave a gap in a container's numbers, a lost one too.
CODE = """import itertools
import socket
import time

runs = itertools.count(1)


def main(context):
    served = next(runs)
    context.log(f"{socket.gethostname()}:{served}")
    if context.req.path == "/sleep":
        time.sleep(120)
    return context.res.text(socket.gethostname())
"""
SLOW_BUILD = "sleep 300"
State = collections.namedtuple("State", "a b engine_b key cron_since")


@pytest.fixture(scope="module")
def nodes(django_db_setup, django_db_blocker, qcluster):
    """Node A (this machine's engine) and node B (a second engine with only the runtime's
    base image: B builds the runtime image itself on first use), and project ``nodes``."""
    qcluster.stop()  # the tests' own cluster would take the nodes' tasks
    env = dict(
        os.environ,
        STORAGE_DIR=str(django_settings.STORAGE_DIR),
        SECRET_KEY=django_settings.SECRET_KEY,
        DATABASE_URL=database_url_of_tests(),
        **CLUSTER_SETTINGS,
        **NODE_SETTINGS,
    )
    env.pop("API_SOCKET", None), env.pop("EGRESS_SOCKET", None), env.pop("NODE_DIR", None)
    with django_db_blocker.unblock():
        purge_broker()
        project = Project.objects.create(id="nodes", name="Nodes")
        key = ApiKey.issue(project, "Nodes", KEY_SCOPES)[1]
    engine_b = SecondEngine()
    node_a = NodeProcesses("node-a", django_settings.DOCKER_HOST, env)
    node_b = NodeProcesses("node-b", engine_b.host, env)
    try:
        engine_b.start()
        base = images.base_image(runtimes.get(RUNTIME))
        engine_b.copy_image(base, django_settings.DOCKER_HOST)
        node_a.start()
        with django_db_blocker.unblock():
            yield State(node_a, node_b, engine_b, key, {})
    finally:
        for node in (node_a, node_b):
            node.stop()
        engine_b.stop()
        with django_db_blocker.unblock():
            remove_test_containers()
            purge_broker()
            call_command("flush", interactive=False, verbosity=0)
        qcluster.start()


def sdk(node, key):
    return Functions(make_client(node.url, "nodes", key))


def raw(node, key, method, path, **kwargs):
    headers = {"X-Appwrite-Project": "nodes", "X-Appwrite-Key": key}
    return requests.request(method, f"{node.url}/v1{path}", headers=headers, timeout=60, **kwargs)


def deploy(functions, function_id, commands=None, wait=True):
    functions.create(
        function_id, function_id, RUNTIME, entrypoint="main.py", execute=["any"], timeout=300
    )
    dep = upload(functions, function_id, {"main.py": CODE}, commands=commands)
    if wait:
        ready = wait_deployment(functions, function_id, dep.id, timeout=300)
        assert ready.status.value == "ready", ready.buildlogs
    return dep


def run_sync(node, key, function_id="hello", path="/"):
    answer = raw(node, key, "POST", f"/functions/{function_id}/executions", json={"path": path})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["status"] == "completed" and body["responseStatusCode"] == 200, body
    return body


def host_of(execution_logs):
    return re.match(r"(\w+):(\d+)", execution_logs).groups()


def test_a_deployment_built_through_node_a_runs_on_node_b(nodes):
    """Only node A runs workers while ``hello`` builds; node B then serves it: a cold start
    from the shared build output, after building the runtime image its engine lacked."""
    functions_a = sdk(nodes.a, nodes.key)
    dep = deploy(functions_a, "hello")
    assert Deployment.objects.get(uid=dep.id).worker.startswith("node-a:")
    deploy(functions_a, "counter")
    functions_a.update("hello", "hello", schedule="* * * * *", timeout=300)  # PUT: all fields
    nodes.cron_since["at"] = datetime.now(UTC)
    image = runtimes.get(RUNTIME).image
    assert not nodes.engine_b.has_image(image)
    nodes.b.start()

    with ThreadPoolExecutor(3) as pool:  # the first calls wait for one image build
        bodies = list(pool.map(lambda _: run_sync(nodes.b, nodes.key), range(3)))
    assert nodes.engine_b.has_image(image)  # built there on first use
    for body in bodies:
        host, _ = host_of(body["logs"])
        assert any(cid.startswith(host) for cid in nodes.engine_b.container_ids())


def test_executions_alternate_between_the_nodes_without_errors(nodes):
    engines = {"node-a": None, "node-b": nodes.engine_b}
    for round_ in range(10):
        for node in (nodes.a, nodes.b):
            body = run_sync(node, nodes.key)
            host, _ = host_of(body["logs"])
            engine = engines[node.name]
            if engine is not None:
                assert any(cid.startswith(host) for cid in engine.container_ids()), round_
            else:
                assert not any(cid.startswith(host) for cid in nodes.engine_b.container_ids())


def test_killing_node_b_mid_build_and_mid_execution_leaves_nothing_stuck(nodes):
    """Node A's workers pause while node B claims a slow build and a slow async execution;
    then B dies (``kill -9``). After the heartbeat timeout node A's maintenance fails both,
    and node A serves synchronous calls all along."""
    functions_a = sdk(nodes.a, nodes.key)
    nodes.a.stop_cluster()
    slow_build = deploy(functions_a, "slow", commands=SLOW_BUILD, wait=False)
    slow_run = raw(
        nodes.a,
        nodes.key,
        "POST",
        "/functions/hello/executions",
        json={"path": "/sleep", "async": True},
    ).json()["$id"]
    wait_for(lambda: _claimed_by_b(slow_build.id, slow_run), timeout=120)
    nodes.a.start_cluster()
    _wait_clear_of_minute_change()
    nodes.b.kill()
    killed = time.monotonic()

    served = 0
    while _in_flight(slow_build.id, slow_run):
        run_sync(nodes.a, nodes.key)
        served += 1
        assert time.monotonic() - killed < 90, "node B's work is still in flight"
    assert served > 0
    build = Deployment.objects.get(uid=slow_build.id)
    assert build.status == "failed" and "interrupted" in build.build_logs
    execution = Execution.objects.get(uid=slow_run)
    assert execution.status == "failed" and "interrupted" in execution.errors
    assert Node.objects.get(pk="node-b").down_at is not None
    assert not Execution.objects.filter(status="processing").exists()
    assert not Deployment.objects.filter(status__in=("processing", "building")).exists()
    nodes.b.start()  # back for the next scenarios: its heartbeat clears its death
    wait_for(lambda: Node.objects.get(pk="node-b").down_at is None, timeout=60)


def _wait_clear_of_minute_change():
    """Node B is killed well within a minute, never while the ticker may be at work."""
    while not 10 <= datetime.now(UTC).second <= 40:
        time.sleep(0.5)


def _claimed_by_b(deployment_uid, execution_uid):
    build = Deployment.objects.get(uid=deployment_uid)
    run = Execution.objects.get(uid=execution_uid)
    return (
        build.status == "building"
        and build.worker.startswith("node-b:")
        and run.status == "processing"
        and run.worker.startswith("node-b:")
    )


def _in_flight(deployment_uid, execution_uid):
    return (
        Deployment.objects.filter(
            uid=deployment_uid, status__in=("processing", "building")
        ).exists()
        or Execution.objects.filter(uid=execution_uid, status="processing").exists()
    )


def test_a_thousand_async_executions_across_both_nodes_run_once_each(nodes):
    """Queued through both nodes' endpoints, run by both nodes' workers: every one completes,
    and each container's run numbers go 1, 2, 3... with no gap (none ran twice or was lost)."""

    def queue(index):
        node = (nodes.a, nodes.b)[index % 2]
        answer = raw(node, nodes.key, "POST", "/functions/counter/executions", json={"async": True})
        assert answer.status_code == 202, answer.text
        return answer.json()["$id"]

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(queue, range(1000)))
    assert len(set(ids)) == 1000
    mine = Execution.objects.filter(uid__in=ids)
    wait_for(
        lambda: mine.filter(status__in=("completed", "failed")).count() == 1000,
        timeout=600,
        interval=1,
    )
    assert mine.filter(status="completed").count() == 1000
    runs = collections.defaultdict(list)
    for logs in mine.values_list("logs", flat=True):
        host, served = host_of(logs)
        runs[host].append(int(served))
    for host, numbers in runs.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), host
    nodes_used = {worker.split(":")[0] for worker in mine.values_list("worker", flat=True)}
    assert nodes_used == {"node-a", "node-b"}


def test_cron_runs_exactly_once_a_minute_across_the_nodes(nodes):
    """The schedule set in the first scenario ran while the others did: each node ticks every
    minute, and the claim lets exactly one start each minute's execution."""
    since = nodes.cron_since["at"].replace(second=0, microsecond=0) + timedelta(minutes=1)
    wait_for(
        lambda: datetime.now(UTC) >= since + timedelta(minutes=3, seconds=5),
        timeout=240,
        interval=1,
    )
    created = Execution.objects.filter(function__uid="hello", trigger="schedule").values_list(
        "created_at", flat=True
    )
    minutes = collections.Counter(moment.replace(second=0, microsecond=0) for moment in created)
    window = [since + timedelta(minutes=n) for n in range(3)]
    assert [minutes[minute] for minute in window] == [1, 1, 1], minutes
    assert all(count == 1 for count in minutes.values()), minutes


def test_deleting_a_function_removes_its_containers_on_every_node(nodes):
    run_sync(nodes.b, nodes.key, "counter")  # node B has a container of it for sure
    assert nodes.engine_b.container_ids(**{"functions.function": "counter"})
    assert raw(nodes.a, nodes.key, "DELETE", "/functions/counter").status_code == 204
    wait_for(
        lambda: not nodes.engine_b.container_ids(**{"functions.function": "counter"}), timeout=30
    )
    assert not Function.objects.filter(uid="counter").exists()
