"""Fair use, with real containers: the event budget of a chain, the createExecution abuse
limit for callers without a key, and the cap on synchronous executions per web process."""

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone

from functions_app.models import EventChain, Execution, RateWindow
from functions_app.services import abuse, events, sync_slots

from .conftest import USER_PASSWORD
from .deploy import deploy_echo, wait_for
from .helpers import expect_raw_error, sign_in

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]

QUICK = """
def main(context):
    return context.res.text("seen " + context.req.headers.get("x-appwrite-event", ""))
"""

# Asks for another run of "ping" with its own key whenever a run of "ping" finishes: a loop
# that neither the self-trigger guard nor the depth guard stops (each "ping" run is an API
# call, not an event run), only the budget of the chain the key carries.
RELAY = """
import json
import os
import urllib.request


def main(context):
    endpoint = os.environ["APPWRITE_FUNCTION_API_ENDPOINT"]
    request = urllib.request.Request(endpoint + "/functions/ping/executions", method="POST",
        data=json.dumps({"async": True}).encode(), headers={
            "content-type": "application/json",
            "x-appwrite-project": os.environ["APPWRITE_FUNCTION_PROJECT_ID"],
            "x-appwrite-key": context.req.headers["x-appwrite-key"],
        })
    with urllib.request.urlopen(request, timeout=20) as response:
        return context.res.text(str(response.status))
"""

# Calls its own domain through the loopback bridge, which calls it again, and so on.
SELF_CALL = """
import urllib.error
import urllib.request


def main(context):
    depth = int(context.req.query.get("depth", "0"))
    request = urllib.request.Request(f"http://127.0.0.1:3080/?depth={depth + 1}",
                                     headers={"host": "selfcall-main.functions.localhost"})
    try:
        with urllib.request.urlopen(request, timeout=50) as response:
            inner = response.read().decode()
    except urllib.error.HTTPError as error:
        inner = f"refused:{error.code}"
    return context.res.text(f"{depth}>{inner}")
"""


def runs(function_id, **filters):
    return Execution.objects.filter(function__uid=function_id, **filters)


def settled(queryset, count, quiet=4):
    """Wait until ``count`` executions exist and are all final, then give more time to show up."""
    wait_for(
        lambda: (
            queryset.count() >= count
            and not queryset.exclude(status__in=["completed", "failed"]).exists()
        ),
        180,
    )
    time.sleep(quiet)
    return queryset.count()


def cluster_log():
    return (Path(django_settings.STORAGE_DIR) / "qcluster.log").read_text(errors="replace")


@pytest.fixture
def event_budget(qcluster, settings):
    """Set ``FUNCTIONS_EVENT_BUDGET`` here and in the worker cluster; the default comes back."""

    def set_budget(value):
        settings.FUNCTIONS_EVENT_BUDGET = value
        qcluster.stop()
        qcluster.start(FUNCTIONS_EVENT_BUDGET=str(value))

    yield set_budget
    qcluster.stop()
    qcluster.start()


# -- 1. the event budget -------------------------------------------------------------------------


def test_fan_out_stops_at_the_chain_budget(functions, event_budget):
    """Three functions subscribed to every execution event: the guards alone allow 3 + 6 + 12
    event runs for one call; a budget of 10 allows exactly 10, whichever workers claim them."""
    event_budget(10)
    for name in ("a", "b", "c"):
        deploy_echo(
            functions,
            "python-3.11",
            name,
            files={"main.py": QUICK},
            events=["functions.*.executions.*"],
        )
    deploy_echo(functions, "python-3.11", "start")
    origin = functions.create_execution("start")
    assert origin.status.value == "completed"
    chain = Execution.objects.get(uid=origin.id).event_chain
    triggered = Execution.objects.filter(trigger="event")
    assert settled(triggered, 10) == 10
    assert Execution.objects.count() == 11
    assert set(Execution.objects.values_list("event_chain", flat=True)) == {chain}
    assert not triggered.filter(status="failed").exists()
    wait_for(lambda: f"Event budget exhausted: chain {chain} of project main" in cluster_log(), 30)
    assert events.prune_chains() == 0  # maintenance forgets the chain only once it is idle
    assert events.prune_chains(timezone.now() + timedelta(days=2)) == 1
    assert not EventChain.objects.exists()


def test_a_loop_through_api_calls_spends_the_same_budget(functions, event_budget, api_socket):
    """Each run of "relay" (an event run) creates a run of "ping" with its key (an API call,
    depth 0 again); the key carries the chain, so the loop stops after the budget's 5 relays."""
    event_budget(5)
    deploy_echo(functions, "python-3.11", "ping", files={"main.py": QUICK})
    deploy_echo(
        functions,
        "python-3.11",
        "relay",
        files={"main.py": RELAY},
        events=["functions.ping.executions.*.update"],
        scopes=["execution.write"],
    )
    origin = functions.create_execution("ping", xasync=True)
    chain = Execution.objects.get(uid=origin.id).event_chain
    assert settled(runs("relay"), 5) == 5
    assert runs("ping").count() == 6  # the first, then one per relay
    assert set(Execution.objects.values_list("event_chain", flat=True)) == {chain}
    assert set(runs("relay").values_list("response_status_code", flat=True)) == {200}
    wait_for(lambda: f"Event budget exhausted: chain {chain}" in cluster_log(), 30)


# -- 2. abuse limits on createExecution ----------------------------------------------------------


def whole_window(period):
    """Wait out a window about to end, so that the test's calls share one; returns its reset."""
    if period - time.time() % period < 20:
        time.sleep(period - time.time() % period + 0.5)
    return int(time.time() // period * period + period)


def test_keyless_callers_are_limited_per_ip_user_and_function(
    functions, raw, settings, live_server, make_user
):
    settings.FUNCTIONS_EXECUTION_ABUSE_LIMIT, settings.FUNCTIONS_EXECUTION_ABUSE_PERIOD = 3, 3600
    deploy_echo(functions, "python-3.11", "echo")
    deploy_echo(functions, "python-3.11", "other")
    reset = whole_window(3600)

    def call(function_id="echo", **headers):
        return raw.post(
            f"/functions/{function_id}/executions",
            json={"path": "/"},
            headers={"X-Appwrite-Key": None, **headers},
        )

    for remaining in (2, 1, 0):
        response = call()
        assert response.status_code == 201 and response.json()["status"] == "completed"
        assert (
            response.headers["X-RateLimit-Limit"],
            response.headers["X-RateLimit-Remaining"],
            response.headers["X-RateLimit-Reset"],
        ) == ("3", str(remaining), str(reset))
    refused = call()
    expect_raw_error(
        refused,
        429,
        "general_rate_limit_exceeded",
        "Rate limit for the current endpoint has been exceeded. Please try again after some time.",
    )
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert runs("echo").count() == 3  # the refused call ran nothing and stored nothing
    assert call("other").status_code == 201  # per function
    make_user("alice")
    session = sign_in(live_server.url, "main", "alice@example.com", USER_PASSWORD)
    assert call(**{"X-Appwrite-Session": session}).status_code == 201  # per user
    keyed = [raw.post("/functions/echo/executions", json={}) for _ in range(4)]
    assert [r.status_code for r in keyed] == [201] * 4  # keys are never limited
    assert "X-RateLimit-Limit" not in keyed[0].headers
    assert call().status_code == 429  # still refused: keyed calls did not reset anything
    settings.FUNCTIONS_EXECUTION_ABUSE_LIMIT = 0  # off
    unlimited = call()
    assert unlimited.status_code == 201 and "X-RateLimit-Limit" not in unlimited.headers
    assert abuse.prune() == 0  # maintenance drops windows once they have ended
    # echo, other, alice's runs, and alice's sign-in (an hour's window too)
    assert abuse.prune(datetime.fromtimestamp(reset + 1, UTC)) == 4
    assert not RateWindow.objects.exists()


# -- 3. the cap on synchronous executions --------------------------------------------------------


def guest_call(live_server, project_id, path, results, function_id="slow"):
    started = time.monotonic()
    response = requests.post(
        f"{live_server.url}/v1/functions/{function_id}/executions",
        json={"path": path},
        headers={"X-Appwrite-Project": project_id},
        timeout=60,
    )
    results.append((response, time.monotonic() - started))
    return results[-1]


def in_thread(*args):
    results = []
    thread = threading.Thread(target=guest_call, args=(*args, results))
    thread.start()
    return thread, results


def test_synchronous_executions_are_capped_per_process_and_project(
    functions, outsider_functions, live_server, raw, settings
):
    settings.FUNCTIONS_SYNC_CONCURRENCY, settings.FUNCTIONS_SYNC_PROJECT_CONCURRENCY = 3, 2
    deploy_echo(functions, "python-3.11", "slow")
    deploy_echo(outsider_functions, "python-3.11", "slow")
    for project_id in ("main", "outsider"):  # warm, so that the slow calls start at once
        assert guest_call(live_server, project_id, "/", [])[0].status_code == 201
    slow = [in_thread(live_server, "main", "/sleep?s=8") for _ in range(2)]
    wait_for(lambda: sync_slots.running("main") == 2, 30, 0.05)
    refused, took = guest_call(live_server, "main", "/", [])  # the project's share is taken
    expect_raw_error(refused, 429, "general_rate_limit_exceeded", sync_slots.BUSY)
    assert took < 5  # refused at once, not after the 8 s runs
    slow.append(in_thread(live_server, "outsider", "/sleep?s=8"))  # another project still runs
    wait_for(lambda: sync_slots.running() == 3, 30, 0.05)
    for project_id in ("outsider", "main"):  # the process's cap is taken
        response, took = guest_call(live_server, project_id, "/", [])
        assert response.status_code == 429 and took < 5
    domain = requests.get(
        live_server.url,
        timeout=30,
        headers={"Host": f"slow-main.functions.localhost:{urlparse(live_server.url).port}"},
    )
    assert domain.status_code == 429 and "Too many requests" in domain.text
    listed = raw.get("/functions")  # the API answers meanwhile
    assert listed.status_code == 200 and [f["$id"] for f in listed.json()["functions"]] == ["slow"]
    assert sync_slots.running() == 3  # ... while the slow runs still hold their slots
    for thread, results in slow:
        thread.join(60)
        response, took = results[0]
        assert response.status_code == 201 and response.json()["responseBody"] == "slept"
    assert sync_slots.running() == 0
    assert guest_call(live_server, "main", "/", [])[0].status_code == 201  # slots are given back
    assert runs("slow", project_id="main").count() == 4  # refused calls stored nothing


def test_a_function_calling_its_own_domain_cannot_take_every_slot(
    functions, live_server, raw, settings, api_socket
):
    settings.FUNCTIONS_SYNC_CONCURRENCY, settings.FUNCTIONS_SYNC_PROJECT_CONCURRENCY = 3, 2
    deploy_echo(functions, "python-3.11", "selfcall", files={"main.py": SELF_CALL}, timeout=60)
    port = urlparse(live_server.url).port
    response = requests.get(
        live_server.url, headers={"Host": f"selfcall-main.functions.localhost:{port}"}, timeout=60
    )
    assert response.status_code == 200 and response.text == "0>1>refused:429"
    assert sync_slots.running() == 0 and raw.get("/functions").status_code == 200
    assert runs("selfcall").count() == 2
