"""Outbound network of Java functions through the egress proxy: the JDK's own clients
(``java.net.http.HttpClient`` and ``HttpURLConnection``) ignore ``HTTP_PROXY``, so the Java
runtime turns the variables into the JDK's proxy properties and relays through a loopback port
that adds the proxy's credentials (``functions_app/runtimes/java/src/.../Egress.java``). The
same destinations as in ``test_egress.py`` are reached or refused, with unchanged client code."""

import json

import pytest

from .deploy import upload, wait_deployment
from .test_egress import fetch, refused

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine", "api_socket")]

JAVA_CLIENTS = """package io.openruntimes.java.src;

import io.openruntimes.java.RuntimeContext;
import io.openruntimes.java.RuntimeOutput;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

public class Main {
  public RuntimeOutput main(RuntimeContext context) throws Exception {
    Map<String, Object> ask = context.getReq().getBodyJson();
    String how = (String) ask.get("how");
    String url = (String) ask.get("url");
    Map<String, Object> answer = new HashMap<>();
    try {
      if (how.equals("httpclient")) {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build();
        HttpResponse<String> res =
            client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        answer.put("status", res.statusCode());
        answer.put("body", res.body());
      } else {
        HttpURLConnection conn = (HttpURLConnection) URI.create(url).toURL().openConnection();
        conn.setConnectTimeout(20000);
        conn.setReadTimeout(20000);
        int status = conn.getResponseCode();
        InputStream in = status >= 400 ? conn.getErrorStream() : conn.getInputStream();
        answer.put("status", status);
        answer.put("body", in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
    } catch (Exception e) {
      answer.put("error", String.valueOf(e));
    }
    return context.getRes().json(answer);
  }
}
"""
CLIENTS = ("httpclient", "urlconnection")


@pytest.fixture
def java_clients(functions, egress):
    functions.create("javaout", "javaout", "java-17.0", entrypoint="src/Main.java", execute=["any"])
    dep = upload(functions, "javaout", {"src/Main.java": JAVA_CLIENTS}, commands="")
    ready = wait_deployment(functions, "javaout", dep.id, timeout=300)
    assert ready.status.value == "ready", ready.buildlogs
    return ready


def test_java_clients_reach_allowed_destinations(functions, egress, java_clients):
    local = f"http://{egress.host}:{egress.allowed_port}"
    for how in CLIENTS:
        answer = fetch(functions, "javaout", how, f"{local}/{how}")
        assert answer == {"status": 200, "body": f"egress-ok /{how}"}, how
        answer = fetch(functions, "javaout", how, "https://pypi.org/simple/six/")
        assert answer.get("status") == 200 and "six-" in answer["body"], (how, answer)


def test_java_clients_are_refused_host_and_private_destinations(functions, egress, java_clients):
    targets = {
        f"http://{egress.host}:{egress.canary_port}/": "address",
        "http://10.255.255.1/": "private address",
    }
    for url, reason in targets.items():
        for how in CLIENTS:
            answer = fetch(functions, "javaout", how, url)
            assert refused(answer, reason), (how, url, json.dumps(answer))
    assert egress.canary_accepts == 0
