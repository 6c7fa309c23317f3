"""The Django admin: every model's pages work, and each action changes the same state as the
API does for the same operation."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from functions_app.api.fields import function_fields
from functions_app.models import (
    ApiKey,
    Deployment,
    Execution,
    Function,
    Node,
    Platform,
    Team,
    Variable,
)
from functions_app.services import deployments as deployment_service
from functions_app.services import documents
from functions_app.services import functions as function_service
from functions_app.services import platforms as platform_service
from functions_app.services import variables as variable_service

from .deploy import make_archive

VOLATILE = {"$id", "$createdAt", "$updatedAt", "vars", "deploymentId", "deploymentCreatedAt"}


@pytest.fixture
def staff(transactional_db):
    client = Client()
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def make_function(project, function_id, **values):
    data = {"name": "Fn", "runtime": "python-3.11", "entrypoint": "main.py", **values}
    return function_service.create_function(project, function_id, function_fields(data, True))


def upload(function):
    """A deployment with a real source archive, as the API's upload leaves it."""
    archive = make_archive({"main.py": "def main(context):\n    return context.res.text('hi')\n"})
    chunk = deployment_service.parse_content_range(None, archive)
    return deployment_service.receive(function, chunk, "", True, "main.py", "")


def ready_deployment(function, uid="live"):
    deployment = Deployment.objects.create(
        project=function.project, function=function, uid=uid, status="ready", source_path="x"
    )
    function.set_active_deployment(deployment, live=True)
    return deployment


def run_action(staff, model, action, objects):
    url = f"/admin/functions_app/{model}/"
    data = {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects]}
    response = staff.post(url, data, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def comparable(data):
    return {k: v for k, v in data.items() if k not in VOLATILE}


# -- pages ----------------------------------------------------------------------------------


def test_every_model_has_list_search_filter_and_change_pages(staff, project):
    function = make_function(project, "fn", schedule="@hourly")
    deployment = upload(function)
    Execution.objects.create(project=project, function=function, uid="ex", logs="L" * 5000)
    variable_service.create_variable(project, function, "MY_KEY", "v", False)
    ApiKey.issue(project, "Key", ["functions.read"])
    Team.objects.create(project=project, uid="ops", name="Ops")
    platform_service.create_platform(project, "web", "Shop", "shop.test")
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        assert staff.get(base).status_code == 200, base
        if model_admin.search_fields:
            assert staff.get(base, {"q": "fn"}).status_code == 200, base
        obj = model.objects.first()
        if obj is not None:
            assert staff.get(f"{base}{obj.pk}/change/").status_code == 200, base
    page = staff.get("/admin/functions_app/function/", {"runtime": "python-3.11"}).text
    assert f"/admin/functions_app/deployment/?function__id__exact={function.pk}" in page
    page = staff.get(f"/admin/functions_app/deployment/{deployment.pk}/change/").text
    assert f"/admin/functions_app/function/{function.pk}/change/" in page
    assert staff.get("/admin/django_q/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/projects/a%00b/functions",
        "/projects/main/functions/f%00/executions",
        "/projects/main/functions?search=a%00b",
        "/admin/functions_app/project/a%00b/change/",
        "/admin/functions_app/function/?q=%00",
    ],
)
def test_urls_with_nul_are_refused_before_any_lookup(staff, project, url):
    """PostgreSQL cannot compare a value holding NUL: such URLs are a 400, on every engine."""
    response = staff.get(url)
    assert response.status_code == 400 and b"NUL" in response.content


def test_logs_are_read_only(staff, project):
    function = make_function(project, "fn")
    deployment = Deployment.objects.create(
        project=project, function=function, uid="d", build_logs="<b>building</b>\nline 2"
    )
    page = staff.get(f"/admin/functions_app/deployment/{deployment.pk}/change/").text
    assert "&lt;b&gt;building&lt;/b&gt;" in page and 'name="build_logs"' not in page
    response = staff.post(
        f"/admin/functions_app/deployment/{deployment.pk}/change/", {"build_logs": "x"}
    )
    assert response.status_code == 403
    execution = Execution.objects.create(
        project=project, function=function, uid="e", logs="log!", errors="err!"
    )
    page = staff.get(f"/admin/functions_app/execution/{execution.pk}/change/").text
    assert "log!" in page and "err!" in page and 'name="logs"' not in page
    deployment.refresh_from_db()
    assert deployment.build_logs == "<b>building</b>\nline 2"


# -- actions --------------------------------------------------------------------------------


def test_rebuild_deployment_duplicates_it_as_the_api_does(staff, raw, project):
    function = make_function(project, "fn")
    original = upload(function)
    run_action(staff, "deployment", "rebuild_deployments", [original])
    by_admin = Deployment.objects.exclude(pk=original.pk).get()
    api_copy_id = raw.post(
        "/functions/fn/deployments/duplicate", json={"deploymentId": original.uid}
    ).json()["$id"]
    by_api = Deployment.objects.get(uid=api_copy_id)
    fields = ("type", "entrypoint", "build_commands", "activate", "source_size")
    assert [getattr(by_admin, f) for f in fields] == [getattr(by_api, f) for f in fields]
    assert Path(by_admin.source_path).read_bytes() == Path(original.source_path).read_bytes()
    assert Function.objects.get(uid="fn").latest_deployment_uid == by_api.uid


def test_cancel_build_changes_what_the_api_cancel_changes(staff, raw, project):
    function = make_function(project, "fn")
    by_admin, by_api, done = (
        Deployment.objects.create(project=project, function=function, uid=uid, status=status)
        for uid, status in (("a", "building"), ("b", "building"), ("c", "ready"))
    )
    run_action(staff, "deployment", "cancel_builds", [by_admin])
    raw.patch("/functions/fn/deployments/b/status")
    by_admin.refresh_from_db()
    by_api.refresh_from_db()
    assert (by_admin.status, by_api.status) == ("canceled", "canceled")
    assert by_admin.build_ended_at is not None and by_api.build_ended_at is not None
    messages = run_action(staff, "deployment", "cancel_builds", [done])
    assert "c: Build with the requested ID is already completed and cannot be canceled." in messages
    assert Deployment.objects.get(uid="c").status == "ready"


def test_rerun_execution_queues_the_same_request(staff, raw, project):
    function = make_function(project, "fn", execute=["any"])
    ready_deployment(function)
    headers = {"content-type": "text/plain", "x-demo": "yes"}
    first = raw.post(
        "/functions/fn/executions",
        json={
            "async": True,
            "method": "PUT",
            "path": "/again?x=1",
            "body": "payload",
            "headers": headers,
        },
    ).json()
    original = Execution.objects.get(uid=first["$id"])
    run_action(staff, "execution", "rerun_executions", [original])
    copy = Execution.objects.exclude(pk=original.pk).get()
    same = (
        "request_method",
        "request_path",
        "request_headers",
        "runtime_headers",
        "trigger",
        "function_id",
    )
    assert [getattr(copy, f) for f in same] == [getattr(original, f) for f in same]
    assert bytes(copy.request_body) == b"payload"
    # Queued, not run by the admin: still waiting, or claimed by a worker (a running cluster on
    # the Redis broker takes it at once; its deployment has no code, so it then fails).
    assert copy.status == "waiting" or copy.worker
    assert copy.runtime_headers["x-demo"] == "yes"


def test_rerun_without_a_deployment_reports_the_api_error(staff, project):
    function = make_function(project, "fn")
    execution = Execution.objects.create(
        project=project, function=function, uid="old", status="failed"
    )
    messages = run_action(staff, "execution", "rerun_executions", [execution])
    assert (
        "old: Deployment not found. Create a deployment before trying to execute a function"
        in messages
    )
    assert Execution.objects.count() == 1


def test_disable_and_enable_function_match_the_api(staff, raw, project):
    for function_id in ("by-admin", "by-api"):
        ready_deployment(
            make_function(project, function_id, schedule="*/5 * * * *"), f"d-{function_id}"
        )
        function_service.update_function(
            Function.objects.get(uid=function_id),
            function_fields({"name": "Fn", "schedule": "*/5 * * * *"}, False),
        )
    run_action(staff, "function", "disable_functions", [Function.objects.get(uid="by-admin")])
    api = raw.get("/functions/by-api").json()
    raw.put("/functions/by-api", json={**api, "enabled": False})
    disabled = [Function.objects.get(uid=uid) for uid in ("by-admin", "by-api")]
    assert [(f.enabled, f.schedule_next) for f in disabled] == [(False, None), (False, None)]
    assert comparable(documents.function(disabled[0])) == comparable(
        documents.function(disabled[1])
    )
    run_action(staff, "function", "enable_functions", disabled[:1])
    enabled = Function.objects.get(uid="by-admin")
    assert enabled.enabled and enabled.schedule_next is not None


def test_revoke_api_key(staff, raw, project):
    key, secret = ApiKey.issue(project, "Doomed", ["functions.read"])
    headers = {"X-Appwrite-Key": secret}
    assert raw.get("/functions", headers=headers).status_code == 200
    run_action(staff, "apikey", "revoke_keys", [key])
    key.refresh_from_db()
    assert key.revoked
    assert raw.get("/functions", headers=headers).status_code == 401


# -- edits go through the services ----------------------------------------------------------


def change_form(function, **changes):
    values = {
        "name": function.name,
        "runtime": function.runtime,
        "execute": "[]",
        "events": "[]",
        "schedule": function.schedule,
        "timeout": function.timeout,
        "enabled": "on",
        "logging": "on",
        "entrypoint": function.entrypoint,
        "commands": function.commands,
        "scopes": "[]",
        "specification": function.specification,
    }
    return {**values, **changes}


def test_function_edits_are_validated_by_the_api_rules(staff, project):
    function = make_function(project, "fn")
    url = f"/admin/functions_app/function/{function.pk}/change/"
    response = staff.post(url, change_form(function, schedule="every day"))
    assert "Invalid `schedule` param: String must be a valid cron expression" in response.text
    assert Function.objects.get(pk=function.pk).schedule == ""
    response = staff.post(url, change_form(function, timeout="60", name="Renamed"))
    assert response.status_code == 302
    function.refresh_from_db()
    assert (function.timeout, function.name, function.live) == (60, "Renamed", False)


def test_variables_are_saved_through_the_service_and_secrets_stay_hidden(staff, project):
    function = make_function(project, "fn")
    response = staff.post(
        "/admin/functions_app/variable/add/",
        {
            "project": project.pk,
            "function": function.pk,
            "key": "TOKEN",
            "value": "s3cret",
            "secret": "on",
        },
    )
    assert response.status_code == 302
    variable = Variable.objects.get(key="TOKEN")
    assert variable.uid and variable.secret and variable.value == "s3cret"
    assert "s3cret" not in staff.get(f"/admin/functions_app/variable/{variable.pk}/change/").text
    assert "s3cret" not in staff.get("/admin/functions_app/variable/").text


def test_usage_timestamps_are_untouched_by_viewing(staff, project):
    function = make_function(project, "fn")
    before = Function.objects.get(pk=function.pk).updated_at
    staff.get(f"/admin/functions_app/function/{function.pk}/change/")
    assert Function.objects.get(pk=function.pk).updated_at == before <= timezone.now()


def test_rules_are_listed_read_only(staff, project):
    function = make_function(project, "My.Func")
    rule = function.rules.get()
    page = staff.get("/admin/functions_app/rule/").text
    assert "my-func-main.functions.localhost" in page
    assert f"/admin/functions_app/function/{function.pk}/change/" in page
    assert staff.get("/admin/functions_app/rule/add/").status_code == 403
    detail = staff.get(f"/admin/functions_app/rule/{rule.pk}/change/")
    assert detail.status_code == 200 and 'name="domain"' not in detail.text
    assert (
        staff.post(f"/admin/functions_app/rule/{rule.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert function.rules.get() == rule


def test_nodes_are_listed_read_only_with_their_state(staff, settings):
    now = timezone.now()
    silent = now - timedelta(seconds=settings.NODE_HEARTBEAT_TIMEOUT + 5)
    Node.objects.create(id="node-a", started_at=now, heartbeat_at=now)
    Node.objects.create(id="node-b", started_at=silent, heartbeat_at=silent)
    Node.objects.create(id="node-c", started_at=silent, heartbeat_at=silent, down_at=now)
    page = staff.get("/admin/functions_app/node/").text
    rows = {
        node: page[page.index(f">{node}<") :].split("</tr>")[0]
        for node in ("node-a", "node-b", "node-c")
    }
    assert ">alive<" in rows["node-a"] and ">silent<" in rows["node-b"]
    assert "down (its work was failed or queued again)" in rows["node-c"]
    assert staff.get("/admin/functions_app/node/add/").status_code == 403
    changed = staff.post("/admin/functions_app/node/node-a/change/", {"id": "node-z"})
    assert changed.status_code == 403 and Node.objects.filter(id="node-a").exists()


def test_platforms_are_checked_and_saved_through_the_service(staff, project):
    url = "/admin/functions_app/platform/add/"
    form = {"project": project.pk, "type": "web", "name": "Shop", "hostname": "https://shop.test"}
    response = staff.post(url, form)
    assert "Value must be a valid hostname without path, port and protocol" in response.text
    assert not Platform.objects.exists()
    response = staff.post(url, {**form, "hostname": "*.Shop.Test"})
    assert response.status_code == 302
    platform = Platform.objects.get()
    assert (platform.hostname, platform.project_id, len(platform.uid)) == (
        "*.shop.test",
        "main",
        20,
    )
    change = f"/admin/functions_app/platform/{platform.pk}/change/"
    page = staff.get(change).text
    assert 'name="hostname"' in page and 'name="project"' not in page and 'name="type"' not in page
    assert staff.post(change, {"name": "Shop", "hostname": "shop.test"}).status_code == 302
    assert Platform.objects.get().hostname == "shop.test"
    delete = f"/admin/functions_app/platform/{platform.pk}/delete/"
    assert staff.post(delete, {"post": "yes"}).status_code == 302
    assert not Platform.objects.exists()
