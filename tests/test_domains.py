"""Function domains: raw request in, raw response out, HTML router errors."""

import json
from urllib.parse import urlparse

import pytest
import requests

from functions_app.models import Execution

from .deploy import deploy_echo

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


def domain_get(live_server, label, path="/", method="GET", **kwargs):
    port = urlparse(live_server.url).port
    headers = {"Host": f"{label}.functions.localhost:{port}", **kwargs.pop("headers", {})}
    return requests.request(method, live_server.url + path, headers=headers, timeout=30, **kwargs)


@pytest.mark.parametrize("runtime", ["python-3.11", "node-18.0"])
def test_raw_request_and_response(functions, live_server, runtime):
    deploy_echo(functions, runtime)
    response = domain_get(live_server, "echo", "/hello/world?x=1&y=2", method="POST", data=b"raw body",
                          headers={"X-Custom-In": "abc", "Content-Type": "text/plain"})  # fmt: skip
    assert response.status_code == 200 and response.headers["x-custom"] == "yes"
    seen = json.loads(response.content)
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/hello/world", "raw body")
    assert seen["query"] == {"x": "1", "y": "2"} and seen["headers"]["x-custom-in"] == "abc"
    assert (
        seen["headers"]["x-appwrite-trigger"] == "http"
        and seen["headers"]["x-appwrite-user-id"] == ""
    )
    execution = Execution.objects.get(uid=response.headers["x-appwrite-execution-id"])
    assert (execution.trigger, execution.status, execution.request_path) == (
        "http",
        "completed",
        "/hello/world?x=1&y=2",
    )


@pytest.mark.parametrize("runtime", ["python-3.11", "node-18.0"])
def test_binary_body_and_headers_unchanged(functions, live_server, runtime):
    deploy_echo(functions, runtime)
    response = domain_get(live_server, "echo", "/binary")
    assert response.content == bytes(range(256)), response.text[:3000]
    assert response.headers["content-type"].startswith("application/octet-stream")
    payload = bytes(range(256)) * 64
    echoed = domain_get(live_server, "echo", "/binary-in", method="POST", data=payload)
    assert echoed.status_code == 200 and echoed.content == payload[::-1]


def test_without_any_answers_401(functions, live_server):
    deploy_echo(functions, "python-3.11", execute=["users"])
    response = domain_get(live_server, "echo")
    assert response.status_code == 401 and "text/html" in response.headers["content-type"]
    assert "Execution not permitted" in response.text


def test_router_error_pages(functions, live_server):
    missing = domain_get(live_server, "nothing")
    assert missing.status_code == 404 and "Nothing is here yet" in missing.text
    functions.create("bare", "Bare", "python-3.11", execute=["any"])
    assert domain_get(live_server, "bare").status_code == 404
    bare_domain = requests.get(live_server.url, headers={"Host": "functions.localhost"}, timeout=10)
    assert bare_domain.status_code == 401
    deploy_echo(functions, "python-3.11")
    failing = domain_get(live_server, "echo", "/fail")
    assert failing.status_code == 500 and "An unexpected server error occured." in failing.text
    assert domain_get(live_server, "echo.main").status_code == 200  # the project-qualified form
    assert domain_get(live_server, "echo.other").status_code == 404
