"""Creating, updating and deleting functions."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import runtimes
from ..errors import AppwriteError
from ..ids import unique_id
from ..models import Function
from . import builder, cache, enqueue, events, executor, rules, scheduler, storage, vcs
from .specifications import DEFAULT_SLUG

# Fields a PUT resets to these values when they are left out.
DEFAULTS = {
    "execute": [],
    "events": [],
    "schedule": "",
    "timeout": 15,
    "enabled": True,
    "logging": True,
    "commands": "",
    "scopes": [],
    "installation_id": "",
    "provider_branch": "",
    "provider_silent_mode": False,
    "provider_root_directory": "",
    "specification": DEFAULT_SLUG,
}
# A change to one of these means the active deployment no longer matches the configuration.
LIVE_FIELDS = ("name", "entrypoint", "commands", "provider_root_directory", "runtime")


def available_runtimes():
    """The registry's runtimes this instance offers (``FUNCTIONS_RUNTIMES`` narrows them)."""
    allowlist = settings.FUNCTIONS_RUNTIMES
    return [
        rt
        for rt in runtimes.registry().values()
        if rt.runs_here and (not allowlist or rt.id in allowlist)
    ]


def runnable(project, function_id):
    """The function, to run it: cached (see ``cache``), so never edited nor rendered."""
    function = cache.lookup(
        "function",
        (project.pk, function_id),
        lambda: Function.objects.filter(project=project, uid=function_id).first(),
    )
    if function is None:
        raise AppwriteError("function_not_found")
    return function


def check_runtime_available(runtime_id):
    allowlist = settings.FUNCTIONS_RUNTIMES
    runtime = runtimes.get(runtime_id)
    if runtime is None or not runtime.runs_here or (allowlist and runtime_id not in allowlist):
        raise AppwriteError(
            "function_runtime_unsupported", f'Runtime "{runtime_id}" is not supported'
        )


# The VCS link's fields besides the repository (see ``_resolve_link``).
LINK_FIELDS = (
    "installation_id",
    "provider_branch",
    "provider_root_directory",
    "provider_silent_mode",
)


def _resolve_link(function, fields):
    """PUT semantics for the VCS link, with Appwrite's "an absent ``providerRepositoryId`` keeps
    the link": without it the link stays as it is (each other VCS field too, unless given);
    ``""`` unlinks (they all reset); a repository resets the VCS fields left out."""
    repository = fields.get("provider_repository_id")
    if repository is None:
        fields["provider_repository_id"] = function.provider_repository_id
    for name in LINK_FIELDS:
        if fields.get(name) is None or repository == "":
            keep = repository is None and fields.get(name) is None
            fields[name] = getattr(function, name) if keep else DEFAULTS[name]


def check_creation_limit(project):
    """``FUNCTIONS_CREATION_ABUSE_LIMIT`` functions per project per 24 hours (0: no limit)."""
    limit = settings.FUNCTIONS_CREATION_ABUSE_LIMIT
    since = timezone.now() - timedelta(days=1)
    if limit and Function.objects.filter(project=project, created_at__gte=since).count() >= limit:
        raise AppwriteError("general_rate_limit_exceeded")


def create_function(project, function_id, fields, origin=None):
    check_creation_limit(project)
    if function_id == "unique()":
        function_id = unique_id()
    check_runtime_available(fields["runtime"])
    vcs.check_link(project, fields)
    try:
        with transaction.atomic():
            function = Function.objects.create(
                project=project, uid=function_id, **{**DEFAULTS, **fields}
            )
            rules.create_rule(function)
    except IntegrityError:
        raise AppwriteError("function_already_exists") from None
    scheduler.refresh(function)
    events.function_changed(function, "create", origin)
    vcs.deploy_if_relinked(function, ("", "", ""), origin)
    return function


def update_function(function, fields, origin=None):
    """PUT semantics: omitted optional fields reset to their defaults (the VCS link is kept
    unless ``providerRepositoryId`` is given). Linking, or changing the repository or the
    branch, deploys the branch head once."""
    _resolve_link(function, fields)
    vcs.check_link(function.project, fields, current=function)
    linked_before = vcs.link_of(function)
    if not fields.get("runtime"):
        fields["runtime"] = function.runtime
    if not fields.get("entrypoint"):
        fields["entrypoint"] = function.entrypoint
    values = {**DEFAULTS, **fields}
    values["live"] = all(getattr(function, name) == values[name] for name in LIVE_FIELDS)
    if values["specification"] != function.specification:
        executor.remove_function_runtimes(function)  # new limits need a new container
    for name, value in values.items():
        setattr(function, name, value)
    function.save()
    scheduler.refresh(function)
    events.function_changed(function, "update", origin)
    vcs.deploy_if_relinked(function, linked_before, origin)
    return function


def update_scaling(function, fields, origin=None):
    """Keep warm, most replicas, most executions at once (``api.fields.scaling_fields``)."""
    if all(getattr(function, name) == value for name, value in fields.items()):
        return function
    warming = fields["keep_warm"] and not function.keep_warm
    for name, value in fields.items():
        setattr(function, name, value)
    function.save(update_fields=list(fields))
    if warming:
        enqueue.warm_up(function)
    events.function_changed(function, "update", origin)
    return function


def delete_function(function, origin=None):
    """Deletes the function and everything under it: variables, deployments and their files,
    executions, and its build and runtime containers."""
    deployments = list(function.deployments.all())
    for deployment in deployments:
        if not deployment.is_final:
            builder.stop(deployment)
    executor.remove_function_runtimes(function)
    payload = events.payload_of(function)
    function.delete()
    events.function_changed(function, "delete", origin, payload)
    for deployment in deployments:
        storage.remove_deployment_files(deployment)
