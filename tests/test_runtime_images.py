"""The runtime images on their own (no Django API): build a function with helpers/build.sh, start
it the way the executor does (network none, read-only, uid 1000, code mounted read-only, server
on a Unix socket) and check the Open Runtimes v5 protocol and context API over that socket."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from functions_app import runtimes
from functions_app.services import images

pytestmark = pytest.mark.docker
SECRET = "test-secret"

PYTHON = """
import asyncio
import sys
import time

from .helper import GREETING

STATE = {"count": 0}


async def main(context):
    STATE["count"] += 1
    req, res, path = context.req, context.res, context.req.path
    if path == "/log":
        print("native out")
        context.log("a", {"b": 1}, [1, 2], 3, None, True)
        context.error("problem")
        return res.text("logged")
    if path == "/throw":
        raise ValueError("boom")
    if path == "/none":
        return None
    if path == "/sleep":
        await asyncio.sleep(3)
    if path == "/headers":
        return res.text("<b/>", 201, {"Content-Type": "Text/HTML", "x-open-runtimes-x": "1", "x-a": "b"})
    if path == "/binary":
        return res.binary(bytes([0, 255, 1]))
    if path == "/redirect":
        return res.redirect("https://example.com/")
    if path == "/empty":
        return res.empty()
    if path == "/status":
        return res.json({"ok": True}, status_code=202)
    return res.json({
        "greeting": GREETING, "count": STATE["count"], "method": req.method, "path": req.path,
        "query": req.query, "query_string": req.query_string, "host": req.host, "port": req.port,
        "scheme": req.scheme, "url": req.url, "body": req.body, "headers": req.headers,
        "built": open("function/built.txt").read(),
    })
"""

NODE = """
let count = 0;
module.exports = async ({ req, res, log, error }) => {
  count += 1;
  const path = req.path;
  if (path === "/log") {
    console.log("native out");
    log("a", { b: 1 }, [1, 2], 3, null, undefined, true);
    error("problem");
    return res.text("logged");
  }
  if (path === "/objects") {
    const circular = { name: "loop" };
    circular.self = circular;
    log({
      big: 10n, map: new Map([["k", 1]]), pairs: new Map([[1, new Set(["s"])]]),
      url: new URL("https://example.com/x?y=1"), date: new Date(0), circular,
      error: new TypeError("bad"), nested: [undefined, { deep: [1n] }], skipped: undefined,
    }, new Map([["top", true]]), 7n);
    console.log({ native: new Set([1]) });
    return res.text("objects");
  }
  if (path === "/throw") throw new Error("boom");
  if (path === "/none") return;
  if (path === "/sleep") await new Promise((resolve) => setTimeout(resolve, 3000));
  if (path === "/headers") return res.text("<b/>", 201, { "Content-Type": "Text/HTML", "x-open-runtimes-x": "1", "x-a": "b" });
  if (path === "/binary") return res.binary(Buffer.from([0, 255, 1]));
  if (path === "/redirect") return res.redirect("https://example.com/");
  if (path === "/empty") return res.empty();
  if (path === "/status") return res.json({ ok: true }, 202);
  return res.json({
    greeting: require("./helper.js"), count, method: req.method, path: req.path,
    query: req.query, query_string: req.queryString, host: req.host, port: req.port,
    scheme: req.scheme, url: req.url, body: req.body, headers: req.headers,
    built: require("fs").readFileSync(__dirname + "/built.txt", "utf8"),
  });
};
"""

FUNCTIONS = {
    "python-3.11": {
        "files": {"main.py": PYTHON, "helper.py": 'GREETING = "hi"\n'},
        "entrypoint": "main.py",
        # The venv is active during the build: sys.prefix is the build's runtime-env.
        "commands": "python -c \"import sys; open('built.txt', 'w').write(sys.prefix)\"",
        "built": "/usr/local/build/runtime-env",
    },
    "node-18.0": {
        "files": {"index.js": NODE, "helper.js": 'module.exports = "hi";\n'},
        "entrypoint": "index.js",
        "commands": "node -e \"require('fs').writeFileSync('built.txt', process.version)\"",
        "built": "v18.",
    },
}
# Every Node version runs the same function (Debian's node 18 and 20, the vendored node 22).
for _node_id, _major in (("node-20.0", "v20."), ("node-22", "v22.")):
    FUNCTIONS[_node_id] = {**FUNCTIONS["node-18.0"], "built": _major}
NODE_IDS = [rid for rid in FUNCTIONS if rid.startswith("node-")]

# Bun runs the Node function as it is (CommonJS); Deno an ES module version of it, as Appwrite's
# Deno functions are written (no Buffer, no require).
DENO = (
    NODE.replace("module.exports = async", "export default async")
    .replace("Buffer.from([0, 255, 1])", "new Uint8Array([0, 255, 1])")
    .replace('require("./helper.js")', "helper")
    .replace(
        'require("fs").readFileSync(__dirname + "/built.txt", "utf8")',
        'Deno.readTextFileSync(new URL("./built.txt", import.meta.url))',
    )
)
for _bun_id, _version in (("bun-1.1", "1.1."), ("bun-1.2", "1.2.")):
    FUNCTIONS[_bun_id] = {
        **FUNCTIONS["node-18.0"],
        "commands": "bun -e \"require('fs').writeFileSync('built.txt', Bun.version)\"",
        "built": _version,
    }
for _deno_id, _version in (("deno-2.0", "2.0."), ("deno-2.5", "2.5.")):
    FUNCTIONS[_deno_id] = {
        "files": {
            "index.js": 'import helper from "./helper.js";\n' + DENO,
            "helper.js": 'export default "hi";\n',
        },
        "entrypoint": "index.js",
        "commands": "deno eval \"Deno.writeTextFileSync('built.txt', Deno.version.deno)\"",
        "built": _version,
    }
JS_IDS = [rid for rid in FUNCTIONS if not rid.startswith("python-")]


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def call(sock, path, method="GET", body=None, headers=None, secret=SECRET):
    connection = UnixConnection(sock)
    sent = {"host": "functions.test", **({"x-open-runtimes-secret": secret} if secret else {})}
    connection.request(method, path, body=body, headers={**sent, **(headers or {})})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def owned_dir(path):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 1000, 1000)
    return path


@pytest.fixture(scope="module", params=list(FUNCTIONS))
def runtime(request):
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine")
    rt = runtimes.get(request.param)
    images.ensure_image(rt)
    return rt


@pytest.fixture(scope="module")
def built(runtime, tmp_path_factory):
    """Build the test function with helpers/build.sh; returns the extracted artifact."""
    spec = FUNCTIONS[runtime.id]
    work = tmp_path_factory.mktemp(runtime.id)
    os.chmod(work, 0o755)
    source = work / "source.tar.gz"
    with tarfile.open(source, "w:gz") as archive:
        for name, text in spec["files"].items():
            (work / name).write_text(text)
            archive.add(work / name, arcname=name)
    output = owned_dir(work / "output")
    result = docker(
        "run",
        "--rm",
        "--network",
        "host",
        "--user",
        "1000:1000",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "-v",
        f"{source}:/tmp/code.tar.gz:ro",
        "-v",
        f"{output}:/mnt/code",
        "-e",
        f"OPEN_RUNTIMES_ENTRYPOINT={spec['entrypoint']}",
        runtime.image,
        "bash",
        "helpers/build.sh",
        spec["commands"],
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[open-runtimes]" in result.stdout
    code = work / "code"
    code.mkdir()
    with tarfile.open(output / "code.tar.gz") as archive:
        archive.extractall(code, filter="tar")
    assert f"OPEN_RUNTIMES_ENTRYPOINT={spec['entrypoint']}" in (code / ".open-runtimes").read_text()
    return code


@contextmanager
def started(runtime, code, work, env=None):
    logs, sockets = owned_dir(work / "logs"), owned_dir(work / "sock")
    name = f"test-runtime-{uuid.uuid4().hex[:12]}"
    environment = {
        "OPEN_RUNTIMES_SOCKET": "/var/run/opr/server.sock",
        "OPEN_RUNTIMES_SECRET": SECRET,
    }
    environment.update(env or {})
    flags = [f"-e{key}={value}" for key, value in environment.items()]
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--user",
        "1000:1000",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,nosuid,nodev,size=64m",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--pids-limit",
        "100",
        "-m",
        "512m",
        "--cpus",
        "1",
        "-v",
        f"{code}:/usr/local/server/src/function:ro",
        "-v",
        f"{logs}:/mnt/logs",
        "-v",
        f"{sockets}:/var/run/opr",
        *flags,
        runtime.image,
    )
    try:
        sock = sockets / "server.sock"
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, docker("logs", name, check=False).stdout
            time.sleep(0.005)
        yield str(sock), logs
    finally:
        docker("rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def server(runtime, built, tmp_path_factory):
    with started(runtime, built, tmp_path_factory.mktemp("run")) as running:
        yield running


def read_log(logs, log_id, kind):
    path = Path(logs) / f"{log_id}_{kind}.log"
    return path.read_text() if path.exists() else ""


def test_request_fields_and_state(runtime, server):
    sock, _ = server
    status, headers, body = call(
        sock,
        "/a/b?x=1&y=2&x=3&z",
        "POST",
        body=b'{"k":"v"}',
        headers={
            "content-type": "application/json",
            "x-open-runtimes-extra": "hidden",
            "host": "h.test:8080",
        },
    )
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    data = json.loads(body)
    assert data["greeting"] == "hi" and data["built"].startswith(FUNCTIONS[runtime.id]["built"])
    assert (data["method"], data["path"], data["query_string"]) == ("POST", "/a/b", "x=1&y=2&x=3&z")
    assert data["query"] == {"x": "3", "y": "2", "z": ""}
    assert (data["host"], data["port"], data["scheme"]) == ("h.test", 8080, "http")
    assert data["url"] == "http://h.test:8080/a/b?x=1&y=2&x=3&z" and data["body"] == {"k": "v"}
    assert (
        "x-open-runtimes-extra" not in data["headers"]
        and "x-open-runtimes-secret" not in data["headers"]
    )
    assert headers["x-open-runtimes-log-id"]
    count = json.loads(call(sock, "/")[2])["count"]
    assert json.loads(call(sock, "/")[2])["count"] == count + 1  # module state survives


def test_logs_errors_and_native_output(runtime, server):
    sock, logs = server
    status, headers, body = call(sock, "/log")
    assert (status, body) == (200, b"logged")
    log_id = headers["x-open-runtimes-log-id"]
    text = read_log(logs, log_id, "logs")
    notice = "Native logs detected. Use context.log() or context.error() for better experience."
    if runtime.id.startswith("python"):
        assert text == 'a {"b":1} [1,2] 3 None True\n' + notice + "native out\n"
    else:
        assert text == f'{notice}\nnative out\na {{"b":1}} [1,2] 3 null undefined true\n'
    assert read_log(logs, log_id, "errors") == "problem\n"
    status, headers, _ = call(sock, "/log", headers={"x-open-runtimes-logging": "disabled"})
    assert status == 200 and headers["x-open-runtimes-log-id"] == ""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/throw", "boom"),
        (
            "/none",
            "Return statement missing. return context.res.empty() if no response is expected.",
        ),
    ],
)
def test_failures_answer_500_with_errors(server, path, expected):
    sock, logs = server
    status, headers, body = call(sock, path)
    assert (status, body) == (500, b"")
    assert expected in read_log(logs, headers["x-open-runtimes-log-id"], "errors")


def test_soft_timeout(server):
    sock, logs = server
    started_at = time.monotonic()
    status, headers, body = call(sock, "/sleep", headers={"x-open-runtimes-timeout": "1"})
    assert (status, body) == (500, b"") and time.monotonic() - started_at < 2.5
    assert read_log(logs, headers["x-open-runtimes-log-id"], "errors") == "Execution timed out.\n"
    status, _, body = call(sock, "/", headers={"x-open-runtimes-timeout": "0"})
    assert (status, body) == (
        500,
        b'Header "x-open-runtimes-timeout" must be an integer greater than 0.',
    )


def test_secret_and_health(server):
    sock, _ = server
    expected = (500, b'Unauthorized. Provide correct "x-open-runtimes-secret" header.')
    assert call(sock, "/", secret="wrong")[::2] == expected
    assert call(sock, "/", secret=None)[::2] == expected
    assert call(sock, "/__opr/health", secret=None)[::2] == (200, b"OK")


def test_response_normalisation(server):
    sock, _ = server
    status, headers, body = call(sock, "/headers")
    assert (status, body, headers["content-type"], headers["x-a"]) == (
        201,
        b"<b/>",
        "text/html; charset=utf-8",
        "b",
    )
    assert "x-open-runtimes-x" not in headers
    status, headers, body = call(sock, "/binary")
    assert (status, body, headers["content-type"]) == (
        200,
        bytes([0, 255, 1]),
        "text/plain; charset=utf-8",
    )
    status, headers, _ = call(sock, "/redirect")
    assert (status, headers["location"]) == (301, "https://example.com/")
    assert call(sock, "/empty")[0] == 204
    assert call(sock, "/status")[::2] == (202, b'{"ok":true}')


def test_concurrent_requests(server):
    """Three 3-second executions with a 1 s timeout overlap instead of queueing."""
    import concurrent.futures

    sock, _ = server
    started_at = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(
            pool.map(
                lambda _: call(sock, "/sleep", headers={"x-open-runtimes-timeout": "1"})[0],
                range(3),
            )
        )
    assert results == [500, 500, 500] and time.monotonic() - started_at < 2.5


def test_node_log_objects(runtime, request):
    """BigInt, Map, Set, URL, Date, Error and circular references are written as JSON text."""
    if runtime.id not in JS_IDS:
        pytest.skip("JavaScript values")
    sock, logs = request.getfixturevalue("server")
    status, headers, body = call(sock, "/objects")
    assert (status, body) == (200, b"objects")
    text = read_log(logs, headers["x-open-runtimes-log-id"], "logs")
    first, notice, native = text.splitlines()
    assert json.loads(first.removesuffix(' {"top":true} 7')) == {
        "big": 10,
        "map": {"k": 1},
        "pairs": [[1, ["s"]]],
        "url": "https://example.com/x?y=1",
        "date": "1970-01-01T00:00:00.000Z",
        "circular": {"name": "loop", "self": "[Circular]"},
        "error": {"name": "TypeError", "message": "bad"},
        "nested": [None, {"deep": [1]}],
    }
    assert first.endswith(' {"top":true} 7') and notice.startswith("Native logs detected")
    assert native == '{"native":[1]}'


def node_runtime(runtime_id):
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        pytest.skip("no Docker engine")
    runtime = runtimes.get(runtime_id)
    images.ensure_image(runtime)
    return runtime


SAFE_ENTRYPOINTS = {
    "missing.js": (None, "Failed to load entrypoint, file missing.js does not exist."),
    "syntax.js": ("module.exports = async ( => 1;\n", "Syntax error in syntax.js: "),
    "object.js": (
        "exports.handler = async () => 1;\n",
        "Function signature invalid. Did you forget to export a 'main' function?",
    ),
    "named.js": (
        "module.exports = { main: async ({ res }) => res.text('x') };\n",
        "Function signature invalid. Did you forget to export a 'main' function?",
    ),
    "no-default.mjs": (
        "export const main = async ({ res }) => res.text('x');\n",
        "Function signature invalid. Did you forget to export a 'main' function?",
    ),
    "throws.js": ("throw new Error('at load');\n", "Failed to load module: at load"),
    "needs.js": ("require('not-installed');\n", "Failed to load module: Cannot find module"),
}


@pytest.mark.parametrize("runtime_id", NODE_IDS)
def test_node_entrypoints_that_cannot_serve_answer_503(runtime_id, tmp_path):
    """open-runtimes' "safe entrypoints": 503, empty body, the reason in the errors."""
    runtime = node_runtime(runtime_id)
    code = owned_dir(tmp_path / "code")
    for name, (text, _) in SAFE_ENTRYPOINTS.items():
        if text is not None:
            (code / name).write_text(text)
    for name, (_, expected) in SAFE_ENTRYPOINTS.items():
        work = tmp_path / name
        with started(runtime, code, work, {"OPEN_RUNTIMES_ENTRYPOINT": name}) as (sock, logs):
            status, headers, body = call(sock, "/")
            assert (status, body) == (503, b""), name
            errors = read_log(logs, headers["x-open-runtimes-log-id"], "errors")
            assert errors.startswith(expected), (name, errors)
            if name == "syntax.js":
                assert "syntax.js:1" in errors and "/usr/local/server" not in errors


@pytest.mark.parametrize("runtime_id", NODE_IDS)
def test_node_es_module(runtime_id, tmp_path):
    runtime = node_runtime(runtime_id)
    code = owned_dir(tmp_path / "code")
    (code / "main.mjs").write_text(
        "export default async ({ req, res }) => res.json({ esm: req.method });\n"
    )
    with started(runtime, code, tmp_path, {"OPEN_RUNTIMES_ENTRYPOINT": "main.mjs"}) as (sock, _):
        assert call(sock, "/", "PUT")[::2] == (200, b'{"esm":"PUT"}')
