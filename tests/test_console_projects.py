"""Console: sign-in, projects and the project switcher, API keys (in a real browser)."""

import pytest
import requests
from playwright.sync_api import expect

from functions_app.models import ApiKey, Project

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser


def test_sign_in_rejects_a_wrong_password_then_signs_in_and_out(page, console_user):
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    page.get_by_label("Password").fill(console_user.raw_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Functions")).to_be_visible()
    expect(page).to_have_url("/projects/main/functions")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/projects/main/functions")
    expect(page).to_have_url("/login?next=/projects/main/functions")


def test_create_a_project_and_switch_between_projects(console, outsider_project):
    console.goto("/projects")
    console.get_by_label("Name").fill("Second project")
    console.get_by_label("Project ID").fill("second")
    console.get_by_role("button", name="Create project").click()
    expect(console.get_by_role("status")).to_contain_text("Project Second project created.")
    expect(console).to_have_url("/projects/second/functions")
    assert list(Project.objects.get(pk="second").members.values_list("username", flat=True)) == [
        "ada"
    ]
    switcher = console.locator("#project-switcher")
    switcher.locator("summary").click()
    expect(switcher.get_by_role("link")).to_have_text(
        ["Main project (main)", "Second project (second)", "New project…"]
    )  # the outsider project, of which ada is no member, is not offered
    switcher.get_by_role("link", name="Main project (main)").click()
    expect(console).to_have_url("/projects/main/functions")
    expect(switcher.locator("summary")).to_have_text("Main project")


def test_projects_of_others_are_not_found(console, outsider_project):
    response = console.goto("/projects/outsider/functions")
    assert response.status == 404
    assert console.request.get("/projects/outsider/keys").status == 404


def test_a_bad_project_id_shows_the_api_message(console):
    console.goto("/projects")
    console.get_by_label("Name").fill("Bad")
    console.get_by_label("Project ID").fill("-bad")
    console.get_by_role("button", name="Create project").click()
    expect(console.get_by_role("alert")).to_have_text(
        "Invalid `projectId` param: Parameter must contain at most 36 chars. Valid chars are "
        "a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"
    )
    assert not Project.objects.filter(name="Bad").exists()


def test_create_use_and_revoke_an_api_key(console, live_server, project):
    console.goto("/projects/main/keys")
    console.get_by_label("Name", exact=True).fill("CI key")
    console.get_by_label("functions.write").uncheck()
    console.get_by_label("execution.write").uncheck()
    console.get_by_label("users.read").uncheck()
    console.get_by_label("users.write").uncheck()
    console.get_by_label("rules.read").uncheck()
    console.get_by_label("rules.write").uncheck()
    console.get_by_label("Expires (UTC, optional)").fill("2099-01-01T00:00")
    console.get_by_role("button", name="Create key").click()
    secret = console.get_by_label("Secret").input_value()
    assert secret.startswith("standard_")
    key = ApiKey.objects.get(name="CI key")
    assert key.scopes == ["functions.read", "execution.read"]
    assert key.expire.isoformat() == "2099-01-01T00:00:00+00:00"
    api = f"{live_server.url}/v1/functions"
    headers = {"X-Appwrite-Project": "main", "X-Appwrite-Key": secret}
    assert requests.get(api, headers=headers, timeout=10).status_code == 200
    assert requests.post(api, headers=headers, json={}, timeout=10).status_code == 401
    console.reload()  # the secret is shown once only
    expect(console.get_by_label("Secret")).to_have_count(0)
    assert secret not in console.content()
    row = console.locator("tr", has_text="CI key")
    row.get_by_role("button", name="Revoke key CI key").click()
    expect(console.get_by_role("status")).to_contain_text("API key CI key revoked.")
    expect(console.locator("tr", has_text="CI key").locator(".key-status")).to_have_text("revoked")
    assert requests.get(api, headers=headers, timeout=10).status_code == 401


def test_signing_in_again_opens_the_last_project(page, console_user, sign_in):
    Project.objects.create(id="later", name="Later").members.add(console_user)
    sign_in(page, "ada")
    page.goto("/projects/later/functions")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ada")
    expect(page).to_have_url("/projects/main/functions")  # sessions do not survive sign-out
    page.goto("/projects/later/keys")
    page.goto("/")
    expect(page).to_have_url("/projects/later/functions")


def cors_origin(live_server, origin, project_id="main"):
    """The ``Access-Control-Allow-Origin`` the API answers a page on ``origin`` with."""
    response = requests.get(
        f"{live_server.url}/v1/functions/runtimes",
        headers={"X-Appwrite-Project": project_id, "Origin": origin},
        timeout=10,
    )
    return response.headers["Access-Control-Allow-Origin"]


def test_add_edit_and_delete_a_web_platform(console, live_server, project, outsider_project):
    console.goto("/projects/main/functions")
    console.get_by_role("link", name="Platforms").click()
    expect(console).to_have_url("/projects/main/platforms")
    expect(console.locator("#platforms")).to_contain_text("No platforms yet.")
    expect(console.get_by_text("Always allowed, for every project")).to_contain_text("localhost")
    console.get_by_label("Type").select_option("Flutter Web")
    console.get_by_label("Name", exact=True).fill("Shop")
    console.get_by_label("Hostname", exact=True).fill("https://shop.test:3000/")
    console.get_by_role("button", name="Add platform").click()
    expect(console.get_by_role("alert")).to_have_text(
        "Invalid `hostname` param: Value must be a valid hostname without path, port and "
        "protocol, or `*.` followed by one (for every host under it)."
    )
    expect(console.get_by_label("Name", exact=True)).to_have_value("Shop")  # kept for a retry
    console.get_by_label("Hostname", exact=True).fill("*.Shop.test")
    console.get_by_role("button", name="Add platform").click()
    expect(console.get_by_role("status")).to_contain_text("Platform Shop added.")
    row = console.locator("#platforms tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Flutter Web")
    expect(console.get_by_label("Hostname of Shop")).to_have_value("*.shop.test")
    assert cors_origin(live_server, "https://a.shop.test") == "https://a.shop.test"
    assert cors_origin(live_server, "https://shop.test") == "https://localhost"
    assert cors_origin(live_server, "https://a.shop.test", "outsider") == "https://localhost"

    console.get_by_label("Hostname of Shop").fill("shop.test:80")
    console.get_by_role("button", name="Save Shop").click()
    expect(console.locator("#row-error")).to_contain_text("Invalid `hostname` param")
    console.get_by_label("Hostname of Shop").fill("shop.test")
    console.get_by_label("Name of Shop", exact=True).fill("Web shop")
    console.get_by_role("button", name="Save Shop").click()
    expect(console.get_by_role("status")).to_contain_text("Platform Web shop updated.")
    assert cors_origin(live_server, "http://shop.test:8080") == "http://shop.test:8080"
    assert cors_origin(live_server, "https://a.shop.test") == "https://localhost"

    console.get_by_role("button", name="Delete Web shop").click()
    expect(console.get_by_role("status")).to_contain_text("Platform Web shop deleted.")
    expect(console.locator("#platforms")).to_contain_text("No platforms yet.")
    assert cors_origin(live_server, "http://shop.test") == "http://localhost"
    assert console.request.get("/projects/outsider/platforms").status == 404
