"""What every admin page shares: links between related rows, actions run row by row through
the services, the admin's caller and origin."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from ..errors import AppwriteError
from ..services import callers, events


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


class ProjectLink:
    @admin.display(description="project", ordering="project")
    def project_link(self, obj):
        return change_link(obj.project)


class FunctionLinks(ProjectLink):
    @admin.display(description="function", ordering="function")
    def function_link(self, obj):
        return change_link(obj.function)
