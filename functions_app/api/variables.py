"""/v1/functions/{id}/variables and the project's global /v1/project/variables."""

from ..errors import AppwriteError
from ..models import Variable
from ..services import documents
from ..services import variables as service
from . import fields as parse
from .base import AppwriteView, no_content, ok
from .declarations import operation
from .functions import get_function


class VariablesMixin:
    """Resolves the variables' owner: a function, or the project itself."""

    def owner(self, kwargs):
        if "function_id" in kwargs:
            return get_function(self.project, kwargs["function_id"])
        return None

    def variables(self, function):
        return Variable.objects.filter(project=self.project, function=function).select_related(
            "function"
        )

    def get_variable(self, kwargs):
        function = self.owner(kwargs)
        variable = self.variables(function).filter(uid=kwargs["variable_id"]).first()
        if variable is None:
            raise AppwriteError("variable_not_found")
        return variable


class VariablesView(VariablesMixin, AppwriteView):
    """A function's variables or (``/project/variables``) the project's global ones."""

    scopes = {"GET": "functions.read", "POST": "functions.write"}

    @operation("listVariables", "List variables", returns={200: "variableList"})
    def get(self, request, **kwargs):
        items = [documents.variable(v) for v in self.variables(self.owner(kwargs))[:1000]]
        return ok(documents.listing("variables", items))

    @operation(
        "createVariable",
        "Create variable",
        *parse.VARIABLE_CREATE,
        returns={201: "variable"},
        errors=(409,),
    )
    def post(self, request, **kwargs):
        function = self.owner(kwargs)
        variable = service.create_variable(self.project, function, **self.params())
        return ok(documents.variable(variable), status=201)


class VariableView(VariablesMixin, AppwriteView):
    scopes = {"GET": "functions.read", "PUT": "functions.write", "DELETE": "functions.write"}

    @operation("getVariable", "Get variable", returns={200: "variable"})
    def get(self, request, **kwargs):
        return ok(documents.variable(self.get_variable(kwargs)))

    @operation(
        "updateVariable",
        "Update variable",
        *parse.VARIABLE_UPDATE,
        returns={200: "variable"},
        errors=(409,),
    )
    def put(self, request, **kwargs):
        variable = self.get_variable(kwargs)
        return ok(documents.variable(service.update_variable(variable, **self.params())))

    @operation("deleteVariable", "Delete variable", returns={204: None})
    def delete(self, request, **kwargs):
        service.delete_variable(self.get_variable(kwargs))
        return no_content()
