"""/v1/users: the server-side Users API over one project's users, through the SDK."""

import pytest
from appwrite.query import Query
from appwrite.services.users import Users

from functions_app.models import ApiKey, ProjectUser
from functions_app.services.callers import KEY_SCOPES

from .conftest import USER_PASSWORD, make_client
from .helpers import expect_error, expect_raw_error


@pytest.fixture
def users(client):
    return Users(client)


@pytest.fixture
def outsider_users(live_server, outsider_project):
    secret = ApiKey.issue(outsider_project, "Outsider key", KEY_SCOPES)[1]
    return Users(make_client(live_server.url, outsider_project.id, secret))


def test_create_get_list_and_delete(users, outsider_users):
    ada = users.create("ada", "Ada@Example.com", "+15550001111", USER_PASSWORD, "Ada")
    assert (ada.id, ada.email, ada.phone, ada.name) == (
        "ada",
        "ada@example.com",
        "+15550001111",
        "Ada",
    )
    assert ada.hash == "argon2" and ada.password.startswith("$argon2id$v=19$m=2048,t=4,p=3$")
    assert ada.hashoptions.memorycost == 2048 and ada.status and ada.labels == []
    assert [t.identifier for t in ada.targets] == ["ada@example.com"]
    bare = users.create("unique()")
    assert len(bare.id) == 20 and (bare.email, bare.password, bare.hash) == ("", None, None)
    assert users.get("ada").registration == ada.registration
    listed = users.list()
    assert listed.total == 2 and [u.id for u in listed.users] == ["ada", bare.id]
    assert users.list(search="example.com").total == 1
    assert users.list([Query.equal("email", ["ada@example.com"])]).users[0].id == "ada"
    assert users.list([Query.limit(1), Query.cursor_after("ada")]).users[0].id == bare.id
    expect_error(lambda: outsider_users.get("ada"), 404, "user_not_found")
    assert outsider_users.list().total == 0
    users.delete("ada")
    expect_error(lambda: users.get("ada"), 404, "user_not_found")
    assert not ProjectUser.objects.filter(uid="ada").exists()


def test_updates(users):
    users.create("bo", "bo@example.com", None, USER_PASSWORD, "Bo")
    assert users.update_name("bo", "Robert").name == "Robert"
    assert users.update_name("bo", "").name == ""
    changed = users.update_email("bo", "ROBERT@example.com")
    assert (changed.email, changed.emailverification) == ("robert@example.com", False)
    assert users.update_status("bo", False).status is False
    assert users.update_labels("bo", ["vip", "beta", "vip"]).labels == ["vip", "beta"]
    assert users.list([Query.contains("labels", ["beta"])]).total == 1
    assert users.update_email("bo", "").email == ""


def test_errors_change_nothing(users, raw):
    users.create("cy", "cy@example.com")
    expect_error(lambda: users.create("cy"), 409, "user_already_exists")
    expect_error(lambda: users.create("dy", "CY@example.com"), 409, "user_already_exists")
    expect_error(
        lambda: users.create("ey", "not-an-email"),
        400,
        "general_argument_invalid",
        "Invalid `email` param: Value must be a valid email address",
    )
    expect_error(
        lambda: users.create("ey", None, "555"),
        400,
        "general_argument_invalid",
        "Invalid `phone` param: Phone number must start with a '+' can have a maximum of fifteen digits.",
    )
    expect_error(lambda: users.create("ey", None, None, "short"), 400, "general_argument_invalid")
    expect_error(lambda: users.create(".bad"), 400, "general_argument_invalid")
    expect_error(lambda: users.update_labels("cy", ["no spaces"]), 400, "general_argument_invalid")
    patch_labels = raw.patch("/users/cy/labels", json={"labels": ["a"]})
    expect_raw_error(patch_labels, 404, "general_route_not_found")
    expect_error(lambda: users.update_name("nobody", "x"), 404, "user_not_found")
    expect_error(lambda: users.list(["notjson"]), 400, "general_argument_invalid")
    assert list(ProjectUser.objects.values_list("uid", "email", "labels")) == [
        ("cy", "cy@example.com", [])
    ]


def test_scopes(live_server, project):
    secret = ApiKey.issue(project, "read only", ["users.read"])[1]
    readonly = Users(make_client(live_server.url, project.id, secret))
    assert readonly.list().total == 0
    expect_error(lambda: readonly.create("x"), 401, "general_unauthorized_scope")
    assert not ProjectUser.objects.exists()
    guest = Users(make_client(live_server.url, project.id))
    expect_error(
        lambda: guest.list(),
        401,
        "general_unauthorized_scope",
        'User (role: guests) missing scopes (["users.read"])',
    )
