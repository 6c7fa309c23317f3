from django.contrib import admin

from .models import ApiKey, Deployment, Execution, Function, Project, Team, Variable


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at")
    search_fields = ("id", "name")
    filter_horizontal = ("members",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "secret_hint", "expire", "accessed_at", "revoked")
    list_filter = ("revoked", "project")
    search_fields = ("name",)
    readonly_fields = ("secret_hash", "secret_hint", "accessed_at")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("uid", "name", "project")
    filter_horizontal = ("members",)


@admin.register(Function)
class FunctionAdmin(admin.ModelAdmin):
    list_display = (
        "uid",
        "name",
        "project",
        "runtime",
        "enabled",
        "live",
        "deployment_uid",
        "latest_deployment_status",
    )
    list_filter = ("runtime", "enabled", "project")
    search_fields = ("uid", "name")
    readonly_fields = ("search", "created_at", "updated_at")


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    list_display = ("key", "function", "project", "secret")
    list_filter = ("secret", "project")
    search_fields = ("key",)


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = (
        "uid",
        "function",
        "status",
        "activate",
        "source_size",
        "build_duration",
        "created_at",
    )
    list_filter = ("status",)
    search_fields = ("uid",)
    readonly_fields = ("build_logs",)


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = (
        "uid",
        "function",
        "trigger",
        "status",
        "response_status_code",
        "duration",
        "created_at",
    )
    list_filter = ("status", "trigger")
    search_fields = ("uid",)
    readonly_fields = ("logs", "errors")
