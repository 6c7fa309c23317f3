"""Work in flight when the whole worker cluster is killed (SIGKILL, no clean-up): maintenance
fails it with a reason and removes what it left, and the engine's own deadline ends an
orphaned build container. Real containers, a real cluster."""

import pytest
from appwrite.enums.runtime import Runtime

from functions_app import tasks
from functions_app.models import Deployment, Execution
from functions_app.services import containers, docker

from .deploy import deploy_echo, upload, wait_deployment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


@pytest.fixture
def pyfn(functions):
    return functions.create(
        "py", "Python", Runtime.PYTHON_3_11, entrypoint="main.py", execute=["any"]
    )


@pytest.fixture
def restart(qcluster):
    """The test kills the cluster; it runs again (with its usual settings) afterwards."""
    yield qcluster
    if qcluster.process.poll() is None:
        qcluster.stop()
    qcluster.start()


def building(functions, deployment_id, marker):
    def check():
        deployment = functions.get_deployment("py", deployment_id)
        return deployment.status.value == "building" and marker in deployment.buildlogs

    wait_for(check, timeout=60)
    return containers.build_name(Deployment.objects.get(uid=deployment_id))


def build_containers():
    return {c["name"]: c for c in docker.list_containers(containers.mine("build"))}


def test_a_build_whose_cluster_was_killed_is_failed_and_cleaned_up(functions, pyfn, restart):
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="echo started-building; sleep 300")
    name = building(functions, dep.id, "started-building")
    restart.kill()
    assert name in build_containers()  # the build container outlived its worker
    assert tasks.maintain_runtimes()["builds_failed"] == [dep.id]
    failed = functions.get_deployment("py", dep.id)
    assert failed.status.value == "failed"
    assert "Build was interrupted: its worker" in failed.buildlogs and "stopped" in failed.buildlogs
    assert name not in build_containers()
    assert tasks.maintain_runtimes()["builds_failed"] == []  # once only


def test_an_orphaned_build_container_ends_by_itself(functions, pyfn, restart):
    """With the worker gone, nothing is left to stop the build: the container's own deadline
    (build timeout + a grace to hand over the output) does, and maintenance then fails the
    build and removes the exited container."""
    restart.stop()
    restart.start(COMPUTE_BUILD_TIMEOUT="2")
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="sleep 300")
    name = containers.build_name(Deployment.objects.get(uid=dep.id))
    wait_for(lambda: name in build_containers(), timeout=60, interval=0.02)
    restart.kill()  # before the worker's own 2 s timer could remove the container
    wait_for(lambda: not build_containers().get(name, {}).get("running", False), timeout=90)
    assert tasks.maintain_runtimes()["builds_failed"] == [dep.id]
    assert name not in build_containers()


def test_an_execution_whose_cluster_was_killed_is_failed(functions, restart):
    deploy_echo(functions, "python-3.11")
    execution = functions.create_execution("echo", xasync=True, path="/sleep?s=120")
    wait_for(lambda: Execution.objects.get(uid=execution.id).status == "processing", timeout=60)
    restart.kill()
    assert tasks.maintain_runtimes()["executions_failed"] == [execution.id]
    failed = functions.get_execution("echo", execution.id)
    assert failed.status.value == "failed" and failed.responsestatuscode == 500
    assert "The execution was interrupted: its worker" in failed.errors
    assert tasks.maintain_runtimes()["executions_failed"] == []


def test_work_of_a_live_cluster_is_left_alone(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="echo started-building; sleep 5")
    name = building(functions, dep.id, "started-building")
    outcome = tasks.maintain_runtimes()
    assert outcome["builds_failed"] == [] and name in build_containers()
    assert wait_deployment(functions, "py", dep.id).status.value == "ready"
