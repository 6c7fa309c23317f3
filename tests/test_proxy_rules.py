"""/v1/proxy/rules: the project's function domains as Appwrite proxy rules. Python SDK 16 has
no Proxy service (it is console-only), so this is raw HTTP, checked against a pydantic model
written from Appwrite 1.8's ProxyRule (field order included); queries are the SDK's ``Query``
strings, sent as appwrite-cli 12 sends them."""

import html
import json
import re
from urllib.parse import urlparse

import pytest
import requests
from appwrite.query import Query
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from functions_app.models import ApiKey, Execution, Function, Rule

from .conftest import Raw
from .deploy import deploy_echo, domain_execution
from .helpers import expect_raw_error

pytest_plugins = ["tests.browser"]  # the signed-in console client (``web``)

NOT_ALLOWED = "This domain name is not allowed. Please use a different domain."
BAD_DOMAIN = "Invalid `domain` param: Value must be a valid domain"
RULE_FIELDS = [
    "$id",
    "$createdAt",
    "$updatedAt",
    "domain",
    "type",
    "trigger",
    "redirectUrl",
    "redirectStatusCode",
    "deploymentId",
    "deploymentResourceType",
    "deploymentResourceId",
    "deploymentVcsProviderBranch",
    "status",
    "logs",
    "renewAt",
]
DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


class ProxyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    id: StrictStr
    createdAt: StrictStr
    updatedAt: StrictStr
    domain: StrictStr
    type: StrictStr
    trigger: StrictStr
    redirectUrl: StrictStr
    redirectStatusCode: StrictInt
    deploymentId: StrictStr
    deploymentResourceType: StrictStr
    deploymentResourceId: StrictStr
    deploymentVcsProviderBranch: StrictStr
    status: StrictStr
    logs: StrictStr
    renewAt: StrictStr


def check_rule(body):
    assert list(body) == RULE_FIELDS
    ProxyRule.model_validate({key.lstrip("$"): value for key, value in body.items()})
    assert body["type"] in ("api", "deployment", "redirect")
    assert body["status"] in ("created", "verifying", "verified", "unverified")
    assert body["deploymentResourceType"] in ("function", "site", "")
    assert DATETIME.fullmatch(body["$createdAt"]) and DATETIME.fullmatch(body["$updatedAt"])
    return body


def create(raw, domain, function_id="fn", **extra):
    return raw.post(
        "/proxy/rules/function", json={"domain": domain, "functionId": function_id, **extra}
    )


def created(raw, domain, function_id="fn", **extra):
    response = create(raw, domain, function_id, **extra)
    assert response.status_code == 201, response.text
    return check_rule(response.json())


def as_listed(rule):
    """A create response as list and get show it (no certificate: ``renewAt`` "")."""
    return {**rule, "renewAt": ""}


def listing(raw, *queries, search=None):
    """GET /proxy/rules with ``queries[0..n]`` as the CLI sends them."""
    params = {f"queries[{i}]": query for i, query in enumerate(queries)}
    if search is not None:
        params["search"] = search
    response = raw.get("/proxy/rules", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["total", "rules"]
    for rule in body["rules"]:
        check_rule(rule)
    return body


def cli_url_lookup(raw, function_id):
    """What ``appwrite push function`` does after a deployment is ready."""
    return listing(
        raw,
        Query.limit(1),
        Query.equal("deploymentResourceType", ["function"]),
        Query.equal("deploymentResourceId", [function_id]),
        Query.equal("trigger", ["manual"]),
    )


def state():
    return sorted(Rule.objects.values_list("uid", "domain", "function_id", "trigger", "branch"))


@pytest.fixture
def fn(functions):
    functions.create("fn", "Fn", "python-3.11", execute=["any"])
    return Function.objects.get(uid="fn")


def test_create_as_the_cli_does_and_find_the_url_as_it_does(raw, functions, fn):
    assert cli_url_lookup(raw, "fn") == {
        "total": 0,
        "rules": [],
    }  # the automatic rule is not manual
    rule = created(raw, "6564e5b1a2c3d4e5f607.functions.localhost")  # <ID.unique()>.<domain>
    assert re.fullmatch(r"[0-9a-f]{20}", rule["$id"])
    assert {k: rule[k] for k in RULE_FIELDS[3:]} == {
        "domain": "6564e5b1a2c3d4e5f607.functions.localhost",
        "type": "deployment",
        "trigger": "manual",
        "redirectUrl": "",
        "redirectStatusCode": 301,
        "deploymentId": "",
        "deploymentResourceType": "function",
        "deploymentResourceId": "fn",
        "deploymentVcsProviderBranch": "",
        "status": "verified",
        "logs": "",
        "renewAt": "datetime",  # Appwrite 1.8.0's create response: the model's default
    }
    found = cli_url_lookup(raw, "fn")
    assert found["total"] == 1 and found["rules"][0]["domain"] == rule["domain"]
    assert found["rules"][0] == as_listed(rule)  # list and get: no certificate, ""
    created(raw, "second.functions.localhost")
    again = cli_url_lookup(raw, "fn")
    assert again["total"] == 2 and len(again["rules"]) == 1  # the CLI prints no URL then


def test_the_automatic_rule_is_listed_with_trigger_deployment(raw, fn):
    body = listing(raw)
    assert body["total"] == 1
    (rule,) = body["rules"]
    assert rule["domain"] == "fn-main.functions.localhost"
    assert (rule["trigger"], rule["type"], rule["status"]) == (
        "deployment",
        "deployment",
        "verified",
    )
    assert rule["deploymentResourceId"] == "fn" and rule["renewAt"] == ""
    assert rule == check_rule(raw.get(f"/proxy/rules/{rule['$id']}").json())


def test_deployment_id_follows_the_active_deployment(raw, fn):
    rule = created(raw, "follow.functions.localhost")
    fn.set_active_deployment(None)
    Function.objects.filter(pk=fn.pk).update(deployment_uid="dep1")
    assert raw.get(f"/proxy/rules/{rule['$id']}").json()["deploymentId"] == "dep1"
    assert (
        listing(raw, Query.equal("deploymentId", ["dep1"]))["total"] == 2
    )  # and the automatic one


def test_list_filters_search_order_and_pages(raw, functions, fn):
    functions.create("other", "Other", "python-3.11")
    a = as_listed(created(raw, "a.example.com", branch="main"))
    b = as_listed(created(raw, "b.example.com", "other", branch="dev"))
    c = as_listed(created(raw, "c.functions.localhost"))
    everything = listing(raw)
    assert everything["total"] == 5  # two automatic rules and three manual ones
    assert listing(raw, Query.equal("domain", ["b.example.com"]))["rules"] == [b]
    assert listing(raw, Query.equal("deploymentVcsProviderBranch", ["dev"]))["rules"] == [b]
    manual = listing(raw, Query.equal("trigger", ["manual"]), Query.order_desc("$sequence"))
    assert [r["$id"] for r in manual["rules"]] == [c["$id"], b["$id"], a["$id"]]
    assert listing(raw, Query.equal("type", ["deployment"]))["total"] == 5
    assert listing(raw, Query.equal("deploymentResourceType", ["function"]))["total"] == 5
    assert listing(raw, Query.equal("$id", [a["$id"]]))["rules"] == [a]
    assert listing(raw, Query.greater_than("$createdAt", a["$createdAt"]))["total"] >= 2
    page = listing(raw, Query.equal("trigger", ["manual"]), Query.limit(1), Query.offset(1))
    assert page["total"] == 3 and page["rules"] == [b]  # total ignores limit and offset
    after = listing(raw, Query.equal("trigger", ["manual"]), Query.cursor_after(a["$id"]))
    assert after["rules"] == [b, c]
    assert listing(raw, search="example.com")["total"] == 2
    assert listing(raw, search="dev")["rules"] == [b]  # the branch
    assert listing(raw, search=c["$id"])["rules"] == [c]  # the ID
    assert listing(raw, Query.limit(1), search="example")["total"] == 2  # search counts in total
    response = raw.get("/proxy/rules", params={"queries[0]": Query.equal("redirectUrl", [""])})
    expect_raw_error(response, 400, "general_argument_invalid")
    response = raw.get("/proxy/rules", params={"queries[0]": Query.cursor_after("missing")})
    expect_raw_error(
        response,
        400,
        "general_cursor_not_found",
        "Rule 'missing' for the 'cursor' value not found.",
    )
    response = raw.get("/proxy/rules", params={"search": "s" * 257})
    expect_raw_error(response, 400, "general_argument_invalid")


def test_get_and_delete(raw, fn, live_server):
    rule = created(raw, "gone.functions.localhost")
    assert check_rule(raw.get(f"/proxy/rules/{rule['$id']}").json()) == as_listed(rule)
    response = raw.delete(f"/proxy/rules/{rule['$id']}")
    assert response.status_code == 204 and response.content == b""
    for method in ("get", "delete"):
        response = getattr(raw, method)(f"/proxy/rules/{rule['$id']}")
        expect_raw_error(response, 404, "rule_not_found")
    assert listing(raw)["total"] == 1
    expect_raw_error(raw.get("/proxy/rules/missing"), 404, "rule_not_found")
    expect_raw_error(raw.get("/proxy/rules/function"), 404, "rule_not_found")
    expect_raw_error(raw.get("/proxy/rules/-bad"), 400, "general_argument_invalid")


BAD_DOMAINS = [
    "under_score.example.com",
    "a..b.com",
    "trailing.dot.",
    "trailing-",
    "-leading.com",
    "label-.com",
    "x" * 64 + ".com",
    ".".join(["a" * 63] * 4) + ".com",
    "spa ce.com",
    "ünicode.com",
    "",
    123,
    ["a.com"],
]


@pytest.mark.parametrize("domain", BAD_DOMAINS, ids=repr)
def test_an_invalid_domain_is_refused(raw, fn, domain):
    before = state()
    expect_raw_error(create(raw, domain, "missing"), 400, "general_argument_invalid", BAD_DOMAIN)
    assert state() == before


@pytest.mark.parametrize(
    "domain",
    [
        "a.b.functions.localhost",  # more than one label under FUNCTIONS_DOMAIN
        "fn.main.functions.localhost",  # the qualified form stays the function's
        "functions.localhost",
        "localhost",
        "appwrite",
        "127.0.0.1",
        "denied.example.com",  # CUSTOM_DOMAIN_DENY_LIST
        "api.example.org",  # PUBLIC_URL's host
        "console.example.net",  # in ALLOWED_HOSTS
    ],
)
def test_a_denied_domain_is_refused_before_the_function_is_looked_up(raw, fn, settings, domain):
    settings.CUSTOM_DOMAIN_DENY_LIST = ["Denied.example.com"]
    settings.PUBLIC_URL = "https://api.example.org"
    settings.ALLOWED_HOSTS = ["*", ".console.example.net"]
    before = state()
    for function_id in ("fn", "missing"):
        response = create(raw, domain, function_id)
        expect_raw_error(response, 400, "general_argument_invalid", NOT_ALLOWED)
    assert state() == before


def test_param_errors_in_appwrite_order(raw, fn):
    before = state()
    cases = [
        ({}, 'Param "domain" is not optional.'),
        ({"domain": "ok.example.com"}, 'Param "functionId" is not optional.'),
        ({"domain": "bad_", "functionId": "-x"}, BAD_DOMAIN),
        (
            {"domain": "ok.example.com", "functionId": "-x"},
            "Invalid `functionId` param: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore",
        ),
        (
            {"domain": "ok.example.com", "functionId": "fn", "branch": "b" * 256},
            "Invalid `branch` param: Value must be a valid string and no longer than 255 chars",
        ),
    ]
    for body, message in cases:
        response = raw.post("/proxy/rules/function", json=body)
        expect_raw_error(response, 400, "general_argument_invalid", message)
    assert state() == before


def test_unknown_function_and_taken_domains(
    raw, fn, outsider_functions, live_server, outsider_project
):
    outsider_functions.create("theirs", "Theirs", "python-3.11")
    theirs_key = ApiKey.issue(outsider_project, "Rules", ["rules.read", "rules.write"])[1]
    theirs = Raw(live_server.url, outsider_project.id, theirs_key)
    taken = created(theirs, "taken.example.com", "theirs")
    before = state()
    for function_id in ("missing", "theirs"):  # another project's function is no resource here
        expect_raw_error(
            create(raw, "free.example.com", function_id), 404, "rule_resource_not_found"
        )
        expect_raw_error(
            create(raw, "taken.example.com", function_id), 404, "rule_resource_not_found"
        )
    message = "Domain is already used. Please try again with a different domain."
    for domain in (
        "taken.example.com",
        "TAKEN.Example.com",
        "fn-main.functions.localhost",
        "theirs-outsider.functions.localhost",
    ):
        expect_raw_error(create(raw, domain), 409, "rule_already_exists", message)
    assert state() == before
    assert taken["domain"] == "taken.example.com"
    mixed = created(raw, "Mixed.Example.com")
    assert mixed["domain"] == "mixed.example.com" and mixed["status"] == "created"


def test_projects_see_only_their_rules(raw, fn, outsider_functions, live_server, outsider_project):
    ours = created(raw, "ours.example.com")
    outsider_functions.create("theirs", "Theirs", "python-3.11")
    theirs_key = ApiKey.issue(outsider_project, "Rules", ["rules.read", "rules.write"])[1]
    theirs = Raw(live_server.url, outsider_project.id, theirs_key)
    mine = created(theirs, "theirs.example.com", "theirs")
    for path in (f"/proxy/rules/{ours['$id']}",):
        expect_raw_error(theirs.get(path), 404, "rule_not_found")
        expect_raw_error(theirs.delete(path), 404, "rule_not_found")
    expect_raw_error(raw.get(f"/proxy/rules/{mine['$id']}"), 404, "rule_not_found")
    assert {r["domain"] for r in listing(theirs)["rules"]} == {
        "theirs-outsider.functions.localhost",
        "theirs.example.com",
    }
    assert listing(theirs, Query.equal("$id", [ours["$id"]]))["total"] == 0
    assert listing(theirs, search="ours")["total"] == 0
    assert raw.get(f"/proxy/rules/{ours['$id']}").status_code == 200  # still there


def test_scopes(live_server, project, fn):
    rule = Rule.objects.get()
    read_only = Raw(live_server.url, project.id, ApiKey.issue(project, "R", ["rules.read"])[1])
    functions_only = Raw(
        live_server.url, project.id, ApiKey.issue(project, "F", ["functions.read"])[1]
    )
    missing = 'User (role: applications) missing scopes (["{}"])'
    for response in (
        create(read_only, "x.example.com"),
        read_only.delete(f"/proxy/rules/{rule.uid}"),
    ):
        expect_raw_error(response, 401, "general_unauthorized_scope", missing.format("rules.write"))
    for response in (
        functions_only.get("/proxy/rules"),
        functions_only.get(f"/proxy/rules/{rule.uid}"),
    ):
        expect_raw_error(response, 401, "general_unauthorized_scope", missing.format("rules.read"))
    assert read_only.get("/proxy/rules").json()["total"] == 1
    guest = Raw(live_server.url, project.id, "")
    guest.headers.pop("X-Appwrite-Key")
    expect_raw_error(guest.get("/proxy/rules"), 401, "general_unauthorized_scope")
    assert state() == [(rule.uid, rule.domain, fn.pk, "deployment", "")]


def test_events_for_create_and_delete(raw, functions, fn):
    functions.create("audit", "Audit", "python-3.11", events=["rules.*.create", "rules.*.delete"])
    rule = created(raw, "events.example.com")
    raw.delete(f"/proxy/rules/{rule['$id']}")
    runs = Execution.objects.filter(function__uid="audit").order_by("id")
    assert [r.runtime_headers.get("x-appwrite-event") for r in runs] == [
        f"rules.{rule['$id']}.create",
        f"rules.{rule['$id']}.delete",
    ]
    payloads = [json.loads(bytes(r.request_body)) for r in runs]
    assert payloads[0]["$id"] == payloads[1]["$id"] == rule["$id"]
    assert payloads[1]["domain"] == "events.example.com" and list(payloads[1]) == RULE_FIELDS


# -- routing -----------------------------------------------------------------------------------


def host_get(live_server, host, path="/"):
    port = urlparse(live_server.url).port
    return requests.get(live_server.url + path, headers={"Host": f"{host}:{port}"}, timeout=30)


def test_rule_domains_route_to_the_function(raw, fn, live_server, settings):
    """No deployment yet: the function's router page says so (no container needed)."""
    for domain in ("app.example.test", "extra.functions.localhost"):
        before = host_get(live_server, domain, "/v1/health/version")
        if domain.endswith(".functions.localhost"):  # no rule yet: the router's page
            assert before.status_code == 404 and "Nothing is here yet" in before.text
        else:  # any other host without a rule is the API
            assert before.json() == {"version": "1.8.0"}
        rule = created(raw, domain)
        page = host_get(live_server, domain, "/v1/health/version")
        assert page.status_code == 404 and "No active deployments" in page.text
        assert "text/html" in page.headers["content-type"]
        raw.delete(f"/proxy/rules/{rule['$id']}")
    assert host_get(live_server, "app.example.test", "/v1/health/version").json() == {
        "version": "1.8.0"
    }
    missing = host_get(live_server, "extra.functions.localhost")
    assert missing.status_code == 404 and "Nothing is here yet" in missing.text
    created(raw, "later.example.test")
    settings.CUSTOM_DOMAIN_DENY_LIST = ["later.example.test"]  # the service's own names win
    assert host_get(live_server, "later.example.test", "/v1/health/version").status_code == 200


@pytest.mark.docker
@pytest.mark.usefixtures("engine")
def test_a_custom_domain_runs_the_function(raw, functions, live_server):
    deploy_echo(functions, "python-3.11")
    deployment_id = Function.objects.get(uid="echo").deployment_uid
    rule = created(raw, "echo.example.test", "echo", branch="main")
    assert rule["deploymentId"] == deployment_id
    response = host_get(live_server, "echo.example.test", "/hello?x=1")
    assert response.status_code == 200, response.text[:2000]
    seen = json.loads(response.content)
    assert (seen["method"], seen["path"], seen["query"]) == ("GET", "/hello", {"x": "1"})
    assert domain_execution(response).trigger == "http"


# -- the console ------------------------------------------------------------------------------

SETTINGS = "/projects/main/functions/fn/settings"
RULE_ERROR = re.compile(r'<p class="flash error" role="alert" id="rule-error">(.*?)</p>', re.S)


def test_console_lists_adds_and_deletes_rules(web, raw, fn):
    page = web.get(SETTINGS).text
    assert "fn-main.functions.localhost" in page and "automatic" in page
    response = web.post(SETTINGS.replace("settings", "rules"), {"domain": "www.example.com"})
    assert response.status_code == 302
    rule = Rule.objects.get(domain="www.example.com")
    assert (rule.trigger, rule.status, rule.function_id) == ("manual", "created", fn.pk)
    assert "www.example.com" in web.get(SETTINGS).text
    assert listing(raw, Query.equal("trigger", ["manual"]))["total"] == 1
    for domain in ("a.b.functions.localhost", "bad_domain", "www.example.com", ""):
        before = state()
        response = web.post(SETTINGS.replace("settings", "rules"), {"domain": domain})
        assert response.status_code == 400
        shown = html.unescape(RULE_ERROR.search(response.text).group(1))
        assert shown == create(raw, domain).json()["message"]
        assert state() == before
    web.post(f"/projects/main/functions/fn/rules/{rule.uid}/delete")
    assert not Rule.objects.filter(domain="www.example.com").exists()
    assert web.post("/projects/main/functions/fn/rules/missing/delete").status_code == 404
