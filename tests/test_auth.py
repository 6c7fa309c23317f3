"""Projects, keys, scopes, sessions and the errors Appwrite gives for each."""

from datetime import timedelta

import requests
from appwrite.enums.runtime import Runtime
from appwrite.services.functions import Functions
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.utils import timezone

from functions_app.models import ApiKey
from functions_app.services import keys

from .conftest import make_client
from .helpers import expect_error, expect_raw_error


def sdk(live_server, project_id, key=None):
    return Functions(make_client(live_server.url, project_id, key))


def test_guest_without_key_lacks_scope(live_server, project):
    expect_error(
        lambda: sdk(live_server, project.id).list(),
        401,
        "general_unauthorized_scope",
        'User (role: guests) missing scopes (["functions.read"])',
    )


def test_unknown_project(live_server, key):
    expect_error(lambda: sdk(live_server, "nope", key).list(), 404, "project_not_found")


def test_invalid_and_revoked_keys(live_server, project, key):
    expect_error(
        lambda: sdk(live_server, project.id, "standard_wrong").list(), 401, "user_unauthorized"
    )
    ApiKey.objects.update(revoked=True)
    expect_error(lambda: sdk(live_server, project.id, key).list(), 401, "user_unauthorized")


def test_expired_key(live_server, project):
    _, secret = ApiKey.issue(
        project, "old", ["functions.read"], expire=timezone.now() - timedelta(seconds=1)
    )
    expect_error(lambda: sdk(live_server, project.id, secret).list(), 401, "project_key_expired")


def test_key_scopes_are_enforced(live_server, project):
    _, secret = ApiKey.issue(project, "reader", ["functions.read"])
    reader = sdk(live_server, project.id, secret)
    assert reader.list().total == 0
    expect_error(
        lambda: reader.create("x", "X", Runtime.PYTHON_3_11),
        401,
        "general_unauthorized_scope",
        'User (role: applications) missing scopes (["functions.write"])',
    )
    assert ApiKey.objects.get(name="reader").accessed_at is not None


def test_key_of_another_project_is_refused(live_server, project, outsider_project):
    _, secret = ApiKey.issue(outsider_project, "theirs", ["functions.read"])
    expect_error(lambda: sdk(live_server, project.id, secret).list(), 401, "user_unauthorized")


def test_missing_project_is_forbidden_for_function_routes(live_server, key):
    response = requests.get(
        f"{live_server.url}/v1/functions", headers={"X-Appwrite-Key": key}, timeout=10
    )
    expect_raw_error(response, 401, "user_unauthorized")
    response = requests.get(f"{live_server.url}/v1/functions", timeout=10)
    expect_raw_error(
        response,
        401,
        "general_unauthorized_scope",
        'User (role: guests) missing scopes (["functions.read"])',
    )


def test_runtimes_are_public(live_server, project):
    assert sdk(live_server, project.id).list_runtimes().total >= 2


def test_key_and_session_together(live_server, project, key):
    response = requests.get(
        f"{live_server.url}/v1/functions",
        timeout=10,
        headers={
            "X-Appwrite-Project": project.id,
            "X-Appwrite-Key": key,
            "X-Appwrite-Session": "abc",
        },
    )
    expect_raw_error(response, 403, "user_key_and_session_set")


def login(username):
    browser = DjangoClient()
    assert browser.login(username=username, password="pw-123456")
    return browser.cookies["sessionid"].value


def test_console_member_session_acts_as_admin(live_server, project):
    user = get_user_model().objects.create_user("member", "member@example.com", "pw-123456")
    project.members.add(user)
    client = make_client(live_server.url, project.id).set_session(login("member"))
    fn = Functions(client).create("bysession", "By session", Runtime.PYTHON_3_11)
    assert fn.id == "bysession"


def test_session_of_a_non_member_has_user_scopes(live_server, project, outsider_project):
    get_user_model().objects.create_user("stranger", "s@example.com", "pw-123456")
    client = make_client(live_server.url, project.id).set_session(login("stranger"))
    expect_error(
        lambda: Functions(client).list(),
        401,
        "general_unauthorized_scope",
        's@example.com (role: users) missing scopes (["functions.read"])',
    )


def test_dynamic_keys(live_server, project, outsider_project):
    good = keys.mint_dynamic_key(project.id, ["functions.read"], 60)
    assert sdk(live_server, project.id, good).list().total == 0
    expect_error(
        lambda: sdk(live_server, project.id, good).create("x", "X", Runtime.PYTHON_3_11),
        401,
        "general_unauthorized_scope",
    )
    foreign = keys.mint_dynamic_key(outsider_project.id, ["functions.read"], 60)
    expect_error(
        lambda: sdk(live_server, project.id, foreign).list(), 401, "general_unauthorized_scope"
    )
    expired = keys.mint_dynamic_key(project.id, ["functions.read"], -1)
    expect_error(lambda: sdk(live_server, project.id, expired).list(), 401, "project_key_expired")
    expect_error(
        lambda: sdk(live_server, project.id, "dynamic_garbage").list(),
        401,
        "general_unauthorized_scope",
    )
