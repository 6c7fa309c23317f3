"""Hostile function code (Python and Node.js) for the sandbox tests: each path tries one escape
and answers JSON describing what it could do. The host-side assertions are in test_sandbox.py."""

PY_HOSTILE = r"""
import json
import os
import threading

DIRS = ["/tmp", "/mnt/logs", "/var/run/opr", "/var/run/opr-api", "/usr/local/server/src/function", "/usr"]


def replace_logs(make):
    done = []
    for name in os.listdir("/mnt/logs"):
        path = os.path.join("/mnt/logs", name)
        os.unlink(path)
        make(path)
        done.append(name)
    return done


def fill(folder, limit_mb):
    written, error = 0, ""
    chunk = b"x" * (1024 * 1024)
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as out:
            for _ in range(limit_mb):
                out.write(chunk)
                out.flush()
                written += len(chunk)
    except OSError as exc:
        error = exc.strerror or str(exc)
    try:
        os.unlink(os.path.join(folder, "fill.bin"))
    except OSError:
        pass
    return {"written": written, "error": error}


def main(context):
    req = context.req
    args = req.body_json if req.body_text else {}
    if req.path == "/logs-symlink":
        context.log("about to swap the log file")
        context.error("and the error file")
        done = replace_logs(lambda path: os.symlink(args["target"], path))
        return context.res.json({"replaced": done})
    if req.path == "/logs-fifo":
        context.log("about to swap the log file")
        done = replace_logs(os.mkfifo)
        return context.res.json({"replaced": done})
    if req.path == "/logs-flood":
        line = "y" * 4000
        for _ in range(6000):  # 24 MB, more than the log folder holds
            context.log(line)
        return context.res.json({"flooded": True})
    if req.path == "/socket-swap":
        os.unlink("/var/run/opr/server.sock")
        os.symlink(args["target"], "/var/run/opr/server.sock")
        return context.res.json({"swapped": True})
    if req.path == "/runtime-links":
        for name in ("logs", "last-used", "code"):
            os.symlink(args["target"], os.path.join("/var/run/opr", name))
        threading.Timer(0.3, os._exit, [0]).start()  # die: the next call is a cold start
        return context.res.json({"linked": os.listdir("/var/run/opr")})
    if req.path == "/api-dir":
        results = {}
        for action, call in (
            ("unlink", lambda: os.unlink("/var/run/opr-api/" + args["socket"])),
            ("create", lambda: open("/var/run/opr-api/planted", "w").close()),
            ("symlink", lambda: os.symlink("/etc", "/var/run/opr-api/etc")),
        ):
            try:
                call()
                results[action] = "done"
            except OSError as exc:
                results[action] = exc.strerror
        return context.res.json(results)
    if req.path == "/fill":
        return context.res.json({d: fill(d, args.get("mb", 600)) for d in DIRS})
    if req.path == "/huge-response":
        return context.res.binary(b"z" * (25 * 1024 * 1024))
    return context.res.json({"ok": True})
"""

NODE_HOSTILE = r"""
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const DIRS = ["/tmp", "/mnt/logs", "/var/run/opr", "/var/run/opr-api", "/usr/local/server/src/function", "/usr"];

const replaceLogs = (make) => fs.readdirSync("/mnt/logs").map((name) => {
  const file = path.join("/mnt/logs", name);
  fs.unlinkSync(file);
  make(file);
  return name;
});

const fill = (folder, limitMb) => {
  let written = 0, error = "";
  const file = path.join(folder, "fill.bin");
  const chunk = Buffer.alloc(1024 * 1024, 120);
  try {
    const fd = fs.openSync(file, "w");
    try { for (let i = 0; i < limitMb; i++) { fs.writeSync(fd, chunk); written += chunk.length; } }
    finally { fs.closeSync(fd); }
  } catch (e) { error = e.code || String(e); }
  try { fs.unlinkSync(file); } catch (e) {}
  return { written, error };
};

const attempt = (call) => { try { call(); return "done"; } catch (e) { return e.code || String(e); } };

module.exports = async (context) => {
  const req = context.req;
  const args = req.bodyText ? req.bodyJson : {};
  if (req.path === "/logs-symlink") {
    context.log("about to swap the log file");
    context.error("and the error file");
    return context.res.json({ replaced: replaceLogs((file) => fs.symlinkSync(args.target, file)) });
  }
  if (req.path === "/logs-fifo") {
    context.log("about to swap the log file");
    return context.res.json({ replaced: replaceLogs((file) => execFileSync("mkfifo", [file])) });
  }
  if (req.path === "/logs-flood") {
    const line = "y".repeat(4000);
    for (let i = 0; i < 6000; i++) context.log(line);
    return context.res.json({ flooded: true });
  }
  if (req.path === "/socket-swap") {
    fs.unlinkSync("/var/run/opr/server.sock");
    fs.symlinkSync(args.target, "/var/run/opr/server.sock");
    return context.res.json({ swapped: true });
  }
  if (req.path === "/runtime-links") {
    for (const name of ["logs", "last-used", "code"]) fs.symlinkSync(args.target, path.join("/var/run/opr", name));
    setTimeout(() => process.exit(0), 300);
    return context.res.json({ linked: fs.readdirSync("/var/run/opr") });
  }
  if (req.path === "/api-dir") {
    return context.res.json({
      unlink: attempt(() => fs.unlinkSync("/var/run/opr-api/" + args.socket)),
      create: attempt(() => fs.writeFileSync("/var/run/opr-api/planted", "x")),
      symlink: attempt(() => fs.symlinkSync("/etc", "/var/run/opr-api/etc")),
    });
  }
  if (req.path === "/fill") {
    return context.res.json(Object.fromEntries(DIRS.map((d) => [d, fill(d, args.mb || 600)])));
  }
  if (req.path === "/huge-response") {
    return context.res.binary(Buffer.alloc(25 * 1024 * 1024, 122));
  }
  return context.res.json({ ok: true });
};
"""

HOSTILE = {"python-3.11": ("main.py", PY_HOSTILE), "node-18.0": ("index.js", NODE_HOSTILE)}
