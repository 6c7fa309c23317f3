"""Who may see what: every page is scoped to one project the signed-in user belongs to
(superusers may open any project), and acts as that project's admin."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from ..models import Function, Project
from ..services import events
from ..services.callers import account_caller

SESSION_PROJECT = "console_project"


def visible_projects(user):
    """The projects a console user may open."""
    return Project.objects.all() if user.is_superuser else user.projects.all()


def get_project(user, project_id):
    project = visible_projects(user).filter(pk=project_id).first()
    if project is None:
        raise Http404("Project not found")
    return project


def get_function(project, function_id):
    function = Function.objects.filter(project=project, uid=function_id).first()
    if function is None:
        raise Http404("Function not found")
    return function


def caller(project, user):
    """Members act as project admins; so do superusers, who may open every project."""
    return account_caller(project, user)


def project_view(view):
    """Sign-in required; ``project_id`` from the URL becomes a checked ``project`` argument."""

    @login_required
    @wraps(view)
    def wrapper(request, project_id, **kwargs):
        project = get_project(request.user, project_id)
        if request.session.get(SESSION_PROJECT) != project.pk:
            request.session[SESSION_PROJECT] = project.pk
        return view(request, project, **kwargs)

    return wrapper


def function_view(view):
    """Like ``project_view``, with ``function_id`` resolved inside that project."""

    @project_view
    @wraps(view)
    def wrapper(request, project, function_id, **kwargs):
        return view(request, get_function(project, function_id), **kwargs)

    return wrapper


def page(request, template, context=None, status=200):
    """Render a console page with what the layout needs (the project switcher)."""
    context = context or {}
    function = context.get("function")
    project = context.get("project") or (function.project if function else None)
    project = project or session_project(request)
    base = {"projects": visible_projects(request.user), "project": project}
    return render(request, template, {**base, **context}, status=status)


def session_project(request):
    """The project last opened, for the navigation of pages outside any project."""
    return visible_projects(request.user).filter(pk=request.session.get(SESSION_PROJECT)).first()


def origin(request):
    """The cause of the events the console fires: the project itself (no user)."""
    return events.Origin()  # console accounts act as the project: runs they cause have no user
