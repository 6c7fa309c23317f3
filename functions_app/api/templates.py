"""/v1/functions/templates: the shipped template catalog, as Appwrite 1.8 lists its templates."""

from ..errors import AppwriteError
from ..services import catalog, documents, functions
from . import fields as parse
from . import params as p
from .base import AppwriteView, ok
from .declarations import PATH, Param, operation

TEMPLATE_ID = Param("templateId", p.Text(128), required=True, location=PATH)


def offered_ids():
    return {rt.id for rt in functions.available_runtimes()}


class TemplatesView(AppwriteView):
    """Scope ``public`` and no project needed, as Appwrite's route (guests and sessions)."""

    scopes = {"GET": "public"}
    project_required = False

    @operation(
        "listTemplates",
        "List templates",
        *parse.TEMPLATE_FILTERS,
        returns={200: "templateFunctionList"},
        description=(
            "This instance's template catalog, each template with the runtimes it offers "
            "(`FUNCTIONS_RUNTIMES`); `runtimes` and `useCases` keep the templates that have "
            "any of them."
        ),
    )
    def get(self, request):
        filters = self.params()
        available = offered_ids()
        found = catalog.listing(available, filters["runtime_ids"], filters["use_cases"])
        page = found[filters["offset"] : filters["offset"] + filters["limit"]]
        items = [documents.template_function(t, catalog.offered(t, available)) for t in page]
        return ok(documents.listing("templates", items, len(found)))


class TemplateView(AppwriteView):
    scopes = {"GET": "public"}

    @operation(
        "getTemplate",
        "Get function template",
        TEMPLATE_ID,
        returns={200: "templateFunction"},
        description=(
            "One template of the catalog, with the runtimes this instance offers; "
            "`404 function_template_not_found` when there is none or it offers none of them."
        ),
    )
    def get(self, request, template_id):
        available = offered_ids()
        template = catalog.get(template_id)
        if template is None or not catalog.offered(template, available):
            raise AppwriteError("function_template_not_found")
        return ok(documents.template_function(template, catalog.offered(template, available)))
