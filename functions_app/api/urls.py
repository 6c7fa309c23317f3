from django.urls import path, re_path

from . import catalogue, functions, variables
from .errors import route_not_found

urlpatterns = [
    path("functions", functions.FunctionsView.as_view()),
    path("functions/runtimes", catalogue.RuntimesView.as_view()),
    path("functions/specifications", catalogue.SpecificationsView.as_view()),
    path("functions/<str:function_id>", functions.FunctionView.as_view()),
    path("functions/<str:function_id>/variables", variables.VariablesView.as_view()),
    path(
        "functions/<str:function_id>/variables/<str:variable_id>", variables.VariableView.as_view()
    ),
    path("project/variables", variables.VariablesView.as_view()),
    path("project/variables/<str:variable_id>", variables.VariableView.as_view()),
    re_path(r"^.*$", route_not_found),
]
