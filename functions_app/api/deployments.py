"""/v1/functions/{id}/deployments and /v1/functions/{id}/deployment."""

from .. import downloads
from ..errors import AppwriteError
from ..models import Deployment
from ..services import deployments as service
from ..services import documents, vcs
from . import fields as parse
from . import params as p
from . import queries
from .base import AppwriteView, check_uid, no_content, ok
from .functions import COMMON_ATTRIBUTES, get_function, list_params

A = queries.Attribute
DEPLOYMENT_ATTRIBUTES = COMMON_ATTRIBUTES | {
    "buildSize": A("build_size", "integer"),
    "sourceSize": A("source_size", "integer"),
    "totalSize": A("total_size", "integer"),
    "buildDuration": A("build_duration", "integer"),
    "status": A("status", "string"),
    "activate": A("activate", "boolean"),
    "type": A("type", "string"),
}
SELECTABLE = [*DEPLOYMENT_ATTRIBUTES, "entrypoint", "buildLogs", "resourceId", "resourceType"]


def activate(view, function_id, deployment_id):
    function = get_function(view.project, function_id)
    service.activate_deployment(function, get_deployment(function, deployment_id), view.origin)
    return ok(documents.function(get_function(view.project, function_id)))


def get_deployment(function, deployment_id):
    deployment = (
        Deployment.objects.filter(function=function, uid=deployment_id)
        .select_related("function")
        .first()
    )
    if deployment is None:
        raise AppwriteError("deployment_not_found")
    return deployment


def trim(data, selected):
    if not selected:
        return data
    return {k: v for k, v in data.items() if k in selected or k.startswith("$")}


class DeploymentsView(AppwriteView):
    scopes = {"GET": "functions.read", "POST": "functions.write"}

    def get(self, request, function_id):
        function = get_function(self.project, function_id)
        items, total, selected = queries.run(
            Deployment.objects.filter(function=function).select_related("function"),
            resource="Deployment",
            schema=DEPLOYMENT_ATTRIBUTES,
            allow_select=True,
            selectable=SELECTABLE,
            search_field=None,
            **list_params(self.params()),
        )
        rows = [trim(documents.deployment(d), selected) for d in items]
        return ok(documents.listing("deployments", rows, total))

    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        upload, activate, entrypoint, commands = parse.upload_fields(
            request, self.params(), function
        )
        upload_id = request.headers.get("X-Appwrite-ID", "")
        if upload_id:  # the deployment a chunk continues: Appwrite takes it as its deploymentId
            check_uid("deploymentId", upload_id)
        chunk = service.parse_content_range(request.headers.get("Content-Range"), upload.read())
        type_ = "cli" if request.headers.get("X-SDK-Language", "").lower() == "cli" else "manual"
        deployment = service.receive(
            function,
            chunk,
            upload_id,
            activate,
            entrypoint,
            commands,
            type_,
            self.origin,
        )
        return ok(documents.deployment(deployment, chunks=True), status=202)


class DeploymentView(AppwriteView):
    scopes = {"GET": "functions.read", "DELETE": "functions.write", "PATCH": "functions.write"}

    def get(self, request, function_id, deployment_id):
        function = get_function(self.project, function_id)
        return ok(documents.deployment(get_deployment(function, deployment_id)))

    def delete(self, request, function_id, deployment_id):
        function = get_function(self.project, function_id)
        service.delete_deployment(function, get_deployment(function, deployment_id), self.origin)
        return no_content()

    def patch(self, request, function_id, deployment_id):
        """Legacy alias of updateFunctionDeployment."""
        return activate(self, function_id, deployment_id)


class ActiveDeploymentView(AppwriteView):
    scopes = {"PATCH": "functions.write"}

    def patch(self, request, function_id):
        deployment_id = p.get(self.params(), "deploymentId", p.UID(), required=True)
        return activate(self, function_id, deployment_id)


class DuplicateView(AppwriteView):
    scopes = {"POST": "functions.write"}

    def post(self, request, function_id, deployment_id=None, build_id=None):
        function = get_function(self.project, function_id)
        data = self.params()
        deployment_id = deployment_id or p.get(data, "deploymentId", p.UID(), required=True)
        p.get(data, "buildId", p.UID(), default=None)
        copy = service.duplicate(function, get_deployment(function, deployment_id), self.origin)
        return ok(documents.deployment(copy), status=202)


class BuildAliasView(AppwriteView):
    """Legacy ``.../deployments/{id}/build``: POST rebuilds, PATCH cancels."""

    scopes = {"POST": "functions.write", "PATCH": "functions.write"}

    def post(self, request, function_id, deployment_id):
        return DuplicateView.post(self, request, function_id, deployment_id)

    def patch(self, request, function_id, deployment_id):
        return CancelView.patch(self, request, function_id, deployment_id)


class CancelView(AppwriteView):
    scopes = {"PATCH": "functions.write"}

    def patch(self, request, function_id, deployment_id):
        function = get_function(self.project, function_id)
        return ok(documents.deployment(service.cancel(get_deployment(function, deployment_id))))


class TemplateDeploymentView(AppwriteView):
    """A catalog template (offline), or a template repository under
    ``FUNCTIONS_TEMPLATES_GIT_URL`` fetched by the build worker."""

    scopes = {"POST": "functions.write"}

    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        fields = parse.template_deployment_fields(self.params())
        deployment = vcs.create_template_deployment(function, **fields, origin=self.origin)
        return ok(documents.deployment(deployment), status=202)


class VcsDeploymentView(AppwriteView):
    """A branch, commit or tag of the repository the function is linked to."""

    scopes = {"POST": "functions.write"}

    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        fields = parse.vcs_deployment_fields(self.params())
        deployment = vcs.create_vcs_deployment(function, **fields, origin=self.origin)
        return ok(documents.deployment(deployment), status=202)


class DownloadView(AppwriteView):
    scopes = {"GET": "functions.read"}

    def get(self, request, function_id, deployment_id, kind=None):
        function = get_function(self.project, function_id)
        deployment = get_deployment(function, deployment_id)
        kind = kind or p.get(
            self.params(), "type", p.WhiteList(["source", "output"]), default="source"
        )
        return downloads.file_response(request, service.download_path(deployment, kind))
