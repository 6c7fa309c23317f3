"""/v1/health through the official SDK (its models validate the answers) and raw HTTP."""

import pytest
import requests
from appwrite.exception import AppwriteException
from appwrite.services.health import Health

from functions_app.models import Deployment, Execution, Function

from .conftest import make_client
from .helpers import expect_error, expect_raw_error


@pytest.fixture
def health(client):
    return Health(client)


def test_checks_answer_with_appwrite_models(health):
    assert health.get().to_dict() == {"name": "http", "ping": 0, "status": "pass"}
    db = health.get_db()
    assert db.total == 1 and db.statuses[0].status.value == "pass"
    assert health.get_storage().status.value == health.get_storage_local().status.value == "pass"
    clock = health.get_time()
    assert abs(clock.diff) <= 1 and clock.remotetime - clock.localtime == clock.diff
    assert health.get_cache().total == health.get_pub_sub().total == 0
    assert health.get_antivirus().status.value == "disabled"
    for queue in ("get_queue_webhooks", "get_queue_logs", "get_queue_mails", "get_queue_usage"):
        if hasattr(health, queue):
            assert getattr(health, queue)().size == 0
    assert health.get_queue_databases(name="x").size == 0
    assert health.get_failed_jobs("v1-builds").size == 0


def test_queue_sizes_count_the_projects_own_waiting_work(health, project, outsider_project):
    function = Function.objects.create(project=project, uid="f", name="f", runtime="python-3.11")
    foreign = Function.objects.create(
        project=outsider_project, uid="g", name="g", runtime="python-3.11"
    )
    for owner, fn in ((project, function), (outsider_project, foreign), (project, function)):
        Deployment.objects.create(project=owner, function=fn, uid=f"d{Deployment.objects.count()}")
        Execution.objects.create(project=owner, function=fn, uid=f"e{Execution.objects.count()}")
    assert health.get_queue_builds().size == 2 and health.get_queue_functions().size == 2
    assert health.get_queue_builds(threshold=3).size == 2
    with pytest.raises(AppwriteException) as raised:
        health.get_queue_functions(threshold=2)
    assert (raised.value.code, raised.value.type) == (503, "health_queue_size_exceeded")
    assert raised.value.message == "Queue size threshold hit. Current size is 2 and threshold is 2."


def test_bad_params_and_callers(health, live_server, project):
    message = "Invalid `threshold` param: Value must be a valid integer"
    bad = lambda: health.get_queue_builds(threshold="many")  # noqa: E731
    expect_error(bad, 400, "general_argument_invalid", message)
    expect_error(lambda: health.get_failed_jobs("v1-nothing"), 400, "general_argument_invalid")
    guest = Health(make_client(live_server.url, project.id))
    expect_error(guest.get, 401, "general_unauthorized_scope")
    version = requests.get(f"{live_server.url}/v1/health/version", timeout=10)
    assert (version.status_code, version.json()) == (200, {"version": "1.8.0"})
    unknown = requests.get(f"{live_server.url}/v1/health/queue/nothing", timeout=10)
    expect_raw_error(unknown, 404, "general_route_not_found")
