"""Transport rules: error shape, unknown routes, Content-Type on every response, bodies and
requests the server refuses before any endpoint sees them."""

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from .conftest import database_url_of_tests
from .deploy import wait_for
from .helpers import expect_raw_error


def test_unknown_routes_answer_json_404(raw):
    for method, path in [
        ("GET", "/nothing"),
        ("POST", "/functions/x/nothing/here"),
        ("PATCH", "/functions"),
    ]:
        expect_raw_error(raw.request(method, path), 404, "general_route_not_found")


def test_errors_carry_no_cache_headers(raw):
    response = raw.get("/functions/missing")
    expect_raw_error(response, 404, "function_not_found")
    assert response.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
    assert response.headers["Content-Type"].startswith("application/json")


def test_204_has_a_content_type(raw):
    raw.post("/functions", json={"functionId": "del", "name": "Del", "runtime": "python-3.11"})
    response = raw.delete("/functions/del", json={})
    assert response.status_code == 204 and response.content == b""
    assert "Content-Type" in response.headers


def test_malformed_json_body(raw):
    response = raw.post(
        "/functions", data="{not json", headers={"Content-Type": "application/json"}
    )
    expect_raw_error(response, 400, "general_argument_invalid")


def test_queries_in_every_array_form(raw):
    for i in range(3):
        raw.post(
            "/functions", json={"functionId": f"f{i}", "name": f"F{i}", "runtime": "python-3.11"}
        )
    limit = '{"method":"limit","values":[1]}'
    for params in ({"queries[0]": limit}, {"queries[]": limit}, {"queries": limit}):
        body = raw.get("/functions", params=params).json()
        assert (body["total"], len(body["functions"])) == (3, 1)
    assert raw.get("/functions", params={"total": "False"}).json()["total"] == 0


def test_deep_json_and_lone_surrogates_are_invalid_arguments(raw):
    deep = "[" * 50_000 + "]" * 50_000
    for body in (
        deep,
        '{"functionId": "x", "name": "Name", "runtime": "python-3.11", "commands": ' + deep + "}",
        '{"functionId": "x", "name": "\\ud800", "runtime": "python-3.11"}',
        '{"functionId": "x", "name": "N", "runtime": "python-3.11", "\\udc00": 1}',
    ):
        response = raw.post("/functions", data=body, headers={"Content-Type": "application/json"})
        expect_raw_error(response, 400, "general_argument_invalid")
    # A surrogate *pair* is ordinary text.
    pair = '{"functionId": "x", "name": "\\ud83d\\ude00", "runtime": "python-3.11"}'
    created = raw.post("/functions", data=pair, headers={"Content-Type": "application/json"})
    assert created.status_code == 201 and created.json()["name"] == "\U0001f600"
    assert raw.get("/functions").json()["total"] == 1


def test_oversized_body_is_a_json_413(raw, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    function = {"functionId": "big", "runtime": "python-3.11"}
    for kwargs in (
        {"json": {**function, "name": "n", "commands": "c" * 5000}},
        {"data": {**function, "name": "n", "commands": "c" * 5000}},
        {"data": {"activate": "true"}, "files": {"code": ("c.tar.gz", b"x" * 5000)}},
    ):
        body = expect_raw_error(raw.post("/functions", **kwargs), 413, "general_argument_invalid")
        assert body["message"] == (
            "Request body is too large. The maximum request size is 4096 bytes."
        )
    assert raw.get("/functions").json()["total"] == 0
    small = raw.post("/functions", json={**function, "name": "n", "commands": "c" * 3000})
    assert small.status_code == 201


def test_binary_multipart_field_stays_bytes_and_fails_text_params(raw):
    response = raw.post(
        "/functions",
        data={"functionId": "bin", "runtime": "python-3.11"},
        files={"name": (None, b"\xff\xfe\x80")},
    )
    expect_raw_error(
        response,
        400,
        "general_argument_invalid",
        "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
    )
    utf8 = raw.post(
        "/functions",
        data={"functionId": "bin", "runtime": "python-3.11"},
        files={"name": (None, "Ünïcode ✓".encode())},
    )
    assert utf8.status_code == 201 and utf8.json()["name"] == "Ünïcode ✓"


# -- gunicorn, as bin/run starts it ----------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def exchange(port, payload):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


@pytest.fixture
def gunicorn(tmp_path, transactional_db):
    """gunicorn with bin/run's config file, on a free loopback port, on the tests' database
    (the domain router looks hosts up in it)."""
    root = Path(__file__).resolve().parent.parent
    port = free_port()
    env = dict(
        os.environ,
        STORAGE_DIR=str(django_settings.STORAGE_DIR),
        DATABASE_URL=database_url_of_tests(),  # the tests' database, not the configured one
    )
    process = subprocess.Popen(
        [
            str(root / ".venv/bin/gunicorn"),
            "console.wsgi:application",
            "--config",
            "console/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--worker-class",
            "gthread",
            "--no-control-socket",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(port), timeout=30)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(port):
    try:
        return exchange(port, b"GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0]
    except OSError:
        return None


def test_gunicorn_refusals_are_appwrite_json(gunicorn):
    get = b"GET /v1/functions HTTP/1.1\r\nHost: x\r\n"
    refused = {
        "request line": b"GET /v1/functions?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "header count": get + b"".join(b"X-H%d: 1\r\n" % i for i in range(150)) + b"\r\n",
        "header size": get + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n",
        "bad header": get + b"Bad Header: 1\r\n\r\n",
        "bad method": b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "bad version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    }
    for what, payload in refused.items():
        head, body = exchange(gunicorn, payload)
        assert head.startswith("HTTP/1.1 400 "), (what, head)
        assert "content-type: application/json; charset=utf-8" in head.lower(), what
        error = json.loads(body)
        assert set(error) == {"message", "code", "type", "version"}, what
        assert (error["code"], error["type"], error["version"]) == (
            400,
            "general_argument_invalid",
            "1.8.0",
        ), what
    # A long request line within the raised limit reaches the API.
    head, body = exchange(
        gunicorn,
        b"GET /v1/nothing?q=" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert (
        head.startswith("HTTP/1.1 404 ") and json.loads(body)["type"] == "general_route_not_found"
    )
