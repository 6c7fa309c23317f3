"""The environment every build and execution container receives: Appwrite's ``APPWRITE_*``
variables, then the project's and the function's own variables (later ones win)."""

import re

from django.conf import settings

from .. import runtimes
from ..models import Variable

ENV_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def container_environment(function, deployment, spec):
    return function_environment(function, deployment, spec) | user_variables(function)


def user_variables(function):
    """Project variables, then function variables. As Appwrite's executor does, only keys of
    ``[A-Za-z0-9_.-]`` reach a container (the API accepts no others; a row written some other
    way cannot break the container's environment)."""
    merged = {
        v.key: v.value
        for v in Variable.objects.filter(project_id=function.project_id, function=None)
    }
    merged.update({v.key: v.value for v in function.variables.all()})
    return {k: v for k, v in merged.items() if ENV_KEY.fullmatch(k) and "\x00" not in v}


def function_environment(function, deployment, spec):
    runtime = runtimes.get(function.runtime)
    vcs = deployment.vcs or {}
    return {
        "APPWRITE_FUNCTION_API_ENDPOINT": f"{settings.PUBLIC_URL.rstrip('/')}/v1",
        "APPWRITE_FUNCTION_ID": function.uid,
        "APPWRITE_FUNCTION_NAME": function.name,
        "APPWRITE_FUNCTION_DEPLOYMENT": deployment.uid,
        "APPWRITE_FUNCTION_PROJECT_ID": function.project_id,
        "APPWRITE_FUNCTION_RUNTIME_NAME": runtime.name if runtime else "",
        "APPWRITE_FUNCTION_RUNTIME_VERSION": runtime.version if runtime else "",
        "APPWRITE_FUNCTION_CPUS": f"{spec.cpus:g}",
        "APPWRITE_FUNCTION_MEMORY": str(spec.memory),
        "APPWRITE_VERSION": settings.APPWRITE_VERSION,
        "APPWRITE_REGION": "default",
        "APPWRITE_DEPLOYMENT_TYPE": deployment.type,
        "APPWRITE_VCS_REPOSITORY_ID": function.provider_repository_id,
        "APPWRITE_VCS_REPOSITORY_NAME": vcs.get("providerRepositoryName", ""),
        "APPWRITE_VCS_REPOSITORY_OWNER": vcs.get("providerRepositoryOwner", ""),
        "APPWRITE_VCS_REPOSITORY_URL": vcs.get("providerRepositoryUrl", ""),
        "APPWRITE_VCS_REPOSITORY_BRANCH": vcs.get("providerBranch", ""),
        "APPWRITE_VCS_REPOSITORY_BRANCH_URL": vcs.get("providerBranchUrl", ""),
        "APPWRITE_VCS_COMMIT_HASH": vcs.get("providerCommitHash", ""),
        "APPWRITE_VCS_COMMIT_MESSAGE": vcs.get("providerCommitMessage", ""),
        "APPWRITE_VCS_COMMIT_URL": vcs.get("providerCommitUrl", ""),
        "APPWRITE_VCS_COMMIT_AUTHOR_NAME": vcs.get("providerCommitAuthor", ""),
        "APPWRITE_VCS_COMMIT_AUTHOR_URL": vcs.get("providerCommitAuthorUrl", ""),
        "APPWRITE_VCS_ROOT_DIRECTORY": function.provider_root_directory,
    }
