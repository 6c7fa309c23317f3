"""Execute permissions for callers without a key, and per-execution API keys."""

import json
import time

import pytest
from appwrite.services.functions import Functions
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient

from functions_app.models import ProjectUser, Team
from functions_app.services import keys

from .conftest import USER_PASSWORD, make_client
from .deploy import deploy_echo
from .helpers import expect_error, sign_in

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


def as_user(live_server, make_user, name):
    """A project user, signed in through the API: their session token as ``set_session``."""
    make_user(name)
    token = sign_in(live_server.url, "main", f"{name}@example.com", USER_PASSWORD)
    return Functions(make_client(live_server.url, "main").set_session(token))


def test_roles_for_guests_users_and_teams(functions, live_server, project, make_user):
    deploy_echo(functions, "python-3.11", execute=["users"])
    guest = Functions(make_client(live_server.url, "main"))
    alice = as_user(live_server, make_user, "alice")
    error = expect_error(lambda: guest.create_execution("echo"), 401, "user_unauthorized")
    assert error.message.startswith('Missing "execute" permission for role "users".')
    ex = alice.create_execution("echo")
    assert json.loads(ex.responsebody)["headers"]["x-appwrite-user-id"] == "alice"
    assert ex.logs == "" and ex.permissions == ['read("user:alice")']
    assert [e.id for e in alice.list_executions("echo").executions] == [ex.id]
    bob = as_user(live_server, make_user, "bob")
    assert bob.list_executions("echo").total == 0  # users only see their own executions
    functions.update("echo", "Echo", entrypoint="main.py", execute=["user:alice"])
    expect_error(lambda: bob.create_execution("echo"), 401, "user_unauthorized")
    assert alice.create_execution("echo").status.value == "completed"
    team = Team.objects.create(project=project, uid="crew", name="Crew")
    team.members.add(ProjectUser.objects.get(uid="bob"))
    functions.update("echo", "Echo", entrypoint="main.py", execute=["team:crew"])
    assert bob.create_execution("echo").status.value == "completed"
    expect_error(lambda: alice.create_execution("echo"), 401, "user_unauthorized")
    functions.update("echo", "Echo", entrypoint="main.py", execute=["any"])
    assert guest.create_execution("echo").status.value == "completed"


def test_dynamic_key_scope_and_expiry(functions, live_server, monkeypatch):
    deploy_echo(functions, "python-3.11", scopes=["functions.read"], timeout=5)
    seen = json.loads(functions.create_execution("echo").responsebody)
    key = seen["headers"]["x-appwrite-key"]
    payload = keys.decode_jwt(key.removeprefix("dynamic_"), keys.DYNAMIC)
    assert payload["scopes"] == ["functions.read"] and payload["exp"] - payload["iat"] == 65
    with_key = Functions(make_client(live_server.url, "main", key))
    assert with_key.get("echo").id == "echo"
    expect_error(lambda: with_key.delete("echo"), 401, "general_unauthorized_scope")
    later = time.time() + 66
    monkeypatch.setattr(keys.time, "time", lambda: later)
    expect_error(lambda: with_key.get("echo"), 401, "project_key_expired")


def test_builds_receive_a_dynamic_key(functions):
    from .deploy import upload, wait_deployment

    functions.create(
        "keyed", "Keyed", "python-3.11", entrypoint="main.py", scopes=["functions.read"]
    )
    dep = upload(
        functions, "keyed", {"main.py": "x = 1"}, commands='echo "KEY=${APPWRITE_FUNCTION_API_KEY}"'
    )
    logs = wait_deployment(functions, "keyed", dep.id).buildlogs
    key = logs.split("KEY=", 1)[1].split()[0]
    assert keys.decode_jwt(key.removeprefix("dynamic_"), keys.DYNAMIC)["scopes"] == [
        "functions.read"
    ]


CALLBACK = """
import json
import os
import urllib.request


def main(context):
    endpoint = os.environ["APPWRITE_FUNCTION_API_ENDPOINT"]
    request = urllib.request.Request(endpoint + "/functions", headers={
        "x-appwrite-project": os.environ["APPWRITE_FUNCTION_PROJECT_ID"],
        "x-appwrite-key": context.req.headers["x-appwrite-key"],
    })
    with urllib.request.urlopen(request, timeout=10) as response:
        listed = json.loads(response.read())
    return context.res.json({"endpoint": endpoint, "ids": [f["$id"] for f in listed["functions"]]})
"""


NODE_CALLBACK = """
const http = require("http");
module.exports = async (context) => {
  const endpoint = process.env.APPWRITE_FUNCTION_API_ENDPOINT;
  const body = await new Promise((resolve, reject) => {
    http.get(endpoint + "/functions", {headers: {
      "x-appwrite-project": process.env.APPWRITE_FUNCTION_PROJECT_ID,
      "x-appwrite-key": context.req.headers["x-appwrite-key"],
    }}, (res) => { let data = ""; res.on("data", (c) => data += c); res.on("end", () => resolve(data)); }).on("error", reject);
  });
  return context.res.json({endpoint, ids: JSON.parse(body).functions.map((f) => f["$id"])});
};
"""


@pytest.mark.parametrize(
    ("runtime", "files"),
    [
        ("python-3.11", {"main.py": CALLBACK}),
        ("node-18.0", {"index.js": NODE_CALLBACK}),
    ],
)
def test_function_code_calls_the_api_back_with_its_key(functions, api_socket, runtime, files):
    deploy_echo(functions, runtime, "caller", files=files, scopes=["functions.read"])
    ex = functions.create_execution("caller")
    assert ex.status.value == "completed", ex.errors
    seen = json.loads(ex.responsebody)
    assert seen["endpoint"] == "http://127.0.0.1:3080/v1" and seen["ids"] == ["caller"]


WHOAMI = """
def main(context):
    seen = {"jwt": context.req.headers.get("x-appwrite-user-jwt", "missing"),
            "user": context.req.headers.get("x-appwrite-user-id", "missing")}
    print(f"JWT=[{seen['jwt']}] USER=[{seen['user']}]")
    return context.res.json(seen)
"""


def test_console_admins_get_no_user_jwt_plain_users_a_project_bound_one(
    functions, live_server, project, outsider_project, make_user
):
    deploy_echo(functions, "python-3.11", "whoami", files={"main.py": WHOAMI})
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-123456")
    project.members.add(owner)
    owner_session = sign_in(live_server.url, "console", "owner@example.com", "pw-123456")
    as_owner = make_client(live_server.url, "main").set_session(owner_session)
    ex = Functions(as_owner.add_header("X-Appwrite-Mode", "admin")).create_execution("whoami")
    assert json.loads(ex.responsebody) == {"jwt": "", "user": ""}
    assert "JWT=[] USER=[]" in ex.logs and ex.permissions == []
    browser = DjangoClient()  # the console's own execute form
    browser.force_login(owner)
    form = {"method": "POST", "path": "/", "headers": "", "body": "", "mode": "sync"}
    assert browser.post("/projects/main/functions/whoami/executions/new", form).status_code == 302
    latest = functions.list_executions("whoami").executions[-1]
    assert latest.id != ex.id and "JWT=[] USER=[]" in latest.logs
    alice = as_user(live_server, make_user, "alice")
    alice_id = "alice"
    seen = json.loads(alice.create_execution("whoami").responsebody)
    assert seen["user"] == alice_id
    payload = keys.decode_jwt(seen["jwt"], keys.USER)
    assert (payload["userId"], payload["projectId"]) == (alice_id, "main")
    as_jwt = Functions(make_client(live_server.url, "main").set_jwt(seen["jwt"]))
    assert as_jwt.list_executions("whoami").total == 1  # alice's own run, with the users role
    expect_error(lambda: as_jwt.list(), 401, "general_unauthorized_scope")
    elsewhere = Functions(make_client(live_server.url, "outsider").set_jwt(seen["jwt"]))
    expect_error(lambda: elsewhere.list_executions("whoami"), 401, "user_jwt_invalid")
