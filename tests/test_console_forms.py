"""Every console form rejects bad input with the API's own message (the same input sent to
the REST API gives the same text) and changes nothing."""

import html
import io
import re

import pytest

from functions_app.models import ApiKey, Deployment, Execution, Function, Project, Variable
from functions_app.services import documents

pytest_plugins = ["tests.browser"]

FORM_ERROR = re.compile(
    r'<p class="flash error" role="alert" id="(?:form|row)-error">(.*?)</p>', re.S
)
FLASH_ERROR = re.compile(r'<p class="flash error" role="alert">(.*?)</p>', re.S)
BASE = "/projects/main/functions"

FUNCTION_FORM = {
    "functionId": "good",
    "name": "Good",
    "runtime": "python-3.11",
    "entrypoint": "main.py",
    "timeout": "15",
    "execute": "",
    "events": "",
    "schedule": "",
    "commands": "",
    "specification": "s-1vcpu-512mb",
    "enabled": "on",
    "logging": "on",
}
FUNCTION_API = {
    "functionId": "good",
    "name": "Good",
    "runtime": "python-3.11",
    "entrypoint": "main.py",
    "timeout": 15,
    "execute": [],
    "events": [],
    "schedule": "",
    "commands": "",
    "specification": "s-1vcpu-512mb",
    "enabled": True,
    "logging": True,
}
# (what the console form gets, what the API body gets) on top of the valid values above
FUNCTION_CASES = {
    "bad id": ({"functionId": "-bad"}, {"functionId": "-bad"}),
    "empty name": ({"name": ""}, {"name": ""}),
    "long name": ({"name": "n" * 129}, {"name": "n" * 129}),
    "unknown runtime": ({"runtime": "cobol-1.0"}, {"runtime": "cobol-1.0"}),
    "runtime without image": ({"runtime": "php-8.3"}, {"runtime": "php-8.3"}),
    "zero timeout": ({"timeout": "0"}, {"timeout": 0}),
    "timeout not a number": ({"timeout": "ten"}, {"timeout": "ten"}),
    "bad schedule": ({"schedule": "every minute"}, {"schedule": "every minute"}),
    "bad role": ({"execute": "any\nnobody"}, {"execute": ["any", "nobody"]}),
    "bad event": ({"events": "nope.*.create"}, {"events": ["nope.*.create"]}),
    "bad scope": ({"scopes": "bogus.read"}, {"scopes": ["bogus.read"]}),
    "bad specification": ({"specification": "s-64vcpu-1tb"}, {"specification": "s-64vcpu-1tb"}),
    "long entrypoint": ({"entrypoint": "e" * 1029}, {"entrypoint": "e" * 1029}),
}


def form_error(response):
    """The message shown next to the form (or in the page's error banner)."""
    found = FORM_ERROR.search(response.text) or FLASH_ERROR.search(response.text)
    assert found, response.text[:3000]
    return html.unescape(found.group(1)).strip()


def api_message(response):
    assert response.status_code >= 400, response.text
    return response.json()["message"]


def snapshot(function):
    function.refresh_from_db()
    return documents.function(function), function.updated_at


def create(project, function_id):
    from functions_app.api.fields import function_fields
    from functions_app.services import functions as service

    return service.create_function(project, function_id, function_fields(dict(FUNCTION_API), True))


@pytest.fixture
def existing(project):
    return create(project, "fn")


# -- functions ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", FUNCTION_CASES)
def test_create_function_rejects_bad_input_with_the_api_message(web, raw, case):
    form_values, api_values = FUNCTION_CASES[case]
    response = web.post(f"{BASE}/new", {**FUNCTION_FORM, **form_values})
    assert response.status_code == 400
    assert form_error(response) == api_message(
        raw.post("/functions", json={**FUNCTION_API, **api_values})
    )
    assert not Function.objects.exists()


def test_create_function_rejects_a_taken_id(web, raw, existing):
    response = web.post(f"{BASE}/new", {**FUNCTION_FORM, "functionId": "fn"})
    expected = api_message(raw.post("/functions", json={**FUNCTION_API, "functionId": "fn"}))
    assert form_error(response) == expected
    assert expected.startswith("Function with the requested ID already exists.")
    assert Function.objects.count() == 1


def test_an_empty_id_generates_one_as_id_unique_does(web):
    response = web.post(f"{BASE}/new", {**FUNCTION_FORM, "functionId": ""})
    function = Function.objects.get()
    assert re.fullmatch(r"[0-9a-f]{20}", function.uid)
    assert response["Location"] == f"{BASE}/{function.uid}/deployments"


def test_create_function_keeps_what_was_typed(web):
    response = web.post(f"{BASE}/new", {**FUNCTION_FORM, "timeout": "0", "name": "Typed"})
    assert 'value="Typed"' in response.text and 'value="0"' in response.text


@pytest.mark.parametrize(
    "case", [c for c in FUNCTION_CASES if c not in ("bad id", "runtime without image")]
)
def test_settings_reject_bad_input_with_the_api_message_and_change_nothing(
    web, raw, existing, case
):
    form_values, api_values = FUNCTION_CASES[case]
    before = snapshot(existing)
    response = web.post(f"{BASE}/fn/settings", {**FUNCTION_FORM, **form_values})
    body = {k: v for k, v in {**FUNCTION_API, **api_values}.items() if k != "functionId"}
    assert response.status_code == 400
    assert form_error(response) == api_message(raw.put("/functions/fn", json=body))
    assert snapshot(existing) == before


# -- variables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form, api",
    [
        ({"key": "", "value": "v"}, {"key": "", "value": "v"}),
        ({"key": "K" * 256, "value": "v"}, {"key": "K" * 256, "value": "v"}),
        ({"key": "LONG", "value": "v" * 8193}, {"key": "LONG", "value": "v" * 8193}),
        ({"key": "TAKEN", "value": "again"}, {"key": "TAKEN", "value": "again"}),
    ],
    ids=["empty key", "long key", "long value", "taken key"],
)
def test_create_variable_rejects_bad_input(web, raw, existing, form, api):
    Variable.objects.create(
        project=existing.project, function=existing, uid="v1", key="TAKEN", value="x"
    )
    response = web.post(f"{BASE}/fn/variables", form)
    assert response.status_code == 400
    assert form_error(response) == api_message(raw.post("/functions/fn/variables", json=api))
    assert list(Variable.objects.values_list("key", "value")) == [("TAKEN", "x")]


@pytest.mark.parametrize(
    "form, api",
    [
        ({"key": "SECRET", "value": ""}, {"key": "SECRET", "secret": False}),
        ({"key": "OTHER", "value": "", "secret": "on"}, {"key": "OTHER"}),
        ({"key": "", "value": "", "secret": "on"}, {"key": ""}),
    ],
    ids=["unset secret", "taken key", "empty key"],
)
def test_update_variable_rejects_bad_input(web, raw, existing, form, api):
    from functions_app.services import variables

    secret = variables.create_variable(existing.project, existing, "SECRET", "hidden", True)
    variables.create_variable(existing.project, existing, "OTHER", "x", False)
    response = web.post(f"{BASE}/fn/variables/{secret.uid}", form)
    assert response.status_code == 400
    assert form_error(response) == api_message(
        raw.put(f"/functions/fn/variables/{secret.uid}", json=api)
    )
    secret.refresh_from_db()
    assert (secret.key, secret.value, secret.secret) == ("SECRET", "hidden", True)


# -- executions -----------------------------------------------------------------------------

EXECUTE_FORM = {"method": "POST", "path": "/", "headers": "", "body": "", "mode": "sync"}


@pytest.mark.parametrize(
    "form, api",
    [
        ({}, {}),
        ({"method": "TRACE"}, {"method": "TRACE"}),
        ({"headers": "x-appwrite-trick: 1"}, {"headers": {"x-appwrite-trick": "1"}}),
        ({"headers": "not a header line"}, {"headers": "not a header line"}),
        (
            {"mode": "schedule", "scheduledAt": "2001-01-01T10:00"},
            {"async": True, "scheduledAt": "2001-01-01T10:00"},
        ),
        ({"mode": "schedule", "scheduledAt": ""}, {"async": True, "scheduledAt": ""}),
        ({"path": "p" * 2049}, {"path": "p" * 2049}),
    ],
    ids=[
        "no deployment",
        "bad method",
        "reserved header",
        "bad headers",
        "past date",
        "no date",
        "long path",
    ],
)
def test_execute_rejects_bad_input(web, raw, existing, form, api):
    response = web.post(f"{BASE}/fn/executions/new", {**EXECUTE_FORM, **form})
    assert response.status_code == 400
    assert form_error(response) == api_message(raw.post("/functions/fn/executions", json=api))
    assert not Execution.objects.exists()


# -- deployments ----------------------------------------------------------------------------


def archive_file(name="code.tar.gz"):
    data = io.BytesIO(b"\x1f\x8b not really")
    data.name = name
    return data


@pytest.mark.parametrize(
    "fields, entrypoint",
    [({}, "main.py"), ({"code": "zip"}, "main.py"), ({"code": "gz"}, "")],
    ids=["no file", "not gzip", "no entrypoint"],
)
def test_upload_rejects_bad_input(web, raw, existing, fields, entrypoint):
    Function.objects.filter(pk=existing.pk).update(entrypoint=entrypoint)
    name = {"zip": "code.zip", "gz": "code.tar.gz"}.get(fields.get("code"))
    form = {"activate": "true", **({"code": archive_file(name)} if name else {})}
    response = web.post(f"{BASE}/fn/deployments/upload", form)
    api = {"files": {"code": (name, b"x")}} if name else {"files": {"unused": ("u.txt", b"x")}}
    expected = api_message(raw.post("/functions/fn/deployments", data={"activate": "true"}, **api))
    assert response.status_code >= 400 and response.json()["message"] == expected
    assert not Deployment.objects.exists()


def test_deployment_actions_show_the_api_message(web, raw, existing):
    Deployment.objects.create(
        project=existing.project, function=existing, uid="building", status="building"
    )
    Deployment.objects.create(
        project=existing.project, function=existing, uid="done", status="ready"
    )
    response = web.post(f"{BASE}/fn/deployments/building/activate", follow=True)
    assert form_error(response) == api_message(
        raw.patch("/functions/fn/deployment", json={"deploymentId": "building"})
    )
    response = web.post(f"{BASE}/fn/deployments/done/cancel", follow=True)
    assert form_error(response) == api_message(raw.patch("/functions/fn/deployments/done/status"))
    existing.refresh_from_db()
    assert existing.deployment_uid == ""
    assert Deployment.objects.get(uid="done").status == "ready"


def test_console_and_api_refuse_the_source_of_an_unfinished_upload(web, raw, existing):
    chunk = b"\x1f\x8b" + b"\0" * (5 * 1024 * 1024 - 2)
    first = raw.post(
        "/functions/fn/deployments",
        data={"activate": "false", "entrypoint": "main.py"},
        files={"code": ("code.tar.gz", chunk, "application/gzip")},
        headers={"Content-Range": f"bytes 0-{len(chunk) - 1}/{2 * len(chunk)}"},
    )
    assert first.status_code == 202, first.text
    deployment_id = first.json()["$id"]
    assert Deployment.objects.get(uid=deployment_id).uploaded is False
    api = raw.get(f"/functions/fn/deployments/{deployment_id}/download")
    assert api.status_code == 404 and api.json()["type"] == "deployment_not_found"
    for kind in ("source", "output", "other"):
        page = web.get(f"{BASE}/fn/deployments/{deployment_id}/download/{kind}")
        assert page.status_code == 404


# -- projects and keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "form, message",
    [
        (
            {"name": ""},
            "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
        ),
        (
            {"scopes": ["functions.read", "databases.write"]},
            "Invalid `scopes` param: Value must a valid array no longer than 100 items and Value must be one of (functions.read, functions.write, execution.read, execution.write, users.read, users.write, rules.read, rules.write)",
        ),
        ({"expire": "next tuesday"}, "Invalid `expire` param: Value must be valid date."),
    ],
    ids=["empty name", "unknown scope", "bad expiry"],
)
def test_key_form_rejects_bad_input(web, project, form, message):
    response = web.post(
        "/projects/main/keys", {"name": "Key", "scopes": ["functions.read"], **form}
    )
    assert response.status_code == 400 and form_error(response) == message
    assert not ApiKey.objects.exists()


def test_project_form_rejects_a_taken_id(web, project):
    response = web.post("/projects", {"projectId": "main", "name": "Again"})
    assert response.status_code == 400
    assert form_error(response) == (
        "Project with the requested ID already exists. Try again with a different ID or use "
        "ID.unique() to generate a unique ID."
    )
    assert list(Project.objects.values_list("name", flat=True)) == ["Main project"]


# -- access ---------------------------------------------------------------------------------


def test_pages_of_another_project_are_not_found(web, outsider_project):
    create(outsider_project, "theirs")
    for path in (
        "/projects/outsider/functions",
        "/projects/outsider/functions/theirs/settings",
        "/projects/outsider/keys",
    ):
        assert web.get(path).status_code == 404
    assert web.post("/projects/outsider/functions/theirs/delete").status_code == 404
    assert Function.objects.filter(uid="theirs").exists()


def test_signed_out_visitors_are_sent_to_sign_in(project):
    from django.test import Client

    response = Client().get("/projects/main/functions")
    assert (
        response.status_code == 302
        and response["Location"] == "/login?next=/projects/main/functions"
    )


def test_superusers_may_open_every_project(outsider_project):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    assert client.get("/projects/outsider/functions").status_code == 200
    create(outsider_project, "theirs")
    response = client.post("/projects/outsider/functions/theirs/executions/new", EXECUTE_FORM)
    assert form_error(response).startswith("Deployment not found.")  # acting as the project's admin


def test_the_build_status_endpoint_sends_only_new_output(web, existing):
    Deployment.objects.create(
        project=existing.project, function=existing, uid="d", status="building", build_logs="abcdef"
    )
    url = f"{BASE}/fn/deployments/d/status"
    data = web.get(url, {"since": "4"}).json()
    assert (data["buildLogs"], data["logsFrom"], data["logsLength"]) == ("ef", 4, 6)
    assert (data["status"], data["final"], data["$id"]) == ("building", False, "d")
    assert web.get(url, {"since": "99"}).json()["buildLogs"] == "abcdef"  # lost: start again


def test_console_changes_fire_the_same_events_as_the_api(web, existing):
    Function.objects.filter(pk=existing.pk).update(
        events=["functions.*.create", "functions.*.update"]
    )
    web.post(f"{BASE}/new", {**FUNCTION_FORM, "functionId": "second"})
    web.post(f"{BASE}/second/settings", {**FUNCTION_FORM, "name": "Renamed"})
    runs = Execution.objects.filter(function=existing, trigger="event").order_by("id")
    assert [run.runtime_headers["x-appwrite-event"] for run in runs] == [
        "functions.second.create",
        "functions.second.update",
    ]
