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
    path(D + "/build/download", deployments.DownloadView.as_view(), {"kind": "output"}),
    path(D + "/status", deployments.CancelView.as_view()),
    path(D + "/build", deployments.BuildAliasView.as_view()),
    path(D + "/builds/<str:build_id>", deployments.DuplicateView.as_view()),
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
    path("health/db", health.HealthView.as_view(check="db")),
    path("health/cache", health.HealthView.as_view(check="empty_list")),
    path("health/pubsub", health.HealthView.as_view(check="empty_list")),
    path("health/time", health.HealthView.as_view(check="time")),
    path("health/storage", health.HealthView.as_view(check="storage")),
    path("health/storage/local", health.HealthView.as_view(check="storage")),
    path("health/anti-virus", health.HealthView.as_view(check="antivirus")),
    path("health/queue/databases", health.HealthView.as_view(check="databases")),
    path("health/queue/failed/<str:name>", health.HealthView.as_view(check="failed")),
    *(
        path(f"health/queue/{name}", health.HealthView.as_view(check="queue"), {"name": name})
        for name in health_service.QUEUES
        if name != "databases"
    ),
    path("project/variables/<str:variable_id>", variables.VariableView.as_view()),
    path("account", account.AccountView.as_view()),
    path("account/sessions/email", account.EmailSessionView.as_view()),
    path("account/sessions", account.SessionsView.as_view()),
    path("account/sessions/<str:session_id>", account.SessionView.as_view()),
    path("account/jwts", account.JWTView.as_view()),
    path("account/jwt", account.JWTView.as_view()),
    path("users", users.UsersView.as_view()),
    path("users/<str:user_id>", users.UserView.as_view()),
    *(
        path(f"users/<str:user_id>/{field}", users.UserFieldView.as_view(field=field))
        for field in ("name", "email", "status", "labels")
    ),
    path("console/variables", console.ConsoleVariablesView.as_view()),
    path("vcs/webhooks/<str:installation_id>", webhooks.WebhookView.as_view()),
    re_path(r"^.*$", route_not_found),
]
