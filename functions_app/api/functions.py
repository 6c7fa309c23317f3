"""/v1/functions: list, create, get, update (PUT replaces), delete."""

from django.conf import settings
from django.db.models import Prefetch

from .. import runtimes
from ..errors import AppwriteError
from ..models import Function, Variable
from ..services import documents
from ..services import functions as service
from . import params as p
from . import queries
from .base import AppwriteView, no_content, ok

SCOPES_ALL = [
    "sessions.write",
    "users.read",
    "users.write",
    "teams.read",
    "teams.write",
    "databases.read",
    "databases.write",
    "collections.read",
    "collections.write",
    "tables.read",
    "tables.write",
    "attributes.read",
    "attributes.write",
    "columns.read",
    "columns.write",
    "indexes.read",
    "indexes.write",
    "documents.read",
    "documents.write",
    "rows.read",
    "rows.write",
    "files.read",
    "files.write",
    "buckets.read",
    "buckets.write",
    "functions.read",
    "functions.write",
    "sites.read",
    "sites.write",
    "log.read",
    "log.write",
    "execution.read",
    "execution.write",
    "locale.read",
    "avatars.read",
    "health.read",
    "providers.read",
    "providers.write",
    "messages.read",
    "messages.write",
    "topics.read",
    "topics.write",
    "subscribers.read",
    "subscribers.write",
    "targets.read",
    "targets.write",
    "rules.read",
    "rules.write",
    "migrations.read",
    "migrations.write",
    "vcs.read",
    "vcs.write",
    "assistant.read",
    "tokens.read",
    "tokens.write",
]

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


def function_fields(data, creating):
    """Validate the create/update body into model field values (Appwrite's rules and order)."""
    fields = {
        "name": p.get(data, "name", p.Text(128), required=True),
        "runtime": p.get(data, "runtime", p.WhiteList(runtimes.known_ids()), required=creating)
        or "",
        "execute": p.get(data, "execute", p.Roles(100), default=[]),
        "events": p.get(data, "events", p.FunctionEvents(100), default=[]),
        "schedule": p.get(data, "schedule", p.Cron(), default=""),
        "timeout": p.get(data, "timeout", p.Range(1, settings.FUNCTIONS_TIMEOUT_MAX), default=15),
        "enabled": p.get(data, "enabled", p.Boolean(), default=True),
        "logging": p.get(data, "logging", p.Boolean(), default=True),
        "entrypoint": p.get(data, "entrypoint", p.Text(1028, 0), default=""),
        "commands": p.get(data, "commands", p.Text(8192, 0), default=""),
        "scopes": p.get(data, "scopes", p.ArrayList(p.WhiteList(SCOPES_ALL), 100), default=[]),
        "installation_id": p.get(data, "installationId", p.Text(128, 0), default=""),
        "provider_repository_id": p.get(data, "providerRepositoryId", p.Text(128, 0), default=None),
        "provider_branch": p.get(data, "providerBranch", p.Text(128, 0), default=""),
        "provider_silent_mode": p.get(data, "providerSilentMode", p.Boolean(), default=False),
        "provider_root_directory": p.get(data, "providerRootDirectory", p.Text(128, 0), default=""),
        "specification": p.get(
            data, "specification", p.Specification(), default=service.DEFAULTS["specification"]
        ),
    }
    if creating and fields["provider_repository_id"] is None:
        fields["provider_repository_id"] = ""
    return fields


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


def list_params(data):
    return {
        "raw_queries": p.get(data, "queries", _Passthrough(), default=[]),
        "search": p.get(data, "search", p.Text(256), default=None),
        "count_total": p.get(data, "total", p.Boolean(loose=True), default=True),
    }


class _Passthrough:
    """``queries`` is validated by the query language itself."""

    def clean(self, value):
        return [value] if isinstance(value, str) else value


class FunctionsView(AppwriteView):
    scopes = {"GET": "functions.read", "POST": "functions.write"}

    def get(self, request):
        args = list_params(self.params())
        items, total, _ = queries.run(
            function_queryset(self.project), resource="Function", schema=FUNCTION_ATTRIBUTES, **args
        )
        return ok(documents.listing("functions", [documents.function(f) for f in items], total))

    def post(self, request):
        data = self.params()
        function_id = p.get(data, "functionId", p.CustomId(), required=True)
        fields = function_fields(data, creating=True)
        function = service.create_function(self.project, function_id, fields, self.origin)
        return ok(documents.function(get_function(self.project, function.uid)), status=201)


class FunctionView(AppwriteView):
    scopes = {"GET": "functions.read", "PUT": "functions.write", "DELETE": "functions.write"}

    def get(self, request, function_id):
        return ok(documents.function(get_function(self.project, function_id)))

    def put(self, request, function_id):
        fields = function_fields(self.params(), creating=False)
        function = get_function(self.project, function_id)
        service.update_function(function, fields, self.origin)
        return ok(documents.function(get_function(self.project, function.uid)))

    def delete(self, request, function_id):
        service.delete_function(get_function(self.project, function_id), self.origin)
        return no_content()
