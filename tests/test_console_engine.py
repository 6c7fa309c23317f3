"""Console end to end, with real builds and executions: a browser creates a function, uploads
its code, watches the build, executes it, adds a variable and changes the schedule."""

import io
import json
import re
import tarfile

import pytest
from playwright.sync_api import expect

from functions_app.api.fields import function_fields
from functions_app.models import Deployment, Execution, Function
from functions_app.services import functions as service

from .deploy import ECHO, make_archive

pytest_plugins = ["tests.browser"]
pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.usefixtures("engine")]
BASE = "/projects/main/functions"
BUILD_TIMEOUT = 180_000
STEPS = "for i in 1 2 3 4 5 6; do echo step-$i; sleep 1; done"  # output while the build runs


def python_function(project, function_id="echo"):
    data = {"name": "Echo", "runtime": "python-3.11", "entrypoint": "main.py", "execute": ["any"]}
    return service.create_function(project, function_id, function_fields(data, creating=True))


def status_of(page):
    return page.locator("#deployment-status")


def execute(page, path, body="", headers="", mode="sync"):
    page.get_by_role("link", name="Executions", exact=True).click()
    panel = page.locator("details.execute-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    form = page.locator("#execute-form")
    form.get_by_label("Method").select_option("POST")
    form.get_by_label("Path").fill(path)
    form.get_by_label("Headers (one").fill(headers)
    form.get_by_label("Body").fill(body)
    form.locator(f"input[name=mode][value={mode}]").check()
    form.get_by_role("button", name="Execute", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Execution "))).to_be_visible()


def create_in_form(page):
    page.goto(f"{BASE}/new")
    page.get_by_label("Function ID").fill("echo")
    page.get_by_label("Name").fill("Echo")
    page.get_by_label("Runtime").select_option("python-3.11")
    page.get_by_label("Entrypoint").fill("main.py")
    page.get_by_label("Execute access (one role per line)").fill("any")
    page.get_by_role("button", name="Create function").click()
    expect(page).to_have_url(f"{BASE}/echo/deployments")


def upload_in_page(page, files, commands=""):
    """Pick a .tar.gz of ``files`` on the Deployments tab and deploy it."""
    page.get_by_label("Archive (.tar.gz)").set_input_files(
        {"name": "code.tar.gz", "mimeType": "application/gzip", "buffer": make_archive(files)}
    )
    page.get_by_label("Build commands").fill(commands)
    page.get_by_role("button", name="Deploy").click()


def add_variable(page, key, value):
    page.get_by_role("link", name="Variables").click()
    page.get_by_label("Key", exact=True).fill(key)
    page.get_by_label("Value", exact=True).fill(value)
    page.get_by_role("button", name="Add variable").click()
    expect(page.get_by_role("status")).to_have_text(f"Variable {key} created.")


def test_deploy_watch_the_build_execute_and_configure(console, project, snap):
    create_in_form(console)
    upload_in_page(console, {"main.py": ECHO["python-3.11"][1]}, STEPS)
    expect(console).to_have_url(re.compile(rf"{BASE}/echo/deployments/\w+$"))
    logs = console.locator("#build-logs")
    expect(logs).to_contain_text("step-2", timeout=BUILD_TIMEOUT)  # streamed while it runs
    assert "step-6" not in logs.inner_text()
    assert status_of(console).inner_text() == "building"
    snap(console, "1-building")
    expect(status_of(console)).to_have_text("ready", timeout=BUILD_TIMEOUT)
    expect(logs).to_contain_text("step-6")
    expect(logs).to_contain_text("Deployment finished.")
    expect(console.locator("#deployment-active")).to_be_visible()
    snap(console, "2-ready")

    execute(console, "/log")
    expect(console.locator("#response-code")).to_have_text("200")
    expect(console.locator("#response-body")).to_have_text("logged")
    expect(console.locator("#execution-logs")).to_contain_text("hello")
    expect(console.locator("#execution-logs")).to_contain_text("native print")
    expect(console.locator("#execution-errors")).to_contain_text("oops")
    runs = Execution.objects.count()
    console.reload()  # POST, redirect, GET: reloading shows the execution, it does not run again
    expect(console.locator("#execution-logs")).to_contain_text("hello")
    assert Execution.objects.count() == runs

    execute(console, "/echo?x=1", body="ping", headers="content-type: text/plain\nx-demo: yes")
    echoed = json.loads(console.locator("#response-body").inner_text())
    assert (echoed["path"], echoed["body"], echoed["query"]) == ("/echo", "ping", {"x": "1"})
    assert echoed["headers"]["x-demo"] == "yes" and "MY_COLOR" not in echoed["env"]
    snap(console, "3-executed")

    add_variable(console, "MY_COLOR", "blue")
    execute(console, "/")
    assert json.loads(console.locator("#response-body").inner_text())["env"]["MY_COLOR"] == "blue"

    execute(console, "/", mode="async")  # the page follows the background run until it ends
    expect(console.locator("#execution-status")).to_have_text("completed", timeout=60_000)
    expect(console.locator("#response-code")).to_have_text("200")
    assert Execution.objects.filter(function__uid="echo").count() == 4

    console.get_by_role("link", name="Settings").click()
    console.get_by_label("Schedule (cron, UTC)").fill("*/10 * * * *")
    console.get_by_role("button", name="Save settings").click()
    expect(console.locator("#next-runs li")).to_have_count(5)
    expect(console.locator("#schedule")).not_to_contain_text("inactive")
    function = Function.objects.get(uid="echo")
    assert function.schedule == "*/10 * * * *" and function.schedule_next is not None


def test_folder_upload_redeploy_activate_download_and_delete(console, project, tmp_path):
    python_function(project)
    folder = tmp_path / "app"
    (folder / "data").mkdir(parents=True)
    (folder / "main.py").write_text(
        "import pathlib\n\n\ndef main(context):\n"
        "    word = pathlib.Path(__file__).parent / 'data' / 'word.txt'\n"
        "    return context.res.text(word.read_text())\n"
    )
    (folder / "data" / "word.txt").write_text("packed in the browser")
    console.goto(f"{BASE}/echo/deployments")
    console.get_by_label("…or a folder").set_input_files(folder)
    console.get_by_role("button", name="Deploy").click()
    expect(status_of(console)).to_have_text("ready", timeout=BUILD_TIMEOUT)
    first = Deployment.objects.get()
    with tarfile.open(fileobj=io.BytesIO(open(first.source_path, "rb").read())) as tar:
        assert sorted(tar.getnames()) == ["data/word.txt", "main.py"]
    execute(console, "/")
    expect(console.locator("#response-body")).to_have_text("packed in the browser")

    console.goto(f"{BASE}/echo/deployments/{first.uid}")
    console.get_by_role("button", name="Redeploy").click()
    expect(console.get_by_role("status")).to_have_text("Redeploying: a new build was queued.")
    expect(status_of(console)).to_have_text("ready", timeout=BUILD_TIMEOUT)
    second = Deployment.objects.exclude(pk=first.pk).get()
    expect(console.locator("#deployment-active")).to_be_visible()
    assert Function.objects.get(uid="echo").deployment_uid == second.uid

    console.goto(f"{BASE}/echo/deployments/{first.uid}")
    console.get_by_role("button", name="Activate").click()
    expect(console.get_by_role("status")).to_have_text("Deployment activated.")
    assert Function.objects.get(uid="echo").deployment_uid == first.uid
    with console.expect_download() as download:
        console.get_by_role("button", name="Download output").click()
    assert download.value.suggested_filename == f"{first.uid}-output.tar.gz"

    console.goto(f"{BASE}/echo/deployments/{second.uid}")
    console.get_by_role("button", name="Delete").click()
    expect(console.get_by_role("status")).to_have_text("Deployment deleted.")
    expect(console.locator("#deployments tbody tr")).to_have_count(1)
    assert list(Deployment.objects.values_list("uid", flat=True)) == [first.uid]


def test_cancel_a_running_build_from_its_page(console, project):
    python_function(project)
    console.goto(f"{BASE}/echo/deployments")
    forever = "echo marker-started; while true; do echo tick; sleep 1; done"
    upload_in_page(console, {"main.py": "x = 1\n"}, forever)
    expect(console.locator("#build-logs")).to_contain_text("marker-started", timeout=BUILD_TIMEOUT)
    console.get_by_role("button", name="Cancel build").click()
    expect(console.get_by_role("status")).to_have_text("Build canceled.")
    expect(status_of(console)).to_have_text("canceled")
    expect(console.locator("#build-logs")).to_contain_text(
        "Build has been canceled.", timeout=30_000
    )
    assert Deployment.objects.get().status == "canceled"
