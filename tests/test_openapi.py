"""The OpenAPI description (``GET /v1/openapi.json``): it validates, it describes every route
and method the API serves, the documents the API answers match their models, and a
property-based run of schemathesis over it finds no server error and no answer the
description does not allow."""

import collections
import gzip
import inspect
import time
from datetime import timedelta

import pytest
import schemathesis
from django.test import Client
from django.urls import path
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from functions_app.api import console, declarations, openapi, params, urls
from functions_app.api.base import AppwriteView
from functions_app.api.declarations import Param, clean
from functions_app.api.response_models import MODELS
from functions_app.errors import AppwriteError
from functions_app.models import Deployment, Execution, Function
from functions_app.runtimes import registry
from functions_app.services import (
    catalog,
    documents,
    executor,
    installations,
    sessions,
    storage,
    usage,
    users,
    vcs,
)
from functions_app.services import functions as function_service
from functions_app.services import health as health_service
from functions_app.services import variables as variable_service
from functions_app.services.specifications import CATALOGUE

from .conftest import USER_PASSWORD
from .gitrepos import github_push, signed


def test_the_description_is_valid_openapi():
    validate(openapi.document(urls.urlpatterns))


def test_every_route_and_method_is_described():
    described = openapi.document(urls.urlpatterns)["paths"]
    served = {
        (path_, method.lower()) for path_, _, method, _ in openapi.operations(urls.urlpatterns)
    }
    routes = [p for p in urls.urlpatterns if hasattr(p.callback, "view_class")]
    methods = sum(len(p.callback.view_class.scopes) for p in routes)
    assert len(served) == methods == sum(len(item) for item in described.values())
    assert {(p, m) for p, item in described.items() for m in item} == served
    assert len(described) == len(routes)
    ids = [op["operationId"] for item in described.values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_a_route_without_declarations_fails_the_generator():
    class Bare(AppwriteView):
        scopes = {"GET": "functions.read"}

        def get(self, request):
            raise AssertionError

    with pytest.raises(openapi.Undeclared, match="GET /bare"):
        openapi.document([path("bare", Bare.as_view())])


def test_git_routes_are_described_as_they_are_called():
    paths = openapi.document(urls.urlpatterns)["paths"]
    template = paths["/functions/{functionId}/deployments/template"]["post"]
    body = template["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["repository", "owner", "rootDirectory", "type", "reference"]
    assert "1.8.0" in body["properties"]["version"]["description"]
    execution = paths["/functions/{functionId}/executions"]["post"]["requestBody"]["content"]
    assert (
        "whole minute"
        in execution["application/json"]["schema"]["properties"]["scheduledAt"]["description"]
    )
    webhook = paths["/vcs/webhooks/{installationId}"]["post"]
    assert webhook["security"] == [{}] and webhook["x-appwrite"]["platforms"] == []
    assert "vcsWebhook" in str(webhook["responses"]["200"])
    listing = paths["/functions/templates"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["runtimes", "useCases", "limit", "offset"]


def test_the_service_serves_it_to_anyone(db):
    response = Client().get("/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == openapi.document(urls.urlpatterns)
    assert response.json()["info"]["version"] == "1.8.0"


def test_the_console_links_to_it(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert 'href="/v1/openapi.json"' in client.get("/", follow=True).content.decode()


# -- validators and declarations ------------------------------------------------------------


@pytest.mark.parametrize(
    "validator, schema",
    [
        (params.Text(128), {"type": "string", "maxLength": 128, "minLength": 1}),
        (params.Text(8192, 0), {"type": "string", "maxLength": 8192}),
        (
            params.Range(1, 900),
            {"type": "integer", "format": "int32", "minimum": 1, "maximum": 900},
        ),
        (params.Boolean(), {"type": "boolean"}),
        (params.Boolean(loose=True), {"type": "boolean"}),
        (params.WhiteList(["a", "b"]), {"type": "string", "enum": ["a", "b"]}),
        (
            params.ArrayList(params.WhiteList(["x"]), 100),
            {"type": "array", "items": {"type": "string", "enum": ["x"]}, "maxItems": 100},
        ),
        (params.UID(), {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$"}),
        (params.Email(), {"type": "string", "format": "email", "maxLength": 254}),
        (params.Roles(100), {"type": "array", "items": {"type": "string"}, "maxItems": 100}),
        (params.File(), {"type": "string", "format": "binary"}),
    ],
)
def test_each_validator_knows_its_json_schema(validator, schema):
    described = validator.schema()
    assert {k: v for k, v in described.items() if k != "description"} == schema


def test_every_validator_has_a_schema():
    validators = [
        value
        for value in vars(params).values()
        if isinstance(value, type) and hasattr(value, "clean") and value is not params.Invalid
    ]
    assert validators and all(hasattr(v, "schema") for v in validators)


def test_custom_ids_and_cron_are_described():
    assert OAS30Validator(params.CustomId().schema()).is_valid("unique()")
    assert not OAS30Validator(params.CustomId().schema()).is_valid("-x")
    assert params.Cron().schema()["type"] == "string"


def test_params_are_checked_in_declaration_order_and_extras_ignored():
    declared = (
        Param("b", params.Text(3), required=True),
        Param("a", params.Range(1, 2), default=1),
    )
    with pytest.raises(AppwriteError, match=r'Param "b" is not optional\.'):
        clean(declared, {"a": 99})
    with pytest.raises(AppwriteError, match="Invalid `b` param"):
        clean(declared, {"a": 99, "b": "long"})
    assert clean(declared, {"b": "ok", "total": True, "duration": 1}) == {"b": "ok", "a": 1}


def test_views_declare_their_operations():
    @declarations.operation(
        "thing", "Thing", Param("x", params.Text(3), key="y"), returns={200: "any"}
    )
    def handler(self, request):
        raise AssertionError

    assert handler.operation.name == "thing" and handler.operation.params[0].target == "y"


# -- documents and their models -------------------------------------------------------------


# Each public function of services/documents.py and the model it produces (checked below).
MODEL_OF = {
    "variable": "variable",
    "function": "function",
    "runtime": "runtime",
    "specification": "specification",
    "jwt": "jwt",
    "template_function": "templateFunction",
    "listing": "functionList, deploymentList, ... (the *List models)",
    "deployment": "deployment",
    "headers_list": "headers",
    "execution": "execution",
    "user": "user",
    "account": "user",
    "console_account": "user",
    "target": "target",
    "session": "session",
    "rule": "proxyRule",
    "usage_functions": "usageFunctions",
    "usage_function": "usageFunction",
    "of": "the model of the row's kind",
}


def test_every_document_function_has_a_model():
    public = {
        name
        for name, value in vars(documents).items()
        if inspect.isfunction(value)
        and value.__module__ == documents.__name__
        and not name.startswith("_")
    }
    assert public == set(MODEL_OF)
    assert {m for m in MODEL_OF.values() if " " not in m} <= set(MODELS)


def check(model, document, complete=True):
    """``document`` has the model's properties in order (its required ones, if not
    ``complete``), and every value matches its schema."""
    schema = MODELS[model]
    expected = list(schema["properties"])
    if not complete:
        expected = [name for name in expected if name in schema["required"]]
    assert list(document) == expected, model
    resolver = {"components": {"schemas": MODELS}}
    validator = OAS30Validator({**schema, "components": resolver["components"]})
    errors = [error.message for error in validator.iter_errors(document)]
    assert errors == [], (model, errors)


@pytest.fixture
def rows(project):
    fields = {"name": "Fn", "runtime": "python-3.11", "execute": ["any"], "entrypoint": "m.py"}
    function = function_service.create_function(project, "fn", fields)
    variable_service.create_variable(project, function, "K", "v", True)
    variable_service.create_variable(project, None, "G", "g", False)
    deployment = Deployment.objects.create(
        project=project, function=function, uid="dep1", entrypoint="m.py", source_size=4
    )
    execution = Execution.objects.create(project=project, function=function, uid="exe1")
    scheduled = Execution.objects.create(
        project=project,
        function=function,
        uid="exe2",
        scheduled_at=timezone.now() + timedelta(hours=1),
    )
    person = users.create_user(project, "u1", {"email": "u1@x.io", "password": USER_PASSWORD})
    bare = users.create_user(project, "u2", {"name": "Bare"})
    session, _ = sessions.sign_in(project, "u1@x.io", USER_PASSWORD, ("127.0.0.1", "test"))
    function = Function.objects.get(pk=function.pk)
    return {
        "function": function,
        "deployment": deployment,
        "executions": [execution, scheduled],
        "users": [person, bare],
        "session": session,
        "rule": function.rules.get(),
        "project": project,
    }


def test_documents_match_their_models(rows):
    function = rows["function"]
    check("function", documents.function(function))
    for variable in function.variables.all():
        check("variable", documents.variable(variable))
    check("deployment", documents.deployment(rows["deployment"]), complete=False)
    check("deployment", documents.deployment(rows["deployment"], chunks=True))
    for execution in rows["executions"]:
        check("execution", documents.execution(execution))
        check(
            "execution",
            documents.execution(execution, False, "b", documents.headers_list([("a", "b")])),
        )
    for person in rows["users"]:
        check("user", documents.user(person))
        check("user", documents.account(person), complete=False)
        for target in documents.user(person)["targets"]:
            check("target", target)
    check("session", documents.session(rows["session"], current=True, secret="s"))
    check("proxyRule", documents.rule(rows["rule"]))
    check("proxyRule", documents.rule(rows["rule"], created=True))
    for range_key in usage.RANGES:
        check(
            "usageFunctions",
            documents.usage_functions(usage.project_usage(rows["project"], range_key)),
        )
        check("usageFunction", documents.usage_function(usage.function_usage(function, range_key)))
        check(
            "metric",
            documents.usage_function(usage.function_usage(function, range_key))["builds"][0],
        )


def test_catalogue_documents_match_their_models(rows):
    for runtime in registry().values():
        check("runtime", documents.runtime(runtime))
    for spec in CATALOGUE:
        check("specification", documents.specification(spec))


def test_template_documents_match_their_models(db):
    templates = list(catalog.catalog().values())
    items = [documents.template_function(t, t.runtimes) for t in templates]
    for item in items:
        check("templateFunction", item)
        for runtime in item["runtimes"]:
            check("templateRuntime", runtime)
        for variable in item["variables"]:
            check("templateVariable", variable)
    assert any(item["variables"] for item in items)
    check("templateFunctionList", documents.listing("templates", items, 9))
    check("templateFunction", documents.template_function(templates[0], ()))


def test_git_documents_match_their_models(rows):
    """A template deployment and a VCS deployment (type ``vcs``, with their provider fields),
    and the push webhook's answers: a push deploying, and an event it ignores."""
    function, project = rows["function"], rows["project"]
    template = vcs.create_template_deployment(
        function, "functions", "templates", "starter/python", "tag", "1.*", False
    )
    connection = installations.create_installation(
        project, "Host", "https://git.example.com", provider="github", webhook_secret="s"
    )
    Function.objects.filter(pk=function.pk).update(
        installation_id=connection.uid, provider_repository_id="acme/app", provider_branch="main"
    )
    function.refresh_from_db()
    linked = vcs.create_vcs_deployment(function, "branch", "main", True)
    for deployment in (template, linked):
        assert deployment.type == "vcs"
        check("deployment", documents.deployment(deployment), complete=False)
    body, digest = signed("s", github_push("acme/app", "main", "b" * 40))
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"}
    pushed = vcs.receive_webhook(connection.uid, headers, body)
    assert len(pushed["deployments"]) == 1
    check("vcsWebhook", pushed)
    check("vcsWebhookDeployment", pushed["deployments"][0])
    body, digest = signed("s", {"zen": "Keep it logically awesome."})
    headers = {"X-GitHub-Event": "ping", "X-Hub-Signature-256": f"sha256={digest}"}
    check("vcsWebhook", vcs.receive_webhook(connection.uid, headers, body), complete=False)


def test_account_documents_match_their_models(rows, admin_user):
    check("user", documents.console_account(admin_user), complete=False)
    check("jwt", documents.jwt("a.b.c"))
    check("consoleVariables", console.console_variables())


def test_health_documents_match_their_models(db):
    check("healthStatus", health_service.status("http"))
    check("healthStatus", health_service.storage())
    check("healthTime", health_service.clock())
    check("healthQueue", health_service.check_threshold(0, 5))
    check("healthVersion", health_service.version())
    check("healthAntivirus", health_service.antivirus())
    check("healthStatusList", documents.listing("statuses", health_service.database()))


def test_list_documents_match_their_models(rows):
    function = rows["function"]
    lists = {
        "functionList": ("functions", [documents.function(function)]),
        "variableList": ("variables", [documents.variable(v) for v in function.variables.all()]),
        "userList": ("users", [documents.user(u) for u in rows["users"]]),
        "sessionList": ("sessions", [documents.session(rows["session"])]),
        "proxyRuleList": ("rules", [documents.rule(rows["rule"])]),
        "executionList": ("executions", [documents.execution(e) for e in rows["executions"]]),
    }
    for model, (key, items) in lists.items():
        check(model, documents.listing(key, items, 7))


def test_headers_and_rows_match_their_models(rows):
    for header in documents.headers_list([("content-type", "text/plain"), ("x", 1)]):
        check("headers", header)
    check("deployment", documents.of(rows["deployment"]), complete=False)
    check("user", documents.of(rows["users"][0]))


def test_errors_match_the_error_model():
    check("error", AppwriteError("function_not_found").as_dict("1.8.0"))


# -- the property-based run ------------------------------------------------------------------

EXAMPLES = 40  # per operation: about 3,000 requests over the 91 operations
CHECKS = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
ANONYMOUS = ("sessions.write", "public", "global", "projects.read")
# Django's test server refuses longer request lines itself, with an HTML 414 (gunicorn, in
# production, stops at 8190 bytes with Appwrite's JSON 400: tests/test_errors.py).
TEST_SERVER_URL_LIMIT = 65536


def stub_execute(function, deployment, call, slot=0):
    """The runtime's answer without a container (no Docker in this run)."""
    return executor.Result(200, [("content-type", "text/plain")], b"hello", "log", "", 0.01)


@pytest.fixture
def fuzz_world(raw, project, key, make_user, monkeypatch):
    """A function with an active ready deployment whose source and output exist (runs go to
    ``stub_execute``), linked to a repository of a git connection (VCS deployments are queued,
    never fetched: no worker runs), a finished execution, a function and a project variable, a
    user, a signed-in user, the function's rule, and a function whose ID is ``usage``: the IDs
    the run puts in paths (and in bodies) for most of its requests."""
    monkeypatch.setattr(executor, "execute", stub_execute)
    body = {"name": "Fn", "runtime": "python-3.11", "execute": ["any"], "entrypoint": "main.py"}
    for function_id in ("fn", "usage"):
        assert raw.post("/functions", json={**body, "functionId": function_id}).status_code == 201
    connection = installations.create_installation(
        project, "Host", "https://git.example.com", provider="github", webhook_secret="s"
    )
    Function.objects.filter(uid="fn").update(
        installation_id=connection.uid, provider_repository_id="acme/app", provider_branch="main"
    )
    function = Function.objects.get(uid="fn")
    deployment = Deployment.objects.create(
        project=project, function=function, uid="dep1", entrypoint="main.py", status="ready"
    )
    for path_ in (storage.source_path(deployment, True), storage.build_path(deployment, True)):
        path_.write_bytes(gzip.compress(b"code"))
    deployment.mark_uploaded(str(storage.source_path(deployment)), 24)
    function.set_active_deployment(deployment)
    Execution.objects.create(project=project, function=function, uid="exe1", status="completed")
    variable = raw.post("/functions/fn/variables", json={"key": "K", "value": "v"}).json()
    glob = raw.post("/project/variables", json={"key": "G", "value": "g"}).json()
    assert raw.post("/users", json={"userId": "u1", "email": "u1@x.io"}).status_code == 201
    make_user("me")
    _, token = sessions.sign_in(project, "me@example.com", USER_PASSWORD, ("127.0.0.1", "t"))
    ids = {
        "functionId": "fn",
        "deploymentId": "dep1",
        "buildId": "dep1",
        "executionId": "exe1",
        "variableId": variable["$id"],
        "projectVariableId": glob["$id"],
        "userId": "u1",
        "ruleId": function.rules.get().uid,
        "sessionId": "current",
        "name": "v1-builds",
        "installationId": connection.uid,
        "templateId": "starter",
    }
    return ids, {"key": {"X-Appwrite-Key": key}, "account": {"X-Appwrite-Session": token}}


def outcome(response):
    """``201``, or ``404 function_not_found`` for an error."""
    if response.status_code < 400:
        return str(response.status_code)
    try:
        return f"{response.status_code} {response.json().get('type')}"
    except ValueError:
        return f"{response.status_code} (not JSON)"


def server_error(response):
    """A 5xx, but the health queues' 503 (a threshold hit: what those routes are for)."""
    return response.status_code >= 500 and outcome(response) != "503 health_queue_size_exceeded"


def run_order(operation):
    """Reads, creations, updates, then deletes, the deepest paths first (so a function goes
    after its executions, variables and deployments)."""
    rank = {"GET": 0, "POST": 1, "DELETE": 3}.get(operation.method.upper(), 2)
    return rank, -operation.path.count("/") if rank == 3 else 0, operation.path


def known_ids(operation, ids):
    """The fixture's IDs for the operation's path parameters."""
    ids = dict(ids)
    if operation.path.startswith("/project/"):
        ids["variableId"] = ids["projectVariableId"]
    return {name: value for name, value in ids.items() if "{" + name + "}" in operation.path}


def with_known_ids(case, ids):
    """The fixture's IDs in a JSON body's ID fields too (``deploymentId``, ``functionId``)."""
    if isinstance(case.body, dict):
        case.body.update({k: ids[k] for k in ("deploymentId", "functionId") if k in case.body})
    return case


def strategies(operation, ids):
    fixed = known_ids(operation, ids)
    found = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed).map(
            lambda case: with_known_ids(case, ids)
        ),
    ]
    if operation.path_parameters or operation.query or operation.body:
        found.append(operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed))
        found.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(found)


def exercise(operation, base_url, headers, ids, results):
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategies(operation, ids))
    def run(case):
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        if response.status_code == 414 and len(response.request.url) > TEST_SERVER_URL_LIMIT:
            results["too long"] += 1  # the test server's own refusal (HTML), not the API's
            return
        results["statuses"][operation.label][outcome(response)] += 1
        try:
            case.validate_response(response, checks=CHECKS)
            assert not server_error(response), "server error"
        except (Exception, BaseExceptionGroup) as failure:  # every failed check is a finding
            results["failures"].append((operation.label, outcome(response), str(failure)[:900]))

    run()


def test_schemathesis_finds_no_server_error_and_no_undescribed_answer(live_server, fuzz_world):
    ids, credentials = fuzz_world
    described = openapi.document(urls.urlpatterns)
    schema = schemathesis.openapi.from_dict(described)
    schema.config.generation.update(with_security_parameters=False)  # the run's own credentials
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=run_order)
    results = {
        "statuses": collections.defaultdict(collections.Counter),
        "failures": [],
        "too long": 0,
    }
    started = time.monotonic()
    for operation in operations:
        scope = described["paths"][operation.path][operation.method.lower()]["x-appwrite"]
        headers = {"X-Appwrite-Project": "main"} | credentials.get(
            "account" if scope["scope"] == "account" else "key", {}
        )
        if scope["scope"] in ANONYMOUS:
            headers = {"X-Appwrite-Project": "main"}
        exercise(operation, live_server.url + "/v1", headers, ids, results)
    report(results, time.monotonic() - started)
    assert results["failures"] == []
    requests = sum(sum(c.values()) for c in results["statuses"].values())
    assert requests >= 2000 and len(results["statuses"]) == len(operations)
    succeeded = [
        label for label, c in results["statuses"].items() if any(int(s.split()[0]) < 300 for s in c)
    ]
    assert len(succeeded) >= len(operations) * 3 // 4, sorted(
        set(results["statuses"]) - set(succeeded)
    )


def report(results, seconds):
    requests = sum(sum(c.values()) for c in results["statuses"].values())
    print(
        f"\nschemathesis: {requests} requests over {len(results['statuses'])} operations in "
        f"{seconds:.0f} s ({results['too long']} more refused by the test server as too long)"
    )
    for label, counts in sorted(results["statuses"].items()):
        print(f"  {label}: {dict(sorted(counts.items()))}")
    for failure in results["failures"][:40]:
        print("FAILURE", *failure)
