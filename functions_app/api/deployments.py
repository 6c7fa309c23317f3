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
from .declarations import BODY, Param, Returns, operation, reuse
from .functions import COMMON_ATTRIBUTES, get_function

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


DEPLOYMENT_ID = Param("deploymentId", p.UID(), required=True, key="deployment_id")
BUILD_ID = Param("buildId", p.UID(), location=BODY)
GZIP = Returns(None, ("application/gzip",))


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

    @operation(
        "listDeployments",
        "List deployments",
        *parse.LIST,
        returns={200: "deploymentList"},
        description=(
            "A `select` query keeps only the selected attributes (and the `$` ones) of each "
            "deployment, as on Appwrite: such a list is not a complete `deploymentList`."
        ),
    )
    def get(self, request, function_id):
        function = get_function(self.project, function_id)
        items, total, selected = queries.run(
            Deployment.objects.filter(function=function).select_related("function"),
            resource="Deployment",
            schema=DEPLOYMENT_ATTRIBUTES,
            allow_select=True,
            selectable=SELECTABLE,
            search_field=None,
            **self.params(),
        )
        rows = [trim(documents.deployment(d), selected) for d in items]
        return ok(documents.listing("deployments", rows, total))

    @operation(
        "createDeployment",
        "Create deployment",
        *parse.UPLOAD,
        returns={202: "deployment"},
        multipart=True,
        description=(
            "Upload a `.tar.gz` archive of the code, whole or in chunks of 5 MB: each chunk "
            "carries `Content-Range: bytes <start>-<end>/<size>`, and the chunks after the first "
            "`X-Appwrite-ID: <the deployment's $id>`."
        ),
    )
    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        upload, activate, entrypoint, commands = parse.upload_values(self.params(), function)
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

    @operation("getDeployment", "Get deployment", returns={200: "deployment"})
    def get(self, request, function_id, deployment_id):
        function = get_function(self.project, function_id)
        return ok(documents.deployment(get_deployment(function, deployment_id)))

    @operation("deleteDeployment", "Delete deployment", returns={204: None})
    def delete(self, request, function_id, deployment_id):
        function = get_function(self.project, function_id)
        service.delete_deployment(function, get_deployment(function, deployment_id), self.origin)
        return no_content()

    @operation(
        "updateDeployment",
        "Activate deployment (legacy route)",
        returns={200: "function"},
        deprecated=True,
        description="Before Appwrite 1.7: `updateFunctionDeployment` with the ID in the path.",
    )
    def patch(self, request, function_id, deployment_id):
        return activate(self, function_id, deployment_id)


class ActiveDeploymentView(AppwriteView):
    scopes = {"PATCH": "functions.write"}

    @operation(
        "updateFunctionDeployment",
        "Activate deployment",
        DEPLOYMENT_ID,
        returns={200: "function"},
    )
    def patch(self, request, function_id):
        return activate(self, function_id, self.params()["deployment_id"])


class DuplicateView(AppwriteView):
    """``POST .../deployments/duplicate``: rebuild a deployment's source as a new deployment."""

    scopes = {"POST": "functions.write"}

    @operation(
        "createDuplicateDeployment",
        "Rebuild deployment",
        DEPLOYMENT_ID,
        BUILD_ID,
        returns={202: "deployment"},
    )
    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        return duplicate(self, function, self.params()["deployment_id"])


def duplicate(view, function, deployment_id):
    copy = service.duplicate(function, get_deployment(function, deployment_id), view.origin)
    return ok(documents.deployment(copy), status=202)


class LegacyBuildView(AppwriteView):
    """``POST .../deployments/{deploymentId}/builds/{buildId}`` (before Appwrite 1.7)."""

    scopes = {"POST": "functions.write"}

    @operation(
        "createBuild",
        "Rebuild deployment (legacy route)",
        BUILD_ID,
        returns={202: "deployment"},
        deprecated=True,
        description="Before Appwrite 1.7: `createDuplicateDeployment` with the IDs in the path.",
    )
    def post(self, request, function_id, deployment_id, build_id=None):
        function = get_function(self.project, function_id)
        self.params()
        return duplicate(self, function, deployment_id)


class BuildAliasView(LegacyBuildView):
    """Legacy ``.../deployments/{id}/build``: POST rebuilds, PATCH cancels."""

    scopes = {"POST": "functions.write", "PATCH": "functions.write"}
    post = reuse(LegacyBuildView.post, name="createDeploymentBuild")

    @operation(
        "updateDeploymentBuild",
        "Cancel build (legacy route)",
        returns={200: "deployment"},
        deprecated=True,
        description="Before Appwrite 1.7: `updateDeploymentStatus`.",
    )
    def patch(self, request, function_id, deployment_id):
        return cancel(self, function_id, deployment_id)


class CancelView(AppwriteView):
    scopes = {"PATCH": "functions.write"}

    @operation("updateDeploymentStatus", "Cancel build", returns={200: "deployment"})
    def patch(self, request, function_id, deployment_id):
        return cancel(self, function_id, deployment_id)


def cancel(view, function_id, deployment_id):
    function = get_function(view.project, function_id)
    return ok(documents.deployment(service.cancel(get_deployment(function, deployment_id))))


class TemplateDeploymentView(AppwriteView):
    """A catalog template (offline), or a template repository under
    ``FUNCTIONS_TEMPLATES_GIT_URL`` fetched by the build worker."""

    scopes = {"POST": "functions.write"}

    @operation(
        "createTemplateDeployment",
        "Create template deployment",
        *parse.TEMPLATE_DEPLOYMENT_DESCRIBED,
        returns={202: "deployment"},
        description=(
            "`owner`/`repository` `functions`/`templates` name this instance's template "
            "catalog (`GET /functions/templates`), packed without any network; any other "
            "repository is fetched from `FUNCTIONS_TEMPLATES_GIT_URL` by the build worker. The "
            "deployment has type `vcs`."
        ),
    )
    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        fields = self.params(parse.template_deployment_params)
        deployment = vcs.create_template_deployment(function, **fields, origin=self.origin)
        return ok(documents.deployment(deployment), status=202)


class VcsDeploymentView(AppwriteView):
    """A branch, commit or tag of the repository the function is linked to."""

    scopes = {"POST": "functions.write"}

    @operation(
        "createVcsDeployment",
        "Create VCS deployment",
        *parse.VCS_DEPLOYMENT,
        returns={202: "deployment"},
        description=(
            "A branch, commit (full or abbreviated hash) or tag of the repository the function "
            "is linked to (`installationId`, `providerRepositoryId`); "
            "`404 provider_repository_not_found` when it is linked to none."
        ),
    )
    def post(self, request, function_id):
        function = get_function(self.project, function_id)
        fields = self.params()
        deployment = vcs.create_vcs_deployment(function, **fields, origin=self.origin)
        return ok(documents.deployment(deployment), status=202)


class DownloadView(AppwriteView):
    scopes = {"GET": "functions.read"}

    @operation(
        "getDeploymentDownload",
        "Download deployment",
        Param("type", p.WhiteList(["source", "output"]), default="source"),
        returns={200: GZIP, 206: GZIP},
        errors=(416,),
        description="The source archive, or the build's output (`type=output`); `Range` asks for part of it.",
    )
    def get(self, request, function_id, deployment_id):
        deployment = get_deployment(get_function(self.project, function_id), deployment_id)
        kind = self.params()["type"]
        return downloads.file_response(request, service.download_path(deployment, kind))


class BuildDownloadView(AppwriteView):
    scopes = {"GET": "functions.read"}

    @operation(
        "getBuildDownload",
        "Download build output (legacy route)",
        returns={200: GZIP, 206: GZIP},
        errors=(416,),
        deprecated=True,
        description="Before Appwrite 1.7: `getDeploymentDownload` with `type=output`.",
    )
    def get(self, request, function_id, deployment_id):
        deployment = get_deployment(get_function(self.project, function_id), deployment_id)
        return downloads.file_response(request, service.download_path(deployment, "output"))
