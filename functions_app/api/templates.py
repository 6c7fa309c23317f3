"""/v1/functions/templates: the shipped template catalog, as Appwrite 1.8 lists its templates."""

from ..errors import AppwriteError
from ..services import catalog, documents, functions
from . import fields as parse
from . import params as p
from .base import AppwriteView, ok


def offered_ids():
    return {rt.id for rt in functions.available_runtimes()}


class TemplatesView(AppwriteView):
    """Scope ``public`` and no project needed, as Appwrite's route (guests and sessions)."""

    scopes = {"GET": "public"}
    project_required = False

    def get(self, request):
        filters = parse.template_filters(self.params())
        available = offered_ids()
        found = catalog.listing(available, filters["runtime_ids"], filters["use_cases"])
        page = found[filters["offset"] : filters["offset"] + filters["limit"]]
        items = [documents.template_function(t, catalog.offered(t, available)) for t in page]
        return ok(documents.listing("templates", items, len(found)))


class TemplateView(AppwriteView):
    scopes = {"GET": "public"}
    path_ids = False  # a template ID is Text(128), not a UID

    def get(self, request, template_id):
        p.get({"templateId": template_id}, "templateId", p.Text(128), required=True)
        available = offered_ids()
        template = catalog.get(template_id)
        if template is None or not catalog.offered(template, available):
            raise AppwriteError("function_template_not_found")
        return ok(documents.template_function(template, catalog.offered(template, available)))
