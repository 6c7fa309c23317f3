"""Request bodies parsed into service arguments, with Appwrite's exact errors: one parser per
resource, shared by the API views, the console and the admin (none of which imports another's
views)."""

from django.conf import settings

from .. import runtimes
from ..errors import AppwriteError, argument_invalid
from ..services import catalog, execution_requests, executions, functions, vcs
from ..services.callers import SCOPES_ALL
from . import params as p


def function_fields(data, creating):
    """Validate the create/update body into model field values (Appwrite's rules and order)."""

    def vcs_default(value):
        return value if creating else None

    fields = {
        "name": p.get(data, "name", p.Text(128), required=True),
        "runtime": p.get(data, "runtime", p.WhiteList(runtimes.known_ids()), required=creating)
        or "",
        "execute": p.get(data, "execute", p.Roles(100), default=[]),
        "events": p.get(data, "events", p.FunctionEvents(100), default=[]),
        "schedule": p.get(data, "schedule", p.Cron(), default=""),
        "timeout": p.get(data, "timeout", p.Range(1, settings.FUNCTIONS_TIMEOUT_MAX), default=15),
        "enabled": p.get(data, "enabled", p.Boolean(), default=True),
        "logging": p.get(data, "logging", p.Boolean(), default=True),
        "entrypoint": p.get(data, "entrypoint", p.Text(1028, 0), default=""),
        "commands": p.get(data, "commands", p.Text(8192, 0), default=""),
        "scopes": p.get(data, "scopes", p.ArrayList(p.WhiteList(SCOPES_ALL), 100), default=[]),
        # On update, a VCS field left out is None: the service decides (the link is kept
        # unless providerRepositoryId is given).
        "installation_id": p.get(data, "installationId", p.Text(128, 0), default=vcs_default("")),
        "provider_repository_id": p.get(data, "providerRepositoryId", p.Text(128, 0), default=None),
        "provider_branch": p.get(data, "providerBranch", p.Text(128, 0), default=vcs_default("")),
        "provider_silent_mode": p.get(
            data, "providerSilentMode", p.Boolean(), default=vcs_default(False)
        ),
        "provider_root_directory": p.get(
            data, "providerRootDirectory", p.Text(128, 0), default=vcs_default("")
        ),
        "specification": p.get(
            data, "specification", p.Specification(), default=functions.DEFAULTS["specification"]
        ),
    }
    if creating and fields["provider_repository_id"] is None:
        fields["provider_repository_id"] = ""
    return fields


def upload_fields(request, data, function):
    activate = p.get(data, "activate", p.Boolean(loose=True), required=True)
    entrypoint = p.get(data, "entrypoint", p.Text(1028), default=None) or function.entrypoint
    commands = p.get(data, "commands", p.Text(8192, 0), default=None)
    upload = request.FILES.get("code") or request.FILES.get("0")
    if upload is None:
        raise AppwriteError("storage_file_empty", "No file sent")
    if not upload.name.lower().endswith(".gz"):
        raise AppwriteError("storage_file_type_unsupported")
    if not entrypoint:
        raise AppwriteError("function_entrypoint_missing")
    return upload, activate, entrypoint, function.commands if commands is None else commands


def template_deployment_fields(data):
    """``createTemplateDeployment``: the 1.8.1 form (``type`` + ``reference``, what SDK 16
    sends) or the 1.8.0 one (``version``, a tag or tag pattern)."""
    fields = {
        "repository": p.get(data, "repository", p.Text(128, 0), required=True),
        "owner": p.get(data, "owner", p.Text(128, 0), required=True),
        "root": p.get(data, "rootDirectory", p.Text(128, 0), required=True),
    }
    if "version" in data and "type" not in data:
        fields["type_"] = "tag"
        fields["reference"] = p.get(data, "version", p.Text(128, 0), required=True)
    else:
        fields["type_"] = p.get(data, "type", p.WhiteList(vcs.TYPES), required=True)
        fields["reference"] = p.get(data, "reference", p.Text(128, 0), required=True)
    fields["activate"] = p.get(data, "activate", p.Boolean(), default=False)
    return fields


def vcs_deployment_fields(data):
    """``createVcsDeployment``: ``type`` (branch, commit or tag: SDK 16 offers tag, Appwrite
    1.8.0 refused it) and ``reference``."""
    return {
        "type_": p.get(data, "type", p.WhiteList(vcs.TYPES), required=True),
        "reference": p.get(data, "reference", p.Text(255), required=True),
        "activate": p.get(data, "activate", p.Boolean(), default=False),
    }


def template_filters(data):
    """``listTemplates``: Appwrite's filters and page."""
    return {
        "runtime_ids": p.get(
            data, "runtimes", p.ArrayList(p.WhiteList(runtimes.known_ids()), 100), default=[]
        ),
        "use_cases": p.get(
            data, "useCases", p.ArrayList(p.WhiteList(catalog.USE_CASES), 100), default=[]
        ),
        "limit": p.get(data, "limit", p.Range(1, 5000), default=25),
        "offset": p.get(data, "offset", p.Range(0, 5000), default=0),
    }


def user_fields(data):
    """``POST /users`` (and the console's form): every field optional but the ID."""
    return {
        "email": p.get(data, "email", p.Email(), default=None),
        "phone": p.get(data, "phone", p.Phone(), default=None),
        "password": p.get(data, "password", p.Password(dictionary=True), default=None),
        "name": p.get(data, "name", p.Text(128, 0), default=""),
    }


def variable_create_fields(data):
    return {
        "key": p.get(data, "key", p.VariableKey(), required=True),
        "value": p.get(data, "value", p.Text(8192, 0), required=True),
        "secret": p.get(data, "secret", p.Boolean(), default=True),
    }


def variable_update_fields(data):
    return {
        "key": p.get(data, "key", p.VariableKey(), required=True),
        "value": p.get(data, "value", p.Text(8192, 0), default=None),
        "secret": p.get(data, "secret", p.Boolean(), default=None),
    }


def function_rule_fields(data):
    """``POST /v1/proxy/rules/function``: its params, in Appwrite's order."""
    return {
        "domain": p.get(data, "domain", p.Domain(), required=True),
        "function_id": p.get(data, "functionId", p.UID(), required=True),
        "branch": p.get(data, "branch", p.Text(255, 0), default=""),
    }


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


def execution_request(caller, data, meta):
    body = p.get(data, "body", p.Body(10485760), default=b"")
    run_async = p.get(data, "async", p.Boolean(loose=True), default=False)
    path = p.get(data, "path", p.ExecutionPath(), default="/")
    method = p.get(data, "method", p.WhiteList(METHODS), default="POST")
    headers = p.get(data, "headers", p.Headers(), default={})
    scheduled_at = p.get(data, "scheduledAt", p.Text(100), default=None)
    if scheduled_at and not run_async:
        raise AppwriteError(
            "general_bad_request",
            "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
        )
    moment = executions.parse_scheduled_at(scheduled_at) if scheduled_at else None
    message = p.validate_execution_headers(headers)
    if message:
        raise argument_invalid(message)
    request = execution_requests.Request(
        method=method,
        path=path if path.startswith("/") else f"/{path}",
        headers=headers,
        body=body,
        user_id=caller.end_user_id,
        client_ip=meta.get("REMOTE_ADDR", ""),
    )
    return request, run_async, moment
