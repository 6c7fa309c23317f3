"""Console: create a function from a template (the picker with its filters, variables asked up
front), the project's git connections, and the Git section of a function's settings. The
browser test drives chromium; the others post forms with Django's test client. Builds are not
run here (``test_vcs.py`` and ``test_catalog_templates.py`` build)."""

from html import unescape

import pytest
from playwright.sync_api import expect

from functions_app.models import Deployment, Function, Installation, Variable
from functions_app.services import installations

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
BASE = "/projects/main"


def test_create_a_function_from_a_template(console, raw, snap):
    console.goto(f"{BASE}/functions")
    console.get_by_role("button", name="Create from template").click()
    expect(console.get_by_role("heading", name="Create from a template")).to_be_visible()
    console.get_by_label("Use case").select_option("messaging")
    expect(console.locator("article.template-card")).to_have_count(1)
    console.get_by_label("Runtime").select_option("node-20.0")
    expect(console.locator("article.template-card")).to_have_count(1)
    snap(console, "picker")
    console.get_by_role("button", name="Use Webhook receiver").click()
    expect(console.get_by_role("heading", name="Webhook receiver")).to_be_visible()
    expect(console.get_by_label("Runtime")).to_have_value("node-20.0")
    expect(console.get_by_label("SIGNATURE_HEADER")).to_have_value("x-hub-signature-256")
    console.get_by_label("Function ID").fill("hooks")
    console.get_by_label("Name").fill("Hooks")
    console.get_by_label("WEBHOOK_SECRET (required)").fill("s3cret-value")
    console.get_by_role("button", name="Create function").click()
    expect(console.get_by_role("status")).to_contain_text(
        "Function Hooks created from Webhook receiver"
    )
    expect(console).to_have_url(f"{BASE}/functions/hooks/deployments")
    created = raw.get("/functions/hooks").json()
    assert (created["runtime"], created["entrypoint"], created["execute"]) == (
        "node-20.0",
        "src/main.js",
        ["any"],
    )
    assert created["commands"] == "npm install --no-audit --no-fund"
    variables = {v["key"]: v for v in created["vars"]}
    assert variables["WEBHOOK_SECRET"]["secret"] and variables["WEBHOOK_SECRET"]["value"] == ""
    assert Variable.objects.get(key="WEBHOOK_SECRET").value == "s3cret-value"
    assert variables["SIGNATURE_HEADER"]["value"] == "x-hub-signature-256"
    deployment = Deployment.objects.get(function__uid="hooks")
    assert (deployment.type, deployment.activate) == ("vcs", True)
    assert deployment.vcs["providerRepositoryName"] == "templates"


def test_a_required_variable_left_empty_creates_nothing(web):
    response = web.post(
        f"{BASE}/templates/webhook-receiver",
        {"functionId": "hooks", "name": "Hooks", "runtime": "python-3.11"},
    )
    assert response.status_code == 400
    assert 'Variable "WEBHOOK_SECRET" is required by this template.' in unescape(response.text)
    assert not Function.objects.exists()
    response = web.post(
        f"{BASE}/templates/webhook-receiver",
        {"functionId": "hooks", "name": "Hooks", "runtime": "cpp-17", "var-WEBHOOK_SECRET": "x"},
    )
    assert response.status_code == 400 and "not on" in response.text
    assert web.get(f"{BASE}/templates/nope").status_code == 404


def test_the_picker_filters(web):
    page = web.get(f"{BASE}/templates", {"runtime": "cpp-17"}).text
    assert 'data-template="starter"' in page and 'data-template="json-api"' not in page
    page = web.get(f"{BASE}/templates", {"useCase": "ai"}).text
    assert "No template matches these filters." in page


def test_git_connections_page(web, tmp_path, settings):
    response = web.post(f"{BASE}/git", {"name": "Bad", "url": "ftp://x", "provider": "git"})
    assert response.status_code == 400 and "Invalid `url` param" in response.text
    response = web.post(
        f"{BASE}/git",
        {
            "name": "GitHub",
            "url": "https://github.com",
            "provider": "github",
            "token": "tok-1",
            "webhookSecret": "hook-1",
        },
    )
    assert response.status_code == 302
    installation = Installation.objects.get(name="GitHub")
    page = web.get(f"{BASE}/git").text
    assert installations.webhook_url(installation) in page
    assert "tok-1" not in page and "hook-1" not in page  # secrets are never shown again
    web.post(
        f"{BASE}/git/{installation.uid}",
        {"name": "GitHub", "url": "https://github.com", "provider": "github", "token": ""},
    )
    installation.refresh_from_db()
    assert installations.secret(installation, "token") == "tok-1"  # empty: kept
    web.post(
        f"{BASE}/git/{installation.uid}",
        {
            "name": "GH",
            "url": "https://github.com",
            "provider": "github",
            "remove-token": "on",
        },
    )
    installation.refresh_from_db()
    assert installation.name == "GH" and not installation.has_token
    assert installations.secret(installation, "webhook_secret") == "hook-1"
    web.post(f"{BASE}/git/{installation.uid}/delete")
    assert not Installation.objects.exists()


def test_the_settings_git_section(web, project):
    from functions_app.api.fields import function_fields
    from functions_app.services import functions as service

    service.create_function(
        project,
        "app",
        function_fields(
            {"name": "App", "runtime": "python-3.11", "entrypoint": "main.py"}, creating=True
        ),
    )
    page = web.get(f"{BASE}/functions/app/settings").text
    assert "No git connection yet" in page
    installation = installations.create_installation(project, "Host", "https://git.example.com")
    page = web.get(f"{BASE}/functions/app/settings").text
    assert 'id="git-link-form"' in page and 'id="git-deploy-form"' not in page
    response = web.post(
        f"{BASE}/functions/app/git/link",
        {
            "installationId": installation.uid,
            "providerRepositoryId": "no-owner",
            "providerBranch": "main",
        },
        follow=True,
    )
    assert "Invalid `providerRepositoryId` param" in response.text
    Function.objects.filter(uid="app").update(
        installation_id=installation.uid, provider_repository_id="acme/app", provider_branch="main"
    )
    page = web.get(f"{BASE}/functions/app/settings").text
    assert 'id="git-linked"' in page and installations.webhook_url(installation) in page
    response = web.post(
        f"{BASE}/functions/app/git/deploy",
        {"type": "tag", "reference": "v1.0", "activate": "on"},
    )
    deployment = Deployment.objects.get(function__uid="app")
    assert response.status_code == 302 and response.url.endswith(deployment.uid)
    assert deployment.git_source["reference"] == "v1.0" and deployment.activate
    page = web.get(response.url).text
    assert 'id="deployment-repository"' in page and "fetched when the build starts" in page
    response = web.post(f"{BASE}/functions/app/git/link", {"disconnect": "1"}, follow=True)
    assert "no longer linked" in response.text
    assert Function.objects.get(uid="app").provider_repository_id == ""
