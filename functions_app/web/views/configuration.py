"""The Settings tab: every field of the function (PUT semantics), its schedule's next run
times and its domain; deleting the function."""

from croniter import CroniterError
from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...api.fields import function_fields
from ...errors import AppwriteError
from ...services import functions as service
from ...services import scheduler
from .. import forms
from ..access import function_view, origin
from ..tabs import function_page
from .functions import choices
from .git import section


def next_runs(expression):
    """The next five run times of a cron expression (none when it is empty or invalid)."""
    if not expression:
        return []
    try:
        return scheduler.run_times(expression, count=5)
    except (CroniterError, ValueError, KeyError):
        return []


def tab(request, function, values, status=200, error=None):
    context = {"values": values, "error": error, "next_runs": next_runs(function.schedule)}
    context["git"] = section(function)
    context.update(choices(values["runtime"]))
    return function_page(request, function, "settings", context, status=status)


@function_view
def settings_tab(request, function):
    if request.method != "POST":
        return tab(request, function, forms.function_values(function))
    try:
        fields = function_fields(forms.function_data(request.POST), creating=False)
        service.update_function(function, fields, origin(request))
    except AppwriteError as error:
        function.refresh_from_db()
        return tab(request, function, forms.posted_values(request.POST), 400, error.message)
    messages.success(request, "Settings saved.")
    return redirect("console:settings", project_id=function.project_id, function_id=function.uid)


@require_POST
@function_view
def function_delete(request, function):
    service.delete_function(function, origin(request))
    messages.success(request, f"Function {function.name} deleted.")
    return redirect("console:functions", project_id=function.project_id)
