"""Projects, API keys, teams, project users and their sessions, platforms."""

from django import forms
from django.contrib import admin
from django.db.models import Count

from ..errors import AppwriteError
from ..models import ApiKey, Function, Platform, Project, ProjectUser, Session, Team
from ..services import platforms, users
from .common import ProjectLink, list_link, origin, run_each


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
