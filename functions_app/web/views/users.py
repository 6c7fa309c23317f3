"""The project's users: list and search, create, block or unblock, delete (the Users API's
services, so the console and the API follow one set of rules)."""

from dataclasses import replace

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from ...api.fields import USER_ID, user_fields
from ...errors import AppwriteError
from ...services import users as service
from ..access import origin, page, project_view

PAGE_SIZE = 25


@project_view
def user_list(request, project):
    if request.method == "POST":
        return create(request, project)
    return render_list(request, project)


def render_list(request, project, status=200, **extra):
    search = request.GET.get("search", "").strip()
    found = project.users.order_by("-created_at")
    if search:
        found = found.filter(search__icontains=search)
    pages = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({"search": search}) if search else ""
    context = {"project": project, "page": pages, "search": search, "query": query, **extra}
    return page(request, "console/users.html", context, status=status)


def create(request, project):
    data = {key: value for key, value in request.POST.items() if value}
    try:
        user_id = replace(USER_ID, required=False, default="unique()").read(data)
        user = service.create_user(project, user_id, user_fields(data), origin(request))
    except AppwriteError as error:
        return render_list(request, project, 400, error=error.message, values=request.POST)
    messages.success(request, f"User {user.email or user.uid} created.")
    return redirect("console:users", project_id=project.pk)


def get_user(project, user_id):
    user = project.users.filter(uid=user_id).first()
    if user is None:
        raise Http404("User not found")
    return user


@require_POST
@project_view
def user_status(request, project, user_id):
    user = get_user(project, user_id)
    blocked = request.POST.get("status") == "blocked"
    service.update_status(user, not blocked, origin(request))
    messages.success(
        request, f"User {user.email or user.uid} {'blocked' if blocked else 'unblocked'}."
    )
    return redirect("console:users", project_id=project.pk)


@require_POST
@project_view
def user_delete(request, project, user_id):
    user = get_user(project, user_id)
    service.delete_user(user, origin(request))
    messages.success(request, f"User {user.email or user.uid} deleted.")
    return redirect("console:users", project_id=project.pk)
