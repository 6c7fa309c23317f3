from django.urls import path, re_path

from . import catalogue, deployments, executions, functions, variables
from .errors import route_not_found

F = "functions/<str:function_id>"
D = F + "/deployments/<str:deployment_id>"

urlpatterns = [
    path("functions", functions.FunctionsView.as_view()),
    path("functions/runtimes", catalogue.RuntimesView.as_view()),
    path("functions/specifications", catalogue.SpecificationsView.as_view()),
    path(F, functions.FunctionView.as_view()),
    path(F + "/deployment", deployments.ActiveDeploymentView.as_view()),
    path(F + "/deployments", deployments.DeploymentsView.as_view()),
    path(F + "/deployments/duplicate", deployments.DuplicateView.as_view()),
    path(F + "/deployments/template", deployments.UnsupportedSourceView.as_view()),
    path(F + "/deployments/vcs", deployments.UnsupportedSourceView.as_view()),
    path(D, deployments.DeploymentView.as_view()),
    path(D + "/download", deployments.DownloadView.as_view()),
    path(D + "/build/download", deployments.DownloadView.as_view(), {"kind": "output"}),
    path(D + "/status", deployments.CancelView.as_view()),
    path(D + "/build", deployments.BuildAliasView.as_view()),
    path(D + "/builds/<str:build_id>", deployments.DuplicateView.as_view()),
    path(F + "/executions", executions.ExecutionsView.as_view()),
    path(F + "/executions/<str:execution_id>", executions.ExecutionView.as_view()),
    path(F + "/variables", variables.VariablesView.as_view()),
    path(F + "/variables/<str:variable_id>", variables.VariableView.as_view()),
    path("project/variables", variables.VariablesView.as_view()),
    path("project/variables/<str:variable_id>", variables.VariableView.as_view()),
    re_path(r"^.*$", route_not_found),
]
