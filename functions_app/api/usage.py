"""/v1/functions/usage and /v1/functions/{functionId}/usage (Appwrite's console-only usage
endpoints; an API key with ``functions.read`` may call them too)."""

from dataclasses import replace

from ..services import documents
from ..services import usage as service
from . import params as p
from .base import AppwriteView, ok
from .declarations import Param, declare, operation
from .functions import FunctionView, get_function

RANGE = Param("range", p.WhiteList(service.RANGES), default=service.DEFAULT_RANGE)
# Appwrite answers 501 general_usage_disabled when its usage stats are off (never here).
USAGE_ERRORS = (501,)
LITERAL = "The function whose ID is `usage` (this literal path wins, as on Appwrite)."


class ProjectUsageView(FunctionView):
    """``GET /v1/functions/usage``; PUT and DELETE on this path are the function ``usage``
    (as Appwrite's router matches them to ``/v1/functions/:functionId``)."""

    @operation(
        "listUsage",
        "Get functions usage",
        RANGE,
        returns={200: "usageFunctions"},
        errors=USAGE_ERRORS,
    )
    def get(self, request):
        usage = service.project_usage(self.project, self.params()["range"])
        return ok(documents.usage_functions(usage))

    @declare(replace(FunctionView.put.operation, name="updateUsageFunction", description=LITERAL))
    def put(self, request):
        return super().put(request, "usage")

    @declare(
        replace(FunctionView.delete.operation, name="deleteUsageFunction", description=LITERAL)
    )
    def delete(self, request):
        return super().delete(request, "usage")


class FunctionUsageView(AppwriteView):
    scopes = {"GET": "functions.read"}

    @operation(
        "getUsage", "Get function usage", RANGE, returns={200: "usageFunction"}, errors=USAGE_ERRORS
    )
    def get(self, request, function_id):
        range_key = self.params()["range"]
        function = get_function(self.project, function_id, with_variables=False)
        return ok(documents.usage_function(service.function_usage(function, range_key)))
