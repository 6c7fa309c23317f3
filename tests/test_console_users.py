"""The console's Users page: create, search, block, unblock and delete a project's users,
through the same services as the Users API."""

import pytest
from playwright.sync_api import expect

from functions_app.models import ProjectUser, Session
from functions_app.services import users

from .conftest import USER_PASSWORD
from .helpers import sign_in as api_sign_in

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser


def test_create_search_block_and_delete_users(console, live_server, project, snap):
    console.get_by_role("link", name="Users").click()
    console.get_by_label("User ID (optional: generated when empty)").fill("ada")
    console.get_by_label("Name").fill("Ada")
    console.get_by_label("Email").fill("Ada@Example.com")
    console.get_by_label("Password (8 characters or more, optional)").fill(USER_PASSWORD)
    console.get_by_role("button", name="Create user").click()
    expect(console.get_by_role("status")).to_contain_text("User ada@example.com created.")
    ada = ProjectUser.objects.get(uid="ada")
    assert (ada.project_id, ada.email) == ("main", "ada@example.com")
    assert api_sign_in(live_server.url, "main", "ada@example.com", USER_PASSWORD)
    users.create_user(project, "bob", {"email": "bob@example.com"})
    console.get_by_label("Search users").fill("bob")
    console.get_by_role("button", name="Search").click()
    expect(console.locator("#users tbody tr")).to_have_count(1)
    console.get_by_label("Search users").fill("")
    console.get_by_role("button", name="Search").click()
    expect(console.locator("#users tbody tr")).to_have_count(2)
    console.get_by_role("button", name="Block user ada").click()
    expect(console.locator("tr[data-user=ada] .user-status")).to_have_text("blocked")
    assert not ProjectUser.objects.get(uid="ada").status and not Session.objects.exists()
    console.get_by_role("button", name="Unblock user ada").click()
    expect(console.locator("tr[data-user=ada] .user-status")).to_have_text("active")
    console.once("dialog", lambda dialog: dialog.accept())
    console.get_by_role("button", name="Delete user bob").click()
    expect(console.locator("#users tbody tr")).to_have_count(1)
    snap(console, "users")
    assert list(ProjectUser.objects.values_list("uid", flat=True)) == ["ada"]


def test_a_bad_user_shows_the_api_message_and_creates_nothing(console, project):
    users.create_user(project, "taken", {"email": "taken@example.com"})
    console.goto("/projects/main/users")
    console.get_by_label("Email").fill("TAKEN@example.com")
    console.get_by_role("button", name="Create user").click()
    expect(console.get_by_role("alert")).to_have_text(
        "A user with the same id, email, or phone already exists in this project."
    )
    console.get_by_label("Email").fill("new@example.com")
    console.get_by_label("Password (8 characters or more, optional)").fill("short")
    console.get_by_role("button", name="Create user").click()
    expect(console.get_by_role("alert")).to_contain_text("Invalid `password` param")
    assert ProjectUser.objects.count() == 1
