"""Playwright fixtures for console tests: Debian's chromium driven through Playwright's sync
API against pytest-django's live server. Each test's final page is saved under
``test-artifacts/screenshots/<test name>.png``. Test modules load these fixtures with
``pytest_plugins = ["tests.browser"]`` (and import nothing from here: helpers are fixtures
too, so that pytest can rewrite this module's asserts)."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made from the
# test body are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def console_user(project):
    """A console account that is a member of the ``main`` project."""
    user = get_user_model().objects.create_user("ada", "ada@example.com", PASSWORD)
    project.members.add(user)
    user.raw_password = PASSWORD
    return user


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser tab; its last page is saved as a screenshot, and no script may fail."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    script_errors = []
    tab.on("pageerror", lambda error: script_errors.append(str(error)))
    tab.on("dialog", lambda dialog: dialog.accept())  # confirm() before deleting, revoking
    yield tab
    screenshot(tab, request.node.name)
    context.close()
    assert not script_errors, script_errors


@pytest.fixture
def console(page, console_user):
    """A tab signed in as ``console_user``."""
    sign_in(page, console_user.username)
    return page


@pytest.fixture
def snap(request):
    """``snap(page, "step")`` saves ``<test name>-step.png`` along the way."""
    return lambda page, step: screenshot(page, f"{request.node.name}-{step}")


@pytest.fixture(name="sign_in")
def sign_in_fixture():
    return sign_in


@pytest.fixture
def web(console_user):
    """Django's test client, signed in as ``console_user`` (for form tests without a browser)."""
    client = Client()
    client.force_login(console_user)
    return client


def sign_in(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)
