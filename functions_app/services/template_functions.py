"""A function created from a catalog template in one step (the console's "create from
template"), as a client does it with the API: the function with the template's settings for the
chosen runtime, the template's variables with the values given, then the template deployment,
activated once built."""

from django.db import transaction

from ..errors import AppwriteError, argument_invalid
from . import catalog, functions, variables, vcs
from .specifications import DEFAULT_SLUG


def template_runtime(template_id, runtime_id):
    """The template and its runtime entry, offered here; ``function_template_not_found`` or a
    400 otherwise."""
    template = catalog.get(template_id)
    offered = {rt.id for rt in functions.available_runtimes()}
    if template is None or not catalog.offered(template, offered):
        raise AppwriteError("function_template_not_found")
    runtime = template.runtime(runtime_id)
    if runtime is None or runtime_id not in offered:
        names = ", ".join(rt.name for rt in catalog.offered(template, offered))
        raise argument_invalid(
            f'Template "{template.name}" runs on {names}, not on "{runtime_id}".'
        )
    return template, runtime


def function_data(template, runtime, name):
    """The ``createFunction`` body a client sends for this template and runtime."""
    return {
        "name": name,
        "runtime": runtime.name,
        "execute": list(template.permissions),
        "events": list(template.events),
        "schedule": template.cron,
        "timeout": template.timeout,
        "entrypoint": runtime.entrypoint,
        "commands": runtime.commands,
        "scopes": list(template.scopes),
        "specification": DEFAULT_SLUG,
    }


def check_variables(template, values):
    """``[(key, value, secret)]`` to create: every variable given a value (or its default);
    a required one left empty is refused."""
    found = []
    for variable in template.variables:
        value = values.get(variable.name, variable.value)
        if variable.required and not value:
            raise argument_invalid(f'Variable "{variable.name}" is required by this template.')
        if value:
            found.append((variable.name, value, variable.secret))
    return found


def create_from_template(project, function_id, fields, template, runtime, values, origin=None):
    """The function (``fields`` as ``createFunction`` validated them), its variables, and the
    template deployment (activated when built); all or nothing."""
    repo = catalog.repository()
    with transaction.atomic():
        function = functions.create_function(project, function_id, fields, origin)
        for key, value, secret in values:
            variables.create_variable(project, function, key, value, secret)
        vcs.create_template_deployment(
            function, repo.owner, repo.repository, runtime.root, "tag", repo.version, True, origin
        )
    return function
