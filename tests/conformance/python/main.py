import json
import os
import sys
import time

with open(os.path.join(os.path.dirname(__file__), "built.txt")) as built:
    BUILT = built.read()


def main(context):
    req, res = context.req, context.res
    path = req.path
    if path == "/echo":
        try:
            body_json = json.loads(req.body_text)
        except ValueError:
            body_json = None
        env = {
            k: v
            for k, v in os.environ.items()
            if k.startswith(("APPWRITE_FUNCTION_", "CONFORMANCE_"))
        }
        return res.json(
            {
                "method": req.method,
                "scheme": req.scheme,
                "host": req.host,
                "port": req.port,
                "path": req.path,
                "query": req.query,
                "queryString": req.query_string,
                "headers": req.headers,
                "bodyText": req.body_text,
                "bodyJson": body_json,
                "url": req.url,
                "env": env,
                "built": BUILT,
            }
        )
    if path == "/binary":
        return res.binary(bytes(req.body_binary)[::-1])
    if path == "/headers":
        return res.text(
            "<b/>", 201, {"Content-Type": "Text/HTML", "X-Custom": "V", "x-open-runtimes-x": "1"}
        )
    if path == "/json":
        return res.json({"ok": True, "list": [1, 2], "nested": {"a": "b"}})
    if path == "/redirect":
        return res.redirect("https://example.com/next", 301)
    if path == "/empty":
        return res.empty()
    if path == "/status":
        return res.text("teapot", 418)
    if path == "/cookie":
        return res.text("cookie", 200, {"set-cookie": "session=abc; Path=/; HttpOnly"})
    if path == "/send":
        return res.send("sent", 202)
    if path == "/log":
        print("native out")
        sys.stdout.flush()
        context.log("a", {"b": 1}, [1, 2], 3, True)
        context.error("problem")
        context.log("x" * 9000)
        return res.text("logged")
    if path == "/objects":
        context.log(
            {
                "text": "marker-1",
                "number": 42,
                "list": [1, [2, 3]],
                "map": {"k": {"v": 1}},
                "none": None,
                "flag": False,
                "float": 1.5,
                "tuple": (1, 2),
            }
        )
        return res.text("objects")
    if path == "/throw":
        raise RuntimeError("boom")
    if path == "/none":
        return None
    if path == "/sleep":
        time.sleep(float(req.query.get("s", "1")))
        return res.text("slept")
    return res.text("unknown path " + path, 404)
