"""The functions of a project: list (search, filters, pages) and create."""

from django.contrib import messages
from django.shortcuts import redirect

from ...api.fields import function_fields
from ...errors import AppwriteError
from ...services import functions as service
from ...services import specifications
from ...services.callers import SCOPES_ALL
from .. import filters, forms
from ..access import origin, page, project_view

CREATE_DEFAULTS = {
    "timeout": 15,
    "enabled": True,
    "logging": True,
    "execute": "",
    "events": "",
    "scopes": [],
    "specification": specifications.DEFAULT_SLUG,
}


def choices(runtime=""):
    """What the function forms pick from (plus ``runtime`` when it is no longer offered)."""
    runtimes = service.available_runtimes()
    return {
        "runtimes": runtimes,
        "runtime_unlisted": runtime if runtime not in [rt.id for rt in runtimes] else "",
        "specifications": [(s, specifications.is_enabled(s)) for s in specifications.CATALOGUE],
        "all_scopes": SCOPES_ALL,
    }


@project_view
def function_list(request, project):
    context = filters.paginate(request, filters.functions(project, request.GET))
    context.update(project=project, params=request.GET, runtimes=service.available_runtimes())
    context["statuses"] = filters.DEPLOYMENT_STATUSES
    return page(request, "console/functions.html", context)


@project_view
def function_create(request, project):
    context = {"project": project, "values": CREATE_DEFAULTS, **choices()}
    if request.method != "POST":
        return page(request, "console/function_create.html", context)
    try:
        function = create(request, project)
    except AppwriteError as error:
        context.update(values=forms.posted_values(request.POST), error=error.message)
        context.update(choices(request.POST.get("runtime", "")))
        context["function_id"] = request.POST.get("functionId", "")
        return page(request, "console/function_create.html", context, status=400)
    messages.success(request, f"Function {function.name} created.")
    return redirect("console:deployments", project_id=project.pk, function_id=function.uid)


def create(request, project):
    function_id = forms.function_id(request.POST)
    fields = function_fields(forms.function_data(request.POST), creating=True)
    return service.create_function(project, function_id, fields, origin(request))
