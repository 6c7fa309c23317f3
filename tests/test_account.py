"""/v1/account: a project's users sign up, sign in (cookies, X-Appwrite-Session, the Web SDK's
X-Fallback-Cookies), read their account, mint JWTs and sign out; console accounts sign in to
project ``console`` as appwrite-cli does and act in admin mode on projects they belong to."""

import json
from urllib.parse import quote

import requests
from appwrite.client import Client
from appwrite.services.account import Account
from appwrite.services.functions import Functions
from django.contrib.auth import get_user_model

from functions_app.models import ProjectUser, Session
from functions_app.services import keys

from .conftest import USER_PASSWORD, make_client
from .helpers import expect_error, expect_raw_error, sign_in


def account(live_server, project_id="main", session=None, jwt=None):
    client = Client().set_endpoint(f"{live_server.url}/v1").set_project(project_id)
    if session:
        client.set_session(session)
    if jwt:
        client.set_jwt(jwt)
    return Account(client)


def post(live_server, path, body, project="main", **headers):
    return requests.post(
        f"{live_server.url}/v1{path}",
        json=body,
        headers={"X-Appwrite-Project": project, **headers},
        timeout=10,
    )


def test_sign_up_sign_in_account_jwt_and_sign_out(live_server, project):
    guest = account(live_server)
    created = guest.create("unique()", "Ada@Example.com", USER_PASSWORD, "Ada")
    assert (created.email, created.name, created.status) == ("ada@example.com", "Ada", True)
    assert len(created.id) == 20 and created.password is None  # Account: no hash fields
    stored = ProjectUser.objects.get(uid=created.id)
    assert stored.project_id == "main" and stored.check_password(USER_PASSWORD)
    assert USER_PASSWORD not in stored.password
    session = guest.create_email_password_session("ada@example.com", USER_PASSWORD)
    assert (session.userid, session.provider, session.current) == (created.id, "email", True)
    assert session.secret == ""  # only keys see a session's secret
    token = sign_in(live_server.url, "main", "ada@example.com", USER_PASSWORD)
    me = account(live_server, session=token)
    assert me.get().id == created.id
    jwt = me.create_jwt().jwt
    payload = keys.decode_jwt(jwt, keys.USER)
    assert (payload["userId"], payload["projectId"]) == (created.id, "main")
    assert 890 <= payload["exp"] - payload["iat"] <= 900
    assert account(live_server, jwt=jwt).get().email == "ada@example.com"
    expect_error(lambda: account(live_server, jwt=jwt).create_jwt(), 404, "user_session_not_found")
    assert {s.id for s in me.list_sessions().sessions} == set(
        Session.objects.filter(user=stored).values_list("uid", flat=True)
    )
    me.delete_session("current")
    expect_error(lambda: me.get(), 401, "general_unauthorized_scope")  # a guest again
    # The JWT's session is gone: its bearer is a guest again.
    expect_error(lambda: account(live_server, jwt=jwt).get(), 401, "general_unauthorized_scope")


def test_cookies_and_fallback_cookies(live_server, project, make_user):
    make_user("bea")
    browser = requests.Session()
    response = browser.post(
        f"{live_server.url}/v1/account/sessions/email",
        json={"email": "bea@example.com", "password": USER_PASSWORD},
        headers={"X-Appwrite-Project": "main", "Origin": "http://127.0.0.1:5173"},
        timeout=10,
    )
    assert response.status_code == 201
    cookies = response.headers["Set-Cookie"]
    assert "a_session_main_legacy=" in cookies and "a_session_main=" in cookies
    assert "HttpOnly" in cookies and "SameSite=None" in cookies
    # A page on another host gets the token to keep in localStorage, as the Web SDK does.
    fallback = json.loads(response.headers["X-Fallback-Cookies"])["a_session_main"]
    me = browser.get(
        f"{live_server.url}/v1/account", headers={"X-Appwrite-Project": "main"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["$id"] == "bea"
    by_fallback = requests.get(
        f"{live_server.url}/v1/account",
        headers={
            "X-Appwrite-Project": "main",
            "X-Fallback-Cookies": json.dumps({"a_session_main": fallback}),
        },
        timeout=10,
    )
    assert by_fallback.json()["$id"] == "bea"
    out = browser.delete(
        f"{live_server.url}/v1/account/sessions/current",
        headers={"X-Appwrite-Project": "main"},
        json={},
        timeout=10,
    )
    assert out.status_code == 204 and out.headers["X-Fallback-Cookies"] == "[]"
    assert not browser.cookies.get("a_session_main")


def test_sign_in_errors_change_nothing(live_server, project, make_user, settings):
    make_user("cy")
    before = Session.objects.count()
    wrong = post(
        live_server, "/account/sessions/email", {"email": "cy@example.com", "password": "x" * 9}
    )
    expect_raw_error(
        wrong,
        401,
        "user_invalid_credentials",
        "Invalid credentials. Please check the email and password.",
    )
    unknown = post(
        live_server, "/account/sessions/email", {"email": "no@example.com", "password": "x" * 9}
    )
    expect_raw_error(unknown, 401, "user_invalid_credentials")
    short = post(
        live_server, "/account/sessions/email", {"email": "cy@example.com", "password": "short"}
    )
    expect_raw_error(
        short,
        400,
        "general_argument_invalid",
        "Invalid `password` param: Password must be between 8 and 256 characters long.",
    )
    bad_email = post(live_server, "/account/sessions/email", {"email": "cy", "password": "x" * 9})
    expect_raw_error(
        bad_email,
        400,
        "general_argument_invalid",
        "Invalid `email` param: Value must be a valid email address",
    )
    ProjectUser.objects.filter(uid="cy").update(status=False)
    blocked = post(
        live_server,
        "/account/sessions/email",
        {"email": "cy@example.com", "password": USER_PASSWORD},
    )
    expect_raw_error(blocked, 401, "user_blocked")
    assert Session.objects.count() == before


def test_sign_up_errors(live_server, project, make_user):
    make_user("dee")
    duplicate = post(
        live_server,
        "/account",
        {"userId": "other", "email": "DEE@example.com", "password": "x" * 9},
    )
    expect_raw_error(
        duplicate,
        409,
        "user_already_exists",
        "A user with the same id, email, or phone already exists in this project.",
    )
    same_id = post(
        live_server, "/account", {"userId": "dee", "email": "d2@example.com", "password": "x" * 9}
    )
    expect_raw_error(same_id, 409, "user_already_exists")
    personal = post(
        live_server,
        "/account",
        {"userId": "eve", "email": "eve@example.com", "password": "eve@example.com1"},
    )
    expect_raw_error(personal, 400, "user_password_personal_data")
    missing = post(live_server, "/account", {"email": "f@example.com", "password": "x" * 9})
    expect_raw_error(missing, 400, "general_argument_invalid", 'Param "userId" is not optional.')
    assert list(ProjectUser.objects.values_list("uid", flat=True)) == ["dee"]


def test_users_of_one_project_are_nobody_in_another(
    live_server, project, outsider_project, make_user
):
    make_user("fay")
    token = sign_in(live_server.url, "main", "fay@example.com", USER_PASSWORD)
    expect_error(
        lambda: account(live_server, "outsider", session=token).get(),
        401,
        "general_unauthorized_scope",
    )
    expired = post(
        live_server,
        "/account/sessions/email",
        {"email": "fay@example.com", "password": USER_PASSWORD},
        project="outsider",
    )
    expect_raw_error(expired, 401, "user_invalid_credentials")


def test_sign_in_is_rate_limited_per_email(live_server, project, make_user):
    make_user("gil")
    codes = [
        post(
            live_server,
            "/account/sessions/email",
            {"email": "gil@example.com", "password": "wrong-pass"},
        ).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
    other = post(
        live_server, "/account/sessions/email", {"email": "x@example.com", "password": "wrong-pass"}
    )
    assert other.status_code == 401  # per email


def test_console_accounts_sign_in_to_console_and_act_in_admin_mode(
    live_server, project, outsider_project
):
    """As appwrite-cli: sign in to project ``console``, keep the whole Set-Cookie line, send it
    back as a Cookie header, and call projects with ``X-Appwrite-Mode: admin``."""
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-123456")
    project.members.add(owner)
    response = post(
        live_server,
        "/account/sessions/email",
        {"email": "owner@example.com", "password": "pw-123456"},
        project="console",
    )
    assert response.status_code == 201, response.text
    line = next(
        c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("a_session_console=")
    )
    cli = {"cookie": line, "X-Appwrite-Project": "console"}
    me = requests.get(f"{live_server.url}/v1/account", headers=cli, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == "owner@example.com"
    variables = requests.get(
        f"{live_server.url}/v1/console/variables", headers=cli, timeout=10
    ).json()
    assert variables["_APP_DOMAIN_FUNCTIONS"] == "functions.localhost" and len(variables) == 15
    admin = {"cookie": line, "X-Appwrite-Project": "main", "X-Appwrite-Mode": "admin"}
    created = requests.post(
        f"{live_server.url}/v1/functions",
        json={"functionId": "cli", "name": "CLI", "runtime": "python-3.11"},
        headers=admin,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    foreign = requests.get(
        f"{live_server.url}/v1/functions",
        headers={**admin, "X-Appwrite-Project": "outsider"},
        timeout=10,
    )
    expect_raw_error(foreign, 401, "user_unauthorized")  # no member there
    plain = requests.get(
        f"{live_server.url}/v1/functions",
        headers={"cookie": line, "X-Appwrite-Project": "main"},
        timeout=10,
    )
    expect_raw_error(plain, 401, "general_unauthorized_scope")  # without admin mode: a guest
    with_key_only = requests.get(
        f"{live_server.url}/v1/console/variables",
        headers={"X-Appwrite-Project": "main", "cookie": line},
        timeout=10,
    )
    expect_raw_error(with_key_only, 401, "general_unauthorized_scope")
    console_admin = requests.get(
        f"{live_server.url}/v1/account", headers={**cli, "X-Appwrite-Mode": "admin"}, timeout=10
    )
    expect_raw_error(
        console_admin, 400, "general_bad_request", "Admin mode is not allowed for console project"
    )
    out = requests.delete(
        f"{live_server.url}/v1/account/sessions/current", headers=cli, json={}, timeout=10
    )
    assert out.status_code == 204
    again = requests.get(f"{live_server.url}/v1/account", headers=cli, timeout=10)
    expect_raw_error(again, 401, "general_unauthorized_scope")
    project_users = Functions(make_client(live_server.url, "main").set_session(quote("x")))
    expect_error(lambda: project_users.list(), 401, "general_unauthorized_scope")


def test_console_sign_up_is_closed(live_server, project):
    response = post(
        live_server,
        "/account",
        {"userId": "x", "email": "x@example.com", "password": "x" * 9},
        project="console",
    )
    expect_raw_error(response, 401, "user_email_not_whitelisted")
    assert not get_user_model().objects.exists() and not ProjectUser.objects.exists()
