"""Console pages that need no containers: create and list functions, settings and schedule,
variables, executions list and detail, usage charts, runtimes and specifications."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from functions_app.api.fields import function_fields
from functions_app.models import Deployment, Execution, Function
from functions_app.services import functions as service
from functions_app.services import scheduler

from .deploy import make_archive

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser
BASE = "/projects/main/functions"


def make_function(project, function_id, **values):
    data = {"name": function_id.title(), "runtime": "python-3.11", "entrypoint": "main.py"}
    return service.create_function(
        project, function_id, function_fields({**data, **values}, creating=True)
    )


def test_create_a_function_with_every_field(console, raw):
    console.goto(BASE)
    console.get_by_role("button", name="Create function").click()
    console.get_by_label("Function ID").fill("hello")
    console.get_by_label("Name").fill("Hello world")
    console.get_by_label("Runtime").select_option("python-3.11")
    console.get_by_label("Entrypoint").fill("src/main.py")
    console.get_by_label("Timeout (seconds)").fill("42")
    console.get_by_label("Build commands").fill("pip install -r requirements.txt")
    console.get_by_label("Specification").select_option("s-0.5vcpu-512mb")
    console.get_by_label("Schedule (cron, UTC)").fill("*/5 * * * *")
    console.get_by_label("Execute access (one role per line)").fill("any\nteam:ops")
    console.get_by_label("Events (one per line)").fill("users.*.create")
    console.get_by_text("API key scopes given to executions").click()
    console.get_by_label("users.read", exact=True).check()
    console.get_by_label("Keep execution logs").uncheck()
    console.get_by_role("button", name="Create function").click()
    expect(console.get_by_role("status")).to_have_text("Function Hello world created.")
    expect(console).to_have_url(f"{BASE}/hello/deployments")
    created = raw.get("/functions/hello").json()
    assert {k: created[k] for k in ("name", "runtime", "entrypoint", "timeout", "commands")} == {
        "name": "Hello world",
        "runtime": "python-3.11",
        "entrypoint": "src/main.py",
        "timeout": 42,
        "commands": "pip install -r requirements.txt",
    }
    assert (created["execute"], created["events"], created["scopes"]) == (
        ["any", "team:ops"],
        ["users.*.create"],
        ["users.read"],
    )
    assert (created["schedule"], created["specification"]) == ("*/5 * * * *", "s-0.5vcpu-512mb")
    assert (created["enabled"], created["logging"]) == (True, False)


def test_a_bad_field_shows_the_api_message_next_to_the_form(console):
    console.goto(f"{BASE}/new")
    console.get_by_label("Name").fill("Typo")
    console.get_by_label("Schedule (cron, UTC)").fill("61 * * * *")
    console.get_by_role("button", name="Create function").click()
    expect(console.get_by_role("alert")).to_have_text(
        "Invalid `schedule` param: String must be a valid cron expression"
    )
    expect(console.get_by_label("Name")).to_have_value("Typo")  # what was typed stays
    assert not Function.objects.exists()


def test_list_searches_filters_and_pages(console, project):
    for index in range(28):
        make_function(project, f"fn-{index:02d}", name=f"Worker {index:02d}")
    make_function(project, "node-one", name="Node one", runtime="node-18.0", entrypoint="index.js")
    make_function(project, "off", name="Switched off", enabled=False)
    fn = Function.objects.get(uid="fn-03")
    Function.objects.filter(pk=fn.pk).update(
        latest_deployment_uid="d", latest_deployment_status="failed"
    )
    console.goto(BASE)
    rows = console.locator("#functions tbody tr")
    expect(rows).to_have_count(25)
    expect(console.get_by_text("30 in total")).to_be_visible()
    console.get_by_role("link", name="Next →").click()
    expect(rows).to_have_count(5)
    console.goto(BASE)
    console.get_by_label("Search").fill("worker 1")  # htmx refreshes the list as one types
    expect(rows).to_have_count(10)
    expect(console).to_have_url(re.compile(r"\?search=worker(\+|%20)1&runtime=&enabled=&status=$"))
    console.get_by_label("Search").fill("")
    console.get_by_label("Runtime").select_option("node-18.0")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Node one")
    console.goto(f"{BASE}?enabled=false")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Switched off")
    console.goto(BASE)
    console.get_by_label("Latest deployment").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Worker 03")


def test_function_pages_show_the_rule_domain(console, project, outsider_project):
    service.create_function(
        outsider_project,
        "My.Func",
        function_fields({"name": "Theirs", "runtime": "python-3.11"}, True),
    )  # created first: the same ID elsewhere changes nothing for ours
    make_function(project, "My.Func", execute=["any"])
    port = console.url.split(":")[2].split("/")[0]
    url = f"http://my-func-main.functions.localhost:{port}"
    assert Function.objects.get(project=project, uid="My.Func").rules.get().domain in url
    console.goto(f"{BASE}/My.Func/settings")
    expect(console.locator("#settings-domain")).to_have_text(url)
    expect(console.locator("#function-domain")).to_have_attribute("href", url)


def test_settings_change_the_schedule_and_show_the_next_runs(console, project, raw):
    make_function(project, "cron", execute=["any"], events=["users.*.create"], timeout=30)
    console.goto(f"{BASE}/cron/settings")
    expect(console.locator("#next-runs")).to_contain_text("No schedule")
    expect(console.locator("#settings-domain")).to_have_text(
        f"http://cron-main.functions.localhost:{console.url.split(':')[2].split('/')[0]}"
    )
    console.get_by_label("Schedule (cron, UTC)").fill("30 9 * * 1")
    console.get_by_label("Events (one per line)").fill("")  # PUT semantics: now none
    console.get_by_label("Name").fill("Weekly report")
    console.get_by_role("button", name="Save settings").click()
    expect(console.get_by_role("status")).to_have_text("Settings saved.")
    runs = console.locator("#next-runs li")
    expect(runs).to_have_count(5)
    expected = scheduler.run_times("30 9 * * 1", count=5)
    expect(runs).to_have_text([moment.strftime("%a %Y-%m-%d %H:%M UTC") for moment in expected])
    updated = raw.get("/functions/cron").json()
    assert (updated["schedule"], updated["events"], updated["name"]) == (
        "30 9 * * 1",
        [],
        "Weekly report",
    )
    assert (updated["timeout"], updated["execute"]) == (30, ["any"])  # the form sent them back


def test_scaling_settings_keep_warm_and_limits(console, project, raw, settings):
    settings.FUNCTIONS_REPLICA_CONCURRENCY = 4
    make_function(project, "scaled", execute=["any"])
    console.goto(f"{BASE}/scaled/settings")
    console.locator("#max-replicas").evaluate("field => field.removeAttribute('max')")
    console.get_by_label("Most containers (0: from the specification and this host)").fill("99")
    console.get_by_role("button", name="Save scaling").click()
    expect(console.locator("#scaling-error")).to_contain_text("between 0 and 64")
    console.get_by_label("Keep warm", exact=False).check()
    console.get_by_label("Most containers (0: from the specification and this host)").fill("2")
    console.get_by_label("Most executions at once", exact=False).fill("0")
    console.get_by_role("button", name="Save scaling").click()
    expect(console.get_by_role("status")).to_have_text("Scaling saved.")
    expect(console.locator("#scaling-replicas")).to_have_text("2")
    expect(console.locator("#scaling-concurrency")).to_have_text("8")  # 2 containers x 4
    function = Function.objects.get(uid="scaled")
    assert (function.keep_warm, function.max_replicas, function.max_concurrency) == (True, 2, 0)
    assert raw.get("/functions/scaled").json()["keepWarm"] is True  # on the document too


def test_variables_create_edit_delete_and_secrets_stay_hidden(console, project, raw):
    make_function(project, "vars")
    console.goto(f"{BASE}/vars/variables")
    console.get_by_label("Key", exact=True).fill("MY_PLAIN")
    console.get_by_label("Value", exact=True).fill("visible")
    console.get_by_role("button", name="Add variable").click()
    expect(console.get_by_role("status")).to_have_text("Variable MY_PLAIN created.")
    console.get_by_label("Key", exact=True).fill("MY_SECRET")
    console.get_by_label("Value", exact=True).fill("hunter2")
    console.get_by_label("Secret (the value is never shown again)").check()
    console.get_by_role("button", name="Add variable").click()
    expect(console.get_by_role("status")).to_have_text("Variable MY_SECRET created.")
    assert "hunter2" not in console.content()
    console.get_by_label("Value of MY_PLAIN").fill("changed")
    console.get_by_role("button", name="Save MY_PLAIN").click()
    expect(console.get_by_role("status")).to_have_text("Variable MY_PLAIN updated.")
    console.get_by_role("button", name="Save MY_SECRET").click()  # empty value: kept
    listed = {v["key"]: v for v in raw.get("/functions/vars/variables").json()["variables"]}
    assert listed["MY_PLAIN"]["value"] == "changed" and listed["MY_SECRET"]["secret"] is True
    from functions_app.models import Variable

    assert Variable.objects.get(key="MY_SECRET").value == "hunter2"
    console.get_by_label("MY_SECRET is secret").uncheck()
    console.get_by_role("button", name="Save MY_SECRET").click()
    expect(console.get_by_role("alert")).to_have_text(
        "Secret variables cannot be marked as non-secret. Please re-create the variable if this is your intention."
    )
    console.get_by_role("button", name="Delete MY_PLAIN").click()
    expect(console.get_by_role("status")).to_have_text("Variable MY_PLAIN deleted.")
    assert [v["key"] for v in raw.get("/functions/vars/variables").json()["variables"]] == [
        "MY_SECRET"
    ]


def add_execution(function, uid, minutes_ago, status="completed", **fields):
    created = timezone.now() - timedelta(minutes=minutes_ago)
    return Execution.objects.create(
        project=function.project,
        function=function,
        uid=uid,
        status=status,
        created_at=created,
        response_status_code=500 if status == "failed" else 200,
        **fields,
    )


def test_executions_filter_page_and_show_details(console, project):
    fn = make_function(project, "runs")
    for index in range(27):
        add_execution(fn, f"ok{index}", index, duration=0.1 * index, request_path=f"/item/{index}")
    add_execution(
        fn,
        "bad",
        5,
        "failed",
        trigger="schedule",
        request_method="GET",
        logs="log line",
        errors="Traceback: boom",
        request_body=b'{"a": 1}',
        request_headers=[{"name": "content-type", "value": "application/json"}],
    )
    console.goto(f"{BASE}/runs/executions")
    rows = console.locator("#executions tbody tr")
    expect(rows).to_have_count(25)
    console.get_by_role("link", name="Next →").click()
    expect(rows).to_have_count(3)
    console.goto(f"{BASE}/runs/executions")
    console.locator("form.filters").get_by_label("Status", exact=True).select_option("failed")
    console.locator("form.filters").get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    console.goto(f"{BASE}/runs/executions?trigger=schedule&method=GET&code=500")
    expect(rows).to_have_count(1)
    console.goto(f"{BASE}/runs/executions?code=404")
    expect(rows).to_have_text(["No executions match."])
    console.goto(f"{BASE}/runs/executions?status=failed")
    rows.first.get_by_role("link").click()
    expect(console.locator("#execution-errors")).to_have_text("Traceback: boom")
    expect(console.locator("#execution-logs")).to_have_text("log line")
    expect(console.locator("#request-body")).to_have_text('{"a": 1}')
    expect(console.locator("#request-line")).to_have_text("GET /")
    expect(console.locator("#response-code")).to_have_text("500")


def test_usage_charts_render_with_data(console, project):
    fn = make_function(project, "busy")
    for index in range(12):
        add_execution(fn, f"h{index}", index * 20, duration=0.05 * (index + 1))
    for index in range(3):
        add_execution(fn, f"f{index}", 30 + index, "failed", duration=1.0)
    for index in range(5):
        add_execution(fn, f"d{index}", (index + 2) * 24 * 60, duration=0.2)
    ended = timezone.now() - timedelta(hours=2)
    Deployment.objects.create(
        project=project,
        function=fn,
        uid="b1",
        status="ready",
        build_duration=12,
        build_ended_at=ended,
    )
    console.goto(f"{BASE}/busy/usage")
    expect(console.locator("#chart-day-executions")).to_be_visible()
    sums = console.evaluate("""() => Object.fromEntries(
        ["day-executions", "month-executions", "day-duration", "day-builds"].map((name) => {
            const chart = Chart.getChart("chart-" + name);
            return [name, chart.data.datasets.map((d) => d.data.reduce((a, b) => a + b, 0))];
        }))""")
    assert sums["day-executions"] == [12, 3]  # completed, failed
    assert sums["month-executions"] == [17, 3]
    assert sums["day-builds"] == [12]
    assert all(value > 0 for value in sums["day-duration"])
    section = console.locator("section.usage").first
    expect(section.locator(".totals")).to_contain_text("15")
    expect(section.locator(".totals")).to_contain_text("1.0 s")  # p95 of the last 24 hours


def test_runtimes_and_specifications(console):
    console.get_by_role("link", name="Runtimes").click()
    offered = service.available_runtimes()
    expect(console.locator("#runtimes tbody tr")).to_have_count(len(offered))
    for runtime in offered:
        expect(console.locator("#runtimes")).to_contain_text(runtime.id)
    console.get_by_role("link", name="Specifications").click()
    expect(console.locator("#specifications tbody tr")).to_have_count(9)
    expect(console.locator("#specifications")).to_contain_text("s-1vcpu-512mb")


UNLABELED = """() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden")
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                    && !(el.tagName === "BUTTON" && el.textContent.trim()))
    .map((el) => el.outerHTML)"""


def test_pages_fit_a_narrow_screen_and_label_every_control(console, project):
    fn = make_function(project, "narrow-one", name="A function with a rather long name")
    add_execution(fn, "x1", 1)
    from functions_app.services import variables

    variables.create_variable(project, fn, "SOME_KEY", "value", False)
    console.set_viewport_size({"width": 375, "height": 800})
    tabs = ("deployments", "executions", "executions/x1", "variables", "settings", "usage")
    pages = [f"{BASE}/narrow-one/{tab}" for tab in tabs]
    for path in (*pages, BASE, f"{BASE}/new", "/projects/main/keys", "/projects", "/runtimes"):
        console.goto(path)
        width = console.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, (path, width)
        assert console.evaluate(UNLABELED) == [], path
    console.goto(f"{BASE}/narrow-one/executions")


def test_deleting_a_function_from_settings(console, project, raw):
    make_function(project, "doomed")
    console.goto(f"{BASE}/doomed/settings")
    console.get_by_role("button", name="Delete function").click()
    expect(console.get_by_role("status")).to_have_text("Function Doomed deleted.")
    assert raw.get("/functions/doomed").status_code == 404


def test_large_archives_upload_in_5_mib_chunks(console, project):
    make_function(project, "big")
    archive = make_archive({"main.py": "x = 1\n", "blob.bin": os.urandom(6 * 1024 * 1024)})
    ranges = []
    console.on(
        "request", lambda r: r.method == "POST" and ranges.append(r.headers.get("content-range"))
    )
    console.goto(f"{BASE}/big/deployments")
    console.get_by_label("Archive (.tar.gz)").set_input_files(
        {"name": "code.tar.gz", "mimeType": "application/gzip", "buffer": archive}
    )
    console.get_by_role("button", name="Deploy").click()
    expect(console).to_have_url(re.compile(rf"{BASE}/big/deployments/\w+$"))
    size = len(archive)
    assert ranges == [
        f"bytes 0-{5 * 1024 * 1024 - 1}/{size}",
        f"bytes {5 * 1024 * 1024}-{size - 1}/{size}",
    ]
    deployment = Deployment.objects.get()
    assert (deployment.source_size, deployment.source_chunks_total) == (size, 2)
    assert Path(deployment.source_path).read_bytes() == archive
    expect(console.locator("#deployment-status")).to_have_text(
        re.compile("waiting|processing|building|ready")
    )


def test_uploading_nothing_shows_the_api_message(console, project):
    make_function(project, "empty")
    console.goto(f"{BASE}/empty/deployments")
    console.get_by_role("button", name="Deploy").click()
    expect(console.get_by_role("alert")).to_have_text("No file sent")
    assert not Deployment.objects.exists()


def test_schedule_an_execution_for_later(console, project):
    fn = make_function(project, "later", execute=["any"])
    deployment = Deployment.objects.create(project=project, function=fn, uid="dep", status="ready")
    fn.set_active_deployment(deployment, live=True)
    when = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    console.goto(f"{BASE}/later/executions")
    form = console.locator("#execute-form")
    form.get_by_label("Method").select_option("GET")
    form.get_by_label("Path").fill("/report")
    form.get_by_label("Later, at:").check()
    form.get_by_label("Date and time (UTC").fill(when.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Execute").click()
    expect(console.locator("#execution-status")).to_have_text("scheduled")
    expect(console.locator("#execution")).to_contain_text(f"Scheduled for{when:%Y-%m-%d %H:%M} UTC")
    execution = Execution.objects.get()
    assert (execution.status, execution.scheduled_at, execution.trigger) == (
        "scheduled",
        when,
        "schedule",
    )
    assert (execution.request_method, execution.request_path) == ("GET", "/report")
