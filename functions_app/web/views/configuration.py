"""The Settings tab: every field of the function (PUT semantics), its schedule's next run
times and its domains (add and delete rules, as ``/v1/proxy/rules`` does); deleting the
function."""

from croniter import CroniterError
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...api.fields import function_fields, function_rule_fields, scaling_fields
from ...errors import AppwriteError
from ...services import capacity, rules, scheduler
from ...services import functions as service
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


def tab(request, function, values, status=200, error=None, **extra):
    context = {
        "values": values,
        "error": error,
        "next_runs": next_runs(function.schedule),
        "rules": [
            (rule, rules.url_of_rule(rule, request.get_port()))
            for rule in function.rules.order_by("id")
        ],
        "functions_domain": rules.parent_domain(),
        "limits": capacity.limits(function),
        **extra,
    }
    context["git"] = section(function)
    context.update(choices(values["runtime"]))
    return function_page(request, function, "settings", context, status=status)


def back(function):
    return redirect("console:settings", project_id=function.project_id, function_id=function.uid)


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
    return back(function)


@require_POST
@function_view
def scaling_update(request, function):
    data = {
        "keepWarm": forms.checked(request.POST, "keep_warm"),
        "maxReplicas": request.POST.get("max_replicas", "").strip() or "0",
        "maxConcurrency": request.POST.get("max_concurrency", "").strip() or "0",
    }
    try:
        service.update_scaling(function, scaling_fields(data), origin(request))
    except AppwriteError as error:
        values = forms.function_values(function)
        return tab(request, function, values, 400, scaling_error=error.message)
    messages.success(request, "Scaling saved.")
    return back(function)


@require_POST
@function_view
def rule_create(request, function):
    data = {"domain": request.POST.get("domain", "").strip(), "functionId": function.uid}
    try:
        fields = function_rule_fields(data)
        rule = rules.create_function_rule(function.project, **fields, origin=origin(request))
    except AppwriteError as error:
        values = forms.function_values(function)
        return tab(
            request, function, values, 400, rule_error=error.message, rule_domain=data["domain"]
        )
    messages.success(request, f"Domain {rule.domain} added.")
    return back(function)


@require_POST
@function_view
def rule_delete(request, function, rule_id):
    rule = function.rules.filter(uid=rule_id).first()
    if rule is None:
        raise Http404("Rule not found")
    rules.delete_rule(rule, origin(request))
    messages.success(request, f"Domain {rule.domain} deleted.")
    return back(function)


@require_POST
@function_view
def function_delete(request, function):
    service.delete_function(function, origin(request))
    messages.success(request, f"Function {function.name} deleted.")
    return redirect("console:functions", project_id=function.project_id)
