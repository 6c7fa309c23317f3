"""The Django admin: every model, with links between related rows, read-only logs, and
actions that go through the same services as the API (rebuild, cancel, re-run, disable,
enable, revoke). django-q2 registers its own models (tasks, schedules, queue)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from .api.fields import function_fields, scaling_fields
from .errors import AppwriteError
from .models import (
    ApiKey,
    Deployment,
    Execution,
    Function,
    Installation,
    Platform,
    Project,
    ProjectUser,
    Rule,
    Session,
    Team,
    Variable,
)
from .services import (
    callers,
    deployments,
    documents,
    events,
    execution_requests,
    executions,
    functions,
    installations,
    platforms,
    users,
    variables,
)

# -- helpers ----------------------------------------------------------------------------------


def change_link(obj, label=None):
    """A link to ``obj``'s admin page."""
    if obj is None:
        return "–"
    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label or str(obj))


def list_link(model, label, **filters):
    """A link to ``model``'s list, filtered."""
    meta = model._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def run_each(modeladmin, request, queryset, action, done):
    """Apply ``action`` to each selected row; report successes and the API's error messages."""
    count = 0
    for obj in queryset:
        try:
            action(obj)
            count += 1
        except AppwriteError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}.", messages.SUCCESS)


def pre(text):
    """Long logs, read-only, in a scrolling box."""
    return format_html(
        '<pre class="admin-logs" style="max-height:30rem;overflow:auto;'
        'white-space:pre-wrap">{}</pre>',
        text or "",
    )


def model_fields(model, replace):
    """Every field of ``model`` for a read-only page, some replaced by a nicer display."""
    return [
        replace.get(field.name, field.name) for field in model._meta.fields if field.name != "id"
    ]


def admin_caller(request, project):
    """Admin users act as the project's admins, as members do in the console."""
    return callers.admin_caller(project, request.user)


def origin(request):
    """The cause of the events the admin fires: the project itself (no user)."""
    return events.Origin()  # console accounts act as the project: runs they cause have no user


# -- projects, keys, teams ------------------------------------------------------------------


class ProjectLink:
    @admin.display(description="project", ordering="project")
    def project_link(self, obj):
        return change_link(obj.project)


class FunctionLinks(ProjectLink):
    @admin.display(description="function", ordering="function")
    def function_link(self, obj):
        return change_link(obj.function)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "member_count", "function_list", "key_list", "created_at")
    search_fields = ("id", "name", "members__username")
    filter_horizontal = ("members",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=Count("members", distinct=True),
                function_total=Count("functions", distinct=True),
                key_total=Count("keys", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    @admin.display(description="functions", ordering="function_total")
    def function_list(self, obj):
        return list_link(Function, obj.function_total, project__id__exact=obj.pk)

    @admin.display(description="API keys", ordering="key_total")
    def key_list(self, obj):
        return list_link(ApiKey, obj.key_total, project__id__exact=obj.pk)


@admin.action(description="Revoke selected API keys")
def revoke_keys(modeladmin, request, queryset):
    run_each(modeladmin, request, queryset, ApiKey.revoke, "Revoked")


@admin.register(ApiKey)
class ApiKeyAdmin(ProjectLink, admin.ModelAdmin):
    list_display = (
        "name",
        "project_link",
        "secret_hint",
        "scope_list",
        "expire",
        "accessed_at",
        "state",
    )
    list_filter = ("revoked", "project", "expire")
    search_fields = ("name", "secret_hint", "project__id", "project__name")
    readonly_fields = (
        "project",
        "secret_hash",
        "secret_hint",
        "accessed_at",
        "revoked",
        "created_at",
    )
    fields = (
        "project",
        "name",
        "scopes",
        "expire",
        "secret_hint",
        "secret_hash",
        "accessed_at",
        "revoked",
        "created_at",
    )
    actions = [revoke_keys]

    def has_add_permission(self, request):
        return False  # keys are issued by the console or `manage.py createapikey`: secret once

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description="state")
    def state(self, obj):
        return "revoked" if obj.revoked else "expired" if obj.expired else "active"


@admin.register(Team)
class TeamAdmin(ProjectLink, admin.ModelAdmin):
    list_display = ("uid", "name", "project_link")
    list_filter = ("project",)
    search_fields = ("uid", "name", "members__uid", "members__email")
    filter_horizontal = ("members",)


# -- project users and sessions -------------------------------------------------------------


@admin.action(description="Block selected users (signs them out)")
def block_users(modeladmin, request, queryset):
    run_each(
        modeladmin,
        request,
        queryset,
        lambda u: users.update_status(u, False, origin(request)),
        "Blocked",
    )


@admin.action(description="Unblock selected users")
def unblock_users(modeladmin, request, queryset):
    run_each(
        modeladmin,
        request,
        queryset,
        lambda u: users.update_status(u, True, origin(request)),
        "Unblocked",
    )


@admin.register(ProjectUser)
class ProjectUserAdmin(ProjectLink, admin.ModelAdmin):
    list_display = ("uid", "name", "email", "phone", "project_link", "status", "registration")
    list_filter = ("status", "project", "email_verification")
    search_fields = ("uid", "name", "email", "phone")
    readonly_fields = ("project", "uid", "password", "registration", "password_update")
    exclude = ("search",)
    actions = [block_users, unblock_users]

    def has_add_permission(self, request):
        return False  # users sign up, or are created by the Users API or the console

    def delete_model(self, request, obj):
        users.delete_user(obj, origin(request))

    def delete_queryset(self, request, queryset):
        for user in queryset:
            users.delete_user(user, origin(request))


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("uid", "user", "account", "project", "provider", "ip", "expire")
    list_filter = ("project", "provider")
    search_fields = ("uid", "user__uid", "user__email", "account__username", "ip")
    readonly_fields = [field.name for field in Session._meta.fields if field.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PlatformForm(forms.ModelForm):
    """Checked as the console checks it (``services/platforms.py``), with its messages."""

    class Meta:
        model = Platform
        fields = ("project", "type", "name", "hostname")

    def clean_name(self):
        return service_checked(platforms.clean_name, self.cleaned_data["name"])

    def clean_hostname(self):
        return service_checked(platforms.clean_hostname, self.cleaned_data["hostname"])


def service_checked(check, value):
    try:
        return check(value)
    except AppwriteError as error:
        raise forms.ValidationError(error.message) from None


@admin.register(Platform)
class PlatformAdmin(ProjectLink, admin.ModelAdmin):
    """A project's web platforms (CORS origins); saves and deletes go through the service."""

    form = PlatformForm
    list_display = ("name", "hostname", "type", "project_link", "uid", "created_at")
    list_filter = ("type", "project")
    search_fields = ("name", "hostname", "uid", "project__id")
    readonly_fields = ("uid", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        """A platform stays in its project, with its type."""
        return self.readonly_fields if obj is None else (*self.readonly_fields, "project", "type")

    def save_model(self, request, obj, form, change):
        if change:
            platforms.update_platform(obj, obj.name, obj.hostname)
        else:
            saved = platforms.create_platform(obj.project, obj.type, obj.name, obj.hostname)
            obj.pk, obj.uid = saved.pk, saved.uid

    def delete_model(self, request, obj):
        platforms.delete_platform(obj)

    def delete_queryset(self, request, queryset):
        for platform in queryset:
            platforms.delete_platform(platform)


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


# -- git connections ------------------------------------------------------------------------

SECRET_FIELDS = (
    ("token", "HTTPS token"),
    ("ssh_key", "SSH private key"),
    ("webhook_secret", "Webhook secret"),
)


class InstallationForm(forms.ModelForm):
    """A git connection, checked and saved by ``services/installations.py``. Secrets are typed
    here and never shown back: empty keeps the stored one, "remove" deletes it."""

    new_token = forms.CharField(label="HTTPS token", required=False, widget=forms.PasswordInput)
    new_ssh_key = forms.CharField(label="SSH private key", required=False, widget=forms.Textarea)
    new_webhook_secret = forms.CharField(
        label="Webhook secret", required=False, widget=forms.PasswordInput
    )
    remove_token = forms.BooleanField(label="Remove the token", required=False)
    remove_ssh_key = forms.BooleanField(label="Remove the SSH key", required=False)
    remove_webhook_secret = forms.BooleanField(label="Remove the webhook secret", required=False)

    class Meta:
        model = Installation
        fields = ("project", "name", "provider", "base_url", "username", "ssh_known_hosts")

    def clean(self):
        cleaned = super().clean()
        try:
            installations.clean_name(cleaned.get("name"))
            installations.clean_base_url(cleaned.get("base_url"))
            installations.clean_ssh_key(cleaned.get("new_ssh_key"))
        except AppwriteError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned

    def secrets(self, creating):
        """The secret fields to store: all on creation; on a change only those typed or removed."""
        found = {}
        for field, _ in SECRET_FIELDS:
            value = self.cleaned_data.get(f"new_{field}") or ""
            if self.cleaned_data.get(f"remove_{field}"):
                found[field] = ""
            elif value or creating:
                found[field] = value
        return found


@admin.register(Installation)
class InstallationAdmin(ProjectLink, admin.ModelAdmin):
    """Git connections; saves and deletes go through the service (secrets sealed; deleting
    unlinks the connection's functions)."""

    form = InstallationForm
    list_display = ("name", "base_url", "provider", "project_link", "credentials", "uid")
    list_filter = ("provider", "project")
    search_fields = ("name", "base_url", "uid", "project__id")
    readonly_fields = ("uid", "credentials", "webhook_url", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        secrets = ["new_token", "new_ssh_key", "new_webhook_secret"]
        if obj is not None:
            secrets += ["remove_token", "remove_ssh_key", "remove_webhook_secret"]
        return [
            "project", "name", "provider", "base_url", "username", "ssh_known_hosts", *secrets,
            *self.readonly_fields,
        ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        """A connection stays in its project."""
        return self.readonly_fields if obj is None else (*self.readonly_fields, "project")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        settings_ = {
            "name": data["name"],
            "base_url": data["base_url"],
            "provider": data["provider"],
            "username": data.get("username", ""),
            "ssh_known_hosts": data.get("ssh_known_hosts", ""),
        }
        if change:
            current = Installation.objects.get(pk=obj.pk)
            installations.update_installation(current, **settings_, **form.secrets(False))
        else:
            saved = installations.create_installation(
                data["project"], **settings_, **form.secrets(True)
            )
            obj.pk, obj.uid = saved.pk, saved.uid

    def delete_model(self, request, obj):
        installations.delete_installation(obj)

    def delete_queryset(self, request, queryset):
        for installation in queryset:
            installations.delete_installation(installation)

    @admin.display(description="credentials")
    def credentials(self, obj):
        held = [label for field, label in SECRET_FIELDS if getattr(obj, field)]
        return ", ".join(held) or "none"

    @admin.display(description="webhook URL")
    def webhook_url(self, obj):
        return installations.webhook_url(obj) if obj.pk else "–"


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
