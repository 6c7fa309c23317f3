"""/v1/functions/runtimes and /v1/functions/specifications."""

from django.conf import settings

from .. import runtimes
from ..services import documents, specifications
from .base import AppwriteView, ok


def available_runtimes():
    allowlist = settings.FUNCTIONS_RUNTIMES
    return [rt for rt in runtimes.registry().values() if not allowlist or rt.id in allowlist]


class RuntimesView(AppwriteView):
    scopes = {"GET": "public"}
    project_required = False

    def get(self, request):
        items = [documents.runtime(rt) for rt in available_runtimes()]
        return ok(documents.listing("runtimes", items))


class SpecificationsView(AppwriteView):
    scopes = {"GET": "functions.read"}

    def get(self, request):
        items = [documents.specification(spec) for spec in specifications.CATALOGUE]
        return ok(documents.listing("specifications", items))
