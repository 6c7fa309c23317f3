"""The Variables tab: create, edit and delete; a secret's value is never shown again."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...api.fields import variable_create_fields, variable_update_fields
from ...errors import AppwriteError
from ...models import Variable
from ...services import variables as service
from .. import forms
from ..access import function_view
from ..tabs import function_page


def tab(request, function, status=200, **extra):
    context = {
        "variables": function.variables.order_by("key"),
        "project_variables": Variable.objects.filter(project=function.project, function=None),
        "values": {"secret": False},
        **extra,
    }
    return function_page(request, function, "variables", context, status=status)


def get_variable(function, variable_id):
    variable = function.variables.filter(uid=variable_id).first()
    if variable is None:
        raise Http404("Variable not found")
    return variable


def back(function):
    return redirect("console:variables", project_id=function.project_id, function_id=function.uid)


@function_view
def variable_list(request, function):
    if request.method != "POST":
        return tab(request, function)
    try:
        fields = variable_create_fields(forms.variable_data(request.POST))
        variable = service.create_variable(function.project, function, **fields)
    except AppwriteError as error:
        return tab(request, function, 400, error=error.message, values=request.POST)
    messages.success(request, f"Variable {variable.key} created.")
    return back(function)


@require_POST
@function_view
def variable_update(request, function, variable_id):
    variable = get_variable(function, variable_id)
    try:
        service.update_variable(
            variable, **variable_update_fields(forms.variable_data(request.POST, variable))
        )
    except AppwriteError as error:
        return tab(request, function, 400, row_error=error.message, editing=variable_id)
    messages.success(request, f"Variable {variable.key} updated.")
    return back(function)


@require_POST
@function_view
def variable_delete(request, function, variable_id):
    variable = get_variable(function, variable_id)
    service.delete_variable(variable)
    messages.success(request, f"Variable {variable.key} deleted.")
    return back(function)
