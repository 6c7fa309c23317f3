"""Every template of the shipped catalog, in every runtime it lists (and this host offers), is
deployed the way a client does it (the function created from the template's document, its
variables set, ``createTemplateDeployment`` with the catalog's owner, repository, root directory
and version), built in a real container and executed: each answers as its instructions say."""

import hashlib
import hmac
import json

import pytest
import requests
from appwrite.enums.template_reference_type import TemplateReferenceType

from functions_app.services import catalog
from functions_app.services import functions as functions_service

from .deploy import wait_deployment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine", "api_socket")]

WEBHOOK_SECRET = "catalog-secret"
VARIABLES = {
    "webhook-receiver": {"WEBHOOK_SECRET": WEBHOOK_SECRET},
    "scheduled-cleanup": {"RETENTION_DAYS": "0"},
}


def sign(body):
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()


WEBHOOK_BODY = json.dumps({"action": "opened", "number": 7})
# template ID -> requests (method, path, body, headers) and what each must answer
CHECKS = {
    "starter": [
        (("GET", "/ping", "", {}), 200, lambda body: body == "Pong"),
        (
            ("GET", "/hello?x=1", "", {}),
            200,
            lambda body: "Hello from" in json.loads(body)["message"],
        ),
    ],
    "json-api": [
        (
            ("POST", "/items", '{"name": "pen"}', {"content-type": "application/json"}),
            201,
            lambda body: json.loads(body)["name"] == "pen",
        ),
        (("GET", "/nope", "", {}), 404, lambda body: "error" in json.loads(body)),
        (("PUT", "/items", "", {}), 405, lambda body: "error" in json.loads(body)),
        (("POST", "/items", "not json", {}), 400, lambda body: "error" in json.loads(body)),
    ],
    "webhook-receiver": [
        (
            (
                "POST",
                "/",
                WEBHOOK_BODY,
                {"x-hub-signature-256": sign(WEBHOOK_BODY), "x-github-event": "pull_request"},
            ),
            200,
            lambda body: json.loads(body) == {"ok": True, "event": "pull_request"},
        ),
        (
            ("POST", "/", WEBHOOK_BODY, {"x-hub-signature-256": "sha256=" + "0" * 64}),
            401,
            lambda body: json.loads(body)["ok"] is False,
        ),
    ],
    "scheduled-cleanup": [
        (("GET", "/", "", {}), 200, lambda body: json.loads(body)["functions"] >= 1),
    ],
    "api-caller": [
        (("GET", "/", "", {}), 200, lambda body: json.loads(body)["total"] >= 1),
    ],
}


def offered_cases():
    available = {rt.id for rt in functions_service.available_runtimes()}
    return [
        (template, runtime)
        for template in catalog.catalog().values()
        for runtime in catalog.offered(template, available)
    ]


def test_every_catalog_template_has_checks():
    assert set(CHECKS) == set(catalog.catalog())


def create_from_template(functions, document, runtime, function_id):
    """What a client does with a TemplateFunction document and one of its runtimes."""
    functions.create(
        function_id,
        f"{document['name']} ({runtime['name']})",
        runtime["name"],
        execute=document["permissions"],
        events=document["events"],
        schedule=document["cron"],
        timeout=document["timeout"],
        entrypoint=runtime["entrypoint"],
        commands=runtime["commands"],
        scopes=document["scopes"],
    )
    for variable in document["variables"]:
        value = VARIABLES.get(document["id"], {}).get(variable["name"], variable["value"])
        if value or variable["required"]:
            functions.create_variable(
                function_id, variable["name"], value, secret=variable["secret"]
            )
    return functions.create_template_deployment(
        function_id,
        document["providerRepositoryId"],
        document["providerOwner"],
        runtime["providerRootDirectory"],
        TemplateReferenceType.TAG,
        document["providerVersion"],
        activate=True,
    )


def test_every_catalog_template_deploys_and_runs_in_every_runtime(functions, live_server, project):
    listing = requests.get(
        f"{live_server.url}/v1/functions/templates",
        params={"limit": 100},
        headers={"X-Appwrite-Project": project.id},
        timeout=30,
    ).json()
    documents = {document["id"]: document for document in listing["templates"]}
    started = {}
    for template, runtime in offered_cases():
        document = documents[template.id]
        entry = next(rt for rt in document["runtimes"] if rt["name"] == runtime.name)
        function_id = f"{template.id}-{runtime.name}".replace(".", "-")[:36]
        deployment = create_from_template(functions, document, entry, function_id)
        assert deployment.type == "vcs" and deployment.providerrepositoryname == "templates"
        started[(template.id, runtime.name)] = (function_id, deployment.id)
    assert len(started) >= len(catalog.catalog())

    failures = []
    for (template_id, runtime_id), (function_id, deployment_id) in started.items():
        ready = wait_deployment(functions, function_id, deployment_id, timeout=900)
        if ready.status.value != "ready":
            failures.append(
                f"{template_id} on {runtime_id}: build {ready.status.value}\n{ready.buildlogs[-3000:]}"
            )
            continue
        wait_for(
            lambda fid=function_id, did=deployment_id: functions.get(fid).deploymentid == did,
            timeout=30,
        )
        for (method, path, body, headers), status, check in CHECKS[template_id]:
            execution = functions.create_execution(
                function_id, body=body, path=path, method=method, headers=headers
            )
            answered = (execution.responsestatuscode, execution.responsebody)
            if execution.responsestatuscode != status or not check(execution.responsebody):
                failures.append(
                    f"{template_id} on {runtime_id}: {method} {path} answered {answered}; "
                    f"errors: {execution.errors[-2000:]}"
                )
    assert not failures, "\n\n".join(failures)
