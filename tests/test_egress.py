"""Outbound network through the egress proxy, with real containers: unchanged client code in
Node (fetch, axios, https.get) and Python (urllib, requests) reaches allowed destinations and
package registries; host loopback, private and link-local destinations are refused before any
connection is opened; builds install packages through the proxy; no container has a network
interface but ``lo``."""

import base64
import contextlib
import json
import socket
import time

import pytest
from appwrite.enums.runtime import Runtime
from django.conf import settings as django_settings

from functions_app.services import containers, docker, egress_proxy

from .deploy import upload, wait_deployment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine", "api_socket")]

NODE_CLIENTS = """
const http = require("http");
const https = require("https");
const get = (url) => new Promise((resolve, reject) => {
  (url.startsWith("https:") ? https : http).get(url, (res) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (chunk) => (body += chunk));
    res.on("end", () => resolve({ status: res.statusCode, body }));
  }).on("error", reject);
});
module.exports = async (context) => {
  const { how, url } = context.req.bodyJson;
  try {
    if (how === "fetch") {
      const res = await fetch(url);
      return context.res.json({ status: res.status, body: await res.text() });
    }
    if (how === "axios") {
      const axios = require("axios");
      const res = await axios.get(url, { transformResponse: (x) => x, validateStatus: () => true });
      return context.res.json({ status: res.status, body: String(res.data) });
    }
    return context.res.json(await get(url));
  } catch (e) {
    return context.res.json({ error: String((e.cause && e.cause.message) || e.message) });
  }
};
"""

PY_CLIENTS = """
import base64
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request


def ask_proxy(url):
    # A request written straight to the proxy, as any client could (no NO_PROXY shortcut).
    credentials = urllib.parse.urlsplit(os.environ["HTTP_PROXY"])
    auth = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    with socket.create_connection(("127.0.0.1", credentials.port), timeout=20) as conn:
        conn.sendall(f"GET {url} HTTP/1.1\\r\\nHost: x\\r\\nProxy-Authorization: Basic {auth}\\r\\n\\r\\n".encode())
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\\r\\n\\r\\n")
    return {"status": int(head.split()[1]), "body": body.decode()}


def main(context):
    ask = context.req.body_json
    how, url = ask["how"], ask["url"]
    try:
        if how == "proxy":
            return context.res.json(ask_proxy(url))
        if how == "requests":
            import requests
            res = requests.get(url, timeout=20)
            return context.res.json({"status": res.status_code, "body": res.text})
        with urllib.request.urlopen(url, timeout=20) as res:
            return context.res.json({"status": res.status, "body": res.read().decode()})
    except urllib.error.HTTPError as error:
        return context.res.json({"status": error.code, "body": error.read().decode()})
    except Exception as error:
        return context.res.json({"error": str(error)})
"""


def deploy(functions, function_id, runtime, entrypoint, source, commands):
    functions.create(function_id, function_id, runtime, entrypoint=entrypoint, execute=["any"])
    dep = upload(functions, function_id, {entrypoint: source}, commands=commands)
    ready = wait_deployment(functions, function_id, dep.id, timeout=300)
    assert ready.status.value == "ready", ready.buildlogs
    return ready


@pytest.fixture
def node_clients(functions, egress):
    return deploy(
        functions,
        "nodeout",
        Runtime.NODE_18_0,
        "index.js",
        NODE_CLIENTS,
        "npm install axios@1.7.9 --no-audit --no-fund",
    )


@pytest.fixture
def python_clients(functions, egress):
    return deploy(
        functions,
        "pyout",
        Runtime.PYTHON_3_11,
        "main.py",
        PY_CLIENTS,
        "pip install --no-cache-dir requests==2.32.3",
    )


def fetch(functions, function_id, how, url):
    execution = functions.create_execution(function_id, body=json.dumps({"how": how, "url": url}))
    assert execution.status.value == "completed", execution.errors
    return json.loads(execution.responsebody)


def refused(answer, reason):
    """A refusal by the proxy: its 403 with the reason, or a client error carrying it."""
    text = answer.get("body", "") if answer.get("status") == 403 else answer.get("error", "")
    return "Egress proxy" in text and reason in text or "403" in answer.get("error", "")


def test_node_clients_reach_allowed_destinations(functions, egress, node_clients):
    local = f"http://{egress.host}:{egress.allowed_port}"
    for how in ("fetch", "axios", "get"):
        answer = fetch(functions, "nodeout", how, f"{local}/{how}")
        assert answer == {"status": 200, "body": f"egress-ok /{how}"}, how
    for how in ("fetch", "get"):  # a package registry over HTTPS (a CONNECT tunnel)
        answer = fetch(functions, "nodeout", how, "https://registry.npmjs.org/left-pad")
        assert answer["status"] == 200 and json.loads(answer["body"])["name"] == "left-pad", how


def test_python_clients_reach_allowed_destinations(functions, egress, python_clients):
    local = f"http://{egress.host}:{egress.allowed_port}"
    for how in ("urllib", "requests"):
        answer = fetch(functions, "pyout", how, f"{local}/{how}")
        assert answer == {"status": 200, "body": f"egress-ok /{how}"}, how
        answer = fetch(functions, "pyout", how, "https://pypi.org/simple/six/")
        assert answer.get("status") == 200 and "six-" in answer["body"], answer


def test_host_and_private_destinations_are_refused_before_connecting(
    functions, egress, node_clients, python_clients
):
    name = egress.host  # resolves to this host's loopback (or own) address
    targets = {
        f"http://{name}:{egress.canary_port}/": "address",
        f"http://{name}:{egress.api_port}/v1/health/version": "address",
        "http://10.255.255.1/": "private address",
        "https://10.255.255.1/": "",
        "http://169.254.169.254/latest/meta-data/": "link-local address",
    }
    for function_id, clients in (
        ("nodeout", ("fetch", "axios", "get")),
        ("pyout", ("urllib", "requests")),
    ):
        for url, reason in targets.items():
            for how in clients:
                answer = fetch(functions, function_id, how, url)
                assert refused(answer, reason), (function_id, how, url, answer)
    for url in (f"http://localhost:{egress.canary_port}/", f"http://127.0.0.1:{egress.api_port}/"):
        answer = fetch(functions, "pyout", "proxy", url)
        assert answer["status"] == 403 and "loopback address" in answer["body"], answer
    assert egress.canary_accepts == 0
    log = egress.log_path.read_text()
    assert f"Egress refused: project main function pyout deployment {python_clients.id}" in log
    assert f"-> {name}:{egress.canary_port}: " in log and "-> 169.254.169.254:80: " in log


PROBE = """
import urllib.request
try:
    urllib.request.urlopen("http://{name}:{port}/", timeout=10)
    print("reached")
except Exception as error:
    print("refused:", error)
"""


def test_builds_install_packages_and_cannot_reach_host_loopback(functions, egress):
    probe = PROBE.format(name=egress.host, port=egress.canary_port)
    source = (
        "import pathlib\n\n\ndef main(context):\n"
        "    return context.res.text((pathlib.Path(__file__).parent / 'probe.txt').read_text())\n"
    )
    functions.create("build", "build", Runtime.PYTHON_3_11, entrypoint="main.py", execute=["any"])
    commands = "pip install --no-cache-dir six==1.16.0 && python3 probe.py > probe.txt && sleep 3"
    dep = upload(functions, "build", {"main.py": source, "probe.py": probe}, commands=commands)
    name = wait_for(lambda: next(iter(docker_names("build")), None), timeout=120, interval=0.1)
    assert docker.network_of(name) == ("none", ["lo"])
    ready = wait_deployment(functions, "build", dep.id, timeout=300)
    assert ready.status.value == "ready", ready.buildlogs
    assert "Successfully installed six-1.16.0" in ready.buildlogs
    execution = functions.create_execution("build")
    answer = execution.responsebody or execution.errors
    assert answer.startswith("refused:") and "403" in answer, answer
    assert egress.canary_accepts == 0


def test_no_container_has_an_interface_but_loopback(functions, egress, python_clients):
    fetch(functions, "pyout", "urllib", f"http://{egress.host}:{egress.allowed_port}/")
    names = docker_names("runtime")
    assert names
    for name in names:
        assert docker.network_of(name) == ("none", ["lo"])


def docker_names(kind):
    return [c["name"] for c in docker.list_containers(containers.mine(kind)) if c["running"]]


def ask_socket(egress_socket, head):
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        conn.connect(str(egress_socket))
        with contextlib.suppress(BrokenPipeError):  # the proxy may answer and close first
            conn.sendall(head)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    return reply.decode(errors="replace")


def test_the_proxy_refuses_clients_without_a_token_and_malformed_requests(egress):
    path = django_settings.EGRESS_SOCKET
    target = f"CONNECT {egress.host}:{egress.allowed_port} HTTP/1.1\r\nHost: x\r\n"
    no_token = ask_socket(path, f"{target}\r\n".encode())
    assert (
        no_token.startswith("HTTP/1.1 407")
        and 'Proxy-Authenticate: Basic realm="egress"' in no_token
    )
    forged = base64.b64encode(b"egress:not.a.token").decode()
    reply = ask_socket(path, f"{target}Proxy-Authorization: Basic {forged}\r\n\r\n".encode())
    assert reply.startswith("HTTP/1.1 407")
    assert ask_socket(path, b"NONSENSE\r\n\r\n").startswith("HTTP/1.1 400")
    assert ask_socket(path, b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 70000 + b"\r\n\r\n").startswith(
        "HTTP/1.1 431"
    )


def test_connections_that_never_identify_are_capped_and_time_out(egress):
    """A container can connect to the mounted socket directly (past socat's cap) and send
    nothing: such connections have an instance-wide cap and a head timeout."""
    path = django_settings.EGRESS_SOCKET
    silent = []
    try:
        for _ in range(egress_proxy.PENDING_LIMIT):
            conn = socket.socket(socket.AF_UNIX)
            conn.connect(str(path))
            silent.append(conn)
        time.sleep(0.5)  # the proxy has accepted them all
        assert ask_socket(path, b"").startswith("HTTP/1.1 429")
    finally:
        for conn in silent:
            conn.close()
    time.sleep(0.5)
    assert ask_socket(path, b"CONNECT a:443 HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 407")
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(path))
        conn.settimeout(egress_proxy.HEAD_TIMEOUT + 5)
        started = time.monotonic()
        assert conn.recv(100) == b"" and time.monotonic() - started >= egress_proxy.HEAD_TIMEOUT - 1
