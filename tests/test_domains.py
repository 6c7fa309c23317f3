"""Function domains: raw request in, raw response out, HTML router errors."""

import json
import uuid
from urllib.parse import urlparse

import pytest
import requests
from appwrite.services.functions import Functions
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from functions_app.models import ApiKey, Function, Project, Rule
from functions_app.services.callers import KEY_SCOPES

from .conftest import make_client
from .deploy import deploy_echo, domain_execution
from .helpers import assert_never_stored

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


def domain_get(live_server, label, path="/", method="GET", **kwargs):
    port = urlparse(live_server.url).port
    headers = {"Host": f"{label}.functions.localhost:{port}", **kwargs.pop("headers", {})}
    return requests.request(method, live_server.url + path, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("runtime", ["python-3.11", "node-18.0"])
def test_raw_request_and_response(functions, live_server, runtime):
    deploy_echo(functions, runtime)
    response = domain_get(
        live_server,
        "echo-main",
        "/hello/world?x=1&y=2",
        method="POST",
        data=b"raw body",
        headers={"X-Custom-In": "abc", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200 and response.headers["x-custom"] == "yes"
    seen = json.loads(response.content)
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/hello/world", "raw body")
    assert seen["query"] == {"x": "1", "y": "2"} and seen["headers"]["x-custom-in"] == "abc"
    assert (
        seen["headers"]["x-appwrite-trigger"] == "http"
        and seen["headers"]["x-appwrite-user-id"] == ""
    )
    execution = domain_execution(response)
    assert (execution.trigger, execution.status, execution.request_path) == (
        "http",
        "completed",
        "/hello/world?x=1&y=2",
    )


@pytest.mark.parametrize("runtime", ["python-3.11", "node-18.0"])
def test_binary_body_and_headers_unchanged(functions, live_server, runtime):
    deploy_echo(functions, runtime)
    response = domain_get(live_server, "echo-main", "/binary")
    assert response.content == bytes(range(256)), response.text[:3000]
    assert response.headers["content-type"].startswith("application/octet-stream")
    payload = bytes(range(256)) * 64
    echoed = domain_get(live_server, "echo-main", "/binary-in", method="POST", data=payload)
    assert echoed.status_code == 200 and echoed.content == payload[::-1]


def test_long_paths_and_methods_are_run_and_recorded(functions, live_server):
    """A domain request's path and method are whatever the HTTP server let through: the
    execution records them whole (a bounded column on PostgreSQL refused them)."""
    deploy_echo(functions, "python-3.11")
    # (segments under 255 characters: the test server first looks for a media file by that name)
    segments = "/" + "/".join(["p" * 200] * 12)
    path = segments + "?q=" + "v" * 3000
    response = domain_get(live_server, "echo-main", path)
    assert response.status_code == 200 and json.loads(response.content)["path"] == segments
    method = "PROPFINDEXTENDED" + "X" * 20
    odd = domain_get(live_server, "echo-main", "/", method=method)
    assert odd.status_code == 200 and json.loads(odd.content)["method"] == method
    stored = [domain_execution(response), domain_execution(odd)]
    assert [(e.request_method, e.request_path) for e in stored] == [("GET", path), (method, "/")]


def test_without_any_answers_401(functions, live_server):
    deploy_echo(functions, "python-3.11", execute=["users"])
    response = domain_get(live_server, "echo-main")
    assert response.status_code == 401 and "text/html" in response.headers["content-type"]
    assert "Execution not permitted" in response.text


def test_router_error_pages(functions, live_server):
    missing = domain_get(live_server, "nothing")
    assert missing.status_code == 404 and "Nothing is here yet" in missing.text
    functions.create("bare", "Bare", "python-3.11", execute=["any"])
    assert domain_get(live_server, "bare-main").status_code == 404
    bare_domain = requests.get(live_server.url, headers={"Host": "functions.localhost"}, timeout=10)
    assert bare_domain.status_code == 401
    deploy_echo(functions, "python-3.11")
    failing = domain_get(live_server, "echo-main", "/fail")
    assert failing.status_code == 500 and "An unexpected server error occured." in failing.text
    assert domain_get(live_server, "echo.main").status_code == 200  # the project-qualified form
    assert domain_get(live_server, "ECHO.Main").status_code == 200  # hosts have no case
    assert domain_get(live_server, "echo.other").status_code == 404
    assert domain_get(live_server, "echo").status_code == 404  # a bare ID is no domain


def label_of(function_id, project_id="main"):
    domain = Rule.objects.get(function__uid=function_id, project_id=project_id).domain
    assert domain.endswith(".functions.localhost")
    return domain.removesuffix(".functions.localhost")


def functions_of(live_server, project_id):
    project = Project.objects.get_or_create(id=project_id, defaults={"name": project_id})[0]
    secret = ApiKey.issue(project, "Key", KEY_SCOPES)[1]
    return Functions(make_client(live_server.url, project_id, secret))


def says(text):
    return {"main.py": f"def main(context):\n    return context.res.text({text!r})\n"}


def test_another_project_cannot_take_a_function_domain(functions, live_server):
    deploy_echo(functions, "python-3.11", "echo", files=says("main's echo"))
    assert label_of("echo") == "echo-main"
    for squatter in ("outsider", "Main"):  # another ID, and the same ID in other case
        theirs = functions_of(live_server, squatter)
        deploy_echo(theirs, "python-3.11", "echo", files=says(f"{squatter}'s echo"))
        label = label_of("echo", squatter)
        assert label != "echo-main" and label.startswith("echo-")
        assert domain_get(live_server, label).text == f"{squatter}'s echo"
        assert domain_get(live_server, "echo-main").text == "main's echo"
        assert domain_get(live_server, "echo.main").text == "main's echo"
    assert label_of("echo", "outsider") == "echo-outsider"
    assert Rule.objects.count() == len({rule.domain for rule in Rule.objects.all()}) == 3


def test_ids_with_capitals_and_dots_are_reachable(functions, live_server):
    deploy_echo(functions, "python-3.11", "My.Func", files=says("dotted"))
    assert label_of("My.Func") == "my-func-main"
    assert domain_get(live_server, "my-func-main").text == "dotted"
    assert domain_get(live_server, "My.Func.main").text == "dotted"  # qualified, any case
    long_project = "p" * 30 + ".Long"
    long_id = "F" * 20 + "_" + "x" * 15
    theirs = functions_of(live_server, long_project)
    deploy_echo(theirs, "python-3.11", long_id, files=says("long"))
    label = label_of(long_id, long_project)
    assert len(label) <= 63 and label.startswith("f" * 20 + "-x")
    assert domain_get(live_server, label).text == "long"


def test_taken_label_gets_a_suffix_and_rule_goes_with_its_function(functions, live_server):
    functions.create("a-b", "Taken", "python-3.11", execute=["any"])  # a-b + main
    Project.objects.create(id="b-main", name="Neighbour")
    theirs = functions_of(live_server, "b-main")
    theirs.create("a", "Same label", "python-3.11", execute=["any"])  # a + b-main
    assert label_of("a-b") == "a-b-main"
    label = label_of("a", "b-main")
    assert label.startswith("a-b-main-") and len(label) == len("a-b-main-") + 6
    deploy_echo(functions, "python-3.11", "gone", files=says("here"))
    assert domain_get(live_server, "gone-main").text == "here"
    functions.delete("gone")
    assert not Rule.objects.filter(domain="gone-main.functions.localhost").exists()
    missing = domain_get(live_server, "gone-main")
    assert missing.status_code == 404 and "Nothing is here yet" in missing.text


def test_migration_gives_existing_functions_a_rule(project):
    executor = MigrationExecutor(connection)
    executor.migrate([("functions_app", "0004_status_choices")])
    old = executor.loader.project_state([("functions_app", "0004_status_choices")]).apps
    OldFunction = old.get_model("functions_app", "Function")
    for uid in ("Old.One", "old-one"):  # the same label: the second one gets a suffix
        OldFunction.objects.create(project_id=project.id, uid=uid, name=uid, runtime="python-3.11")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    first, second = (
        Function.objects.get(uid=uid).rules.get().domain for uid in ("Old.One", "old-one")
    )
    assert first == "old-one-main.functions.localhost"
    assert second.startswith("old-one-main-") and second != first


def test_spoofed_platform_headers_and_credentials_on_a_domain(functions, live_server):
    deploy_echo(functions, "python-3.11")
    secrets = {name: f"{name}-{uuid.uuid4().hex}" for name in ("auth", "cookie", "key", "jwt")}
    sent = {
        "X-Appwrite-Event": "users.fake.create",
        "x-appwrite-user-id": "admin",
        "X-Appwrite-User-JWT": secrets["jwt"],
        "X-Appwrite-Execution-Id": "forged",
        "X-Appwrite-Key": secrets["key"],
        "Authorization": f"Bearer {secrets['auth']}",
        "Cookie": f"sid={secrets['cookie']}",
    }
    response = domain_get(live_server, "echo-main", "/", headers=sent)
    seen = json.loads(response.content)["headers"]
    assert "x-appwrite-event" not in seen
    assert (seen["x-appwrite-user-id"], seen["x-appwrite-user-jwt"]) == ("", "")
    assert seen["x-appwrite-execution-id"] == response.headers["x-appwrite-execution-id"]
    assert seen["x-appwrite-key"].startswith("dynamic_")
    assert seen["authorization"] == sent["Authorization"] and seen["cookie"] == sent["Cookie"]
    execution = domain_execution(response)
    assert execution.status == "completed" and "x-appwrite-event" not in execution.runtime_headers
    assert_never_stored(*secrets.values(), seen["x-appwrite-key"])
