"""The template catalog: ``GET /v1/functions/templates`` and ``/templates/{templateId}`` in
Appwrite 1.8's ``TemplateFunction`` model with its filters, the catalog's own consistency (every
manifest valid by the API's validators, every code folder used, nothing a link), and
``createTemplateDeployment``'s checks. Builds are in ``test_catalog_templates.py``."""

import pytest
import requests
from appwrite.enums.runtime import Runtime
from appwrite.enums.template_reference_type import TemplateReferenceType
from appwrite.models.deployment import Deployment as DeploymentModel

from functions_app.api import params as p
from functions_app.models import Deployment
from functions_app.services import archives, catalog, storage
from functions_app.services.callers import SCOPES_ALL

from .helpers import expect_error, expect_raw_error

TEMPLATE_KEYS = [
    "icon",
    "id",
    "name",
    "tagline",
    "permissions",
    "events",
    "cron",
    "timeout",
    "useCases",
    "runtimes",
    "instructions",
    "vcsProvider",
    "providerRepositoryId",
    "providerOwner",
    "providerVersion",
    "variables",
    "scopes",
]
RUNTIME_KEYS = ["name", "commands", "entrypoint", "providerRootDirectory"]
VARIABLE_KEYS = ["name", "description", "value", "secret", "placeholder", "required", "type"]


def get(live_server, path, project="main", **params):
    headers = {"X-Appwrite-Project": project} if project else {}
    return requests.get(f"{live_server.url}/v1{path}", params=params, headers=headers, timeout=30)


def test_list_is_the_template_function_model(live_server, project):
    body = get(live_server, "/functions/templates").json()
    assert list(body) == ["total", "templates"]
    assert body["total"] == len(body["templates"]) == len(catalog.catalog())
    ids = [template["id"] for template in body["templates"]]
    assert ids[0] == "starter"  # best score first
    for template in body["templates"]:
        assert list(template) == TEMPLATE_KEYS
        assert isinstance(template["timeout"], int) and template["runtimes"]
        for runtime in template["runtimes"]:
            assert list(runtime) == RUNTIME_KEYS
        for variable in template["variables"]:
            assert list(variable) == VARIABLE_KEYS
            assert isinstance(variable["secret"], bool) and isinstance(variable["required"], bool)
        assert (template["providerOwner"], template["providerRepositoryId"]) == (
            "functions",
            "templates",
        )


def test_list_needs_no_project_but_get_does(live_server, project):
    assert get(live_server, "/functions/templates", project=None).status_code == 200
    expect_raw_error(
        get(live_server, "/functions/templates/starter", project=None),
        401,
        "general_access_forbidden",
    )


def test_filters_and_pages(live_server, project):
    def ids(**params):
        body = get(live_server, "/functions/templates", **params).json()
        return body["total"], [template["id"] for template in body["templates"]]

    assert ids(**{"runtimes[]": ["cpp-17"]}) == (1, ["starter"])
    total, found = ids(**{"useCases[]": ["utilities"]})
    assert found == ["scheduled-cleanup"]
    assert ids(**{"useCases[]": ["starter"], "runtimes[]": ["ruby-3.3"]}) == (
        2,
        ["starter", "json-api"],
    )
    everything, all_ids = ids()
    assert ids(limit=2, offset=1) == (everything, all_ids[1:3])
    assert ids(**{"runtimes[]": ["dart-3.5"]}) == (0, [])  # a known runtime no template lists


@pytest.mark.parametrize(
    "params, message",
    [
        ({"limit": 5001}, "Invalid `limit` param: Value must be a valid range between 1 and 5,000"),
        ({"limit": 0}, "Invalid `limit` param: Value must be a valid range between 1 and 5,000"),
        (
            {"offset": 5001},
            "Invalid `offset` param: Value must be a valid range between 0 and 5,000",
        ),
        ({"runtimes[]": ["cobol-1"]}, None),
        ({"useCases[]": ["games"]}, None),
    ],
)
def test_bad_filters_are_400(live_server, project, params, message):
    expect_raw_error(
        get(live_server, "/functions/templates", **params), 400, "general_argument_invalid", message
    )


def test_get_one_and_an_unknown_one(live_server, project):
    body = get(live_server, "/functions/templates/webhook-receiver").json()
    assert list(body) == TEMPLATE_KEYS and body["id"] == "webhook-receiver"
    secret = next(v for v in body["variables"] if v["name"] == "WEBHOOK_SECRET")
    assert secret["secret"] and secret["required"] and secret["type"] == "password"
    expect_raw_error(
        get(live_server, "/functions/templates/nope"),
        404,
        "function_template_not_found",
        "Function Template with the requested ID could not be found.",
    )


def test_templates_list_only_runtimes_this_instance_offers(live_server, project, settings):
    settings.FUNCTIONS_RUNTIMES = ["cpp-20"]
    body = get(live_server, "/functions/templates").json()
    assert [t["id"] for t in body["templates"]] == ["starter"]
    assert [rt["name"] for rt in body["templates"][0]["runtimes"]] == ["cpp-20"]
    expect_raw_error(
        get(live_server, "/functions/templates/json-api"), 404, "function_template_not_found"
    )


# -- the catalog's own consistency ----------------------------------------------------------


@pytest.mark.parametrize("template", list(catalog.catalog().values()), ids=lambda t: t.id)
def test_manifest_is_valid_for_the_api(template):
    p.Cron().clean(template.cron)
    p.FunctionEvents().clean(list(template.events))
    p.Roles().clean(list(template.permissions))
    p.Range(1, 900).clean(template.timeout)
    assert set(template.scopes) <= set(SCOPES_ALL)
    for variable in template.variables:
        p.VariableKey().clean(variable.name)
        assert not (variable.secret and variable.value)  # a default secret is no secret
    for runtime in template.runtimes:
        p.Text(1028).clean(runtime.entrypoint)
        p.Text(8192, 0).clean(runtime.commands)


def test_every_code_folder_is_used_and_packs_safely(tmp_path):
    used = {rt.root for template in catalog.catalog().values() for rt in template.runtimes}
    folders = {
        f"{template.name}/{folder.name}"
        for template in catalog.ROOT.iterdir()
        if template.is_dir()
        for folder in template.iterdir()
        if folder.is_dir()
    }
    assert folders == used
    for root in sorted(used):
        target = tmp_path / (root.replace("/", "-") + ".tar.gz")
        catalog.pack(catalog.code_folder(root), target)
        count, _ = archives.inspect(target)
        assert count >= 1
        first = target.read_bytes()
        catalog.pack(catalog.code_folder(root), target)
        assert target.read_bytes() == first  # the same files always pack the same


# -- createTemplateDeployment -----------------------------------------------------------------


def test_a_catalog_template_deployment_is_packed_from_the_catalog(functions, project):
    functions.create("t", "T", Runtime.PYTHON_3_11, entrypoint="src/main.py")
    deployment = functions.create_template_deployment(
        "t", "templates", "functions", "starter/python", TemplateReferenceType.TAG, "1.*"
    )
    assert isinstance(deployment, DeploymentModel)
    assert (deployment.type, deployment.status.value, deployment.activate) == (
        "vcs",
        "waiting",
        False,
    )
    assert (deployment.providerrepositoryowner, deployment.providerrepositoryname) == (
        "functions",
        "templates",
    )
    assert len(deployment.providercommithash) == 40 and deployment.sourcesize > 0
    row = Deployment.objects.get(uid=deployment.id)
    assert not row.git_source and row.uploaded  # served offline: no fetch
    count, _ = archives.inspect(storage.source_path(row))
    assert count == 2  # requirements.txt and src/main.py
    assert functions.get("t").latestdeploymentid == deployment.id


def test_the_older_version_form_is_accepted(raw, project, functions):
    functions.create("t", "T", Runtime.NODE_18_0, entrypoint="src/main.js")
    response = raw.post(
        "/functions/t/deployments/template",
        json={
            "repository": "templates",
            "owner": "functions",
            "rootDirectory": "json-api/node",
            "version": "1.*",
            "activate": True,
        },
    )
    assert response.status_code == 202, response.text
    assert response.json()["activate"] is True and response.json()["type"] == "vcs"


def test_template_deployment_errors(functions, raw, project):
    functions.create("t", "T", Runtime.PYTHON_3_11, entrypoint="src/main.py")
    functions.create("noentry", "No entrypoint", Runtime.PYTHON_3_11)
    body = {"repository": "templates", "owner": "functions", "rootDirectory": "starter/python"}
    expect_raw_error(
        raw.post("/functions/t/deployments/template", json={"owner": "functions"}),
        400,
        "general_argument_invalid",
        'Param "repository" is not optional.',
    )
    expect_raw_error(
        raw.post("/functions/t/deployments/template", json=body),
        400,
        "general_argument_invalid",
        'Param "type" is not optional.',
    )
    expect_raw_error(
        raw.post(
            "/functions/t/deployments/template", json=body | {"type": "release", "reference": "1"}
        ),
        400,
        "general_argument_invalid",
        "Invalid `type` param: Value must be one of (branch, commit, tag)",
    )
    expect_raw_error(
        raw.post(
            "/functions/ghost/deployments/template", json=body | {"type": "tag", "reference": ""}
        ),
        404,
        "function_not_found",
    )
    expect_error(
        lambda: functions.create_template_deployment(
            "noentry", "templates", "functions", "starter/python", TemplateReferenceType.TAG, "1.*"
        ),
        404,
        "function_entrypoint_missing",
    )
    error = expect_error(
        lambda: functions.create_template_deployment(
            "t", "templates", "functions", "starter/cobol", TemplateReferenceType.TAG, "1.*"
        ),
        400,
        "general_argument_invalid",
    )
    assert "starter/python" in error.message  # it lists the folders there are
    error = expect_error(
        lambda: functions.create_template_deployment(
            "t", "templates", "someone", "../../etc", TemplateReferenceType.BRANCH, "main"
        ),
        400,
        "general_argument_invalid",
    )
    assert "rootDirectory" in error.message
    assert not Deployment.objects.exists()
