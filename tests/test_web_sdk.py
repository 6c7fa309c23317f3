"""The acceptance test of CORS: the official Appwrite Web SDK (npm ``appwrite`` 21.x, its ESM
build as a browser loads it without a bundler) on a page served from another origin than the
API runs a public function, synchronously and asynchronously, in Debian's chromium, as a guest
and as a signed-in project user. The page is on ``http://127.0.0.2:<port>``, the API on
``http://localhost:<other port>``: a different origin, and not one that is always allowed
(``localhost`` and ``127.0.0.1`` are), so the project's web platform is what lets the browser
through."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from functions_app.models import Execution
from functions_app.services import platforms

from .conftest import USER_PASSWORD
from .deploy import deploy_echo, wait_execution

pytest_plugins = ["tests.browser"]
pytestmark = [pytest.mark.docker, pytest.mark.browser, pytest.mark.usefixtures("engine")]

SDK = (
    Path(__file__).resolve().parent.parent / "node_modules" / "appwrite" / "dist" / "esm" / "sdk.js"
)

GREET = """
def main(context):
    req = context.req
    context.log("got " + req.body_text)
    return context.res.json({
        "body": req.body_text,
        "method": req.method,
        "path": req.path,
        "trigger": req.headers.get("x-appwrite-trigger"),
        "user": req.headers.get("x-appwrite-user-id"),
    })
"""

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A web app on another origin</title></head>
<body>
  <button id="sync" disabled>Run now</button>
  <button id="async" disabled>Run in the background</button>
  <button id="sign-in" disabled>Sign in</button>
  <pre id="sync-result" style="white-space: pre-wrap"></pre>
  <pre id="async-result" style="white-space: pre-wrap"></pre>
  <pre id="sign-in-result" style="white-space: pre-wrap"></pre>
  <script type="module">
    import { Account, Client, Functions } from "/appwrite.js";

    const client = new Client().setEndpoint(ENDPOINT).setProject("main");
    const functions = new Functions(client);
    const account = new Account(client);
    const show = (id, value) => { document.getElementById(id).textContent = value; };

    async function signIn() {
      try {
        await account.createEmailPasswordSession({ email: "ada@example.com", password: PASSWORD });
        const me = await account.get();
        show("sign-in-result", "signed in as " + me.$id);
      } catch (error) {
        show("sign-in-result", "error: " + error.message);
      }
    }

    async function run(id, xasync, body) {
      show(id, "running");
      try {
        const execution = await functions.createExecution({
          functionId: "greet", body, async: xasync, xpath: "/hello?from=page", method: "POST",
        });
        show(id, JSON.stringify(execution));
      } catch (error) {
        show(id, "error: " + error.message);
      }
    }

    document.getElementById("sync").onclick = () => run("sync-result", false, "hello, sync");
    document.getElementById("async").onclick = () => run("async-result", true, "hello, async");
    document.getElementById("sign-in").onclick = signIn;
    for (const button of document.querySelectorAll("button")) button.disabled = false;
  </script>
</body>
</html>
"""


class PageServer:
    """The web app: its page and the SDK's ESM build, from ``127.0.0.2`` (loopback too)."""

    def __init__(self, endpoint):
        page = PAGE.replace("ENDPOINT", json.dumps(endpoint))
        page = page.replace("PASSWORD", json.dumps(USER_PASSWORD)).encode()
        files = {"/": ("text/html", page), "/appwrite.js": ("text/javascript", SDK.read_bytes())}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                content_type, body = files.get(self.path, ("text/plain", b"not found"))
                self.send_response(200 if self.path in files else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.http.server_address[1]}/"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def web_app(live_server):
    assert SDK.is_file(), "npm ci installs the Web SDK (a devDependency in package.json)"
    server = PageServer(f"{live_server.url}/v1")
    yield server
    server.close()


def test_web_sdk_runs_a_public_function_as_a_guest_from_another_origin(
    page, functions, project, web_app
):
    deploy_echo(functions, "python-3.11", "greet", files={"main.py": GREET}, execute=["any"])
    page.goto(web_app.url)
    expect(page.locator("#sync")).to_be_enabled()

    # Not a platform of the project yet: the browser gets no answer it may read, and the API
    # refuses the write (unknown origin) before anything runs.
    page.locator("#sync").click()
    expect(page.locator("#sync-result")).to_have_text("error: Failed to fetch")
    assert not Execution.objects.exists()

    platforms.create_platform(project, "web", "Local app", "127.0.0.2")

    page.locator("#sync").click()
    expect(page.locator("#sync-result")).to_contain_text('"status":"completed"')
    execution = json.loads(page.locator("#sync-result").text_content())
    assert (execution["responseStatusCode"], execution["trigger"]) == (200, "http")
    assert json.loads(execution["responseBody"]) == {
        "body": "hello, sync",
        "method": "POST",
        "path": "/hello",
        "trigger": "http",
        "user": "",
    }

    page.locator("#async").click()
    expect(page.locator("#async-result")).to_contain_text('"status":"waiting"')
    queued = json.loads(page.locator("#async-result").text_content())
    assert (queued["responseBody"], queued["requestPath"]) == ("", "/hello?from=page")
    done = wait_execution(functions, "greet", queued["$id"])
    assert (done.status.value, done.responsestatuscode) == ("completed", 200)
    assert "got hello, async" in done.logs


def test_web_sdk_runs_a_function_as_a_signed_in_project_user_from_another_origin(
    page, functions, project, web_app, make_user
):
    """The page signs in with the Web SDK's ``account``; the browser refuses the
    ``SameSite=None`` cookie over plain HTTP, so the SDK keeps the token the API sent in
    ``X-Fallback-Cookies`` and sends it back; the function runs for that user."""
    deploy_echo(functions, "python-3.11", "greet", files={"main.py": GREET}, execute=["users"])
    platforms.create_platform(project, "web", "Local app", "127.0.0.2")
    make_user("ada")
    page.goto(web_app.url)
    expect(page.locator("#sync")).to_be_enabled()
    page.locator("#sync").click()  # a guest first: not allowed
    expect(page.locator("#sync-result")).to_contain_text('error: Missing "execute" permission')
    page.locator("#sign-in").click()
    expect(page.locator("#sign-in-result")).to_have_text("signed in as ada")
    page.locator("#sync").click()
    expect(page.locator("#sync-result")).to_contain_text('"status":"completed"')
    execution = json.loads(page.locator("#sync-result").text_content())
    assert json.loads(execution["responseBody"])["user"] == "ada"
    assert execution["$permissions"] == ['read("user:ada")']
