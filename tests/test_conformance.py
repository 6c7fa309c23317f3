"""One conformance suite for every runtime: its conformance function (``tests/conformance/<key>``,
one per family, in that language's idiom) is built and run through the API and through its
function domain, and must answer each path of the contract below the same way.

The contract (what each conformance function answers):

``/echo``        JSON of the request: method, scheme, host, port, path, query, queryString,
                 headers, bodyText, bodyJson (or null when the body is not JSON), url, env
                 (the ``APPWRITE_FUNCTION_*`` and ``CONFORMANCE_*`` variables) and ``built``
                 (the text of the file the build commands wrote)
``/binary``      ``res.binary`` of the request's bodyBinary, reversed
``/headers``     ``res.text("<b/>", 201, {"Content-Type": "Text/HTML", "X-Custom": "V",
                 "x-open-runtimes-x": "1"})``
``/json``        ``res.json({"ok": true, "list": [1, 2], "nested": {"a": "b"}})``
``/redirect``    ``res.redirect("https://example.com/next", 301)``
``/empty``       ``res.empty()``
``/status``      ``res.text("teapot", 418)``
``/cookie``      ``res.text("cookie", 200, {"set-cookie": "session=abc; Path=/; HttpOnly"})``
``/send``        ``res.send("sent", 202)``
``/log``         native output ``native out``; ``log("a", {"b": 1}, [1, 2], 3, true)``;
                 ``error("problem")``; ``log`` of 9000 ``x``; returns ``res.text("logged")``
``/objects``     ``log`` of one object holding ``"marker-1"``, ``42``, a nested list and map,
                 null, a boolean and the language's own kinds (JavaScript: BigInt ``10n``,
                 ``new Map([["mapkey", 1]])``, ``new Set(["setval"])``,
                 ``new URL("https://example.com/x")``); returns ``res.text("objects")``
``/throw``       throws (raises, panics with) an error whose message is ``boom``
``/none``        returns nothing (where the language allows it; see ``conformance.json``)
``/sleep``       sleeps ``s`` seconds (query parameter), then ``res.text("slept")``

``conformance.json`` gives the ``entrypoint``, the build ``commands`` (which must write
``built.txt`` holding ``built-<something>``, read back by ``/echo``), ``missing_export``: the
entrypoint of a file in the same code that has no ``main`` (its deployment builds and its
executions answer 503), with ``"missing_export_at": "build"`` for compiled languages where that
fails the build instead, and ``"returns_nothing": false`` where ``/none`` cannot be written.
"""

import json
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from appwrite.enums.execution_method import ExecutionMethod

from functions_app import runtimes

from .deploy import upload, wait_deployment

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine", "egress")]
FOLDER = Path(__file__).parent / "conformance"
TRUNCATED = "... Log truncated due to size limit (8000 characters)"
JS_KINDS = ("node", "bun", "deno")


def conformance_folder(runtime):
    return FOLDER / runtime.key


def listed_runtimes():
    return [rt for rt in runtimes.registry().values() if rt.runs_here]


def spec_of(runtime):
    return json.loads((conformance_folder(runtime) / "conformance.json").read_text())


def code_of(runtime):
    folder = conformance_folder(runtime)
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "conformance.json"
    }


def test_every_listed_runtime_has_a_conformance_function(raw):
    listed = raw.get("/functions/runtimes").json()["runtimes"]
    assert len(listed) == len(listed_runtimes()) and listed
    for item in listed:
        runtime = runtimes.get(item["$id"])
        assert (conformance_folder(runtime) / "conformance.json").is_file(), item["$id"]


class Conformance:
    """One runtime's conformance function, deployed once, called through the API and domain."""

    def __init__(self, functions, live_server, runtime):
        self.functions, self.runtime, self.spec = functions, runtime, spec_of(runtime)
        self.function_id = "conf-" + runtime.id.replace(".", "-")
        self.url = live_server.url
        self.host = f"{self.function_id}-main.functions.localhost:{urlparse(live_server.url).port}"

    def deploy(self, **options):
        self.functions.create(
            self.function_id,
            f"Conformance {self.runtime.id}",
            self.runtime.id,
            entrypoint=self.spec["entrypoint"],
            commands=self.spec["commands"],
            execute=["any"],
            timeout=30,
            **options,
        )
        self.functions.create_variable(self.function_id, "CONFORMANCE_VAR", "variable-value")
        return self.upload()

    def update(self, **options):
        self.functions.update(
            self.function_id,
            f"Conformance {self.runtime.id}",
            self.runtime.id,
            execute=["any"],
            entrypoint=self.spec["entrypoint"],
            commands=self.spec["commands"],
            **options,
        )

    def upload(self, entrypoint=None):
        dep = upload(
            self.functions,
            self.function_id,
            code_of(self.runtime),
            entrypoint=entrypoint or self.spec["entrypoint"],
            commands=self.spec["commands"],
        )
        return wait_deployment(self.functions, self.function_id, dep.id, timeout=600)

    def execute(self, path, **options):
        return self.functions.create_execution(self.function_id, path=path, **options)

    def domain(self, path, method="GET", **kwargs):
        headers = {"Host": self.host, **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url + path, headers=headers, timeout=60, allow_redirects=False, **kwargs
        )


@pytest.fixture(params=[rt.id for rt in listed_runtimes()])
def conformance(request, functions, live_server):
    runtime = runtimes.get(request.param)
    assert conformance_folder(runtime).is_dir(), f"no conformance function for {runtime.id}"
    subject = Conformance(functions, live_server, runtime)
    ready = subject.deploy()
    assert ready.status.value == "ready", ready.buildlogs
    return subject


def test_conformance(conformance):
    for check in CHECKS:
        check(conformance)


def check_request_fields_env_and_build_files(c):
    ex = c.execute(
        "/echo?a=1&b=two",
        method=ExecutionMethod.POST,
        body='{"x": 1}',
        headers={"content-type": "application/json", "X-Mixed-Case": "Yes", "cookie": "c=1"},
    )
    assert (ex.status.value, ex.responsestatuscode) == ("completed", 200), ex.errors
    seen = json.loads(ex.responsebody)
    assert (seen["method"], seen["path"], seen["queryString"]) == ("POST", "/echo", "a=1&b=two")
    assert seen["query"] == {"a": "1", "b": "two"}
    assert seen["bodyText"] == '{"x": 1}' and seen["bodyJson"] == {"x": 1}
    headers = seen["headers"]
    assert headers["x-mixed-case"] == "Yes" and headers["cookie"] == "c=1"
    assert not any(k.startswith("x-open-runtimes-") or k != k.lower() for k in headers)
    assert headers["x-appwrite-trigger"] == "http" and headers["x-appwrite-execution-id"] == ex.id
    assert seen["scheme"] in ("http", "https") and isinstance(seen["port"], int)
    assert seen["url"].endswith("/echo?a=1&b=two") and seen["host"]
    env = seen["env"]
    assert (
        env["APPWRITE_FUNCTION_ID"] == c.function_id and env["CONFORMANCE_VAR"] == "variable-value"
    )
    assert env["APPWRITE_FUNCTION_RUNTIME_NAME"] == c.runtime.name
    assert env["APPWRITE_FUNCTION_RUNTIME_VERSION"] == c.runtime.version
    assert seen["built"].strip().startswith("built-")
    assert json.loads(c.execute("/echo", body="plain").responsebody)["bodyJson"] is None


def check_response_kinds(c):
    ex = c.execute("/headers")
    headers = {h.name: h.value for h in ex.responseheaders}
    assert (ex.responsestatuscode, ex.responsebody) == (201, "<b/>")
    assert headers["content-type"] == "text/html; charset=utf-8" and headers["x-custom"] == "V"
    assert not any(name.startswith("x-open-runtimes") for name in headers)
    ex = c.execute("/json")
    assert json.loads(ex.responsebody) == {"ok": True, "list": [1, 2], "nested": {"a": "b"}}
    assert {h.name: h.value for h in ex.responseheaders}["content-type"].startswith(
        "application/json"
    )
    assert (c.execute("/status").responsestatuscode, c.execute("/send").responsestatuscode) == (
        418,
        202,
    )
    empty = c.execute("/empty")
    assert (empty.responsestatuscode, empty.responsebody) == (204, "")


def check_through_the_domain(c):
    response = c.domain("/echo?q=domain", method="PUT", data=b"raw", headers={"X-In": "a"})
    seen = response.json()
    assert (response.status_code, seen["method"], seen["bodyText"]) == (200, "PUT", "raw")
    assert seen["query"] == {"q": "domain"} and seen["headers"]["x-in"] == "a"
    assert seen["host"] == c.host.split(":")[0] or seen["headers"]["host"] == c.host
    payload = bytes(range(256)) * 4
    response = c.domain("/binary", method="POST", data=payload)
    assert response.content == payload[::-1], response.content[:300]
    redirect = c.domain("/redirect")
    assert (redirect.status_code, redirect.headers["location"]) == (301, "https://example.com/next")
    cookie = c.domain("/cookie")
    assert cookie.headers["set-cookie"] == "session=abc; Path=/; HttpOnly"
    assert c.domain("/status").status_code == 418 and c.domain("/empty").content == b""
    headers = c.domain("/headers").headers
    assert headers["content-type"] == "text/html; charset=utf-8" and headers["x-custom"] == "V"


def check_logs_and_errors(c):
    ex = c.execute("/log")
    assert (ex.status.value, ex.responsebody) == ("completed", "logged"), ex.errors
    assert "native out" in ex.logs and "Native logs detected" in ex.logs
    first = ex.logs.splitlines()[0]
    assert first.startswith("a ") and '"b"' in first and "3" in first and "true" in first.lower()
    assert "problem" in ex.errors
    assert ("x" * 8000 + TRUNCATED) in ex.logs and "x" * 8001 not in ex.logs
    objects = c.execute("/objects")
    assert objects.responsebody == "objects", objects.errors
    assert "marker-1" in objects.logs and "42" in objects.logs, objects.logs
    assert "[object Object]" not in objects.logs
    if c.runtime.key in JS_KINDS:
        for marker in ("10", "mapkey", "setval", "https://example.com/x"):
            assert marker in objects.logs, (marker, objects.logs)


def check_failures(c):
    thrown = c.execute("/throw")
    assert (thrown.status.value, thrown.responsestatuscode) == ("failed", 500)
    assert "boom" in thrown.errors
    if c.spec.get("returns_nothing", True):
        none = c.execute("/none")
        assert none.responsestatuscode == 500 and "Return statement missing" in none.errors


def check_timeout(c):
    c.update(timeout=3)
    started = time.monotonic()
    ex = c.execute("/sleep?s=8")
    assert (ex.status.value, ex.responsestatuscode) == ("failed", 500), ex.responsebody
    assert "timed out" in ex.errors.lower() and time.monotonic() - started < 8
    c.update(timeout=30)
    assert c.execute("/sleep?s=0").responsebody == "slept"


def check_missing_export(c):
    """Interpreted languages load the entrypoint at the first request (503, open-runtimes'
    message); compiled ones (``"missing_export_at": "build"``) fail the build instead."""
    ready = c.upload(entrypoint=c.spec["missing_export"])
    if c.spec.get("missing_export_at") == "build":
        assert ready.status.value == "failed", ready.buildlogs
        return
    assert ready.status.value == "ready", ready.buildlogs
    ex = c.execute("/echo")
    assert (ex.status.value, ex.responsestatuscode) == ("failed", 503), ex.errors
    assert "Function signature invalid. Did you forget to export a 'main' function?" in ex.errors


CHECKS = [
    check_request_fields_env_and_build_files,
    check_response_kinds,
    check_through_the_domain,
    check_logs_and_errors,
    check_failures,
    check_timeout,
    check_missing_export,
]
