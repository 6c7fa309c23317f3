"""/v1/console/variables: the instance's settings the Appwrite CLI reads (project ``console``)."""

from django.conf import settings

from ..errors import AppwriteError
from .base import AppwriteView, ok
from .declarations import operation


class ConsoleVariablesView(AppwriteView):
    scopes = {"GET": "projects.read"}
    project_required = False

    @operation("variables", "Get console variables", returns={200: "consoleVariables"})
    def get(self, request):
        if self.project is not None:
            raise AppwriteError("general_access_forbidden")
        return ok(console_variables())


def console_variables():
    """Appwrite 1.8's ``ConsoleVariables``, in its order, from our settings."""
    return {
        "_APP_DOMAIN_TARGET_CNAME": "",
        "_APP_DOMAIN_TARGET_A": "",
        "_APP_DOMAIN_TARGET_AAAA": "",
        "_APP_DOMAIN_TARGET_CAA": '0 issue ""',
        "_APP_STORAGE_LIMIT": settings.COMPUTE_SIZE_LIMIT,
        "_APP_COMPUTE_SIZE_LIMIT": settings.COMPUTE_SIZE_LIMIT,
        "_APP_USAGE_STATS": "enabled",
        "_APP_VCS_ENABLED": False,
        "_APP_DOMAIN_ENABLED": False,
        "_APP_ASSISTANT_ENABLED": False,
        "_APP_DOMAIN_SITES": "",
        "_APP_DOMAIN_FUNCTIONS": settings.FUNCTIONS_DOMAIN,
        "_APP_OPTIONS_FORCE_HTTPS": "disabled",
        "_APP_DOMAINS_NAMESERVERS": "",
        "_APP_COMPUTE_BUILD_TIMEOUT": settings.COMPUTE_BUILD_TIMEOUT,
    }
