"""appwrite-cli 12.0.1 (npm) against a live server, as a new user runs it: configure the client,
sign in to the console, push a new function (create, its domain rule, deploy, print its URL),
run it, read its usage and pull it back. A recording proxy in front of the server keeps every
request the CLI makes: each must answer below 400, but for the lookups of the function it is
about to create."""

import http.client
import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model

from functions_app.models import Deployment, Function, Rule

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]

CLI = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "appwrite"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
MAIN = 'def main(context):\n    return context.res.text("hello from the cli " + context.req.body_text)\n'


class RecordingProxy:
    """Forwards every request to the live server and records (method, path, status)."""

    def __init__(self, target):
        self.seen = []
        target_host, target_port = target.hostname, target.port
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target_host, target_port, timeout=120)
                upstream.request(self.command, self.path, body=body, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                seen.append((self.command, self.path, reply.status))
                self.send_response(reply.status)
                for name, value in reply.getheaders():
                    if name.lower() not in HOP_BY_HOP | {"content-length"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = forward

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.http.server_address[1]}/v1"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def proxy(live_server):
    recording = RecordingProxy(urlparse(live_server.url))
    yield recording
    recording.close()


@pytest.fixture
def cli(tmp_path, proxy):
    assert CLI.exists(), "npm ci installs appwrite-cli (a devDependency in package.json)"
    home = tmp_path / "home"
    home.mkdir()

    def run(*args, cwd=None):
        env = {**os.environ, "HOME": str(home), "NO_COLOR": "1", "CI": "true"}
        done = subprocess.run(
            [str(CLI), *args],
            cwd=cwd or tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        return output

    return run


def write_project(folder):
    code = folder / "functions" / "clifn"
    code.mkdir(parents=True)
    (code / "main.py").write_text(MAIN)
    config = {
        "projectId": "main",
        "projectName": "Main project",
        "functions": [
            {
                "$id": "clifn",
                "name": "CLI function",
                "runtime": "python-3.11",
                "specification": "s-1vcpu-512mb",
                "execute": ["any"],
                "events": [],
                "scopes": ["users.read"],
                "schedule": "",
                "timeout": 15,
                "enabled": True,
                "logging": True,
                "entrypoint": "main.py",
                "commands": "",
                "path": "functions/clifn",
            }
        ],
    }
    (folder / "appwrite.config.json").write_text(json.dumps(config, indent=2))


def test_cli_login_push_run_usage_and_pull(cli, proxy, project, key, tmp_path):
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-123456")
    project.members.add(owner)
    cli("client", "--endpoint", proxy.endpoint, "--project-id", "main", "--key", key)
    logged_in = cli(
        "login",
        "--endpoint",
        proxy.endpoint,
        "--email",
        "owner@example.com",
        "--password",
        "pw-123456",
    )
    assert "owner@example.com" in logged_in
    folder = tmp_path / "project"
    write_project(folder)

    pushed = cli("push", "function", "--function-id", "clifn", "--force", cwd=folder)
    assert "error" not in pushed.lower(), pushed
    function = Function.objects.get(uid="clifn")
    assert (function.runtime, function.execute, function.scopes) == (
        "python-3.11",
        ["any"],
        ["users.read"],
    )
    manual = Rule.objects.get(function=function, trigger=Rule.Trigger.MANUAL)
    assert manual.domain in pushed  # the function's URL, from the rule the CLI made
    deployment = Deployment.objects.get(function=function)
    assert deployment.status == Deployment.Status.READY and function.deployment_uid

    ran = cli("functions", "create-execution", "--function-id", "clifn", "--body", "hi", "--json")
    assert json.loads(ran)["responseBody"] == "hello from the cli hi"
    usage = json.loads(cli("functions", "list-usage", "--range", "24h", "--json"))
    assert usage["functionsTotal"] == 1 and usage["executionsTotal"] == 1

    pulled_folder = tmp_path / "pulled"
    pulled_folder.mkdir()
    (pulled_folder / "appwrite.config.json").write_text(
        json.dumps({"projectId": "main", "projectName": "Main project"})
    )
    cli("pull", "functions", "--all", "--force", cwd=pulled_folder)
    pulled = json.loads((pulled_folder / "appwrite.config.json").read_text())
    assert [f["$id"] for f in pulled["functions"]] == ["clifn"]
    assert any(p.name == "main.py" for p in pulled_folder.rglob("main.py"))

    failed = [
        (method, path, status)
        for method, path, status in proxy.seen
        if status >= 400
        and not (method == "GET" and status == 404 and path.startswith("/v1/functions/clifn"))
    ]
    assert not failed, failed
    assert len(proxy.seen) > 10
