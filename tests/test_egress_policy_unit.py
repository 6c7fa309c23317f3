"""The egress policy as pure decisions: names, ports, and every address class."""

import ipaddress
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.test import override_settings

from functions_app.services import egress, keys
from functions_app.services.egress_policy import Policy, Refused, non_public_kind, split_host_port

OWN = frozenset({ipaddress.ip_address("8.8.4.4"), ipaddress.ip_address("127.0.0.1")})


def policy(use="execution", **overrides):
    with override_settings(**overrides):
        return Policy.for_use(use)


def check(p, host, port, addresses):
    admitted = p.check_name(host, port)
    return p.check_addresses(host, port, addresses, OWN, admitted)


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique-local"),
        ("100.100.100.200", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:a00:1::", "private"),
        ("240.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_classes(address, kind):
    assert non_public_kind(ipaddress.ip_address(address)) == kind


def test_public_destinations_pass_and_every_address_is_checked():
    p = policy()
    assert check(p, "example.org", 443, ["93.184.215.14"]) == ["93.184.215.14"]
    with pytest.raises(Refused, match="rebind.example resolves to 10.0.0.5, which is a private"):
        check(p, "rebind.example", 443, ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(Refused, match="is an address of this host"):
        check(p, "8.8.4.4", 443, ["8.8.4.4"])
    with pytest.raises(Refused, match="does not resolve"):
        check(p, "nowhere.example", 443, [])


def test_ports_modes_and_allowlists():
    with pytest.raises(Refused, match="port 25 is not allowed"):
        check(policy(), "smtp.example", 25, ["93.184.215.14"])
    assert check(policy(EGRESS_PORTS=None), "smtp.example", 25, ["93.184.215.14"])
    with pytest.raises(Refused, match="outbound network is off for builds"):
        check(policy("build", EGRESS_BUILDS="off"), "pypi.org", 443, ["151.101.0.223"])
    listed = policy(EGRESS_EXECUTIONS="allowlist", EGRESS_EXECUTIONS_ALLOWLIST=["*.stripe.com"])
    assert check(listed, "api.stripe.com", 443, ["54.187.174.169"])
    with pytest.raises(Refused, match="evil.example is not in the allowlist for executions"):
        check(listed, "evil.example", 443, ["93.184.215.14"])
    with pytest.raises(Refused, match="private"):  # allowlisted names still need public addresses
        check(listed, "api.stripe.com", 443, ["10.0.0.1"])


def test_operator_internal_hosts():
    p = policy(EGRESS_INTERNAL_HOSTS=["127.0.0.1:8123", "10.9.0.0/16", "*.corp.internal"])
    assert check(p, "127.0.0.1", 8123, ["127.0.0.1"]) == ["127.0.0.1"]
    with pytest.raises(Refused):
        check(p, "127.0.0.1", 8124, ["127.0.0.1"])
    assert check(p, "db.example", 443, ["10.9.1.1"]) == ["10.9.1.1"]
    assert check(p, "git.corp.internal", 443, ["10.1.1.1"]) == ["10.1.1.1"]
    with pytest.raises(Refused, match="port 22"):
        check(p, "10.9.1.1", 22, ["10.9.1.1"])


@pytest.mark.parametrize("bad", ["", "a b", "under_score..x", "x" * 300, "-", "a/b"])
def test_invalid_names_are_refused(bad):
    with pytest.raises(Refused, match="not a valid destination"):
        policy().check_name(bad, 443)


def test_split_host_port():
    assert split_host_port("Example.ORG.:8443", None) == ("example.org", 8443)
    assert split_host_port("[::1]:443", None) == ("::1", 443)
    assert split_host_port("host", 80) == ("host", 80)
    with pytest.raises(Refused):
        split_host_port("host:http", None)


class Deployment:
    project_id, uid = "p1", "d1"
    function = type("Function", (), {"uid": "f1"})


def test_a_container_gets_the_proxy_variables_and_a_token_naming_it():
    binds, env = egress.for_container("execution", Deployment, "fn-p1-d1")
    assert [bind.target for bind in binds] == [egress.EGRESS_DIR]
    url = urlsplit(env["HTTPS_PROXY"])
    assert env["HTTP_PROXY"] == env["https_proxy"] == env["http_proxy"] == url.geturl()
    assert (url.hostname, url.port) == ("127.0.0.1", 3128) and env["NO_PROXY"] == egress.NO_PROXY
    claims = keys.decode_jwt(url.password, keys.EGRESS)
    assert (claims["use"], claims["container"], claims["deploymentId"]) == (
        "execution",
        "fn-p1-d1",
        "d1",
    )
    with pytest.raises(keys.InvalidToken):
        keys.decode_jwt(url.password, keys.DYNAMIC)  # not an API key


@override_settings(EGRESS_BUILDS="off")
def test_a_container_gets_nothing_when_egress_is_off():
    assert egress.for_container("build", Deployment, "fn-build-p1-d1") == ([], {})
    assert egress.for_container("execution", Deployment, "fn-p1-d1")[1]


def test_build_tokens_expire_with_the_build(settings):
    """A build's proxy token copied into its output must not outlive the build for the
    function code that would run with it (builds may have a wider policy)."""
    deployment = SimpleNamespace(project_id="p", uid="d", function=SimpleNamespace(uid="f"))
    settings.EGRESS_BUILDS = settings.EGRESS_EXECUTIONS = "public"
    tokens = {
        use: egress.for_container(use, deployment, "c")[1]["HTTP_PROXY"].split(":")[2].split("@")[0]
        for use in ("build", "execution")
    }
    now = time.time()
    build = keys.decode_jwt(tokens["build"], keys.EGRESS)
    assert build["use"] == "build"
    assert build["exp"] - now <= settings.COMPUTE_BUILD_TIMEOUT + egress.BUILD_TOKEN_GRACE + 5
    assert keys.decode_jwt(tokens["execution"], keys.EGRESS)["exp"] - now > 365 * 24 * 3600
