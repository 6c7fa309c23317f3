"""Helpers for tests that build and run real code: archives, uploads, waiting."""

import io
import tarfile
import time

from appwrite.input_file import InputFile

from functions_app.models import Execution


def make_archive(files, extra=None):
    """A .tar.gz of ``{path: text|bytes}``; ``extra(tar)`` may add crafted members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        if extra:
            extra(tar)
    return buffer.getvalue()


def upload(
    functions, function_id, files, activate=True, entrypoint=None, commands=None, extra=None
):
    code = InputFile.from_bytes(make_archive(files, extra), "code.tar.gz")
    return functions.create_deployment(
        function_id, code, activate, entrypoint=entrypoint, commands=commands
    )


def wait_for(check, timeout=120, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s")
        time.sleep(interval)


def wait_deployment(
    functions, function_id, deployment_id, statuses=("ready", "failed", "canceled"), timeout=180
):
    def done():
        deployment = functions.get_deployment(function_id, deployment_id)
        return deployment if deployment.status.value in statuses else None

    return wait_for(done, timeout)


def wait_execution(functions, function_id, execution_id, timeout=60):
    def done():
        execution = functions.get_execution(function_id, execution_id)
        return execution if execution.status.value in ("completed", "failed") else None

    return wait_for(done, timeout)


def domain_execution(response):
    """The row of a domain request's run: written just after the answer (as Appwrite's
    router records it through a queue), so it is waited for."""
    uid = response.headers["x-appwrite-execution-id"]
    return wait_for(lambda: Execution.objects.filter(uid=uid).first(), timeout=10, interval=0.01)


def deploy_echo(functions, runtime, function_id="echo", files=None, **options):
    """Create a function running ``files`` (default: the echo function) and wait until ready."""
    entrypoint, source = ECHO[runtime]
    options.setdefault("execute", ["any"])
    functions.create(function_id, "Echo", runtime, entrypoint=entrypoint, **options)
    dep = upload(functions, function_id, files or {entrypoint: source})
    ready = wait_deployment(functions, function_id, dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    return ready


PY_ECHO = """
import json
import os


def main(context):
    req = context.req
    if req.path == "/log":
        context.log("hello", {"a": 1})
        context.error("oops")
        print("native print")
        return context.res.text("logged")
    if req.path == "/fail":
        raise ValueError("boom")
    if req.path == "/nothing":
        return None
    if req.path == "/sleep":
        import time
        time.sleep(float(req.query.get("s", "5")))
        return context.res.text("slept")
    if req.path == "/binary":
        return context.res.binary(bytes(range(256)), 200, {"content-type": "application/octet-stream"})
    if req.path == "/binary-in":
        return context.res.binary(req.body_binary[::-1], 200, {"content-type": "application/octet-stream"})
    if req.path == "/limits":
        def read(path):
            try:
                return open(path).read().strip()
            except OSError as exc:
                return str(exc)
        return context.res.json({
            "memory": read("/sys/fs/cgroup/memory.max") if os.path.exists("/sys/fs/cgroup/memory.max") else read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
            "cpu": read("/sys/fs/cgroup/cpu.max") if os.path.exists("/sys/fs/cgroup/cpu.max") else read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
            "pids": read("/sys/fs/cgroup/pids.max") if os.path.exists("/sys/fs/cgroup/pids.max") else read("/sys/fs/cgroup/pids/pids.max"),
            "uid": os.getuid(),
            "docker_socket": os.path.exists("/var/run/docker.sock"),
            "root_writable": os.access("/usr", os.W_OK),
        })
    return context.res.json({
        "method": req.method, "path": req.path, "query": req.query, "queryString": req.query_string,
        "headers": req.headers, "body": req.body_text, "url": req.url,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("APPWRITE_", "MY_", "GLOBAL_"))},
    }, 200, {"x-custom": "yes"})
"""

NODE_ECHO = """
const fs = require("fs");
const read = (p) => { try { return fs.readFileSync(p, "utf8").trim(); } catch (e) { return String(e); } };
module.exports = async (context) => {
  const req = context.req;
  if (req.path === "/log") { context.log("hello", {a: 1}); context.error("oops"); console.log("native print"); return context.res.text("logged"); }
  if (req.path === "/fail") { throw new Error("boom"); }
  if (req.path === "/nothing") { return undefined; }
  if (req.path === "/sleep") { await new Promise(r => setTimeout(r, Number(req.query.s || 5) * 1000)); return context.res.text("slept"); }
  if (req.path === "/binary") { return context.res.binary(Buffer.from([...Array(256).keys()]), 200, {"content-type": "application/octet-stream"}); }
  if (req.path === "/binary-in") { return context.res.binary(Buffer.from(req.bodyBinary).reverse(), 200, {"content-type": "application/octet-stream"}); }
  if (req.path === "/limits") {
    return context.res.json({
      memory: fs.existsSync("/sys/fs/cgroup/memory.max") ? read("/sys/fs/cgroup/memory.max") : read("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
      cpu: fs.existsSync("/sys/fs/cgroup/cpu.max") ? read("/sys/fs/cgroup/cpu.max") : read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
      pids: fs.existsSync("/sys/fs/cgroup/pids.max") ? read("/sys/fs/cgroup/pids.max") : read("/sys/fs/cgroup/pids/pids.max"),
      uid: process.getuid(), docker_socket: fs.existsSync("/var/run/docker.sock"),
      root_writable: (() => { try { fs.accessSync("/usr", fs.constants.W_OK); return true; } catch (e) { return false; } })(),
    });
  }
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(APPWRITE_|MY_|GLOBAL_)/.test(k)));
  return context.res.json({
    method: req.method, path: req.path, query: req.query, queryString: req.queryString,
    headers: req.headers, body: req.bodyText, url: req.url, env,
  }, 200, {"x-custom": "yes"});
};
"""

ECHO = {"python-3.11": ("main.py", PY_ECHO), "node-18.0": ("index.js", NODE_ECHO)}
