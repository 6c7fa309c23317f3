"""A corpus of malformed requests against every /v1 route: each must get Appwrite's error JSON
with a 4xx status, and change nothing at all (every row of every model, the task queue, and
the deployment files are compared before and after)."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django_q.models import Task

from functions_app.models import ApiKey, Deployment, Execution, Function, Node
from functions_app.services import health

from .helpers import queued_tasks

F = "/functions/fn"
D = F + "/deployments/dep1"
E = F + "/executions/exe1"
LONG_ID = "a" * 37
DEEP = "[" * 50_000 + "]" * 50_000
DEEPISH = "[" * 600 + "]" * 600  # under Python's recursion limit, over PHP's depth of 512
JSON = {"Content-Type": "application/json"}
GZ = {"code": ("code.tar.gz", b"\x1f\x8b not really", "application/gzip")}
TAR = {"code": ("code.tar", b"plain", "application/x-tar")}
FN = {"functionId": "new", "name": "New", "runtime": "python-3.11"}
FN_JSON = json.dumps(FN)[:-1].encode()  # to add a member JSON can carry but Python cannot send


@dataclass
class Case:
    name: str
    method: str
    path: str
    kwargs: dict = field(default_factory=dict)
    body_limit: int | None = None  # DATA_UPLOAD_MAX_MEMORY_SIZE for this request
    auth: bool = True  # send the project's API key


def case(name, method, path, body_limit=None, auth=True, **kwargs):
    return Case(name, method, path, kwargs, body_limit, auth)


def raw_json(text):
    return {"data": text.encode("utf-8", "surrogatepass"), "headers": JSON}


def q(*queries):
    return {"params": {"queries[]": list(queries)}}


BAD_QUERIES = [
    ("not-json", q("garbage")),
    ("json-number", q("42")),
    ("json-object-no-method", q('{"values":[1]}')),
    ("unknown-method", q('{"method":"explode","values":[]}')),
    ("method-not-string", q('{"method":5,"values":[]}')),
    ("values-not-array", q('{"method":"limit","values":5}')),
    ("negative-limit", q('{"method":"limit","values":[-1]}')),
    ("huge-limit", q('{"method":"limit","values":[1e400]}')),
    ("huge-int-limit", q('{"method":"limit","values":[' + "9" * 5000 + "]}")),
    ("negative-offset", q('{"method":"offset","values":[-5]}')),
    ("unknown-attribute", q('{"method":"equal","attribute":"nope","values":["x"]}')),
    ("wrong-value-type", q('{"method":"equal","attribute":"timeout","values":["x"]}')),
    ("unknown-cursor", q('{"method":"cursorAfter","values":["missing"]}')),
    ("cursor-bad-id", q('{"method":"cursorAfter","values":["bad\\n"]}')),
    ("deep-query", q("[" * 5000 + "]" * 5000)),
    ("deep-object-query", q('{"method":"and","values":' + "[" * 3000 + "]" * 3000 + "}")),
    ("surrogate-in-query", q('{"method":"equal","attribute":"name","values":["\\ud800"]}')),
    ("bad-datetime", q('{"method":"greaterThan","attribute":"$createdAt","values":["soon"]}')),
    ("empty-search", {"params": {"search": ""}}),
    ("long-search", {"params": {"search": "s" * 257}}),
]

CASES = [
    # -- transport and authentication --------------------------------------------------------
    case("unknown-route", "GET", "/nothing"),
    case("unknown-nested-route", "POST", F + "/nothing/here"),
    case("trailing-slash", "GET", "/functions/"),
    case("method-not-allowed", "PATCH", "/functions"),
    case("delete-on-list", "DELETE", "/functions"),
    case("unknown-project", "GET", "/functions", headers={"X-Appwrite-Project": "nope"}),
    case("bad-project-id", "GET", "/functions", headers={"X-Appwrite-Project": "a b"}),
    case("bad-project-param", "GET", "/functions", auth=False, params={"project": "a\nb"}),
    case("wrong-key", "GET", "/functions", headers={"X-Appwrite-Key": "standard_nope"}),
    case("dynamic-garbage", "GET", "/functions", headers={"X-Appwrite-Key": "dynamic_x.y.z"}),
    case("no-key", "POST", "/functions", auth=False, json=FN),
    case("garbage-jwt", "GET", F + "/executions", auth=False, headers={"X-Appwrite-JWT": "x"}),
    case("key-and-session", "GET", "/functions", headers={"X-Appwrite-Session": "s"}),
    case("no-project", "GET", "/functions", headers={"X-Appwrite-Project": ""}),
    case("post-runtimes", "POST", "/functions/runtimes", json={}),
    case("delete-specifications", "DELETE", "/functions/specifications"),
    case("invalid-utf8-path", "GET", "/functions/%FF%FE"),
    case("encoded-newline-id", "GET", "/functions/fn%0A"),
    case("encoded-nul-id", "GET", "/functions/fn%00"),
    case("too-long-path-id", "GET", "/functions/" + LONG_ID),
    case("leading-dot-id", "GET", "/functions/.fn"),
    case("unknown-function", "GET", "/functions/missing"),
    case("body-too-large", "POST", "/functions", body_limit=1024, json={**FN, "name": "x" * 5000}),
    case("form-too-large", "POST", "/functions", body_limit=1024, data={"name": "x" * 5000}),
    case(
        "multipart-too-large",
        "POST",
        F + "/deployments",
        body_limit=1024,
        data={"activate": "true"},
        files={"code": ("c.tar.gz", b"x" * 5000)},
    ),
    # -- JSON bodies ---------------------------------------------------------------------------
    case("invalid-json", "POST", "/functions", data=b"{not json", headers=JSON),
    case("truncated-json", "POST", "/functions", data=b'{"functionId": "x"', headers=JSON),
    case("json-array-body", "POST", "/functions", data=b"[1, 2]", headers=JSON),
    case("json-string-body", "POST", "/functions", data=b'"hello"', headers=JSON),
    case("json-nan", "POST", "/functions", data=FN_JSON + b', "timeout": NaN}', headers=JSON),
    case("deep-json", "POST", "/functions", data=DEEP.encode(), headers=JSON),
    case(
        "deep-json-in-field",
        "POST",
        "/functions",
        data=('{"functionId": "x", "name": ' + DEEP + "}").encode(),
        headers=JSON,
    ),
    case("deepish-json", "POST", "/functions", data=DEEPISH.encode(), headers=JSON),
    case(
        "deep-object-json",
        "POST",
        "/functions",
        data=('{"a":' * 20_000 + "1" + "}" * 20_000).encode(),
        headers=JSON,
    ),
    case("surrogate-name", "POST", "/functions", **raw_json('{"functionId":"x","name":"\\ud800"}')),
    case("surrogate-key", "POST", "/functions", **raw_json('{"\\udfff":1,"functionId":"x"}')),
    case("surrogate-pair-half", "POST", "/functions", **raw_json('{"name":"\\ud83d x"}')),
    case("invalid-utf8-json", "POST", "/functions", data=b'{"name": "\xff\xfe"}', headers=JSON),
    case("utf16-garbage", "POST", "/functions", data=b"\xff\xfe{\x00", headers=JSON),
    case(
        "huge-int-json",
        "POST",
        "/functions",
        data=b'{"timeout": ' + b"9" * 5000 + b"}",
        headers=JSON,
    ),
    case(
        "text-plain-json",
        "POST",
        "/functions",
        data=b"{bad",
        headers={"Content-Type": "text/plain"},
    ),
    case(
        "xml-body", "POST", "/functions", data=b"<a/>", headers={"Content-Type": "application/xml"}
    ),
    case(
        "multipart-no-boundary",
        "POST",
        "/functions",
        data=b"x",
        headers={"Content-Type": "multipart/form-data"},
    ),
    case(
        "multipart-broken",
        "POST",
        "/functions",
        data=b"--b\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    case(
        "too-many-form-fields",
        "POST",
        "/functions",
        data="&".join(f"f{i}=1" for i in range(10_001)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    case(
        "form-bad-escapes",
        "POST",
        "/functions",
        data="functionId=%ZZ&name=%FF",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    # -- POST /functions -----------------------------------------------------------------------
    case("create-missing-id", "POST", "/functions", json={"name": "x", "runtime": "python-3.11"}),
    case("create-id-newline", "POST", "/functions", json={**FN, "functionId": "new\n"}),
    case("create-id-too-long", "POST", "/functions", json={**FN, "functionId": LONG_ID}),
    case("create-id-leading-dash", "POST", "/functions", json={**FN, "functionId": "-x"}),
    case("create-id-number", "POST", "/functions", json={**FN, "functionId": 123}),
    case("create-id-list", "POST", "/functions", json={**FN, "functionId": ["a"]}),
    case("create-id-unicode", "POST", "/functions", json={**FN, "functionId": "fünf"}),
    case("create-duplicate-id", "POST", "/functions", json={**FN, "functionId": "fn"}),
    case(
        "create-missing-name",
        "POST",
        "/functions",
        json={"functionId": "x", "runtime": "python-3.11"},
    ),
    case("create-empty-name", "POST", "/functions", json={**FN, "name": ""}),
    case("create-long-name", "POST", "/functions", json={**FN, "name": "n" * 129}),
    case("create-name-object", "POST", "/functions", json={**FN, "name": {"a": 1}}),
    case("create-name-nul", "POST", "/functions", json={**FN, "name": "a\x00b"}),
    case("create-missing-runtime", "POST", "/functions", json={"functionId": "x", "name": "x"}),
    case("create-unknown-runtime", "POST", "/functions", json={**FN, "runtime": "cobol-85"}),
    case("create-runtime-number", "POST", "/functions", json={**FN, "runtime": 3.11}),
    case("create-execute-string", "POST", "/functions", json={**FN, "execute": "any"}),
    case("create-execute-bad-role", "POST", "/functions", json={**FN, "execute": ["root"]}),
    case("create-execute-too-many", "POST", "/functions", json={**FN, "execute": ["any"] * 101}),
    case("create-execute-nested", "POST", "/functions", json={**FN, "execute": [["any"]]}),
    case("create-events-bad", "POST", "/functions", json={**FN, "events": ["nope.*"]}),
    case("create-events-number", "POST", "/functions", json={**FN, "events": [1]}),
    case("create-bad-cron", "POST", "/functions", json={**FN, "schedule": "every day"}),
    case("create-cron-fields", "POST", "/functions", json={**FN, "schedule": "* * * * * * *"}),
    case("create-cron-range", "POST", "/functions", json={**FN, "schedule": "99 * * * *"}),
    case("create-cron-number", "POST", "/functions", json={**FN, "schedule": 5}),
    case("create-timeout-zero", "POST", "/functions", json={**FN, "timeout": 0}),
    case("create-timeout-negative", "POST", "/functions", json={**FN, "timeout": -1}),
    case("create-timeout-huge", "POST", "/functions", json={**FN, "timeout": 10**30}),
    case("create-timeout-float", "POST", "/functions", json={**FN, "timeout": 1.5}),
    case("create-timeout-text", "POST", "/functions", json={**FN, "timeout": "ten"}),
    case("create-timeout-bool", "POST", "/functions", json={**FN, "timeout": True}),
    case("create-timeout-digits", "POST", "/functions", json={**FN, "timeout": "9" * 5000}),
    case(
        "create-timeout-inf",
        "POST",
        "/functions",
        data=FN_JSON + b', "timeout": 1e999}',
        headers=JSON,
    ),
    case("create-enabled-text", "POST", "/functions", json={**FN, "enabled": "yes"}),
    case("create-logging-number", "POST", "/functions", json={**FN, "logging": 1}),
    case("create-long-entrypoint", "POST", "/functions", json={**FN, "entrypoint": "e" * 1029}),
    case("create-long-commands", "POST", "/functions", json={**FN, "commands": "c" * 8193}),
    case("create-bad-scope", "POST", "/functions", json={**FN, "scopes": ["root.all"]}),
    case("create-scopes-string", "POST", "/functions", json={**FN, "scopes": "users.read"}),
    case("create-bad-specification", "POST", "/functions", json={**FN, "specification": "huge"}),
    case(
        "create-long-installation", "POST", "/functions", json={**FN, "installationId": "i" * 129}
    ),
    case("create-branch-number", "POST", "/functions", json={**FN, "providerBranch": 7}),
    case("create-silent-text", "POST", "/functions", json={**FN, "providerSilentMode": "no"}),
    case("create-form-bad-id", "POST", "/functions", data={**FN, "functionId": "a b"}),
    case(
        "create-multipart-binary-name",
        "POST",
        "/functions",
        data={"functionId": "x", "runtime": "python-3.11"},
        files={"name": (None, b"\xff\xfe\x80")},
    ),
    *[
        case(f"list-functions-{name}", "GET", "/functions", **kwargs)
        for name, kwargs in BAD_QUERIES
    ],
    # -- /functions/{id} -----------------------------------------------------------------------
    case("get-unknown", "GET", "/functions/nope"),
    case("put-unknown", "PUT", "/functions/nope", json={"name": "x"}),
    case("put-missing-name", "PUT", F, json={}),
    case("put-bad-runtime", "PUT", F, json={"name": "x", "runtime": "nope"}),
    case("put-negative-timeout", "PUT", F, json={"name": "x", "timeout": -5}),
    case("put-bad-cron", "PUT", F, json={"name": "x", "schedule": "61 * * * *"}),
    case("put-bad-json", "PUT", F, data=b"{", headers=JSON),
    case("put-surrogate-name", "PUT", F, **raw_json('{"name":"\\udc00"}')),
    case("put-bad-id", "PUT", "/functions/bad%0A", json={"name": "x"}),
    case("delete-unknown", "DELETE", "/functions/nope"),
    case("delete-bad-id", "DELETE", "/functions/_x"),
    case("patch-function", "PATCH", F, json={"name": "x"}),
    # -- deployments ---------------------------------------------------------------------------
    case("activate-missing-id", "PATCH", F + "/deployment", json={}),
    case("activate-id-newline", "PATCH", F + "/deployment", json={"deploymentId": "dep1\n"}),
    case("activate-id-number", "PATCH", F + "/deployment", json={"deploymentId": 5}),
    case("activate-unknown", "PATCH", F + "/deployment", json={"deploymentId": "nope"}),
    case(
        "activate-unknown-function",
        "PATCH",
        "/functions/nope/deployment",
        json={"deploymentId": "dep1"},
    ),
    *[
        case(f"list-deployments-{name}", "GET", F + "/deployments", **kwargs)
        for name, kwargs in BAD_QUERIES[:12]
    ],
    case(
        "list-deployments-bad-select",
        "GET",
        F + "/deployments",
        **q('{"method":"select","values":["nope"]}'),
    ),
    case("upload-no-file", "POST", F + "/deployments", data={"activate": "true"}),
    case("upload-json", "POST", F + "/deployments", json={"activate": True}),
    case("upload-missing-activate", "POST", F + "/deployments", files=GZ),
    case("upload-activate-maybe", "POST", F + "/deployments", data={"activate": "maybe"}, files=GZ),
    case("upload-not-gz", "POST", F + "/deployments", data={"activate": "true"}, files=TAR),
    case(
        "upload-long-entrypoint",
        "POST",
        F + "/deployments",
        data={"activate": "true", "entrypoint": "e" * 1029},
        files=GZ,
    ),
    case(
        "upload-long-commands",
        "POST",
        F + "/deployments",
        data={"activate": "true", "commands": "c" * 8193},
        files=GZ,
    ),
    case(
        "upload-binary-entrypoint",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files={**GZ, "entrypoint": (None, b"\xff\xfe")},
    ),
    case(
        "upload-content-range-garbage",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": "bytes abc"},
    ),
    case(
        "upload-content-range-backwards",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": "bytes 10-5/100"},
    ),
    case(
        "upload-content-range-past-size",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": "bytes 0-15/10"},
    ),
    case(
        "upload-content-range-wrong-length",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": "bytes 0-3/10000000"},
    ),
    case(
        "upload-content-range-huge-digits",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": f"bytes 0-{'9' * 5000}/{'9' * 5000}"},
    ),
    case(
        "upload-content-range-negative",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"Content-Range": "bytes -1-5/10"},
    ),
    case(
        "upload-content-range-misaligned",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files={"code": ("c.tar.gz", b"abcd")},
        headers={"Content-Range": "bytes 3-6/20000000"},
    ),
    case(
        "upload-too-big",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files={"code": ("c.tar.gz", b"abcd")},
        headers={"Content-Range": "bytes 0-3/999999999999"},
    ),
    case(
        "upload-bad-upload-id",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"X-Appwrite-ID": "-bad"},
    ),
    case(
        "upload-long-upload-id",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files=GZ,
        headers={"X-Appwrite-ID": LONG_ID},
    ),
    case(
        "upload-unknown-upload-id",
        "POST",
        F + "/deployments",
        data={"activate": "true"},
        files={"code": ("c.tar.gz", b"abcd")},
        headers={"X-Appwrite-ID": "nope"},
    ),
    case(
        "upload-unknown-function",
        "POST",
        "/functions/nope/deployments",
        data={"activate": "true"},
        files=GZ,
    ),
    case("duplicate-missing-id", "POST", F + "/deployments/duplicate", json={}),
    case("duplicate-bad-id", "POST", F + "/deployments/duplicate", json={"deploymentId": "a\n"}),
    case("duplicate-unknown", "POST", F + "/deployments/duplicate", json={"deploymentId": "nope"}),
    case(
        "duplicate-bad-build-id",
        "POST",
        F + "/deployments/duplicate",
        json={"deploymentId": "dep1", "buildId": "."},
    ),
    case(
        "duplicate-no-source", "POST", F + "/deployments/duplicate", json={"deploymentId": "dep1"}
    ),
    case("template-deployment", "POST", F + "/deployments/template", json={"repository": "x"}),
    case("vcs-deployment", "POST", F + "/deployments/vcs", json={"type": "branch"}),
    case("vcs-unknown-function", "POST", "/functions/nope/deployments/vcs", json={}),
    case(
        "vcs-not-linked",
        "POST",
        F + "/deployments/vcs",
        json={"type": "branch", "reference": "main"},
    ),
    case(
        "template-bad-root",
        "POST",
        F + "/deployments/template",
        json={
            "repository": "templates",
            "owner": "functions",
            "rootDirectory": "../x",
            "type": "tag",
            "reference": "1",
        },
    ),
    case(
        "template-bad-reference",
        "POST",
        F + "/deployments/template",
        json={
            "repository": "r",
            "owner": "o",
            "rootDirectory": "",
            "type": "commit",
            "reference": "xyz",
        },
    ),
    case("templates-bad-limit", "GET", "/functions/templates", params={"limit": "x"}),
    case("templates-bad-runtime", "GET", "/functions/templates", params={"runtimes[]": "x"}),
    case("template-unknown", "GET", "/functions/templates/nope"),
    case("template-long-id", "GET", "/functions/templates/" + "t" * 129),
    case("webhook-unknown-installation", "POST", "/vcs/webhooks/nope", auth=False, json={}),
    case("webhook-bad-id", "POST", "/vcs/webhooks/" + LONG_ID, auth=False, json={}),
    case("webhook-get", "GET", "/vcs/webhooks/nope", auth=False),
    case("get-deployment-unknown", "GET", F + "/deployments/nope"),
    case("get-deployment-bad-id", "GET", F + "/deployments/" + LONG_ID),
    case("delete-deployment-unknown", "DELETE", F + "/deployments/nope"),
    case("patch-deployment-unknown", "PATCH", F + "/deployments/nope"),
    case("download-bad-type", "GET", D + "/download", params={"type": "everything"}),
    case("download-no-file", "GET", D + "/download"),
    case("download-bad-range", "GET", D + "/download", headers={"Range": "bytes=zz"}),
    case("download-unknown", "GET", F + "/deployments/nope/download"),
    case("build-download-no-file", "GET", D + "/build/download"),
    case("cancel-ready", "PATCH", D + "/status"),
    case("cancel-unknown", "PATCH", F + "/deployments/nope/status"),
    case("rebuild-unknown", "POST", F + "/deployments/nope/build"),
    case("legacy-build-bad-id", "POST", D + "/builds/-x"),
    case("post-on-deployment", "POST", D, json={}),
    # -- executions ----------------------------------------------------------------------------
    *[
        case(f"list-executions-{name}", "GET", F + "/executions", **kwargs)
        for name, kwargs in BAD_QUERIES[:14]
    ],
    case(
        "list-executions-select",
        "GET",
        F + "/executions",
        **q('{"method":"select","values":["status"]}'),
    ),
    case("list-executions-unknown-function", "GET", "/functions/nope/executions"),
    case("execute-unknown-function", "POST", "/functions/nope/executions", json={}),
    case("execute-bad-function-id", "POST", "/functions/no%0A/executions", json={}),
    case("execute-body-number", "POST", F + "/executions", json={"body": 5}),
    case("execute-body-list", "POST", F + "/executions", json={"body": ["a"]}),
    case("execute-body-too-long", "POST", F + "/executions", json={"body": "b" * 10485761}),
    case("execute-body-surrogate", "POST", F + "/executions", **raw_json('{"body":"\\ud800"}')),
    case("execute-async-maybe", "POST", F + "/executions", json={"async": "maybe"}),
    case("execute-async-list", "POST", F + "/executions", json={"async": [True]}),
    *[
        case(f"execute-path-{label}", "POST", F + "/executions", json={"path": path, "async": True})
        for label, path in [
            ("lf", "/a\nb"),
            ("cr", "/a\rb"),
            ("crlf-injection", "/ HTTP/1.1\r\nHost: x\r\n\r\n"),
            ("nul", "/a\x00"),
            ("c0", "/a\x01b"),
            ("escape", "/\x1b[31m"),
            ("del", "/a\x7f"),
            ("tab", "/a\tb"),
            ("empty", ""),
            ("too-long", "/" + "p" * 2048),
        ]
    ],
    case("execute-path-number", "POST", F + "/executions", json={"path": 5}),
    case("execute-path-sync-lf", "POST", F + "/executions", json={"path": "/x\ny"}),
    case("execute-path-surrogate", "POST", F + "/executions", **raw_json('{"path":"/\\udfff"}')),
    case("execute-bad-method", "POST", F + "/executions", json={"method": "FETCH"}),
    case("execute-lowercase-method", "POST", F + "/executions", json={"method": "get"}),
    case("execute-method-number", "POST", F + "/executions", json={"method": 1}),
    case("execute-headers-list", "POST", F + "/executions", json={"headers": ["a"]}),
    case("execute-headers-number", "POST", F + "/executions", json={"headers": 5}),
    case("execute-headers-bad-json", "POST", F + "/executions", json={"headers": "{nope"}),
    case("execute-headers-json-list", "POST", F + "/executions", json={"headers": "[1]"}),
    case("execute-headers-deep-json", "POST", F + "/executions", json={"headers": DEEP}),
    case(
        "execute-headers-json-surrogate",
        "POST",
        F + "/executions",
        json={"headers": '{"x-a": "\\ud800"}'},
    ),
    *[
        case(
            f"execute-header-{label}",
            "POST",
            F + "/executions",
            json={"headers": headers, "async": True},
        )
        for label, headers in [
            ("value-lf", {"x-a": "1\nx-b: 2"}),
            ("value-cr", {"x-a": "1\r"}),
            ("value-crlf", {"x-a": "1\r\n\r\nbody"}),
            ("value-nul", {"x-a": "a\x00"}),
            ("value-c0", {"x-a": "\x07"}),
            ("value-del", {"x-a": "\x7f"}),
            ("value-non-latin1", {"x-a": "✓"}),
            ("value-emoji", {"x-a": "🙂"}),
            ("name-space", {"x a": "1"}),
            ("name-colon", {"x:a": "1"}),
            ("name-newline", {"x-a\n": "1"}),
            ("name-trailing-dash", {"x-": "1"}),
            ("name-unicode", {"é": "1"}),
            ("name-empty", {"": "1"}),
            ("name-underscore", {"x_a": "1"}),
            ("name-appwrite", {"x-appwrite-key": "k"}),
            ("too-many", {f"h{i}": "1" for i in range(101)}),
            ("too-large", {"x-a": "v" * 16384}),
        ]
    ],
    case(
        "execute-headers-huge-json",
        "POST",
        F + "/executions",
        json={"headers": {f"h{i}": "v" * 1000 for i in range(70)}},
    ),
    case(
        "execute-scheduled-sync",
        "POST",
        F + "/executions",
        json={"scheduledAt": "2099-01-01T00:00:00.000+00:00"},
    ),
    case(
        "execute-scheduled-garbage",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "tomorrow-ish"},
    ),
    case(
        "execute-scheduled-past",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "2001-01-01T00:00:00.000+00:00"},
    ),
    case(
        "execute-scheduled-seconds",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "2099-01-01T00:00:30.000+00:00"},
    ),
    case(
        "execute-scheduled-too-long",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "2" * 101},
    ),
    case(
        "execute-scheduled-number",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": 1},
    ),
    case(
        "execute-scheduled-year-0",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "0000-00-00T00:00:00"},
    ),
    case(
        "execute-scheduled-huge-year",
        "POST",
        F + "/executions",
        json={"async": True, "scheduledAt": "99999-01-01T00:00:00"},
    ),
    case(
        "execute-multipart-bad-path",
        "POST",
        F + "/executions",
        data={"path": "/a\nb", "async": "true"},
    ),
    case(
        "execute-multipart-bad-headers",
        "POST",
        F + "/executions",
        files={"headers": (None, '{"x-a": "1\\r\\n"}'), "async": (None, "true")},
    ),
    case(
        "execute-multipart-binary-path",
        "POST",
        F + "/executions",
        files={"path": (None, b"/\xff\xfe"), "async": (None, "true")},
    ),
    case(
        "execute-multipart-body-too-long",
        "POST",
        F + "/executions",
        files={"body": ("b.bin", b"b" * 10485761), "async": (None, "true")},
    ),
    case("get-execution-unknown", "GET", F + "/executions/nope"),
    case("get-execution-bad-id", "GET", F + "/executions/exe1%0A"),
    case("get-execution-other-function", "GET", "/functions/nope/executions/exe1"),
    case("delete-execution-in-progress", "DELETE", E),
    case("delete-execution-unknown", "DELETE", F + "/executions/nope"),
    case("put-execution", "PUT", E, json={}),
    # -- variables (function and project) ------------------------------------------------------
    *[
        case(f"{scope}-variable-{label}", "POST", base + "/variables", json=body)
        for scope, base in [("function", F), ("project", "/project")]
        for label, body in [
            ("missing-key", {"value": "v"}),
            ("missing-value", {"key": "K"}),
            ("key-equals", {"key": "A=B", "value": "v"}),
            ("key-space", {"key": "A B", "value": "v"}),
            ("key-nul", {"key": "A\x00", "value": "v"}),
            ("key-newline", {"key": "A\n", "value": "v"}),
            ("key-tab", {"key": "\tA", "value": "v"}),
            ("key-unicode", {"key": "ключ", "value": "v"}),
            ("key-dollar", {"key": "$HOME", "value": "v"}),
            ("key-slash", {"key": "a/b", "value": "v"}),
            ("key-empty", {"key": "", "value": "v"}),
            ("key-too-long", {"key": "K" * 256, "value": "v"}),
            ("key-number", {"key": 5, "value": "v"}),
            ("value-number", {"key": "K", "value": 5}),
            ("value-too-long", {"key": "K", "value": "v" * 8193}),
            ("value-nul", {"key": "K", "value": "a\x00b"}),
            ("secret-text", {"key": "K", "value": "v", "secret": "yes"}),
            (
                "duplicate-key",
                {"key": "EXISTING" if scope == "function" else "GLOBAL", "value": "v"},
            ),
        ]
    ],
    case(
        "function-variable-surrogate-value",
        "POST",
        F + "/variables",
        **raw_json('{"key":"K","value":"\\ud800"}'),
    ),
    case(
        "function-variable-surrogate-key",
        "POST",
        F + "/variables",
        **raw_json('{"key":"\\udbff","value":"v"}'),
    ),
    case(
        "function-variable-unknown-function",
        "POST",
        "/functions/nope/variables",
        json={"key": "K", "value": "v"},
    ),
    case("function-variable-bad-function", "GET", "/functions/-x/variables"),
    case("put-variable-missing-key", "PUT", F + "/variables/{V}", json={"value": "v"}),
    case("put-variable-bad-key", "PUT", F + "/variables/{V}", json={"key": "A=B"}),
    case(
        "put-variable-unset-secret",
        "PUT",
        F + "/variables/{V}",
        json={"key": "EXISTING", "secret": False},
    ),
    case(
        "put-variable-long-value",
        "PUT",
        F + "/variables/{V}",
        json={"key": "K", "value": "v" * 8193},
    ),
    case("put-variable-unknown", "PUT", F + "/variables/nope", json={"key": "K"}),
    case("put-variable-bad-id", "PUT", F + "/variables/v%0A", json={"key": "K"}),
    case("get-variable-unknown", "GET", F + "/variables/nope"),
    case("get-variable-bad-id", "GET", F + "/variables/" + LONG_ID),
    case("get-project-variable-as-function-variable", "GET", F + "/variables/{G}"),
    case("delete-variable-unknown", "DELETE", F + "/variables/nope"),
    case("put-project-variable-bad-key", "PUT", "/project/variables/{G}", json={"key": "a b"}),
    case("put-project-variable-unknown", "PUT", "/project/variables/nope", json={"key": "K"}),
    case("get-project-variable-bad-id", "GET", "/project/variables/.x"),
    case("delete-project-variable-unknown", "DELETE", "/project/variables/nope"),
    case("delete-function-variable-via-project", "DELETE", "/project/variables/{V}"),
    case("patch-project-variables", "PATCH", "/project/variables", json={}),
    # -- account, users, console ------------------------------------------------------------
    *(
        case(f"sign-up-{name}", "POST", "/account", auth=False, json=body)
        for name, body in (
            ("missing-user-id", {"email": "a@example.com", "password": "x" * 9}),
            ("bad-user-id", {"userId": "-a", "email": "a@example.com", "password": "x" * 9}),
            ("bad-email", {"userId": "a", "email": "a@", "password": "x" * 9}),
            ("short-password", {"userId": "a", "email": "a@example.com", "password": "x"}),
            (
                "long-name",
                {"userId": "a", "email": "a@e.com", "password": "x" * 9, "name": "n" * 129},
            ),
            ("nul-password", {"userId": "a", "email": "a@e.com", "password": "x" * 9 + "\x00"}),
        )
    ),
    case(
        "sign-up-console",
        "POST",
        "/account",
        auth=False,
        json={"userId": "a", "email": "a@example.com", "password": "x" * 9},
        headers={"X-Appwrite-Project": "console"},
    ),
    *(
        case(f"sign-in-{name}", "POST", path, auth=False, json=body)
        for name, body in (
            ("missing-email", {"password": "x" * 9}),
            ("bad-email", {"email": "@example.com", "password": "x" * 9}),
            ("missing-password", {"email": "a@example.com"}),
            ("short-password", {"email": "a@example.com", "password": "x" * 7}),
            ("number-password", {"email": "a@example.com", "password": 123456789}),
        )
        for path in ("/account/sessions/email",)
    ),
    case("sign-in-alias-no-body", "POST", "/account/sessions", auth=False, json={}),
    case("get-account-as-key", "GET", "/account"),
    case("get-account-as-guest", "GET", "/account", auth=False),
    case("list-sessions-as-guest", "GET", "/account/sessions", auth=False),
    case("delete-sessions-as-guest", "DELETE", "/account/sessions", auth=False),
    case("get-session-as-guest", "GET", "/account/sessions/current", auth=False),
    case("delete-session-bad-id", "DELETE", "/account/sessions/-x", auth=False),
    case("create-jwt-as-guest", "POST", "/account/jwts", auth=False),
    case("create-jwt-alias-as-key", "POST", "/account/jwt"),
    case("patch-account", "PATCH", "/account", json={}),
    case("list-users-bad-query", "GET", "/users", **q("garbage")),
    case("list-users-bad-search", "GET", "/users", params={"search": "s" * 257}),
    case("list-users-guest", "GET", "/users", auth=False),
    case("create-user-missing-id", "POST", "/users", json={}),
    case("create-user-taken-id", "POST", "/users", json={"userId": "u1"}),
    case("create-user-taken-email", "POST", "/users", json={"userId": "u2", "email": "U1@x.io"}),
    case("create-user-bad-phone", "POST", "/users", json={"userId": "u2", "phone": "123"}),
    case("create-user-short-password", "POST", "/users", json={"userId": "u2", "password": "p"}),
    case("get-user-unknown", "GET", "/users/nope"),
    case("get-user-bad-id", "GET", "/users/" + LONG_ID),
    case("delete-user-unknown", "DELETE", "/users/nope"),
    case("user-name-missing", "PATCH", "/users/u1/name", json={}),
    case("user-name-too-long", "PATCH", "/users/u1/name", json={"name": "n" * 129}),
    case("user-email-bad", "PATCH", "/users/u1/email", json={"email": "nope"}),
    case("user-status-not-bool", "PATCH", "/users/u1/status", json={"status": "maybe"}),
    case("user-labels-bad", "PUT", "/users/u1/labels", json={"labels": ["a-b"]}),
    case("user-labels-patch", "PATCH", "/users/u1/labels", json={"labels": ["a"]}),
    case("user-name-put", "PUT", "/users/u1/name", json={"name": "a"}),
    case("user-status-unknown-user", "PATCH", "/users/nope/status", json={"status": True}),
    case("console-variables-in-a-project", "GET", "/console/variables"),
    case(
        "console-variables-as-console-guest",
        "GET",
        "/console/variables",
        auth=False,
        headers={"X-Appwrite-Project": "console"},
    ),
    case("post-openapi", "POST", "/openapi.json", json={}),
    case("openapi-unknown-project", "GET", "/openapi.json", headers={"X-Appwrite-Project": "x"}),
    # -- usage -------------------------------------------------------------------------------
    case("usage-bad-range", "GET", "/functions/usage", params={"range": "7d"}),
    case("usage-range-case", "GET", "/functions/usage", params={"range": "24H"}),
    case("function-usage-bad-range", "GET", F + "/usage", params={"range": ""}),
    case("function-usage-unknown", "GET", "/functions/missing/usage"),
    case("function-usage-bad-id", "GET", "/functions/.x/usage"),
    case("post-usage", "POST", "/functions/usage", json={}),
    case("usage-guest", "GET", "/functions/usage", auth=False),
    # -- proxy rules ---------------------------------------------------------------------------
    *(case(f"list-rules-{name}", "GET", "/proxy/rules", **kwargs) for name, kwargs in BAD_QUERIES),
    case("rules-guest", "GET", "/proxy/rules", auth=False),
    case("post-rules-list", "POST", "/proxy/rules", json={}),
    case("rule-missing-domain", "POST", "/proxy/rules/function", json={"functionId": "fn"}),
    case(
        "rule-missing-function", "POST", "/proxy/rules/function", json={"domain": "a.example.com"}
    ),
    *(
        case(
            f"rule-bad-domain-{i}",
            "POST",
            "/proxy/rules/function",
            json={"domain": domain, "functionId": "fn"},
        )
        for i, domain in enumerate(
            ["a_b.com", "a..b", "end.", "end-", "", 5, None, ["a.com"], "x" * 64 + ".com"]
        )
    ),
    *(
        case(
            f"rule-denied-{domain}",
            "POST",
            "/proxy/rules/function",
            json={"domain": domain, "functionId": "fn"},
        )
        for domain in ("localhost", "functions.localhost", "a.b.functions.localhost", "10.0.0.1")
    ),
    case(
        "rule-unknown-function",
        "POST",
        "/proxy/rules/function",
        json={"domain": "a.example.com", "functionId": "missing"},
    ),
    case(
        "rule-bad-function-id",
        "POST",
        "/proxy/rules/function",
        json={"domain": "a.example.com", "functionId": "a\nb"},
    ),
    case(
        "rule-taken-domain",
        "POST",
        "/proxy/rules/function",
        json={"domain": "FN-main.functions.localhost", "functionId": "fn"},
    ),
    case(
        "rule-long-branch",
        "POST",
        "/proxy/rules/function",
        json={"domain": "a.example.com", "functionId": "fn", "branch": "b" * 256},
    ),
    case("rule-invalid-json", "POST", "/proxy/rules/function", data=b"{no", headers=JSON),
    case(
        "rule-no-key",
        "POST",
        "/proxy/rules/function",
        auth=False,
        json={"domain": "a.example.com", "functionId": "fn"},
    ),
    case("get-rule-unknown", "GET", "/proxy/rules/missing"),
    case("get-rule-bad-id", "GET", "/proxy/rules/" + LONG_ID),
    case("delete-rule-unknown", "DELETE", "/proxy/rules/missing"),
    case("patch-rule", "PATCH", "/proxy/rules/missing", json={}),
    # -- health ------------------------------------------------------------------------------
    case("post-health", "POST", "/health"),
    case("health-version-delete", "DELETE", "/health/version"),
    case("health-failed-unknown-queue", "GET", "/health/queue/failed/v1-nothing"),
    case("health-failed-bad-name", "GET", "/health/queue/failed/a b"),
    case(
        "health-databases-long-name", "GET", "/health/queue/databases", params={"name": "n" * 257}
    ),
    *(
        case(f"health-{name}-guest", "GET", f"/health/{name}", auth=False)
        for name in ("db", "cache", "pubsub", "time", "storage", "storage/local", "anti-virus")
    ),
    *(
        case(
            f"health-queue-{name}-bad-threshold",
            "GET",
            f"/health/queue/{name}",
            params={"threshold": "lots"},
        )
        for name in health.QUEUES
    ),
]


def storage_files():
    root = Path(django_settings.STORAGE_DIR) / "deployments"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


# What the worker cluster's own clock queues and records whatever a request does (its
# schedules tick while a Docker test's cluster is running): left out of the comparison.
CLUSTER_CLOCK = {"functions_app.tasks.tick", "functions_app.tasks.maintain_runtimes"}


def snapshot():
    """Every row of every model of the app (and of the task results), as tuples, the tasks
    waiting in the broker (ORM or Redis) and the stored files."""
    # Node rows are the worker cluster's heartbeats (``manage.py node``), written on its clock.
    app_models = apps.get_app_config("functions_app").get_models()
    models = [*(model for model in app_models if model is not Node), Task]
    rows = {}
    for model in models:
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if not (model is ApiKey and f.name == "accessed_at")  # touched by every request
        ]
        rows[model.__name__] = sorted(
            (
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in queue_rows(model).values_list(*fields)
            ),
            key=repr,
        )
    rows["queue"] = sorted(
        repr((task["id"], task["func"], task["args"], task["kwargs"]))
        for task in queued_tasks()
        if task["func"] not in CLUSTER_CLOCK
    )
    rows["enqueued"] = list(ENQUEUED)
    rows["files"] = storage_files()
    return rows


# Every task the API handed to the broker during the test: a running worker cluster empties a
# Redis queue at once (the ORM broker's row stays until the task ends), so the queue alone may
# not show that a request enqueued something.
ENQUEUED = []


@pytest.fixture(autouse=True)
def record_enqueued(monkeypatch):
    from functions_app.services import enqueue

    ENQUEUED.clear()
    original = enqueue.async_task

    def recording(func, *args, **kwargs):
        ENQUEUED.append((func, args))
        return original(func, *args, **kwargs)

    monkeypatch.setattr(enqueue, "async_task", recording)
    yield
    ENQUEUED.clear()


def queue_rows(model):
    if model is Task:
        return Task.objects.exclude(func__in=CLUSTER_CLOCK)
    return model.objects.all()


@pytest.fixture
def world(raw, project):
    """A function with a ready (file-less) active deployment, an execution still waiting, a
    secret function variable and a project variable."""
    created = raw.post(
        "/functions",
        json={
            "functionId": "fn",
            "name": "Fn",
            "runtime": "python-3.11",
            "execute": ["any"],
            "entrypoint": "main.py",
        },
    )
    assert created.status_code == 201, created.text
    function = Function.objects.get(uid="fn")
    deployment = Deployment.objects.create(
        project=project,
        function=function,
        uid="dep1",
        entrypoint="main.py",
        status=Deployment.Status.READY,
        source_size=4,
        total_size=4,
    )
    function.set_active_deployment(deployment)
    Execution.objects.create(project=project, function=function, uid="exe1", status="waiting")
    variable = raw.post("/functions/fn/variables", json={"key": "EXISTING", "value": "v"})
    glob = raw.post("/project/variables", json={"key": "GLOBAL", "value": "g", "secret": False})
    user = raw.post("/users", json={"userId": "u1", "email": "u1@x.io", "password": "x" * 9})
    assert variable.status_code == glob.status_code == user.status_code == 201
    return {"V": variable.json()["$id"], "G": glob.json()["$id"]}


def test_corpus_is_big_and_covers_every_route():
    assert len(CASES) >= 150
    assert len({c.name for c in CASES}) == len(CASES)
    from functions_app.api.urls import urlpatterns

    routes = {str(p.pattern) for p in urlpatterns} - {"^.*$"}
    covered = set()
    for c in CASES:
        parts = c.path.strip("/").split("?")[0].split("/")
        for route in routes:
            pattern = route.split("/")
            if len(pattern) == len(parts) and all(
                a.startswith("<") or a == b for a, b in zip(pattern, parts, strict=True)
            ):
                covered.add(route)
    assert covered == routes, routes - covered


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_malformed_request_gets_an_appwrite_error_and_changes_nothing(world, raw, settings, case):
    if case.body_limit is not None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = case.body_limit
    kwargs = dict(case.kwargs)
    headers = dict(kwargs.pop("headers", {}))
    if not case.auth:
        headers["X-Appwrite-Key"] = ""
    before = snapshot()
    response = raw.request(case.method, case.path.format(**world), headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}, body
    assert body["code"] == response.status_code and body["version"] == "1.8.0"
    assert isinstance(body["message"], str) and body["message"]
    assert snapshot() == before


def test_snapshot_sees_a_change(world, raw):
    """The corpus' check can fail: a valid request does show up in the snapshot."""
    before = snapshot()
    raw.post(F + "/executions", json={"async": True, "path": "/ok"})
    after = snapshot()
    assert after["Execution"] != before["Execution"] and after["enqueued"] != before["enqueued"]
    assert json.dumps(len(after["Execution"])) == "2"
