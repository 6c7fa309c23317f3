"""Outbound network through the egress proxy from Bun and Deno functions, with real containers:
unchanged ``fetch`` and ``node:http``/``node:https`` ``get`` reach allowed destinations (HTTP,
and HTTPS through a CONNECT tunnel); private and link-local destinations are refused before
any connection is opened. (Their builds install npm packages through the proxy: see the
conformance functions.)"""

import pytest
from appwrite.enums.runtime import Runtime

from .test_egress import deploy, fetch, refused

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine", "api_socket")]

JS_CLIENTS = """
import http from "node:http";
import https from "node:https";

const get = (url) => new Promise((resolve, reject) => {
  (url.startsWith("https:") ? https : http).get(url, (res) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (chunk) => (body += chunk));
    res.on("end", () => resolve({ status: res.statusCode, body }));
  }).on("error", reject);
});

export default async (context) => {
  const { how, url } = context.req.bodyJson;
  try {
    if (how === "fetch") {
      const res = await fetch(url);
      return context.res.json({ status: res.status, body: await res.text() });
    }
    return context.res.json(await get(url));
  } catch (e) {
    return context.res.json({ error: String((e.cause && e.cause.message) || e.message) });
  }
};
"""

RUNTIMES = {
    "bun11": Runtime.BUN_1_1,
    "bun12": Runtime.BUN_1_2,
    "deno20": Runtime.DENO_2_0,
    "deno25": Runtime.DENO_2_5,
}


@pytest.fixture
def js_clients(functions, egress):
    for function_id, runtime in RUNTIMES.items():
        deploy(functions, function_id, runtime, "index.js", JS_CLIENTS, "")
    return list(RUNTIMES)


def test_fetch_reaches_allowed_destinations(functions, egress, js_clients):
    local = f"http://{egress.host}:{egress.allowed_port}"
    for function_id in js_clients:
        answer = fetch(functions, function_id, "fetch", f"{local}/fetch")
        assert answer == {"status": 200, "body": "egress-ok /fetch"}, (function_id, answer)
        answer = fetch(functions, function_id, "fetch", "https://registry.npmjs.org/left-pad")
        assert answer.get("status") == 200 and '"left-pad"' in answer["body"], function_id


def test_node_http_get_reaches_allowed_destinations(functions, egress, js_clients):
    local = f"http://{egress.host}:{egress.allowed_port}"
    for function_id in js_clients:
        answer = fetch(functions, function_id, "get", f"{local}/get")
        assert answer == {"status": 200, "body": "egress-ok /get"}, (function_id, answer)
        answer = fetch(functions, function_id, "get", "https://registry.npmjs.org/left-pad")
        assert answer.get("status") == 200 and '"left-pad"' in answer["body"], function_id


def test_private_destinations_are_refused(functions, egress, js_clients):
    targets = {
        f"http://{egress.host}:{egress.canary_port}/": "address",
        "http://10.255.255.1/": "private address",
        "http://169.254.169.254/latest/meta-data/": "link-local address",
    }
    for function_id in js_clients:
        for url, reason in targets.items():
            for how in ("fetch", "get"):
                answer = fetch(functions, function_id, how, url)
                assert refused(answer, reason), (function_id, how, url, answer)
    assert egress.canary_accepts == 0
