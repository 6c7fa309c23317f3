"""Create a function from a template: the catalog as a picker (filtered by runtime and use
case), then one form (ID, name, runtime, the template's variables) that creates the function,
its variables and its template deployment (``services/template_functions.py``)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect

from ...api.fields import function_fields
from ...errors import AppwriteError
from ...services import catalog, template_functions
from ...services import functions as service
from .. import forms
from ..access import origin, page, project_view


@project_view
def template_list(request, project):
    offered = {rt.id for rt in service.available_runtimes()}
    runtime, use_case = request.GET.get("runtime", ""), request.GET.get("useCase", "")
    found = catalog.listing(offered, [runtime] if runtime else [], [use_case] if use_case else [])
    context = {
        "project": project,
        "cards": [(template, catalog.offered(template, offered)) for template in found],
        "runtimes": service.available_runtimes(),
        "use_cases": catalog.USE_CASES,
        "params": request.GET,
    }
    return page(request, "console/templates.html", context)


@project_view
def template_create(request, project, template_id):
    template = catalog.get(template_id)
    offered = {rt.id for rt in service.available_runtimes()}
    if template is None or not catalog.offered(template, offered):
        raise Http404("Template not found")
    context = {
        "project": project,
        "template": template,
        "runtimes": catalog.offered(template, offered),
        "values": {"name": template.name, "runtime": request.GET.get("runtime", "")},
    }
    if request.method != "POST":
        context["variables"] = variable_fields(template, {})
        return page(request, "console/template_create.html", context)
    try:
        function = create(request, project, template)
    except AppwriteError as error:
        context.update(values=request.POST, error=error.message)
        context["variables"] = variable_fields(template, request.POST)
        return page(request, "console/template_create.html", context, status=400)
    messages.success(request, f"Function {function.name} created from {template.name}: building.")
    return redirect("console:deployments", project_id=project.pk, function_id=function.uid)


def variable_fields(template, post):
    """(variable, value to show): what was typed, else the default; secrets are never shown."""
    return [
        (var, "" if var.secret else post.get(f"var-{var.name}", var.value))
        for var in template.variables
    ]


def create(request, project, template):
    function_id = forms.function_id(request.POST)
    template, runtime = template_functions.template_runtime(
        template.id, request.POST.get("runtime", "")
    )
    data = template_functions.function_data(template, runtime, request.POST.get("name", ""))
    fields = function_fields(data, creating=True)
    values = template_functions.check_variables(
        template, forms.template_values(request.POST, template)
    )
    return template_functions.create_from_template(
        project, function_id, fields, template, runtime, values, origin(request)
    )
