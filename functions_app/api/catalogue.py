"""/v1/functions/runtimes and /v1/functions/specifications."""

from ..services import documents, functions, specifications
from .base import AppwriteView, ok
from .declarations import operation


class RuntimesView(AppwriteView):
    scopes = {"GET": "public"}
    project_required = False

    @operation("listRuntimes", "List runtimes", returns={200: "runtimeList"})
    def get(self, request):
        items = [documents.runtime(rt) for rt in functions.available_runtimes()]
        return ok(documents.listing("runtimes", items))


class SpecificationsView(AppwriteView):
    scopes = {"GET": "functions.read"}

    @operation("listSpecifications", "List specifications", returns={200: "specificationList"})
    def get(self, request):
        items = [documents.specification(spec) for spec in specifications.CATALOGUE]
        return ok(documents.listing("specifications", items))
