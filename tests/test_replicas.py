"""Replicas, keep-warm, the per-function concurrency cap and cached lookups, with real
containers, a real worker cluster and (for the caches) a second web process: gunicorn on the
tests' database. No timing assertions: only what happened, and in which order."""

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from appwrite.services.functions import Functions
from django.conf import settings as django_settings
from django.db import connections

from functions_app import tasks
from functions_app.models import ApiKey, Deployment, Execution, Function
from functions_app.services import capacity, containers, docker, executor, functions, replicas

from .conftest import database_url_of_tests, make_client
from .deploy import deploy_echo, upload, wait_deployment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]

# Sleeps ?s= seconds in a sync main; logs when it started and ended, and which container ran it.
SLEEPER = """
import json
import os
import time


def main(context):
    started = time.time()
    time.sleep(float(context.req.query.get("s", "0")))
    context.log(json.dumps({"start": started, "end": time.time()}))
    return context.res.json({"host": os.uname().nodename, "start": started, "end": time.time()})
"""


@pytest.fixture
def roomy(settings):
    """Synchronous caps that let a test's concurrent calls in (the defaults leave 4 per
    function), no abuse limit for its many guest calls; one execution per replica before
    another starts."""
    settings.FUNCTIONS_EXECUTION_ABUSE_LIMIT = 0
    settings.FUNCTIONS_SYNC_CONCURRENCY = 12
    settings.FUNCTIONS_SYNC_PROJECT_CONCURRENCY = 12
    settings.FUNCTIONS_SYNC_FUNCTION_CONCURRENCY = 12
    settings.FUNCTIONS_REPLICA_CONCURRENCY = 1
    return settings


def sleeper(functions, function_id="sleeper", **scaling):
    deploy_echo(functions, "python-3.11", function_id, files={"main.py": SLEEPER}, timeout=60)
    function = Function.objects.get(uid=function_id)
    current = {"keep_warm": False, "max_replicas": 0, "max_concurrency": 0}
    functions_service_update(function, current | scaling)
    return Function.objects.get(uid=function_id)


def functions_service_update(function, fields):
    functions.update_scaling(function, fields)


def running_replicas(function):
    deployment = Deployment.objects.get(function=function, uid=function.deployment_uid)
    base = replicas.base_name(deployment)
    found = docker.list_containers(
        containers.mine("runtime") | {"functions.deployment": deployment.uid}
    )
    return sorted(
        c["name"]
        for c in found
        if c["running"] and isinstance(replicas.role_of(c["name"], base), int)
    )


def container_ids(deployment):
    """{name: id} of the deployment's runtime containers, running or not."""
    found = docker.list_containers(
        containers.mine("runtime") | {"functions.deployment": deployment.uid}
    )
    return {c["name"]: c["id"] for c in found}


def call(live_server, function_id, seconds, key=None):
    """A synchronous execution through the REST API; (status, body)."""
    headers = {"X-Appwrite-Project": "main", **({"X-Appwrite-Key": key} if key else {})}
    response = requests.post(
        f"{live_server.url}/v1/functions/{function_id}/executions",
        json={"path": f"/?s={seconds}"},
        headers=headers,
        timeout=120,
    )
    return response.status_code, response.json()


# -- replicas ----------------------------------------------------------------------------------


def hosts(results):
    return {json.loads(body["responseBody"])["host"] for _, body in results}


def load_until_three(live_server, function):
    """One more round of 6 concurrent calls (the reaper took the idle replicas meanwhile)."""
    with ThreadPoolExecutor(6) as pool:
        assert {s for s, _ in pool.map(lambda _: call(live_server, "sleeper", 1), range(6))} == {
            201
        }
    return len(running_replicas(function)) == 3


def test_replicas_appear_under_load_then_go_when_idle(functions, live_server, roomy):
    function = sleeper(functions, max_replicas=3)
    first = f"fn-main-{function.deployment_uid}"
    assert call(live_server, "sleeper", 0)[0] == 201
    assert running_replicas(function) == [first]
    with ThreadPoolExecutor(6) as pool:
        busy = [pool.submit(call, live_server, "sleeper", 4) for _ in range(6)]
        wait_for(lambda: len(running_replicas(function)) == 3, timeout=60, interval=0.1)
        # Whatever serves a call (or starts) is never reaped, however idle the clock says.
        executor.reap(time.time() + 10 * django_settings.COMPUTE_INACTIVE_THRESHOLD)
        results = [f.result() for f in busy]
    assert [status for status, _ in results] == [201] * 6  # none lost its container
    wait_for(lambda: load_until_three(live_server, function), timeout=120, interval=0)
    with ThreadPoolExecutor(6) as pool:
        spread = list(pool.map(lambda _: call(live_server, "sleeper", 1), range(6)))
    assert [status for status, _ in spread] == [201] * 6
    assert len(hosts(spread)) >= 2  # spread over the replicas
    assert len(running_replicas(function)) == 3  # never more than the function's maximum
    # Replicas removed behind this process's back (another process's reaper): its next calls
    # go to the one left, none fails.
    for name in running_replicas(function)[1:]:
        docker.remove_container(name)
    with ThreadPoolExecutor(6) as pool:
        after = list(pool.map(lambda _: call(live_server, "sleeper", 0), range(6)))
    assert [body["status"] for _, body in after] == ["completed"] * 6
    # Idle past FUNCTIONS_REPLICA_IDLE: back to one; past COMPUTE_INACTIVE_THRESHOLD: none.
    executor.reap(time.time() + django_settings.FUNCTIONS_REPLICA_IDLE + 1)
    assert running_replicas(function) == [first]
    executor.reap(time.time() + django_settings.COMPUTE_INACTIVE_THRESHOLD + 1)
    assert running_replicas(function) == []
    assert call(live_server, "sleeper", 0)[0] == 201  # a cold start again


def test_concurrent_cold_starts_of_one_replica_merge(functions, live_server, roomy):
    function = sleeper(functions, max_replicas=1)
    roomy.FUNCTIONS_REPLICA_CONCURRENCY = 8
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: call(live_server, "sleeper", 0), range(6)))
    assert [status for status, _ in results] == [201] * 6, results
    assert len(hosts(results)) == 1
    assert running_replicas(function) == [f"fn-main-{function.deployment_uid}"]


def test_cold_starts_of_different_replicas_share_the_standby_safely(functions, roomy, monkeypatch):
    """Every replica's cold start tries to claim the deployment's one standby. The engine
    looks a rename's container up by name before it locks it, then renames it from whatever
    name it has by then: two claims at once renamed the same container twice, and the first
    claimer's start (or inspect) found no container of its name, or two replicas had the same
    container. Rounds of four replicas cold-started at once: all start, each its own
    container, one of them from the standby.

    The renames of a round are let go together (when every claimer has come to its rename,
    or after a second, as when the claims take turns) so that the race is met every round."""
    function = sleeper(functions, max_replicas=4)
    deployment = Deployment.objects.get(function=function, uid=function.deployment_uid)
    names = [replicas.replica_name(deployment, index) for index in range(4)]
    rename = docker.rename_container
    renames = threading.Barrier(len(names), timeout=1)

    def rename_together(name, new_name):
        with contextlib.suppress(threading.BrokenBarrierError):
            renames.wait()
        return rename(name, new_name)

    monkeypatch.setattr(docker, "rename_container", rename_together)
    for _ in range(4):
        for name in names:
            replicas.retire(name)
        replicas.prepare(function, deployment)
        standby_id = container_ids(deployment)[replicas.standby_name(deployment)]
        renames.reset()
        callers = threading.Barrier(len(names))

        def cold_start(index, callers=callers):
            callers.wait()
            try:
                return replicas.start(function, deployment, index, time.monotonic() + 60)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(len(names)) as pool:
            started = list(pool.map(cold_start, range(len(names))))
        assert [runtime.name for runtime in started] == names
        assert len({runtime.container_id for runtime in started}) == len(names)
        assert standby_id in {runtime.container_id for runtime in started}
        assert running_replicas(function) == sorted(names)
        for runtime in started:
            assert docker.running_volumes(runtime.name)[0] == runtime.container_id


def test_a_container_removed_as_it_starts_is_made_again(functions, roomy, monkeypatch):
    """Something outside the cold start's locks (an operator's ``docker rm``, a cleanup by
    label) removes the container it is starting, twice: the standby it claimed, then the
    container it made itself. The cold start makes another rather than failing the call."""
    function = sleeper(functions)
    deployment = Deployment.objects.get(function=function, uid=function.deployment_uid)
    name = replicas.replica_name(deployment, 0)
    replicas.prepare(function, deployment)
    standby_id = container_ids(deployment)[replicas.standby_name(deployment)]
    start, removed = docker.start_container, []

    def removed_first(container):
        if len(removed) < 2:
            removed.append(container_ids(deployment)[container])
            docker.remove_container(container)
        return start(container)

    monkeypatch.setattr(docker, "start_container", removed_first)
    runtime = replicas.start(function, deployment, 0, time.monotonic() + 60)
    assert removed[0] == standby_id and len(removed) == 2
    assert runtime.container_id not in removed
    assert docker.running_volumes(name)[0] == runtime.container_id
    assert running_replicas(function) == [name]


# -- keep warm ---------------------------------------------------------------------------------


def test_keep_warm_holds_one_container(functions, live_server):
    function = sleeper(functions)
    name = f"fn-main-{function.deployment_uid}"
    assert running_replicas(function) == []  # nothing ran yet
    functions_service_update(function, {"keep_warm": True, "max_replicas": 0, "max_concurrency": 0})
    wait_for(lambda: running_replicas(function) == [name], timeout=60)  # the worker warmed it
    document = functions.get("sleeper")  # SDK 16 tolerates the extra field
    assert document.id == "sleeper" and getattr(document, "keepWarm", None) is True
    assert name not in executor.reap(time.time() + 10 * django_settings.COMPUTE_INACTIVE_THRESHOLD)
    assert running_replicas(function) == [name]
    docker.remove_container(name)  # gone anyway (a crash, an operator)
    assert tasks.maintain_runtimes()["warmed"] == [name]
    assert running_replicas(function) == [name]
    functions_service_update(
        function, {"keep_warm": False, "max_replicas": 0, "max_concurrency": 0}
    )
    assert name in executor.reap(time.time() + django_settings.COMPUTE_INACTIVE_THRESHOLD + 1)


# -- the concurrency cap -----------------------------------------------------------------------


def test_the_cap_queues_synchronous_calls_then_refuses_them(functions, live_server, roomy):
    roomy.FUNCTIONS_QUEUE_TIMEOUT = 3
    function = sleeper(functions, max_concurrency=1)
    assert call(live_server, "sleeper", 0)[0] == 201  # warm
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(call, live_server, "sleeper", 1.5)
        wait_for(lambda: capacity.running(function) == 1, timeout=30, interval=0.01)
        queued = pool.submit(call, live_server, "sleeper", 0)  # waits for the slot
        (first_status, first_body), (queued_status, queued_body) = first.result(), queued.result()
    assert (first_status, queued_status) == (201, 201)
    ran_first, ran_then = (json.loads(b["responseBody"]) for b in (first_body, queued_body))
    assert ran_then["start"] >= ran_first["end"]  # one at a time: it waited its turn
    with ThreadPoolExecutor(2) as pool:
        long = pool.submit(call, live_server, "sleeper", 8)
        wait_for(lambda: capacity.running(function) == 1, timeout=30, interval=0.01)
        status, refused = call(live_server, "sleeper", 0)  # waits 3 s, the slot stays taken
        assert long.result()[0] == 201
    assert (status, refused["type"], refused["code"]) == (429, "general_rate_limit_exceeded", 429)
    assert "as many executions as it may at once (1)" in refused["message"]
    assert capacity.running(function) == 0


def run_intervals(function_id):
    spans = []
    for execution in Execution.objects.filter(function__uid=function_id, status="completed"):
        spans.append(json.loads(execution.logs.strip().splitlines()[-1]))
    return sorted((span["start"], span["end"]) for span in spans)


def test_queued_executions_over_the_cap_wait_in_the_queue(functions, live_server):
    sleeper(functions, max_concurrency=1)
    ids = [functions.create_execution("sleeper", xasync=True, path="/?s=1").id for _ in range(3)]
    wait_for(lambda: Execution.objects.filter(uid__in=ids, parked=True).exists(), 60, 0.05)
    wait_for(lambda: Execution.objects.filter(uid__in=ids, status="completed").count() == 3, 120)
    spans = run_intervals("sleeper")
    assert len(spans) == 3
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= end  # never two at once
    assert not Execution.objects.filter(parked=True).exists()


def test_a_saturated_function_leaves_another_alone(functions, live_server, roomy):
    roomy.FUNCTIONS_QUEUE_TIMEOUT = 20
    sleeper(functions, max_concurrency=1)
    deploy_echo(functions, "python-3.11", "other")
    queued = [functions.create_execution("sleeper", xasync=True, path="/?s=6").id for _ in range(4)]
    with ThreadPoolExecutor(3) as pool:
        busy = [pool.submit(call, live_server, "sleeper", 6) for _ in range(2)]
        wait_for(lambda: capacity.running(Function.objects.get(uid="sleeper")) == 1, 60, 0.02)
        fast = functions.create_execution("other")  # synchronous, meanwhile
        later = functions.create_execution("other", xasync=True)
        wait_for(lambda: Execution.objects.get(uid=later.id).status == "completed", 60, 0.05)
        sleeper_left = Execution.objects.filter(uid__in=queued).exclude(status="completed").count()
        still_busy = sum(not f.done() for f in busy)
        for future in busy:
            future.result()
    assert fast.status.value == "completed"
    assert sleeper_left >= 3 and still_busy >= 1  # "other" ran while "sleeper" was saturated
    done = Execution.objects.filter(uid__in=queued, status="completed")
    wait_for(lambda: done.count() == 4, timeout=120)  # and the queue drains, one at a time


# -- cached lookups, across processes ----------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def second_process(live_server):
    """gunicorn (one worker process) on the tests' database, storage and secret key."""
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    env = dict(
        os.environ,
        STORAGE_DIR=str(django_settings.STORAGE_DIR),
        SECRET_KEY=django_settings.SECRET_KEY,
        DATABASE_URL=database_url_of_tests(),  # the tests' database, not the configured one
    )
    process = subprocess.Popen(
        [
            str(root / ".venv/bin/gunicorn"),
            "console.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
        ]
        + ["--workers", "1", "--threads", "4", "--worker-class", "gthread", "--no-control-socket"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), timeout=30, interval=0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url):
    try:
        return requests.get(f"{url}/v1/health/version", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_changes_take_effect_at_once_in_every_process(functions, live_server, second_process, key):
    other = Functions(make_client(second_process, "main", key))
    deploy_echo(
        functions,
        "python-3.11",
        "v",
        files={"main.py": "def main(context):\n    return context.res.text('one')\n"},
    )
    for _ in range(2):  # both processes have looked everything up (and cached it)
        assert other.create_execution("v").responsebody == "one"
        assert functions.create_execution("v").responsebody == "one"
    # A deployment activated in this process: the other runs it on its very next call.
    two = upload(
        functions,
        "v",
        {"main.py": "def main(context):\n    return context.res.text('two')\n"},
        activate=False,
    )
    assert wait_deployment(functions, "v", two.id).status.value == "ready"
    assert other.create_execution("v").responsebody == "one"
    functions.update_function_deployment("v", two.id)
    assert other.create_execution("v").responsebody == "two"
    # A function disabled in the other process: refused here at once (to guests).
    other.update("v", "v", enabled=False, execute=["any"])
    guest = requests.post(
        f"{live_server.url}/v1/functions/v/executions",
        json={},
        headers={"X-Appwrite-Project": "main"},
        timeout=30,
    )
    assert (guest.status_code, guest.json()["type"]) == (404, "function_not_found")
    # A key revoked here: the other process refuses it on the next request.
    ApiKey.objects.get(project_id="main").revoke()
    refused = requests.get(
        f"{second_process}/v1/functions",
        headers={"X-Appwrite-Project": "main", "X-Appwrite-Key": key},
        timeout=30,
    )
    assert (refused.status_code, refused.json()["type"]) == (401, "user_unauthorized")
