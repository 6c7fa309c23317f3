"""Projects, keys, scopes, sessions and the errors Appwrite gives for each."""

from datetime import timedelta

import requests
from appwrite.enums.runtime import Runtime
from appwrite.services.functions import Functions
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.utils import timezone

from functions_app.api.fields import function_fields
from functions_app.models import ApiKey, Function
from functions_app.services import functions as function_service
from functions_app.services import keys, users

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


def test_console_account_that_is_no_member_is_a_guest(live_server, project, outsider_project):
    """Console accounts administer projects; in a project they are not a member of they are
    nobody (the project's users are its own)."""
    get_user_model().objects.create_user("stranger", "s@example.com", "pw-123456")
    client = make_client(live_server.url, project.id).set_session(login("stranger"))
    expect_error(
        lambda: Functions(client).list(),
        401,
        "general_unauthorized_scope",
        'User (role: guests) missing scopes (["functions.read"])',
    )


def make_function(project, function_id="fn"):
    return function_service.create_function(
        project, function_id, function_fields({"name": "Fn", "runtime": "python-3.11"}, True)
    )


def test_dynamic_keys(live_server, project, outsider_project):
    function = make_function(project)
    good = keys.mint_dynamic_key(project.id, function.pk, ["functions.read"], 60)
    assert sdk(live_server, project.id, good).list().total == 1
    expect_error(
        lambda: sdk(live_server, project.id, good).create("x", "X", Runtime.PYTHON_3_11),
        401,
        "general_unauthorized_scope",
    )
    foreign = keys.mint_dynamic_key(outsider_project.id, function.pk, ["functions.read"], 60)
    expect_error(
        lambda: sdk(live_server, project.id, foreign).list(), 401, "general_unauthorized_scope"
    )
    expired = keys.mint_dynamic_key(project.id, function.pk, ["functions.read"], -1)
    expect_error(lambda: sdk(live_server, project.id, expired).list(), 401, "project_key_expired")
    expect_error(
        lambda: sdk(live_server, project.id, "dynamic_garbage").list(),
        401,
        "general_unauthorized_scope",
    )


def test_dynamic_key_dies_with_its_function(live_server, project, functions):
    function = make_function(project, "doomed")
    key = keys.mint_dynamic_key(project.id, function.pk, ["functions.read"], 60)
    with_key = sdk(live_server, project.id, key)
    assert [f.id for f in with_key.list().functions] == ["doomed"]
    functions.delete("doomed")
    guest = 'User (role: guests) missing scopes (["functions.read"])'
    expect_error(lambda: with_key.list(), 401, "general_unauthorized_scope", guest)
    functions.create("doomed", "Doomed again", Runtime.PYTHON_3_11)  # same ID, new function
    expect_error(lambda: with_key.list(), 401, "general_unauthorized_scope", guest)
    fresh = keys.mint_dynamic_key(
        project.id, Function.objects.get(uid="doomed").pk, ["functions.read"], 60
    )
    assert sdk(live_server, project.id, fresh).get("doomed").name == "Doomed again"


def jwt_sdk(live_server, project_id, jwt):
    return Functions(make_client(live_server.url, project_id).set_jwt(jwt))


def test_user_jwt_is_good_in_its_own_project_only(live_server, project, outsider_project):
    user = users.create_user(project, "jo", {"email": "jo@example.com"})
    jwt = keys.mint_user_jwt(user.uid, project.id, 60)
    expect_error(
        lambda: jwt_sdk(live_server, project.id, jwt).list(),
        401,
        "general_unauthorized_scope",
        'jo@example.com (role: users) missing scopes (["functions.read"])',
    )
    expect_error(
        lambda: jwt_sdk(live_server, outsider_project.id, jwt).list(), 401, "user_jwt_invalid"
    )
    response = requests.get(
        f"{live_server.url}/v1/functions", headers={"X-Appwrite-JWT": jwt}, timeout=10
    )
    expect_raw_error(response, 401, "user_jwt_invalid")  # no project named: no project to act in


def test_jwts_name_project_users_never_console_accounts(live_server, project):
    owner = get_user_model().objects.create_user("owner", "owner@example.com", "pw-123456")
    project.members.add(owner)
    forged = keys.mint_user_jwt(str(owner.pk), project.id, 60)  # an account's ID: no such user
    expect_error(lambda: jwt_sdk(live_server, project.id, forged).list(), 401, "user_jwt_invalid")
    user = users.create_user(project, str(owner.pk), {"email": "plain@example.com"})
    jwt = keys.mint_user_jwt(user.uid, project.id, 60)  # a user whose ID equals the account's
    expect_error(
        lambda: jwt_sdk(live_server, project.id, jwt).create("x", "X", Runtime.PYTHON_3_11),
        401,
        "general_unauthorized_scope",
        'plain@example.com (role: users) missing scopes (["functions.write"])',
    )
    assert not Function.objects.exists()
    browser = DjangoClient()  # a console session cookie alongside does not lift the JWT
    browser.force_login(owner)
    response = requests.get(
        f"{live_server.url}/v1/functions",
        timeout=10,
        headers={"X-Appwrite-Project": project.id, "X-Appwrite-JWT": jwt},
        cookies={"sessionid": browser.cookies["sessionid"].value},
    )
    expect_raw_error(response, 401, "general_unauthorized_scope")


def test_tokens_of_one_kind_are_refused_as_the_other(live_server, project):
    user = users.create_user(project, "kim", {"email": "kim@example.com"})
    function = make_function(project)
    jwt = keys.mint_user_jwt(user.uid, project.id, 60)
    dynamic = keys.mint_dynamic_key(project.id, function.pk, ["functions.read"], 60)
    assert sdk(live_server, project.id, dynamic).list().total == 1
    expect_error(
        lambda: sdk(live_server, project.id, "dynamic_" + jwt).list(),
        401,
        "general_unauthorized_scope",
        'User (role: guests) missing scopes (["functions.read"])',
    )
    for token in (dynamic, dynamic.removeprefix("dynamic_")):
        expect_error(
            lambda t=token: jwt_sdk(live_server, project.id, t).list(), 401, "user_jwt_invalid"
        )
