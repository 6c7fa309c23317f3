"""The worker state machine without Docker: claims, cron ticks on a fixed clock, recovery of
interrupted work, and the event guards. Only ``services/docker.py`` is stubbed (``engine``)."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from functions_app.models import Deployment, EventChain, Execution, Function, Project
from functions_app.services import (
    builder,
    containers,
    docker,
    events,
    executions,
    scheduler,
    workers,
)

NOW = datetime(2026, 3, 4, 10, 5, 30, tzinfo=UTC)
GONE = "{node}:999999999:1"  # a pid that cannot exist on this node


class FakeEngine:
    """What ``services/docker.py`` would answer: the containers it holds, and what was removed."""

    def __init__(self):
        self.containers, self.removed = {}, []

    def list_containers(self, labels):
        return [
            {"name": name, "labels": own, "running": True}
            for name, own in self.containers.items()
            if labels.items() <= own.items()
        ]

    def remove_container(self, name):
        self.removed.append(name)
        self.containers.pop(name, None)


@pytest.fixture
def engine(monkeypatch):
    fake = FakeEngine()
    monkeypatch.setattr(docker, "list_containers", fake.list_containers)
    monkeypatch.setattr(docker, "remove_container", fake.remove_container)
    return fake


@pytest.fixture
def project(db):
    return Project.objects.create(id="main", name="Main")


def make_function(project, uid="fn", **fields):
    return Function.objects.create(
        project=project, uid=uid, name=uid, runtime="python-3.11", **fields
    )


@pytest.fixture
def function(project):
    return make_function(project)


def make_execution(function, **fields):
    return Execution.objects.create(
        project=function.project, function=function, uid=fields.pop("uid", "ex"), **fields
    )


def make_deployment(function, **fields):
    return Deployment.objects.create(
        project=function.project, function=function, uid=fields.pop("uid", "dep"), **fields
    )


def gone_worker(settings):
    return GONE.format(node=settings.NODE_ID)


# -- claims ------------------------------------------------------------------------------------


def test_only_one_worker_claims_an_execution(function):
    execution = make_execution(function)
    first = Execution.claim(execution.pk, "node:1:1")
    assert first is not None and first.status == "processing" and first.worker == "node:1:1"
    assert Execution.claim(execution.pk, "node:2:1") is None
    execution.refresh_from_db()
    assert execution.worker == "node:1:1"


@pytest.mark.parametrize("status", ["processing", "completed", "failed", "scheduled"])
def test_executions_past_the_queue_are_not_claimed(function, status):
    execution = make_execution(function, status=status)
    assert Execution.claim(execution.pk, "node:1:1") is None
    execution.refresh_from_db()
    assert execution.status == status and execution.worker == ""


def test_only_one_worker_claims_a_build(function):
    deployment = make_deployment(function, status="waiting")
    assert Deployment.claim_build(deployment.pk, "node:1:1") is not None
    assert Deployment.claim_build(deployment.pk, "node:2:1") is None
    deployment.refresh_from_db()
    assert deployment.status == "processing" and deployment.worker == "node:1:1"


def test_a_canceled_build_is_not_claimed(function):
    deployment = make_deployment(function, status="canceled")
    assert Deployment.claim_build(deployment.pk, "node:1:1") is None


def test_a_delayed_execution_is_released_once(function):
    execution = make_execution(function, status="scheduled", scheduled_at=NOW)
    stale = Execution.objects.get(pk=execution.pk)
    assert execution.release() is True and execution.status == "waiting"
    assert stale.release() is False
    assert Execution.objects.get(pk=execution.pk).status == "waiting"


def test_the_event_budget_is_claimed_down_to_zero(db):
    assert [EventChain.claim("chain", 3) for _ in range(5)] == [True, True, True, False, False]
    assert EventChain.claim("other", 0) is False and not EventChain.objects.filter(uid="other")


# -- cron ticks on a fixed clock ----------------------------------------------------------------


def cron_function(project, uid="cron", due=datetime(2026, 3, 4, 10, 5, tzinfo=UTC), **fields):
    return make_function(project, uid, schedule="*/5 * * * *", schedule_next=due, **fields)


def test_a_due_schedule_runs_once_and_moves_on(project, django_capture_on_commit_callbacks):
    function = cron_function(project)
    with django_capture_on_commit_callbacks() as queued:
        started = scheduler.tick(NOW)
    assert [(e.function_id, e.trigger, e.status) for e in started] == [
        (function.pk, "schedule", "waiting")
    ]
    assert len(queued) == 1  # one task, enqueued when the transaction commits
    function.refresh_from_db()
    assert function.schedule_next == datetime(2026, 3, 4, 10, 10, tzinfo=UTC)
    assert function.schedule_previous == datetime(2026, 3, 4, 10, 5, tzinfo=UTC)
    assert scheduler.tick(NOW) == []  # the same minute again starts nothing
    assert Execution.objects.count() == 1


def test_missed_ticks_run_once(project):
    function = cron_function(project)
    later = NOW + timedelta(minutes=27)  # 10:32: five ticks were missed
    assert len(scheduler.tick(later)) == 1
    function.refresh_from_db()
    assert function.schedule_next == datetime(2026, 3, 4, 10, 35, tzinfo=UTC)
    assert scheduler.tick(later) == []


def test_two_tickers_with_the_same_view_start_one_execution(project):
    function = cron_function(project)
    seen_by_both = Function.objects.get(pk=function.pk)
    assert scheduler._claim_tick(seen_by_both, NOW) == 1
    assert scheduler._claim_tick(seen_by_both, NOW) == 0


def test_nothing_runs_before_its_minute_or_while_disabled(project):
    cron_function(project, "early", due=NOW + timedelta(minutes=1))
    cron_function(project, "off", enabled=False)
    assert scheduler.tick(NOW) == []
    assert not Execution.objects.exists()


def test_delayed_executions_are_released_at_their_minute(function):
    due = make_execution(function, uid="due", status="scheduled", scheduled_at=NOW)
    day_before = NOW - timedelta(days=1)
    overdue = make_execution(function, uid="overdue", status="scheduled", scheduled_at=day_before)
    later = make_execution(
        function, uid="later", status="scheduled", scheduled_at=NOW + timedelta(minutes=1)
    )
    released = scheduler.tick(NOW)
    assert sorted(e.uid for e in released) == ["due", "overdue"]
    statuses = dict(Execution.objects.values_list("uid", "status"))
    assert statuses == {"due": "waiting", "overdue": "waiting", "later": "scheduled"}
    assert {due.pk, overdue.pk, later.pk} == set(Execution.objects.values_list("pk", flat=True))


def test_run_times_follow_the_cron_expression():
    assert scheduler.run_times("@hourly", NOW, 2) == [
        datetime(2026, 3, 4, 11, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
    ]
    assert scheduler.previous_run("*/5 * * * *", NOW) == datetime(2026, 3, 4, 10, 5, tzinfo=UTC)


# -- recovery -------------------------------------------------------------------------------------


def test_workers_on_this_node_are_told_alive_or_gone(settings):
    assert workers.is_gone(workers.current()) is False
    assert workers.is_gone(gone_worker(settings)) is True
    assert workers.is_gone("another-node:1:1") is False  # judged by its deadline instead
    assert workers.is_gone("") is False


def test_a_build_whose_worker_died_fails_and_its_container_goes(function, engine, settings, caplog):
    deployment = make_deployment(function, status="building", worker=gone_worker(settings))
    name = builder.build_name(deployment)
    with caplog.at_level(logging.WARNING):
        assert builder.recover() == ["dep"]
    deployment.refresh_from_db()
    assert deployment.status == "failed"
    assert "its worker" in deployment.build_logs and "stopped" in deployment.build_logs
    assert name in engine.removed
    assert "Build dep of main failed: Build was interrupted" in caplog.text


def test_a_build_past_every_deadline_fails_on_any_node(function, engine, settings):
    started = NOW - timedelta(seconds=settings.COMPUTE_BUILD_TIMEOUT + 3600)
    make_deployment(
        function, status="building", worker="another-node:1:1", build_started_at=started
    )
    assert builder.recover(now=NOW) == ["dep"]
    assert "outlived the build timeout" in Deployment.objects.get().build_logs


def test_a_live_build_and_its_container_are_left_alone(function, engine):
    deployment = make_deployment(function, status="building", worker=workers.current())
    name = builder.build_name(deployment)
    stray = "functions-build-stray"
    own = containers.labels(deployment, "build")
    engine.containers = {name: own, stray: own | {"functions.deployment": "gone"}}
    assert builder.recover() == []
    assert Deployment.objects.get().status == "building"
    assert engine.removed == [stray]  # a build container no build is using goes


def test_an_execution_whose_worker_died_fails(function, engine, settings, caplog):
    make_execution(function, status="processing", worker=gone_worker(settings))
    with caplog.at_level(logging.WARNING):
        assert executions.recover_stuck() == ["ex"]
    execution = Execution.objects.get()
    assert execution.status == "failed" and execution.response_status_code == 500
    assert "The execution was interrupted: its worker" in execution.errors
    assert "Execution ex of main failed" in caplog.text


def test_an_execution_past_its_timeout_fails_and_a_running_one_does_not(function, engine):
    make_execution(function, uid="stuck", status="processing", worker="another-node:1:1")
    make_execution(function, uid="running", status="processing", worker=workers.current())
    Execution.objects.filter(uid="stuck").update(updated_at=NOW - timedelta(hours=2))
    Execution.objects.filter(uid="running").update(updated_at=NOW)
    assert executions.recover_stuck(now=NOW + timedelta(seconds=5)) == ["stuck"]
    statuses = dict(Execution.objects.values_list("uid", "status"))
    assert statuses == {"stuck": "failed", "running": "processing"}


# -- event guards ---------------------------------------------------------------------------------

EXECUTION_EVENT = "functions.[functionId].executions.[executionId].create"


def subscribed(project, uid, events_=("functions.*.executions.*",)):
    return make_function(project, uid, events=list(events_))


def fire(project, cause=None, chain="", payload=None):
    params = {"functionId": "source", "executionId": "e1"}
    return events.dispatch(project.pk, EXECUTION_EVENT, params, payload or {}, "", cause, chain)


def test_an_event_starts_each_subscriber_once(project):
    a, b = subscribed(project, "a"), subscribed(project, "b")
    subscribed(project, "deaf", ["functions.*.deployments.*"])
    started = fire(project)
    assert sorted(e.function_id for e in started) == [a.pk, b.pk]
    assert {e.trigger for e in started} == {"event"} and {e.event_depth for e in started} == {1}
    assert started[0].runtime_headers["x-appwrite-event"].startswith("functions.source.")


def test_an_event_triggered_run_never_retriggers_its_own_function(project):
    a, b = subscribed(project, "a"), subscribed(project, "b")
    cause = events.Cause(a.pk, "event", 1, "chain-1")
    assert [e.function_id for e in fire(project, cause)] == [b.pk]


def test_chains_stop_after_the_depth_cap(project):
    subscribed(project, "a")
    other = make_function(project, "other")
    deep = events.Cause(other.pk, "event", events.MAX_DEPTH, "chain-1")
    assert fire(project, deep) == []
    shallow = events.Cause(other.pk, "event", events.MAX_DEPTH - 1, "chain-1")
    assert [e.event_depth for e in fire(project, shallow)] == [events.MAX_DEPTH]


def test_the_chain_budget_caps_fan_out(project, settings, caplog):
    settings.FUNCTIONS_EVENT_BUDGET = 3
    for uid in "abcd":
        subscribed(project, uid)
    with caplog.at_level(logging.WARNING):
        assert len(fire(project, chain="chain-1")) == 3
        assert fire(project, chain="chain-1") == []
    assert len(fire(project, chain="chain-2")) == 3  # another action has its own budget
    assert caplog.text.count("Event budget exhausted: chain chain-1") == 1
    assert Execution.objects.filter(event_chain="chain-1").count() == 3


def test_the_payload_is_built_only_for_subscribers(project):
    calls = []

    def payload():
        calls.append(1)
        return {"$id": "e1"}

    assert fire(project, payload=payload) == []
    assert calls == []
    subscribed(project, "a")
    assert bytes(fire(project, payload=payload)[0].request_body) == b'{"$id": "e1"}'
    assert calls == [1]


def test_instance_id_names_the_database_server_and_database(monkeypatch):
    """Installations sharing a Docker engine keep apart by database, including two PostgreSQL
    servers on one host whose socket folder comes as ``?host=`` (a URL's host is lowercased)."""
    from types import SimpleNamespace

    def instance_of(db):
        monkeypatch.setattr(containers, "settings", SimpleNamespace(DATABASES={"default": db}))
        return containers.instance_id()

    base = {"ENGINE": "django.db.backends.postgresql", "NAME": "functions", "HOST": "", "PORT": ""}
    servers = (
        {"OPTIONS": {"host": "/tmp/one"}},
        {"OPTIONS": {"host": "/tmp/two"}},
        {"HOST": "db.example", "PORT": 5432},
        {"HOST": "db.example", "PORT": 5433},
        {"HOST": "db.example", "PORT": 5432, "NAME": "other"},
    )
    assert len({instance_of({**base, **where}) for where in servers}) == len(servers)
    # A SQLite installation keeps the ID it had (its containers stay its own after an upgrade).
    assert (
        instance_of({"ENGINE": "django.db.backends.sqlite3", "NAME": "/x/db"}) == "06563cd3cff1"
    )  # as before
