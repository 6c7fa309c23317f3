"""Functions, their domains (rules) and variables."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from ..api.fields import function_fields, scaling_fields
from ..errors import AppwriteError
from ..models import Deployment, Execution, Function, Rule, Variable
from ..services import documents, functions, variables
from .common import FunctionLinks, ProjectLink, change_link, list_link, origin, run_each

# -- functions ------------------------------------------------------------------------------


def set_enabled(request, function, enabled):
    """What an SDK does: read the function, then PUT it back with ``enabled`` changed."""
    data = {**documents.function(function), "enabled": enabled}
    functions.update_function(function, function_fields(data, creating=False), origin(request))


@admin.action(description="Disable selected functions")
def disable_functions(modeladmin, request, queryset):
    run_each(modeladmin, request, queryset, lambda f: set_enabled(request, f, False), "Disabled")


@admin.action(description="Enable selected functions")
def enable_functions(modeladmin, request, queryset):
    run_each(modeladmin, request, queryset, lambda f: set_enabled(request, f, True), "Enabled")


EDITABLE = {
    "name": "name",
    "runtime": "runtime",
    "execute": "execute",
    "events": "events",
    "schedule": "schedule",
    "timeout": "timeout",
    "enabled": "enabled",
    "logging": "logging",
    "entrypoint": "entrypoint",
    "commands": "commands",
    "scopes": "scopes",
    "specification": "specification",
}


SCALING = {
    "keepWarm": "keep_warm",
    "maxReplicas": "max_replicas",
    "maxConcurrency": "max_concurrency",
}


# Shown, not edited here: linking checks the repository (console, API).
VCS_LINK = (
    "installation_id",
    "provider_repository_id",
    "provider_branch",
    "provider_root_directory",
    "provider_silent_mode",
)


class FunctionForm(forms.ModelForm):
    """Edits are validated by the API's own rules and saved by ``update_function`` (and the
    scaling settings by ``update_scaling``)."""

    keep_warm = forms.BooleanField(required=False, help_text="Never fewer than one warm container.")
    max_replicas = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Warm containers at most (0: from the specification and the host).",
    )
    max_concurrency = forms.IntegerField(
        required=False,
        min_value=0,
        help_text="Executions at once (0: replicas x FUNCTIONS_REPLICA_CONCURRENCY).",
    )

    def clean(self):
        cleaned = super().clean()
        data = documents.function(Function.objects.get(pk=self.instance.pk))
        data.update({api: cleaned[field] for api, field in EDITABLE.items() if field in cleaned})
        scaling = {api: cleaned.get(field) or 0 for api, field in SCALING.items()}
        try:
            self.api_fields = function_fields(data, creating=False)
            self.scaling = scaling_fields(scaling | {"keepWarm": bool(cleaned.get("keep_warm"))})
        except AppwriteError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(Function)
class FunctionAdmin(ProjectLink, admin.ModelAdmin):
    list_display = (
        "uid",
        "name",
        "project_link",
        "runtime",
        "enabled",
        "live",
        "active_deployment",
        "latest_deployment_status",
        "schedule",
        "related",
        "created_at",
    )
    list_filter = (
        "enabled",
        "live",
        "runtime",
        "latest_deployment_status",
        "specification",
        "project",
    )
    search_fields = ("uid", "name", "project__id")
    readonly_fields = (
        "project",
        "uid",
        *VCS_LINK,
        "live",
        "deployment_uid",
        "deployment_created_at",
        "latest_deployment_uid",
        "latest_deployment_created_at",
        "latest_deployment_status",
        "schedule_next",
        "schedule_previous",
        "search",
        "created_at",
        "updated_at",
        "related",
    )
    date_hierarchy = "created_at"
    actions = [disable_functions, enable_functions]
    form = FunctionForm
    fields = (
        "project",
        "uid",
        *EDITABLE.values(),
        *SCALING.values(),
        *VCS_LINK,
        "live",
        "deployment_uid",
        "latest_deployment_uid",
        "latest_deployment_status",
        "schedule_next",
        "schedule_previous",
        "created_at",
        "updated_at",
        "related",
    )

    def has_add_permission(self, request):
        return False  # functions are created through the API or the console (validation)

    def save_model(self, request, obj, form, change):
        function = Function.objects.get(pk=obj.pk)
        functions.update_function(function, form.api_fields, origin(request))
        functions.update_scaling(function, form.scaling, origin(request))

    def delete_model(self, request, obj):
        functions.delete_function(obj, origin(request))

    def delete_queryset(self, request, queryset):
        for function in queryset:
            functions.delete_function(function, origin(request))

    @admin.display(description="active deployment", ordering="deployment_uid")
    def active_deployment(self, obj):
        deployment = obj.deployments.filter(uid=obj.deployment_uid).first()
        return change_link(deployment) if obj.deployment_uid else "–"

    @admin.display(description="related")
    def related(self, obj):
        return format_html(
            "{} · {} · {}",
            list_link(Deployment, "deployments", function__id__exact=obj.pk),
            list_link(Execution, "executions", function__id__exact=obj.pk),
            list_link(Variable, "variables", function__id__exact=obj.pk),
        )


@admin.register(Rule)
class RuleAdmin(FunctionLinks, admin.ModelAdmin):
    """Read-only: a function's automatic rule (trigger ``deployment``) comes and goes with
    the function; more are added and deleted through the API or the function's console page."""

    list_display = ("domain", "uid", "trigger", "status", "project_link", "function_link")
    list_filter = ("trigger", "status", "project")
    search_fields = ("domain", "uid", "function__uid", "project__id")
    list_select_related = ("function", "project")
    fields = (
        "domain",
        "uid",
        "type",
        "trigger",
        "status",
        "branch",
        "project_link",
        "function_link",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- variables ------------------------------------------------------------------------------


@admin.register(Variable)
class VariableAdmin(FunctionLinks, admin.ModelAdmin):
    """Saves and deletes go through the variables service (containers see the change)."""

    list_display = ("key", "shown_value", "secret", "function_link", "project_link", "updated_at")
    list_filter = ("secret", "project")
    search_fields = ("key", "function__uid", "project__id")
    readonly_fields = ("uid", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        fields = ["project", "function", "key", "value", "secret", "uid", "created_at"]
        return [f for f in fields if not (f == "value" and obj is not None and obj.secret)]

    def get_readonly_fields(self, request, obj=None):
        """A variable stays where it was created; a secret stays secret (and unseen)."""
        if obj is None:
            return self.readonly_fields
        return (*self.readonly_fields, "project", "function", *(("secret",) if obj.secret else ()))

    def save_model(self, request, obj, form, change):
        if change:
            variables.update_variable(obj, obj.key, form.cleaned_data.get("value"), obj.secret)
        else:
            saved = variables.create_variable(
                obj.project, obj.function, obj.key, obj.value, obj.secret
            )
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        variables.delete_variable(obj)

    def delete_queryset(self, request, queryset):
        for variable in queryset:
            variables.delete_variable(variable)

    @admin.display(description="value")
    def shown_value(self, obj):
        return "••••••" if obj.secret else obj.value[:60]

    @admin.display(description="function", ordering="function")
    def function_link(self, obj):
        return change_link(obj.function) if obj.function_id else "(project)"
