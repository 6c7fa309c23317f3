"""Nodes without Docker: heartbeats, a dead node's work failed by another node's maintenance,
its waiting work queued again once, containers labelled with their node, and the node's clock
of periodic jobs. tests/test_nodes.py runs two real nodes."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from functions_app.models import ConfigVersion, Deployment, Execution, Function, Node, Variable
from functions_app.services import (
    builder,
    containers,
    docker,
    enqueue,
    executions,
    images,
    maintenance,
    nodes,
    reaper,
    replicas,
    runtime_state,
    workers,
)

from .test_engine_unit import engine, function, make_deployment, make_execution, project  # noqa: F401

TIMEOUT = 60


@pytest.fixture
def queued(monkeypatch):
    """What would have gone to the broker."""
    sent = []
    monkeypatch.setattr(enqueue, "execution_id", lambda pk: sent.append(("execution", pk)))
    monkeypatch.setattr(enqueue, "build_id", lambda pk: sent.append(("build", pk)))
    return sent


def silence(node_id, seconds):
    Node.objects.filter(pk=node_id).update(heartbeat_at=timezone.now() - timedelta(seconds=seconds))


def test_a_node_is_dead_once_silent_past_the_timeout(db, settings):
    settings.NODE_HEARTBEAT_TIMEOUT = TIMEOUT
    nodes.beat(started=True)
    Node.beat("other")
    assert nodes.dead() == set()
    silence("other", TIMEOUT + 1)
    silence(settings.NODE_ID, TIMEOUT + 1)
    assert nodes.dead() == {"other"}  # never itself
    Node.beat("other")  # it came back
    assert nodes.dead() == set()


def test_one_node_claims_a_death_and_queues_the_waiting_work_once(function, settings, queued):  # noqa: F811
    settings.NODE_HEARTBEAT_TIMEOUT = TIMEOUT
    Node.beat("other")
    silence("other", TIMEOUT + 1)
    waiting = make_execution(function, uid="waiting", status="waiting")
    make_execution(function, uid="parked", status="waiting", parked=True)  # maintenance's sweep
    make_execution(function, uid="done", status="completed")
    build = make_deployment(function, status="waiting")
    assert nodes.bury(nodes.dead()) == ["other"]
    assert sorted(queued) == [("build", build.pk), ("execution", waiting.pk)]
    assert nodes.bury(nodes.dead()) == []  # claimed already: nothing queued twice
    assert len(queued) == 2
    assert Node.objects.get(pk="other").down_at is not None
    Node.beat("other")
    assert Node.objects.get(pk="other").down_at is None


def test_a_dead_nodes_build_and_execution_fail_on_another_node(function, engine, settings):  # noqa: F811
    settings.NODE_HEARTBEAT_TIMEOUT = TIMEOUT
    make_deployment(function, status="building", worker="other:12:34")
    make_execution(function, uid="theirs", status="processing", worker="other:12:34")
    make_execution(function, uid="alive", status="processing", worker="third:12:34")
    dead = {"other"}
    assert workers.is_gone("other:12:34", dead) and not workers.is_gone("third:12:34", dead)
    assert builder.recover(dead_nodes=dead) == ["dep"]
    assert executions.recover_stuck(dead_nodes=dead) == ["theirs"]
    assert Deployment.objects.get().status == "failed"
    statuses = dict(Execution.objects.values_list("uid", "status"))
    assert statuses == {"theirs": "failed", "alive": "processing"}


def test_maintenance_fails_the_work_of_a_silent_node(function, engine, settings, queued):  # noqa: F811
    settings.NODE_HEARTBEAT_TIMEOUT = TIMEOUT
    Node.beat("other")
    silence("other", TIMEOUT + 1)
    make_execution(function, uid="theirs", status="processing", worker="other:12:34")
    parked = make_execution(function, uid="parked", status="waiting", parked=True)
    report = maintenance.run()
    assert report["nodes_down"] == ["other"] and report["executions_failed"] == ["theirs"]
    assert report["unparked"] == 1 and ("execution", parked.pk) in queued  # not lost


def test_containers_carry_their_node_and_each_node_lists_only_its_own(function, settings):  # noqa: F811
    deployment = make_deployment(function)
    labels = containers.labels(deployment, "runtime")
    assert labels["functions.node"] == settings.NODE_ID
    assert containers.mine("runtime").items() <= labels.items()
    settings.NODE_ID = "another"
    assert not containers.mine("runtime").items() <= labels.items()


def test_the_node_clock_reaps_on_changes_and_maintains_on_time(db, settings):
    settings.COMPUTE_MAINTENANCE_INTERVAL = 60
    clock = maintenance.Clock(1000.0)
    assert clock.due(1001.0) == []
    ConfigVersion.bump()
    assert [name for name, _ in clock.due(1003.0)] == ["prompt"]
    assert [name for name, _ in clock.due(1060.0)] == ["maintenance"]
    assert clock.due(1061.0) == []


def test_the_ticker_wakes_just_after_each_minute_starts():
    moment = datetime(2026, 1, 1, 10, 0, 59, 500000, tzinfo=UTC)
    assert maintenance.seconds_to_next_minute(moment) == pytest.approx(0.5 + maintenance.TICK_DELAY)
    start = moment.replace(second=0, microsecond=0)
    assert maintenance.seconds_to_next_minute(start) == pytest.approx(60 + maintenance.TICK_DELAY)


def test_a_failing_job_is_logged_and_the_node_goes_on(caplog):
    def broken():
        raise RuntimeError("boom")

    assert maintenance.run_job("tick", broken) is None
    assert "tick failed" in caplog.text


def test_an_image_seen_lately_is_not_looked_up_again(monkeypatch):
    looked = []
    runtime = SimpleNamespace(image="functions-runtime/x:1")
    monkeypatch.setattr(images, "_present", {})
    monkeypatch.setattr(images, "is_ready", lambda r: looked.append(r) or True)
    images.ensure_present(runtime)
    images.ensure_present(runtime)
    assert looked == [runtime]


def test_a_container_made_before_a_settings_change_goes_on_its_own_node(
    function,  # noqa: F811
    engine,  # noqa: F811
    monkeypatch,
    settings,
    tmp_path,
):
    """Variables set through another node reach this node's containers: their settings label
    no longer matches the database's, and this node's reaper removes them."""
    settings.NODE_DIR = tmp_path
    monkeypatch.setattr(docker, "container_running", lambda name: True)
    deployment = make_deployment(function, status="ready")
    Function.objects.filter(pk=function.pk).update(deployment_uid=deployment.uid)
    function.refresh_from_db()
    name = replicas.replica_name(deployment, 0)
    made = replicas.settings_hash(function, deployment)
    engine.containers = {
        name: containers.labels(deployment, "runtime") | {replicas.SETTINGS_LABEL: made}
    }
    runtime_state.folder().mkdir(parents=True)
    runtime_state.path(name).touch()  # just used: not idle
    assert reaper.reap() == []
    Variable.objects.create(project=function.project, function=function, uid="v", key="K")
    assert reaper.reap() == [name]
    assert engine.removed == [name]
