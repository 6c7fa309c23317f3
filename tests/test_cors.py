"""CORS and web platforms, through the public API with raw HTTP and ``Origin`` headers, as
Appwrite 1.8 answers browsers: preflights, the allowed origin echoed with credentials,
``localhost`` for any other, and the unknown-origin block of writes."""

import secrets
from urllib.parse import urlparse

import pytest
import requests
from appwrite.enums.runtime import Runtime
from django.contrib.auth import get_user_model
from django.test import Client

from functions_app.models import Platform
from functions_app.services import platforms

ALLOW_HEADERS = (
    "Origin, Cookie, Set-Cookie, X-Requested-With, Content-Type, Access-Control-Allow-Origin, "
    "Access-Control-Request-Headers, Accept, X-Appwrite-Project, X-Appwrite-Key, "
    "X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, "
    "X-Appwrite-Response-Format, X-Appwrite-Timeout, X-SDK-Version, X-SDK-Name, X-SDK-Language, "
    "X-SDK-Platform, X-SDK-GraphQL, X-Appwrite-ID, X-Appwrite-Timestamp, Content-Range, Range, "
    "Cache-Control, Expires, Pragma, X-Forwarded-For, X-Forwarded-User-Agent"
)
PREFLIGHT_ALLOW_HEADERS = ALLOW_HEADERS.replace(
    "Pragma, ", "Pragma, X-Appwrite-Session, X-Fallback-Cookies, "
)
UNKNOWN_ORIGIN = "Invalid Origin. Register your new client ({}) as a new Web platform on your project console dashboard"


def call(live_server, method, path, project="main", origin=None, headers=None, **kwargs):
    sent = dict(headers or {})
    if project:
        sent["X-Appwrite-Project"] = project
    if origin:
        sent["Origin"] = origin
    return requests.request(
        method, f"{live_server.url}/v1{path}", headers=sent, timeout=30, **kwargs
    )


def allow_origin(response):
    return response.headers.get("Access-Control-Allow-Origin")


def assert_cors(response, origin, allow_headers=ALLOW_HEADERS):
    assert allow_origin(response) == origin
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, PATCH, DELETE"
    assert response.headers["Access-Control-Allow-Headers"] == allow_headers
    assert (
        response.headers["Access-Control-Expose-Headers"]
        == "X-Appwrite-Session, X-Fallback-Cookies"
    )
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.fixture
def web_platforms(project):
    platforms.create_platform(project, "web", "Shop", "shop.test")
    platforms.create_platform(project, "flutter-web", "Apps", "*.example.com")


# -- preflight --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/functions", "/functions/nope/executions", "/no/such/route"])
def test_preflight_answers_204_without_auth_on_every_route(live_server, project, path):
    response = call(
        live_server,
        "OPTIONS",
        path,
        project=None,
        origin="https://anyone.example:8443",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-appwrite-project,x-sdk-version",
        },
    )
    assert response.status_code == 204 and response.content == b""
    # The preflight echoes the Origin as it is: the real request's answer decides.
    assert_cors(response, "https://anyone.example:8443", PREFLIGHT_ALLOW_HEADERS)


def test_preflight_of_an_unknown_project_or_with_a_bad_key_is_still_204(live_server):
    response = call(
        live_server, "OPTIONS", "/functions", project="nobody", headers={"X-Appwrite-Key": "bad"}
    )
    assert response.status_code == 204
    assert allow_origin(response) == ""  # no Origin: nothing to echo


# -- allowed origins --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:5173",
        "https://localhost:3000",
        "http://127.0.0.1:8080",
    ],
)
def test_localhost_is_always_allowed_on_any_port(live_server, raw, origin):
    response = raw.get("/functions", headers={"Origin": origin})
    assert response.status_code == 200
    assert_cors(response, origin)


def test_the_apis_own_host_is_allowed(live_server, raw):
    port = urlparse(live_server.url).port
    response = raw.get(
        "/functions",
        headers={"Origin": "https://api.example.org:9443", "Host": f"api.example.org:{port}"},
    )
    assert allow_origin(response) == "https://api.example.org:9443"
    other = raw.get("/functions", headers={"Origin": "https://api.example.org"})
    assert allow_origin(other) == "https://localhost"


@pytest.mark.parametrize(
    "origin, expected",
    [
        ("https://shop.test", "https://shop.test"),
        ("http://shop.test:3000", "http://shop.test:3000"),  # ports are ignored
        ("https://app.example.com", "https://app.example.com"),
        ("https://a.b.example.com:8080", "https://a.b.example.com:8080"),
        ("https://example.com", "https://localhost"),  # the wildcard is not the bare root
        ("https://notexample.com", "https://localhost"),
        ("https://www.shop.test", "https://localhost"),  # an exact host is exact
        ("https://evil.example:4443", "https://localhost:4443"),
        ("null", "http://localhost"),
    ],
)
def test_platform_hosts_exact_and_wildcard(raw, web_platforms, origin, expected):
    response = raw.get("/functions", headers={"Origin": origin})
    assert response.status_code == 200
    assert_cors(response, expected)


def test_without_origin_the_referer_decides_and_without_both_localhost(raw, web_platforms):
    response = raw.get("/functions", headers={"Referer": "https://app.example.com:8000/page?x=1"})
    assert allow_origin(response) == "https://app.example.com:8000"
    assert allow_origin(raw.get("/functions")) == "http://localhost"
    both = raw.get(
        "/functions", headers={"Origin": "https://evil.test", "Referer": "https://shop.test/"}
    )
    assert allow_origin(both) == "https://localhost"  # the Origin wins


def test_a_platform_of_one_project_does_not_allow_its_host_in_another(
    live_server, project, outsider_project, web_platforms
):
    mine = call(live_server, "GET", "/functions/runtimes", origin="https://shop.test")
    assert allow_origin(mine) == "https://shop.test"
    theirs = call(
        live_server, "GET", "/functions/runtimes", project="outsider", origin="https://shop.test"
    )
    assert allow_origin(theirs) == "https://localhost"
    write = call(
        live_server,
        "POST",
        "/functions/f/executions",
        project="outsider",
        origin="https://shop.test",
    )
    assert write.status_code == 403 and write.json()["type"] == "general_unknown_origin"


def test_changed_and_deleted_platforms_apply_at_once(raw, project):
    platform = platforms.create_platform(project, "web", "App", "app.test")
    assert allow_origin(raw.get("/functions", headers={"Origin": "http://app.test"})) == (
        "http://app.test"
    )
    platforms.update_platform(platform, "App", "*.app.test")
    assert allow_origin(raw.get("/functions", headers={"Origin": "http://app.test"})) == (
        "http://localhost"
    )
    assert allow_origin(raw.get("/functions", headers={"Origin": "http://x.app.test"})) == (
        "http://x.app.test"
    )
    platforms.delete_platform(platform)
    assert allow_origin(raw.get("/functions", headers={"Origin": "http://x.app.test"})) == (
        "http://localhost"
    )


def test_function_domains_may_call_their_own_project_only(live_server, functions, outsider_project):
    functions.create("hello", "Hello", Runtime.PYTHON_3_11, entrypoint="main.py")
    for host in ("hello-main.functions.localhost", "hello.main.functions.localhost"):
        origin = f"http://{host}:{urlparse(live_server.url).port}"
        mine = call(live_server, "GET", "/functions/runtimes", origin=origin)
        assert allow_origin(mine) == origin
        theirs = call(live_server, "GET", "/functions/runtimes", project="outsider", origin=origin)
        assert allow_origin(theirs) == f"http://localhost:{urlparse(live_server.url).port}"
    unknown = call(
        live_server, "GET", "/functions/runtimes", origin="http://nope-main.functions.localhost"
    )
    assert allow_origin(unknown) == "http://localhost"


def test_console_hostnames_and_csrf_trusted_origins_are_allowed_everywhere(
    settings, live_server, project, outsider_project
):
    settings.CONSOLE_HOSTNAMES = ["console.corp.test", "*.apps.corp.test"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://proxy.corp.test"]
    for project_id in ("main", "outsider", None):
        for origin in (
            "https://console.corp.test",
            "https://x.apps.corp.test",
            "https://proxy.corp.test",
        ):
            response = call(
                live_server, "GET", "/health/version", project=project_id, origin=origin
            )
            assert allow_origin(response) == origin
    response = call(live_server, "GET", "/health/version", origin="https://apps.corp.test")
    assert allow_origin(response) == "https://localhost"


# -- the unknown-origin block -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_writes_from_an_unknown_origin_are_refused(live_server, project, method):
    response = call(live_server, method, "/functions/f", origin="https://evil.test")
    assert response.status_code == 403
    assert response.json() == {
        "message": UNKNOWN_ORIGIN.format("evil.test"),
        "code": 403,
        "type": "general_unknown_origin",
        "version": "1.8.0",
    }
    assert_cors(response, "https://localhost")


def test_the_block_comes_before_routing_and_project_checks(live_server):
    for path, project in (("/no/such/route", "main"), ("/functions", "nobody")):
        response = call(live_server, "POST", path, project=project, origin="https://evil.test")
        assert (response.status_code, response.json()["type"]) == (403, "general_unknown_origin")


@pytest.mark.parametrize(
    "headers, message",
    [
        ({"Referer": "https://evil.test/form"}, UNKNOWN_ORIGIN.format("evil.test")),
        ({"Origin": "null"}, "Invalid Origin."),
        (
            {"Origin": "foo://bar"},
            "Invalid Scheme. The scheme used (foo) in the Origin (foo://bar) is not supported. If "
            "you are using a custom scheme, please change it to `appwrite-callback-<PROJECT_ID>`",
        ),
        (
            {"Origin": "chrome-extension://abcdef"},
            "Invalid Origin. Register your new client (abcdef) as a new Web (Chrome Extension) "
            "platform on your project console dashboard",
        ),
        (
            {"Origin": "appwrite-callback-other://"},
            "Invalid Scheme. The scheme used (appwrite-callback-other) in the Origin "
            "(appwrite-callback-other://) is not supported. If you are using a custom scheme, "
            "please change it to `appwrite-callback-<PROJECT_ID>`",
        ),
    ],
)
def test_refusal_messages(live_server, project, headers, message):
    response = call(live_server, "POST", "/functions/f/executions", headers=headers)
    assert response.status_code == 403
    assert response.json()["message"] == message


def test_what_the_block_lets_through(live_server, project, web_platforms):
    path = "/functions/f/executions"
    # Reads are not refused (the browser keeps the answer from the page).
    get = call(live_server, "GET", path, origin="https://evil.test")
    assert get.json()["type"] == "general_unauthorized_scope"
    # Any API key skips the check: a bad one fails authentication instead.
    keyed = call(
        live_server, "POST", path, origin="https://evil.test", headers={"X-Appwrite-Key": "bad"}
    )
    assert keyed.json()["type"] == "user_unauthorized"
    assert allow_origin(keyed) == "https://localhost"
    # No Origin and no Referer (servers, the CLI), allowed origins, and the schemes of apps.
    assert call(live_server, "POST", path).json()["type"] == "function_not_found"
    for origin in (
        "https://shop.test",
        "http://localhost:5173",
        "exp://192.168.1.20:8081",
        "appwrite-callback-main://",
    ):
        response = call(live_server, "POST", path, origin=origin)
        assert response.json()["type"] == "function_not_found", origin
        assert allow_origin(response) == origin


def test_errors_carry_the_cors_headers(live_server, project, web_platforms):
    for path, project_id, status in (
        ("/functions", "main", 401),
        ("/functions", "nobody", 404),
        ("/no/such/route", "main", 404),
        ("/functions/nope", "main", 401),
    ):
        response = call(live_server, "GET", path, project=project_id, origin="https://shop.test")
        assert response.status_code == status, (path, response.text)
        assert_cors(response, "https://shop.test" if project_id == "main" else "https://localhost")


# -- the console and function domains are unaffected -----------------------------------------


def console_session(live_server, project):
    """A console user's session cookie and a CSRF token, as the console's pages hold them."""
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    project.members.add(user)
    client = Client()
    client.force_login(user)
    token = secrets.token_hex(16)  # an unmasked 32-character secret
    session = requests.Session()
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}"
    session.headers.update({"Cookie": cookie, "X-CSRFToken": token, "X-Appwrite-Project": "main"})
    return session


def test_console_session_posts_from_its_own_origin_only(live_server, project):
    session = console_session(live_server, project)
    url = f"{live_server.url}/v1/functions"
    body = {"functionId": "one", "name": "One", "runtime": "python-3.11"}
    mine = session.post(url, json=body, headers={"Origin": live_server.url}, timeout=30)
    assert mine.status_code == 201, mine.text
    assert allow_origin(mine) == live_server.url
    # Another localhost port passes CORS (Appwrite's rule), but not Django's CSRF check.
    body["functionId"] = "two"
    other = session.post(url, json=body, headers={"Origin": "http://localhost:5173"}, timeout=30)
    assert other.status_code == 401 and "CSRF Failed" in other.json()["message"]
    evil = session.post(url, json=body, headers={"Origin": "https://evil.test"}, timeout=30)
    assert evil.json()["type"] == "general_unknown_origin"


def test_function_domains_get_no_cors_handling(live_server, project):
    port = urlparse(live_server.url).port
    for method in ("OPTIONS", "POST"):
        response = requests.request(
            method,
            f"{live_server.url}/v1/functions",
            headers={
                "Host": f"nothing-main.functions.localhost:{port}",
                "Origin": "https://evil.test",
            },
            timeout=30,
        )
        assert response.status_code == 404 and "text/html" in response.headers["Content-Type"]
        assert "Access-Control-Allow-Origin" not in response.headers


def test_console_pages_get_no_cors_headers(live_server):
    response = requests.get(f"{live_server.url}/login", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_platforms_are_kept_per_project(project):
    platform = platforms.create_platform(project, "web", "  Shop  ", "Shop.TEST")
    assert (platform.name, platform.hostname, platform.type) == ("Shop", "shop.test", "web")
    assert len(platform.uid) == 20
    assert list(Platform.objects.values_list("project_id", flat=True)) == ["main"]
