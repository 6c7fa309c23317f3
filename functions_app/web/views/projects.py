"""Home, projects (list, create, switch) and the project's API keys."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...errors import AppwriteError
from ...models import ApiKey
from ...services import projects as projects_service
from ...services.callers import KEY_SCOPES
from .. import forms
from ..access import SESSION_PROJECT, page, project_view, visible_projects

NEW_KEY = "console_new_key"


@login_required
def home(request):
    """The last project used, else the first one, else the projects page."""
    projects = visible_projects(request.user)
    current = projects.filter(pk=request.session.get(SESSION_PROJECT)).first() or projects.first()
    if current is None:
        return redirect("console:projects")
    return redirect("console:functions", project_id=current.pk)


@login_required
def projects(request):
    if request.method != "POST":
        return page(request, "console/projects.html")
    try:
        project = projects_service.create_project(
            **forms.project_fields(request.POST), creator=request.user
        )
    except AppwriteError as error:
        return page(request, "console/projects.html", form_error(request, error), status=400)
    messages.success(request, f"Project {project.name} created.")
    return redirect("console:functions", project_id=project.pk)


def form_error(request, error):
    post = request.POST
    values = {**post.dict(), "scopes": post.getlist("scopes")}
    return {"error": forms.message(error), "values": values}


@project_view
def keys(request, project):
    context = {"project": project, "keys": project.keys.order_by("-created_at")}
    context.update(scopes=KEY_SCOPES, new_key=request.session.pop(NEW_KEY, None))
    if request.method != "POST":
        return page(request, "console/keys.html", context)
    try:
        key, secret = ApiKey.issue(project, **forms.key_fields(request.POST))
    except AppwriteError as error:
        context.update(form_error(request, error))
        return page(request, "console/keys.html", context, status=400)
    request.session[NEW_KEY] = {"name": key.name, "secret": secret}  # shown by the next GET only
    return redirect("console:keys", project_id=project.pk)


@require_POST
@project_view
def revoke_key(request, project, key_id):
    key = project.keys.filter(pk=key_id).first()
    if key is not None:
        key.revoke()
        messages.success(request, f"API key {key.name} revoked.")
    return redirect("console:keys", project_id=project.pk)
