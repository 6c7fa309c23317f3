from django.contrib.auth import views as auth_views
from django.urls import path

from .views import (
    configuration,
    deployments,
    executions,
    functions,
    git,
    platforms,
    projects,
    templates,
    usage,
    users,
    variables,
)

app_name = "console"
P = "projects/<str:project_id>"
F = P + "/functions/<str:function_id>"
D = F + "/deployments/<str:deployment_id>"
E = F + "/executions/<str:execution_id>"
V = F + "/variables/<str:variable_id>"

urlpatterns = [
    path("", projects.home, name="home"),
    path("login", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("projects", projects.projects, name="projects"),
    path(P + "/keys", projects.keys, name="keys"),
    path(P + "/keys/<int:key_id>/revoke", projects.revoke_key, name="revoke-key"),
    path(P + "/users", users.user_list, name="users"),
    path(P + "/users/<str:user_id>/status", users.user_status, name="user-status"),
    path(P + "/users/<str:user_id>/delete", users.user_delete, name="user-delete"),
    path(P + "/platforms", platforms.platform_list, name="platforms"),
    path(P + "/platforms/<str:platform_id>", platforms.platform_update, name="platform"),
    path(
        P + "/platforms/<str:platform_id>/delete",
        platforms.platform_delete,
        name="platform-delete",
    ),
    path(P + "/git", git.connection_list, name="git"),
    path(P + "/git/<str:installation_id>", git.connection_update, name="git-connection"),
    path(
        P + "/git/<str:installation_id>/delete",
        git.connection_delete,
        name="git-connection-delete",
    ),
    path(P + "/templates", templates.template_list, name="templates"),
    path(P + "/templates/<str:template_id>", templates.template_create, name="template"),
    path(P + "/functions", functions.function_list, name="functions"),
    path(P + "/functions/new", functions.function_create, name="function-create"),
    path(F, deployments.deployment_list, name="function"),
    path(F + "/deployments", deployments.deployment_list, name="deployments"),
    path(F + "/deployments/upload", deployments.deployment_upload, name="deployment-upload"),
    path(D, deployments.deployment_detail, name="deployment"),
    path(D + "/status", deployments.deployment_status, name="deployment-status"),
    path(D + "/download/<str:kind>", deployments.deployment_download, name="deployment-download"),
    path(D + "/<str:action>", deployments.deployment_action, name="deployment-action"),
    path(F + "/executions", executions.execution_list, name="executions"),
    path(F + "/executions/new", executions.execution_create, name="execution-create"),
    path(E, executions.execution_detail, name="execution"),
    path(E + "/status", executions.execution_status, name="execution-status"),
    path(F + "/variables", variables.variable_list, name="variables"),
    path(V, variables.variable_update, name="variable"),
    path(V + "/delete", variables.variable_delete, name="variable-delete"),
    path(F + "/settings", configuration.settings_tab, name="settings"),
    path(F + "/scaling", configuration.scaling_update, name="scaling"),
    path(F + "/rules", configuration.rule_create, name="rule-create"),
    path(F + "/rules/<str:rule_id>/delete", configuration.rule_delete, name="rule-delete"),
    path(F + "/git/link", git.function_link, name="function-git-link"),
    path(F + "/git/deploy", git.function_deploy, name="function-git-deploy"),
    path(F + "/delete", configuration.function_delete, name="function-delete"),
    path(F + "/usage", usage.usage_tab, name="usage"),
    path("runtimes", usage.runtimes, name="runtimes"),
    path("specifications", usage.specification_list, name="specifications"),
]
