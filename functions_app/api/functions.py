"""/v1/functions: list, create, get, update (PUT replaces), delete."""

from django.db.models import Prefetch

from ..errors import AppwriteError
from ..models import Function, Variable
from ..services import documents
from ..services import functions as service
from . import fields as parse
from . import queries
from .base import AppwriteView, no_content, ok
from .declarations import operation, setting

A = queries.Attribute
COMMON_ATTRIBUTES = {
    "$id": A("uid", "string"),
    "$createdAt": A("created_at", "datetime"),
    "$updatedAt": A("updated_at", "datetime"),
    "$sequence": A("id", "integer"),
}
FUNCTION_ATTRIBUTES = COMMON_ATTRIBUTES | {
    "name": A("name", "string"),
    "enabled": A("enabled", "boolean"),
    "runtime": A("runtime", "string"),
    "deploymentId": A("deployment_uid", "string"),
    "schedule": A("schedule", "string"),
    "scheduleNext": A("schedule_next", "datetime"),
    "schedulePrevious": A("schedule_previous", "datetime"),
    "timeout": A("timeout", "integer"),
    "entrypoint": A("entrypoint", "string"),
    "commands": A("commands", "string"),
    "installationId": A("installation_id", "string"),
}


def function_queryset(project):
    return Function.objects.filter(project=project).prefetch_related(
        Prefetch("variables", queryset=Variable.objects.select_related("function"))
    )


def get_function(project, function_id, with_variables=True):
    functions = (
        function_queryset(project) if with_variables else Function.objects.filter(project=project)
    )
    try:
        return functions.get(uid=function_id)
    except Function.DoesNotExist:
        raise AppwriteError("function_not_found") from None


class FunctionsView(AppwriteView):
    scopes = {"GET": "functions.read", "POST": "functions.write"}

    @operation("list", "List functions", *parse.LIST, returns={200: "functionList"})
    def get(self, request):
        items, total, _ = queries.run(
            function_queryset(self.project),
            resource="Function",
            schema=FUNCTION_ATTRIBUTES,
            **self.params(),
        )
        return ok(documents.listing("functions", [documents.function(f) for f in items], total))

    @operation(
        "create",
        "Create function",
        parse.FUNCTION_ID,
        *parse.function_params(creating=True),
        returns={201: "function"},
        errors=(409, 429),
        rate=(setting("FUNCTIONS_CREATION_ABUSE_LIMIT"), 86400, "projectId:{projectId}"),
    )
    def post(self, request):
        fields = self.params()
        function_id = fields.pop("function_id")
        function = service.create_function(self.project, function_id, fields, self.origin)
        return ok(documents.function(get_function(self.project, function.uid)), status=201)


class FunctionView(AppwriteView):
    scopes = {"GET": "functions.read", "PUT": "functions.write", "DELETE": "functions.write"}

    @operation("get", "Get function", returns={200: "function"})
    def get(self, request, function_id):
        return ok(documents.function(get_function(self.project, function_id)))

    @operation(
        "update",
        "Update function",
        *parse.function_params(creating=False),
        returns={200: "function"},
    )
    def put(self, request, function_id):
        fields = self.params()
        function = get_function(self.project, function_id)
        service.update_function(function, fields, self.origin)
        return ok(documents.function(get_function(self.project, function.uid)))

    @operation("delete", "Delete function", returns={204: None})
    def delete(self, request, function_id):
        service.delete_function(get_function(self.project, function_id), self.origin)
        return no_content()
