"""The Deployments tab: upload (chunked, with progress), live status and build logs,
activate, redeploy, cancel, download and delete."""

import re

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ... import downloads
from ...api.fields import upload_fields
from ...errors import AppwriteError
from ...models import Deployment
from ...services import deployments as service
from ...services import documents
from .. import filters
from ..access import function_view, origin
from ..tabs import function_page

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
ACTIONS = {
    "activate": lambda fn, dep, who: service.activate_deployment(fn, dep, who),
    "redeploy": lambda fn, dep, who: service.duplicate(fn, dep, who),
    "cancel": lambda fn, dep, who: service.cancel(dep),
    "delete": lambda fn, dep, who: service.delete_deployment(fn, dep, who),
}
DONE = {
    "activate": "Deployment activated.",
    "redeploy": "Redeploying: a new build was queued.",
    "cancel": "Build canceled.",
    "delete": "Deployment deleted.",
}


def get_deployment(function, deployment_id):
    deployment = Deployment.objects.filter(function=function, uid=deployment_id).first()
    if deployment is None:
        raise Http404("Deployment not found")
    return deployment


def detail_url(function, deployment):
    return reverse(
        "console:deployment",
        kwargs={
            "project_id": function.project_id,
            "function_id": function.uid,
            "deployment_id": deployment.uid,
        },
    )


@function_view
def deployment_list(request, function):
    deployments = function.deployments.order_by("-created_at", "-id")
    return function_page(request, function, "deployments", filters.paginate(request, deployments))


def actions(function, deployment):
    """The buttons a deployment's page offers: (action, label, button class)."""
    shown = [("redeploy", "Redeploy", "secondary"), ("delete", "Delete", "outline contrast")]
    if deployment.status == Deployment.Status.READY and function.deployment_uid != deployment.uid:
        shown.insert(0, ("activate", "Activate", ""))
    if not deployment.is_final:
        shown.insert(0, ("cancel", "Cancel build", "contrast"))
    return shown if deployment.uploaded else shown[-1:]


@function_view
def deployment_detail(request, function, deployment_id):
    deployment = get_deployment(function, deployment_id)
    context = {"deployment": deployment, "actions": actions(function, deployment)}
    context["logs"] = ANSI.sub("", deployment.build_logs)
    template = "console/deployment.html"
    return function_page(request, function, "deployments", context, template=template)


@function_view
def deployment_status(request, function, deployment_id):
    """The small JSON the pages poll while a build runs."""
    deployment = get_deployment(function, deployment_id)
    data = documents.deployment(deployment)
    data.update(final=deployment.is_final, active=function.deployment_uid == deployment.uid)
    data.update(log_tail(deployment.build_logs, request.GET.get("since", "")))
    return JsonResponse(data)


def log_tail(logs, since):
    """Only the build output after ``since`` characters (all of it if the client is lost)."""
    start = int(since) if since.isdigit() and int(since) <= len(logs) else 0
    return {"buildLogs": logs[start:], "logsFrom": start, "logsLength": len(logs)}


def upload_params(request):
    """The form and its file, as the API reads them. Empty override fields mean "use the
    function's entrypoint and commands"."""
    fields = {k: v for k, v in request.POST.items() if v != "" or k == "activate"}
    return fields | request.FILES.dict()


@require_POST
@function_view
def deployment_upload(request, function):
    """One chunk (or the whole archive) of an upload, as ``POST .../deployments`` takes it."""
    try:
        deployment = receive(request, function)
    except AppwriteError as error:
        return JsonResponse({"message": error.message, "type": error.type}, status=error.code)
    data = documents.deployment(deployment, chunks=True)
    return JsonResponse({**data, "url": detail_url(function, deployment)}, status=202)


def receive(request, function):
    code, activate, entrypoint, commands = upload_fields(upload_params(request), function)
    chunk = service.parse_content_range(request.headers.get("Content-Range"), code.read())
    upload_id = request.headers.get("X-Appwrite-ID", "")
    return service.receive(
        function, chunk, upload_id, activate, entrypoint, commands, origin=origin(request)
    )


@require_POST
@function_view
def deployment_action(request, function, deployment_id, action):
    if action not in ACTIONS:
        raise Http404("Unknown action")
    deployment = get_deployment(function, deployment_id)
    try:
        result = ACTIONS[action](function, deployment, origin(request))
    except AppwriteError as error:
        messages.error(request, error.message)
        return redirect(detail_url(function, deployment))
    messages.success(request, DONE[action])
    if action == "delete":
        return redirect(
            "console:deployments", project_id=function.project_id, function_id=function.uid
        )
    target = result if action == "redeploy" else deployment
    return redirect(detail_url(function, target))


@function_view
def deployment_download(request, function, deployment_id, kind):
    deployment = get_deployment(function, deployment_id)
    try:
        return downloads.file_response(request, service.download_path(deployment, kind))
    except AppwriteError:
        raise Http404("Nothing to download") from None
