"""Events start subscribed functions; functions may subscribe to functions.* without loops."""

import json
import time

import pytest

from functions_app.models import Execution
from functions_app.services import events

from .deploy import deploy_echo, wait_execution, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]

LOGGER = """
def main(context):
    context.log("EVENT=" + context.req.headers.get("x-appwrite-event", ""))
    context.log("TRIGGER=" + context.req.headers.get("x-appwrite-trigger", ""))
    context.log("BODY=" + context.req.body_text)
    return context.res.text("seen")
"""


def event_runs(function_id):
    return list(Execution.objects.filter(function__uid=function_id, trigger="event").order_by("id"))


def test_execution_create_event_starts_a_subscriber(functions):
    deploy_echo(
        functions,
        "python-3.11",
        "listener",
        files={"main.py": LOGGER},
        events=["functions.echo.executions.*.create"],
    )
    deploy_echo(functions, "python-3.11", "echo")
    source = functions.create_execution("echo", body="payload")
    run = wait_for(lambda: event_runs("listener"), 60)[0]
    done = wait_execution(functions, "listener", run.uid)
    assert done.status.value == "completed" and done.trigger.value == "event"
    assert f"EVENT=functions.echo.executions.{source.id}.create" in done.logs
    assert "TRIGGER=event" in done.logs
    body = json.loads(done.logs.split("BODY=", 1)[1].strip())
    assert body["$id"] == source.id and body["functionId"] == "echo"


def test_self_subscribed_function_does_not_loop(functions):
    deploy_echo(
        functions,
        "python-3.11",
        "selfish",
        files={"main.py": LOGGER},
        events=["functions.selfish.executions.*.update"],
    )
    first = functions.create_execution("selfish", xasync=True)
    wait_execution(functions, "selfish", first.id)
    triggered = wait_for(lambda: event_runs("selfish"), 60)[0]
    wait_execution(functions, "selfish", triggered.uid)
    time.sleep(3)  # give a loop the time it would need to show itself
    assert len(event_runs("selfish")) == 1
    assert Execution.objects.filter(function__uid="selfish").count() == 2


def test_event_chains_stop_at_a_fixed_depth(functions, project):
    functions.create("a", "A", "python-3.11", events=["functions.*.executions.*.update"])
    deep = events.Cause(function_id=-1, trigger="event", depth=events.MAX_DEPTH)
    params = {"functionId": "x", "executionId": "y"}
    assert (
        events.dispatch(
            project.pk,
            "functions.[functionId].executions.[executionId].update",
            params,
            {},
            cause=deep,
        )
        == []
    )
    shallow = events.Cause(function_id=-1, trigger="event", depth=1)
    started = events.dispatch(
        project.pk,
        "functions.[functionId].executions.[executionId].update",
        params,
        {},
        cause=shallow,
    )
    assert [e.event_depth for e in started] == [2]


def test_project_users_emit_events_in_their_project_only(functions, raw, outsider_functions):
    deploy_echo(
        functions, "python-3.11", "welcome", files={"main.py": LOGGER}, events=["users.*.create"]
    )
    created = raw.post("/users", json={"userId": "newbie", "email": "Newbie@example.com"})
    assert created.status_code == 201, created.text
    run = wait_for(lambda: event_runs("welcome"), 60)[0]
    done = wait_execution(functions, "welcome", run.uid)
    assert "EVENT=users.newbie.create" in done.logs and '"email": "newbie@example.com"' in done.logs
    outsider_key = outsider_functions.client._global_headers["x-appwrite-key"]
    elsewhere = raw.post(
        "/users",
        json={"userId": "other", "email": "other@example.com"},
        headers={"X-Appwrite-Project": "outsider", "X-Appwrite-Key": outsider_key},
    )
    assert elsewhere.status_code == 201
    time.sleep(3)
    assert len(event_runs("welcome")) == 1  # another project's users start nothing here


def test_subscriptions_are_validated(functions):
    from .helpers import expect_error

    expect_error(
        lambda: functions.create("bad", "Bad", "python-3.11", events=["functions.*.nothing"]),
        400,
        "general_argument_invalid",
    )
    assert functions.create(
        "ok", "Ok", "python-3.11", events=["functions.*.executions.*.create"]
    ).events
