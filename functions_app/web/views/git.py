"""Git in the console: the project's git connections (add, edit, delete; secrets are never
shown again), and the Git section of a function's settings (link a repository, deploy a
branch, commit or tag)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...api.fields import function_fields, vcs_deployment_fields
from ...errors import AppwriteError
from ...models import Installation
from ...services import documents, installations, vcs
from ...services import functions as functions_service
from .. import forms
from ..access import function_view, origin, page, project_view


def connections_page(request, project, status=200, **extra):
    rows = [
        (item, installations.webhook_url(item), installations.linked_functions(item).count())
        for item in project.installations.all()
    ]
    context = {
        "project": project,
        "rows": rows,
        "providers": Installation.Provider.choices,
        "values": {"provider": "git"},
        **extra,
    }
    return page(request, "console/git.html", context, status=status)


def get_installation(project, installation_id):
    found = project.installations.filter(uid=installation_id).first()
    if found is None:
        raise Http404("Git connection not found")
    return found


def back(project):
    return redirect("console:git", project_id=project.pk)


@project_view
def connection_list(request, project):
    if request.method != "POST":
        return connections_page(request, project)
    try:
        installation = installations.create_installation(
            project, **forms.installation_fields(request.POST, creating=True)
        )
    except AppwriteError as error:
        return connections_page(request, project, 400, error=error.message, values=request.POST)
    messages.success(request, f"Git connection {installation.name} added.")
    return back(project)


@require_POST
@project_view
def connection_update(request, project, installation_id):
    installation = get_installation(project, installation_id)
    try:
        installations.update_installation(
            installation, **forms.installation_fields(request.POST, creating=False)
        )
    except AppwriteError as error:
        return connections_page(
            request, project, 400, row_error=error.message, editing=installation.uid
        )
    messages.success(request, f"Git connection {installation.name} saved.")
    return back(project)


@require_POST
@project_view
def connection_delete(request, project, installation_id):
    installation = get_installation(project, installation_id)
    installations.delete_installation(installation)
    messages.success(
        request, f"Git connection {installation.name} deleted; its functions are unlinked."
    )
    return back(project)


def section(function):
    """What the Git section of the settings tab shows."""
    linked = function.project.installations.filter(uid=function.installation_id).first()
    return {
        "installations": function.project.installations.all(),
        "linked": linked if function.provider_repository_id else None,
        "webhook_url": installations.webhook_url(linked) if linked else "",
        "types": vcs.TYPES,
    }


def settings_redirect(function):
    return redirect("console:settings", project_id=function.project_id, function_id=function.uid)


@require_POST
@function_view
def function_link(request, function):
    """Link (or unlink) the function: an update with every other field as it is."""
    data = forms.link_data(request.POST, documents.function(function))
    try:
        functions_service.update_function(
            function, function_fields(data, creating=False), origin(request)
        )
    except AppwriteError as error:
        messages.error(request, error.message)
        return settings_redirect(function)
    if function.provider_repository_id:
        messages.success(
            request,
            f"Linked to {function.provider_repository_id} ({function.provider_branch}).",
        )
    else:
        messages.success(request, "The function is no longer linked to a repository.")
    return settings_redirect(function)


@require_POST
@function_view
def function_deploy(request, function):
    try:
        fields = vcs_deployment_fields(forms.git_deployment_data(request.POST))
        deployment = vcs.create_vcs_deployment(function, **fields, origin=origin(request))
    except AppwriteError as error:
        messages.error(request, error.message)
        return settings_redirect(function)
    messages.success(request, f"Deploying {fields['type_']} {fields['reference']}.")
    return redirect(
        "console:deployment",
        project_id=function.project_id,
        function_id=function.uid,
        deployment_id=deployment.uid,
    )
