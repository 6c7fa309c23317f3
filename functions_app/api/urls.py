from django.urls import path, re_path

from ..services import health as health_service
from . import (
    account,
    catalogue,
    console,
    deployments,
    executions,
    functions,
    health,
    openapi,
    rules,
    templates,
    usage,
    users,
    variables,
    webhooks,
)
from .errors import route_not_found

F = "functions/<str:function_id>"
D = F + "/deployments/<str:deployment_id>"

urlpatterns = [
    path("functions", functions.FunctionsView.as_view()),
    path("functions/runtimes", catalogue.RuntimesView.as_view()),
    path("functions/specifications", catalogue.SpecificationsView.as_view()),
    # Fixed segments go before F: they are not function IDs.
    path("functions/usage", usage.ProjectUsageView.as_view()),
    path("functions/templates", templates.TemplatesView.as_view()),
    path("functions/templates/<str:template_id>", templates.TemplateView.as_view()),
    path(F, functions.FunctionView.as_view()),
    path(F + "/usage", usage.FunctionUsageView.as_view()),
    path(F + "/deployment", deployments.ActiveDeploymentView.as_view()),
    path(F + "/deployments", deployments.DeploymentsView.as_view()),
    path(F + "/deployments/duplicate", deployments.DuplicateView.as_view()),
    path(F + "/deployments/template", deployments.TemplateDeploymentView.as_view()),
    path(F + "/deployments/vcs", deployments.VcsDeploymentView.as_view()),
    path(D, deployments.DeploymentView.as_view()),
    path(D + "/download", deployments.DownloadView.as_view()),
    path(D + "/build/download", deployments.BuildDownloadView.as_view()),
    path(D + "/status", deployments.CancelView.as_view()),
    path(D + "/build", deployments.BuildAliasView.as_view()),
    path(D + "/builds/<str:build_id>", deployments.LegacyBuildView.as_view()),
    path(F + "/executions", executions.ExecutionsView.as_view()),
    path(F + "/executions/<str:execution_id>", executions.ExecutionView.as_view()),
    path(F + "/variables", variables.VariablesView.as_view()),
    path(F + "/variables/<str:variable_id>", variables.VariableView.as_view()),
    path("project/variables", variables.VariablesView.as_view()),
    path("proxy/rules", rules.RulesView.as_view()),
    path("proxy/rules/function", rules.FunctionRuleView.as_view()),
    path("proxy/rules/<str:rule_id>", rules.RuleView.as_view()),
    path("health", health.HealthView.as_view()),
    path("health/version", health.VersionView.as_view()),
    path("health/db", health.HealthDBView.as_view()),
    path("health/cache", health.HealthCacheView.as_view()),
    path("health/pubsub", health.HealthPubSubView.as_view()),
    path("health/time", health.HealthTimeView.as_view()),
    path("health/storage", health.HealthStorageView.as_view()),
    path("health/storage/local", health.HealthStorageLocalView.as_view()),
    path("health/anti-virus", health.HealthAntivirusView.as_view()),
    path("health/queue/databases", health.HealthDatabasesQueueView.as_view()),
    path("health/queue/failed/<str:name>", health.HealthFailedView.as_view()),
    *(
        path(f"health/queue/{name}", health.HealthQueueView.as_view(queue=name))
        for name in health_service.QUEUES
        if name != "databases"
    ),
    path("project/variables/<str:variable_id>", variables.VariableView.as_view()),
    path("account", account.AccountView.as_view()),
    path("account/sessions/email", account.EmailSessionView.as_view()),
    path("account/sessions", account.SessionsView.as_view()),
    path("account/sessions/<str:session_id>", account.SessionView.as_view()),
    path("account/jwts", account.JWTView.as_view()),
    path("account/jwt", account.JWTAliasView.as_view()),
    path("users", users.UsersView.as_view()),
    path("users/<str:user_id>", users.UserView.as_view()),
    path("users/<str:user_id>/name", users.UserNameView.as_view()),
    path("users/<str:user_id>/email", users.UserEmailView.as_view()),
    path("users/<str:user_id>/status", users.UserStatusView.as_view()),
    path("users/<str:user_id>/labels", users.UserLabelsView.as_view()),
    path("console/variables", console.ConsoleVariablesView.as_view()),
    path("vcs/webhooks/<str:installation_id>", webhooks.WebhookView.as_view()),
    path("openapi.json", openapi.OpenAPIView.as_view()),
    re_path(r"^.*$", route_not_found),
]
