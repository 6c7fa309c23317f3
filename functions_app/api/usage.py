"""/v1/functions/usage and /v1/functions/{functionId}/usage (Appwrite's console-only usage
endpoints; an API key with ``functions.read`` may call them too)."""

from ..services import documents
from ..services import usage as service
from . import params as p
from .base import AppwriteView, ok
from .functions import FunctionView, get_function

RANGE = p.WhiteList(service.RANGES)


def range_param(data):
    return p.get(data, "range", RANGE, default=service.DEFAULT_RANGE)


class ProjectUsageView(FunctionView):
    """``GET /v1/functions/usage``; PUT and DELETE on this path are the function ``usage``
    (as Appwrite's router matches them to ``/v1/functions/:functionId``)."""

    def get(self, request):
        usage = service.project_usage(self.project, range_param(self.params()))
        return ok(documents.usage_functions(usage))

    def put(self, request):
        return super().put(request, "usage")

    def delete(self, request):
        return super().delete(request, "usage")


class FunctionUsageView(AppwriteView):
    scopes = {"GET": "functions.read"}

    def get(self, request, function_id):
        range_key = range_param(self.params())
        function = get_function(self.project, function_id, with_variables=False)
        return ok(documents.usage_function(service.function_usage(function, range_key)))
