"""Deployments (rebuild, cancel) and executions (re-run)."""

from django.contrib import admin

from ..models import Deployment, Execution
from ..services import deployments, execution_requests, executions
from .common import FunctionLinks, admin_caller, change_link, model_fields, origin, pre, run_each

# -- deployments ----------------------------------------------------------------------------


@admin.action(description="Rebuild selected deployments (redeploy)")
def rebuild_deployments(modeladmin, request, queryset):
    def rebuild(deployment):
        deployments.duplicate(deployment.function, deployment, origin(request))

    run_each(modeladmin, request, queryset.select_related("function"), rebuild, "Rebuilding")


@admin.action(description="Cancel selected builds")
def cancel_builds(modeladmin, request, queryset):
    run_each(modeladmin, request, queryset, deployments.cancel, "Canceled")


@admin.register(Deployment)
class DeploymentAdmin(FunctionLinks, admin.ModelAdmin):
    list_display = (
        "uid",
        "function_link",
        "project_link",
        "status",
        "active",
        "type",
        "source_size",
        "build_size",
        "build_duration",
        "created_at",
    )
    list_filter = ("status", "type", "activate", "project")
    search_fields = ("uid", "function__uid", "function__name")
    list_select_related = ("function", "project")
    date_hierarchy = "created_at"
    actions = [rebuild_deployments, cancel_builds]

    def get_fields(self, request, obj=None):
        return model_fields(Deployment, {"function": "function_link", "build_logs": "logs"})

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)  # list and actions only

    @admin.display(description="build logs")
    def logs(self, obj):
        return pre(obj.build_logs)

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        deployments.delete_deployment(obj.function, obj, origin(request))

    def delete_queryset(self, request, queryset):
        for deployment in queryset.select_related("function"):
            deployments.delete_deployment(deployment.function, deployment, origin(request))

    @admin.display(description="active", boolean=True)
    def active(self, obj):
        return obj.function.deployment_uid == obj.uid


# -- executions -----------------------------------------------------------------------------


def rerun(request, execution):
    """A new execution with the same request, queued as ``POST .../executions`` (async) would."""
    function = execution.function
    same = execution_requests.Request.of(execution)
    caller = admin_caller(request, function.project)
    copy, _ = executions.create_http_execution(caller, function, same, True, None)
    return copy


@admin.action(description="Re-run selected executions (same request)")
def rerun_executions(modeladmin, request, queryset):
    queryset = queryset.select_related("function", "project")
    run_each(modeladmin, request, queryset, lambda e: rerun(request, e), "Queued again")


@admin.register(Execution)
class ExecutionAdmin(FunctionLinks, admin.ModelAdmin):
    list_display = (
        "uid",
        "function_link",
        "project_link",
        "trigger",
        "status",
        "request_method",
        "request_path",
        "response_status_code",
        "duration",
        "created_at",
    )
    list_filter = ("status", "trigger", "request_method", "response_status_code", "project")
    search_fields = ("uid", "function__uid", "request_path", "deployment_uid")
    list_select_related = ("function", "project")
    date_hierarchy = "created_at"
    actions = [rerun_executions]

    def get_fields(self, request, obj=None):
        replace = {
            "function": "function_link",
            "deployment_uid": "deployment_link",
            "request_body": "body",
            "logs": "log_text",
            "errors": "error_text",
        }
        return model_fields(Execution, replace)

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def delete_model(self, request, obj):
        delete = lambda execution: executions.delete_execution(execution, origin(request))  # noqa: E731
        run_each(self, request, [obj], delete, "Deleted")

    def delete_queryset(self, request, queryset):
        delete = lambda execution: executions.delete_execution(execution, origin(request))  # noqa: E731
        run_each(self, request, queryset, delete, "Deleted")

    @admin.display(description="request body")
    def body(self, obj):
        return pre(bytes(obj.request_body).decode("utf-8", errors="replace"))

    @admin.display(description="logs")
    def log_text(self, obj):
        return pre(obj.logs)

    @admin.display(description="errors")
    def error_text(self, obj):
        return pre(obj.errors)

    @admin.display(description="deployment")
    def deployment_link(self, obj):
        return change_link(obj.function.deployments.filter(uid=obj.deployment_uid).first())
