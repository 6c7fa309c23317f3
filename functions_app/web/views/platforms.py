"""The project's web platforms: the hosts whose pages may call the project's API from a
browser (CORS). Add, edit and delete, through ``services/platforms.py``."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ...errors import AppwriteError
from ...models import Platform
from ...services import origins
from ...services import platforms as service
from .. import forms
from ..access import page, project_view


def platforms_page(request, project, status=200, **extra):
    context = {
        "project": project,
        "platforms": project.platforms.all(),
        "types": Platform.TYPES,
        "always": origins.always_allowed(origins.host_of(request.get_host())),
        "values": {"type": "web"},
        **extra,
    }
    return page(request, "console/platforms.html", context, status=status)


def get_platform(project, platform_id):
    platform = project.platforms.filter(uid=platform_id).first()
    if platform is None:
        raise Http404("Platform not found")
    return platform


def back(project):
    return redirect("console:platforms", project_id=project.pk)


@project_view
def platform_list(request, project):
    if request.method != "POST":
        return platforms_page(request, project)
    try:
        platform = service.create_platform(project, **forms.platform_fields(request.POST))
    except AppwriteError as error:
        return platforms_page(request, project, 400, error=error.message, values=request.POST)
    messages.success(request, f"Platform {platform.name} added.")
    return back(project)


@require_POST
@project_view
def platform_update(request, project, platform_id):
    platform = get_platform(project, platform_id)
    fields = forms.platform_fields(request.POST)
    try:
        service.update_platform(platform, fields["name"], fields["hostname"])
    except AppwriteError as error:
        return platforms_page(request, project, 400, row_error=error.message, editing=platform_id)
    messages.success(request, f"Platform {platform.name} updated.")
    return back(project)


@require_POST
@project_view
def platform_delete(request, project, platform_id):
    platform = get_platform(project, platform_id)
    service.delete_platform(platform)
    messages.success(request, f"Platform {platform.name} deleted.")
    return back(project)
