"""Executions in real containers, in both runtimes, through the official SDK."""

import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions

from functions_app.models import Execution
from functions_app.services import docker, executor

from .conftest import make_client
from .deploy import deploy_echo, wait_execution, wait_for
from .helpers import assert_never_stored, expect_error, expect_raw_error, queued_tasks

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]
RUNTIMES = ["python-3.11", "node-18.0"]


def runtime_containers():
    return {c["name"]: c for c in docker.list_containers({"functions.kind": "runtime"})}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_echo_request_env_and_variables(functions, raw, runtime):
    raw.post("/project/variables", json={"key": "GLOBAL_COLOUR", "value": "blue", "secret": False})
    deploy_echo(functions, runtime)
    functions.create_variable("echo", "MY_SECRET", "s3cret")
    ex = functions.create_execution(
        "echo",
        body="hello body",
        path="/some/path?a=1&b=two",
        method=ExecutionMethod.PUT,
        headers={"x-test": "yes", "content-type": "text/plain"},
    )
    assert (ex.status.value, ex.responsestatuscode, ex.trigger.value) == ("completed", 200, "http")
    seen = json.loads(ex.responsebody)
    assert (seen["method"], seen["path"], seen["body"]) == ("PUT", "/some/path", "hello body")
    assert seen["query"] == {"a": "1", "b": "two"} and seen["queryString"] == "a=1&b=two"
    headers = seen["headers"]
    assert headers["x-test"] == "yes" and headers["x-appwrite-trigger"] == "http"
    assert headers["x-appwrite-execution-id"] == ex.id and headers["x-appwrite-key"].startswith(
        "dynamic_"
    )
    assert headers["x-appwrite-user-id"] == "" and not any(
        k.startswith("x-open-runtimes") for k in headers
    )
    env = seen["env"]
    assert env["APPWRITE_FUNCTION_ID"] == "echo" and env["APPWRITE_FUNCTION_PROJECT_ID"] == "main"
    assert env["APPWRITE_FUNCTION_RUNTIME_VERSION"] == runtime.split("-")[1]
    assert env["MY_SECRET"] == "s3cret" and env["GLOBAL_COLOUR"] == "blue"
    response_headers = {h.name: h.value for h in ex.responseheaders}
    assert (
        response_headers["x-custom"] == "yes"
        and response_headers["x-appwrite-execution-id"] == ex.id
    )
    assert response_headers["content-type"].startswith("application/json")
    stored = functions.get_execution("echo", ex.id)
    assert stored.responsebody == "" and stored.requestpath == "/some/path?a=1&b=two"
    assert {h.name for h in stored.responseheaders} <= {"content-type", "content-length"}
    assert {h.name: h.value for h in stored.requestheaders}["content-type"] == "text/plain"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_warm_reuse_and_idle_reaping(functions, runtime, settings):
    dep = deploy_echo(functions, runtime)
    functions.create_execution("echo", path="/")
    name = executor.runtime_name(type("D", (), {"project_id": "main", "uid": dep.id})())
    first = runtime_containers()[name]["id"]
    for _ in range(3):
        assert functions.create_execution("echo").status.value == "completed"
    assert runtime_containers()[name]["id"] == first  # no new container
    settings.COMPUTE_INACTIVE_THRESHOLD = 3600
    assert name not in executor.reap()
    settings.COMPUTE_INACTIVE_THRESHOLD = -1
    assert name in executor.reap()
    assert name not in runtime_containers()
    assert functions.create_execution("echo").status.value == "completed"  # cold start again
    assert runtime_containers()[name]["id"] != first


def runtime_busy(name):
    fd = executor.try_file_lock(name)
    if fd is not None:
        os.close(fd)
    return fd is None


def test_reaper_spares_a_runtime_in_use_or_starting(functions, settings):
    """A call in flight holds the runtime; so does a cold start (a container seen "created"
    by the reaper's listing used to be removed under the starter's feet)."""
    dep = deploy_echo(functions, "python-3.11")
    name = executor.runtime_name(type("D", (), {"project_id": "main", "uid": dep.id})())
    functions.create_execution("echo", path="/")
    settings.COMPUTE_INACTIVE_THRESHOLD = -1
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(functions.create_execution, "echo", path="/sleep?s=2")
        wait_for(lambda: runtime_busy(name), timeout=10, interval=0.02)
        assert name not in executor.reap() and name in runtime_containers()
        assert slow.result().responsebody == "slept"
    with executor._file_lock(name):  # as start_runtime holds it while the container starts
        assert executor.reap() == [] and name in runtime_containers()
    assert executor.reap() == [name] and name not in runtime_containers()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_logs_errors_and_failures(functions, runtime):
    deploy_echo(functions, runtime)
    ex = functions.create_execution("echo", path="/log")
    assert ex.status.value == "completed" and ex.responsebody == "logged"
    assert (
        'hello {"a":1}' in ex.logs
        and "native print" in ex.logs
        and "Native logs detected" in ex.logs
    )
    assert "oops" in ex.errors
    failed = functions.create_execution("echo", path="/fail")
    assert (failed.status.value, failed.responsestatuscode) == (
        "failed",
        500,
    ) and "boom" in failed.errors
    empty = functions.create_execution("echo", path="/nothing")
    assert empty.status.value == "failed" and "Return statement missing" in empty.errors
    listed = functions.list_executions("echo", [Query.equal("status", "failed")])
    assert {e.id for e in listed.executions} == {failed.id, empty.id}
    assert functions.list_executions("echo", [Query.equal("responseStatusCode", 200)]).total == 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_logging_disabled_stores_no_logs(functions, runtime):
    deploy_echo(functions, runtime, logging=False)
    ex = functions.create_execution("echo", path="/log")
    assert ex.status.value == "completed" and (ex.logs, ex.errors) == ("", "")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_timeout(functions, runtime):
    deploy_echo(functions, runtime, timeout=2)
    ex = functions.create_execution("echo", path="/sleep?s=6")
    assert (ex.status.value, ex.responsestatuscode) == ("failed", 500) and "timed out" in ex.errors
    assert ex.duration < 6


def test_synchronous_cap(functions, settings):
    deploy_echo(functions, "python-3.11", timeout=60)
    settings.FUNCTIONS_SYNC_TIMEOUT = 2
    expect_error(
        lambda: functions.create_execution("echo", path="/sleep?s=5"),
        408,
        "function_synchronous_timeout",
    )
    stored = functions.list_executions("echo").executions[-1]
    assert stored.status.value == "failed" and "Error Code: 408" in stored.errors


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_async_execution_completes_on_a_worker(functions, runtime):
    deploy_echo(functions, runtime)
    ex = functions.create_execution("echo", body="queued", xasync=True, path="/async")
    assert ex.status.value == "waiting" and ex.responsebody == "" and ex.scheduledat is None
    done = wait_execution(functions, "echo", ex.id)
    assert (done.status.value, done.responsestatuscode, done.trigger.value) == (
        "completed",
        200,
        "http",
    )
    assert done.deploymentid and done.duration > 0


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_binary_out_and_in(functions, raw, runtime):
    deploy_echo(functions, runtime)
    response = raw.post(
        "/functions/echo/executions",
        json={"path": "/binary"},
        headers={"Accept": "multipart/form-data"},
    )
    assert response.status_code == 201 and response.headers["Content-Type"].startswith(
        "multipart/form-data"
    )
    assert bytes(range(256)) in response.content
    expect_raw_error(
        raw.post("/functions/echo/executions", json={"path": "/binary"}),
        400,
        "general_argument_invalid",
    )
    ex = functions.create_execution("echo", body="héllo ✓")
    assert json.loads(ex.responsebody)["body"] == "héllo ✓"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_limits_visible_inside_the_container(functions, runtime):
    deploy_echo(functions, runtime, specification="s-0.5vcpu-512mb")
    seen = json.loads(functions.create_execution("echo", path="/limits").responsebody)
    assert seen["memory"] == str(512 * 1024 * 1024)
    assert seen["cpu"] in ("50000 100000", "50000")
    assert seen["pids"] == "128"
    assert seen["uid"] == 1000 and seen["docker_socket"] is False and seen["root_writable"] is False


def test_execution_errors(functions, live_server, settings):
    from appwrite.enums.runtime import Runtime

    functions.create("nodep", "No deployment", Runtime.PYTHON_3_11, entrypoint="main.py")
    expect_error(
        lambda: functions.create_execution("nodep"),
        404,
        "deployment_not_found",
        "Deployment not found. Create a deployment before trying to execute a function",
    )
    deploy_echo(functions, "python-3.11", execute=[])
    guest = Functions(make_client(live_server.url, "main"))
    expect_error(
        lambda: guest.create_execution("echo"),
        401,
        "user_unauthorized",
        "No permissions provided for action 'execute'",
    )
    expect_error(
        lambda: functions.create_execution("echo", headers={"x-appwrite-trigger": "x"}),
        400,
        "general_argument_invalid",
    )
    expect_error(
        lambda: functions.create_execution("echo", scheduled_at="2030-01-01T00:00:00.000+00:00"),
        400,
        "general_bad_request",
        "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
    )
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    expect_error(
        lambda: functions.create_execution("echo", xasync=True, scheduled_at=soon),
        400,
        "general_bad_request",
        "Execution schedule must be a valid date, and at least 1 minute from now",
    )
    functions.update("echo", "Echo", enabled=False, execute=["any"])
    expect_error(lambda: guest.create_execution("echo"), 404, "function_not_found")
    assert functions.create_execution("echo").status.value == "completed"  # keys still may
    assert functions.list_executions("echo").total == 1


def test_delete_rules(functions, raw):
    deploy_echo(functions, "python-3.11")
    done = functions.create_execution("echo")
    functions.delete_execution("echo", done.id)
    expect_error(lambda: functions.get_execution("echo", done.id), 404, "execution_not_found")
    slow = functions.create_execution("echo", path="/sleep?s=3", xasync=True)
    expect_error(lambda: functions.delete_execution("echo", slow.id), 400, "execution_in_progress")
    wait_execution(functions, "echo", slow.id)
    functions.delete_execution("echo", slow.id)


def test_outsider_cannot_run_or_read(functions, outsider_functions):
    deploy_echo(functions, "python-3.11")
    ex = functions.create_execution("echo")
    expect_error(lambda: outsider_functions.create_execution("echo"), 404, "function_not_found")
    expect_error(lambda: outsider_functions.get_execution("echo", ex.id), 404, "function_not_found")


def test_maintenance_fails_executions_whose_worker_died(functions):
    from datetime import timedelta

    from django.utils import timezone

    from functions_app import tasks
    from functions_app.models import Execution

    deploy_echo(functions, "python-3.11", timeout=5)
    ex = functions.create_execution("echo")
    Execution.objects.filter(uid=ex.id).update(
        status="processing", updated_at=timezone.now() - timedelta(minutes=10)
    )
    report = tasks.maintain_runtimes()
    assert report["executions_failed"] == [ex.id]
    stored = functions.get_execution("echo", ex.id)
    assert stored.status.value == "failed" and "interrupted" in stored.errors


PLATFORM_SEEN = """
import json


def main(context):
    seen = {k: v for k, v in context.req.headers.items() if k.startswith("x-appwrite-")}
    context.log(json.dumps({k: seen.get(k) for k in ("x-appwrite-event", "x-appwrite-user-id",
                "x-appwrite-user-jwt", "x-appwrite-client-ip", "x-appwrite-trigger")}))
    return context.res.json(seen)
"""
SPOOFED = {
    "X-Appwrite-Event": "users.fake.create",
    "X-Appwrite-User-Id": "admin",
    "X-APPWRITE-USER-JWT": "forged",
    "X-Appwrite-Client-Ip": "6.6.6.6",
    "X-Appwrite-Trigger": "schedule",
}


def test_spoofed_platform_headers_are_replaced(functions):
    deploy_echo(functions, "python-3.11", "spoof", files={"main.py": PLATFORM_SEEN})
    ex = functions.create_execution("spoof", headers=SPOOFED)
    seen = json.loads(ex.responsebody)
    assert "x-appwrite-event" not in seen  # a synchronous API run has no event
    assert (seen["x-appwrite-user-id"], seen["x-appwrite-user-jwt"]) == ("", "")
    assert (seen["x-appwrite-trigger"], seen["x-appwrite-client-ip"]) == ("http", "127.0.0.1")
    assert (
        seen["x-appwrite-key"].startswith("dynamic_") and seen["x-appwrite-execution-id"] == ex.id
    )
    assert {h.name: h.value for h in ex.requestheaders} == {"x-appwrite-client-ip": "127.0.0.1"}
    queued = functions.create_execution("spoof", headers=SPOOFED, xasync=True)
    done = wait_execution(functions, "spoof", queued.id)
    logged = json.loads(done.logs.strip().splitlines()[0])
    assert logged == {
        "x-appwrite-event": "",
        "x-appwrite-user-id": "",
        "x-appwrite-user-jwt": "",
        "x-appwrite-client-ip": "127.0.0.1",
        "x-appwrite-trigger": "http",
    }
    expect_error(
        lambda: functions.create_execution("spoof", headers={"x-appwrite-event": "x"}),
        400,
        "general_argument_invalid",
    )  # lowercase is refused outright, as on Appwrite


def test_credentials_reach_a_synchronous_run_and_are_never_stored(functions, raw, key):
    deploy_echo(functions, "python-3.11")
    secrets = {name: f"{name}-{uuid.uuid4().hex}" for name in ("auth", "cookie", "key", "kept")}
    sent = {
        "Authorization": f"Bearer {secrets['auth']}",
        "Cookie": f"sid={secrets['cookie']}",
        "X-Appwrite-Key": secrets["key"],
        "x-kept": secrets["kept"],
    }
    ex = functions.create_execution("echo", headers=sent)
    seen = json.loads(ex.responsebody)["headers"]
    assert seen["authorization"] == sent["Authorization"] and seen["cookie"] == sent["Cookie"]
    assert seen["x-appwrite-key"].startswith("dynamic_") and secrets["key"] not in json.dumps(seen)
    queued = functions.create_execution("echo", headers=sent, xasync=True)
    assert wait_execution(functions, "echo", queued.id).status.value == "completed"
    with pytest.raises(AssertionError):  # what may be kept is found: the check can fail
        assert_never_stored(secrets["kept"])
    assert_never_stored(
        secrets["auth"], secrets["cookie"], secrets["key"], key, seen["x-appwrite-key"]
    )


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_path_with_spaces_and_unicode_is_percent_encoded_and_runs(functions, runtime):
    deploy_echo(functions, runtime)
    ex = functions.create_execution("echo", path="/a b/é?q=x y&k=%41&z=ü/&e=")
    assert ex.status.value == "completed", ex.errors
    seen = json.loads(ex.responsebody)
    # The runtimes differ in what they decode for the function; the request itself is the same.
    assert unquote(seen["url"]) == "http://localhost/a b/é?q=x y&k=A&z=ü/&e="
    assert unquote(seen["path"]) == "/a b/é"
    stored = functions.get_execution("echo", ex.id)
    assert stored.requestpath == "/a%20b/%C3%A9?q=x%20y&k=%41&z=%C3%BC/&e="


def test_a_path_longer_once_encoded_is_kept_whole(functions):
    """2048 characters are allowed before percent-encoding: the stored path may be far longer
    (a bounded column on PostgreSQL refused it)."""
    deploy_echo(functions, "python-3.11")
    path = "/" + "é" * 2047
    ex = functions.create_execution("echo", path=path)
    assert ex.status.value == "completed", ex.errors
    assert functions.get_execution("echo", ex.id).requestpath == "/" + "%C3%A9" * 2047


NUL_OUTPUT = r"""
def main(context):
    context.log("log\x00line")
    context.error("error\x00line")
    print("native\x00print")
    return context.res.text("out\x00put")
"""


@pytest.mark.parametrize("xasync", [False, True])
def test_output_with_nul_is_stored_with_a_replacement_character(functions, xasync):
    """Function output may hold NUL, which PostgreSQL cannot store: it is kept as U+FFFD on
    every engine (the response body itself is passed on as it is)."""
    deploy_echo(functions, "python-3.11", files={"main.py": NUL_OUTPUT})
    ex = functions.create_execution("echo", xasync=xasync)
    done = wait_execution(functions, "echo", ex.id)
    assert done.status.value == "completed", done.errors
    assert "log\ufffdline" in done.logs and "native\ufffdprint" in done.logs
    assert "error\ufffdline" in done.errors
    if not xasync:
        assert ex.responsebody == "out\x00put"


def test_unsendable_paths_and_headers_create_nothing(functions, raw):
    deploy_echo(functions, "python-3.11")
    bad = [
        {"path": "/a\r\nb"},
        {"path": "/ HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"path": "/a\x00"},
        {"path": "/a\x01"},
        {"path": "/x\x7f"},
        {"headers": {"x-a": "1\r\nx-b: 2"}},
        {"headers": {"x-a": "a\x00"}},
        {"headers": {"x-a": "✓"}},
        {"headers": {"x a": "1"}},
        {"headers": {"x-a\n": "1"}},
    ]
    for body in bad:
        for run_async in (False, True):
            response = raw.post("/functions/echo/executions", json={**body, "async": run_async})
            expect_raw_error(response, 400, "general_argument_invalid")
    assert functions.list_executions("echo").total == 0
    assert not [t for t in queued_tasks() if t["func"] == "functions_app.tasks.run_execution"]
    ex = functions.create_execution("echo", path="/ok", headers={"x-latin": "café"})
    assert ex.status.value == "completed"
    assert json.loads(ex.responsebody)["headers"]["x-latin"] == "café"


def multipart_field(response, name):
    boundary = response.headers["Content-Type"].split("boundary=")[1].encode()
    for part in response.content.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if f'name="{name}"'.encode() in head:
            return value[: -len(b"\r\n")]
    raise AssertionError(f"no {name} part")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_binary_multipart_body_reaches_the_function_byte_for_byte(functions, raw, runtime):
    deploy_echo(functions, runtime)
    payload = bytes(range(256)) * 3 + b"\xff\xfe\x00\r\n\x80"
    accept = {"Accept": "multipart/form-data"}
    for part in [(None, payload), ("body.bin", payload, "application/octet-stream")]:
        response = raw.post(
            "/functions/echo/executions",
            data={"path": "/binary-in"},
            files={"body": part},
            headers=accept,
        )
        assert response.status_code == 201, response.text
        assert multipart_field(response, "responseBody") == payload[::-1]
    queued = raw.post(
        "/functions/echo/executions",
        data={"path": "/binary-in", "async": "true"},
        files={"body": (None, payload)},
    )
    assert queued.status_code == 202, queued.text
    assert bytes(Execution.objects.get(uid=queued.json()["$id"]).request_body) == payload
    assert wait_execution(functions, "echo", queued.json()["$id"]).status.value == "completed"
