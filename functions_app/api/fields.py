"""Each resource's parameters, declared once (``Param``s in Appwrite's order) and shared by the
API views (which declare them on their operations), the console and the admin (which check
their forms with them, so they show the API's exact errors). None of it is a view."""

from dataclasses import replace

from django.conf import settings

from .. import runtimes
from ..errors import AppwriteError, argument_invalid
from ..services import catalog, execution_requests, executions, functions, vcs
from ..services.callers import SCOPES_ALL
from . import params as p
from .declarations import Param, clean

# -- lists --------------------------------------------------------------------------------

QUERIES = Param("queries", p.Queries(), default=[], key="raw_queries")
SEARCH = Param("search", p.Text(256), key="search")
TOTAL = Param("total", p.Boolean(loose=True), default=True, key="count_total")
LIST = (QUERIES, SEARCH, TOTAL)

# -- functions ----------------------------------------------------------------------------

FUNCTION_ID = Param("functionId", p.CustomId(), required=True, key="function_id")
USER_ID = Param("userId", p.CustomId(), required=True, key="user_id")


def function_params(creating):
    """The create (``creating``) or update body, in Appwrite's order, as model field values.
    On update, a VCS field left out is None: the service decides (the link is kept unless
    ``providerRepositoryId`` is given)."""
    unset = "" if creating else None
    return (
        Param("name", p.Text(128), required=True),
        Param("runtime", p.WhiteList(runtimes.known_ids), required=creating, default=""),
        Param("execute", p.Roles(100), default=[]),
        Param("events", p.FunctionEvents(100), default=[]),
        Param("schedule", p.Cron(), default=""),
        Param("timeout", p.Range(1, settings.FUNCTIONS_TIMEOUT_MAX), default=15),
        Param("enabled", p.Boolean(), default=True),
        Param("logging", p.Boolean(), default=True),
        Param("entrypoint", p.Text(1028, 0), default=""),
        Param("commands", p.Text(8192, 0), default=""),
        Param("scopes", p.ArrayList(p.WhiteList(SCOPES_ALL), 100), default=[]),
        Param("installationId", p.Text(128, 0), default=unset, key="installation_id"),
        Param("providerRepositoryId", p.Text(128, 0), default=unset, key="provider_repository_id"),
        Param("providerBranch", p.Text(128, 0), default=unset, key="provider_branch"),
        Param(
            "providerSilentMode",
            p.Boolean(),
            default=False if creating else None,
            key="provider_silent_mode",
        ),
        Param(
            "providerRootDirectory", p.Text(128, 0), default=unset, key="provider_root_directory"
        ),
        Param("specification", p.Specification(), default=functions.DEFAULTS["specification"]),
    )


def function_fields(data, creating):
    """Validate the create/update body into model field values (Appwrite's rules and order)."""
    return clean(function_params(creating), data)


SCALING = (
    Param("keepWarm", p.Boolean(loose=True), default=False, key="keep_warm"),
    Param("maxReplicas", p.Range(0, 64), default=0, key="max_replicas"),
    Param("maxConcurrency", p.Range(0, 10000), default=0, key="max_concurrency"),
)


def scaling_fields(data):
    """A function's scaling settings (console and admin; beyond Appwrite's API): keep one
    container warm, most replicas and most executions at once (0: the defaults)."""
    return clean(SCALING, data)


# -- deployments --------------------------------------------------------------------------


def no_file_sent():
    return AppwriteError("storage_file_empty", p.File.description)


UPLOAD = (
    Param("activate", p.Boolean(loose=True), required=True),
    Param("entrypoint", p.Text(1028)),
    Param("commands", p.Text(8192, 0)),
    # Checked last, as Appwrite's action checks it after the framework checked the others.
    Param("code", p.File(), required=True, missing=no_file_sent, aliases=("0",)),
)


def upload_fields(data, function):
    """An upload's form (its file parts included) -> (file, activate, entrypoint, commands)."""
    return upload_values(clean(UPLOAD, data), function)


def upload_values(values, function):
    """The cleaned ``UPLOAD`` values -> (file, activate, entrypoint, commands)."""
    upload = values["code"]
    if not upload.name.lower().endswith(".gz"):
        raise AppwriteError("storage_file_type_unsupported")
    entrypoint = values["entrypoint"] or function.entrypoint
    if not entrypoint:
        raise AppwriteError("function_entrypoint_missing")
    commands = function.commands if values["commands"] is None else values["commands"]
    return upload, values["activate"], entrypoint, commands


# -- git deployments and templates ---------------------------------------------------------

ACTIVATE = Param("activate", p.Boolean(), default=False)
TEMPLATE_SOURCE = (
    Param("repository", p.Text(128, 0), required=True),
    Param("owner", p.Text(128, 0), required=True),
    Param("rootDirectory", p.Text(128, 0), required=True, key="root"),
)
TEMPLATE_REFERENCE = (
    Param("type", p.WhiteList(vcs.TYPES), required=True, key="type_"),
    Param("reference", p.Text(128, 0), required=True),
)
TEMPLATE_VERSION = Param(
    "version",
    p.Text(128, 0),
    required=True,
    key="reference",
    description="Appwrite 1.8.0's form: a tag or tag pattern (`1.*`), sent instead of `type` "
    "and `reference` (when `type` is sent, `version` is ignored)",
)
TEMPLATE_DEPLOYMENT = (*TEMPLATE_SOURCE, *TEMPLATE_REFERENCE, ACTIVATE)
TEMPLATE_DEPLOYMENT_1_8_0 = (
    *TEMPLATE_SOURCE,
    TEMPLATE_VERSION,
    Param("type", p.WhiteList(vcs.TYPES), default="tag", key="type_"),  # never sent in this form
    ACTIVATE,
)
# What the description says: the 1.8.1 form, and ``version`` as the alternative it is.
TEMPLATE_DEPLOYMENT_DESCRIBED = (
    *TEMPLATE_SOURCE,
    *TEMPLATE_REFERENCE,
    replace(TEMPLATE_VERSION, required=False),
    ACTIVATE,
)
VCS_DEPLOYMENT = (
    Param("type", p.WhiteList(vcs.TYPES), required=True, key="type_"),
    Param("reference", p.Text(255), required=True),
    ACTIVATE,
)
TEMPLATE_FILTERS = (
    Param(
        "runtimes",
        p.ArrayList(p.WhiteList(runtimes.known_ids), 100),
        default=[],
        key="runtime_ids",
    ),
    Param(
        "useCases", p.ArrayList(p.WhiteList(catalog.USE_CASES), 100), default=[], key="use_cases"
    ),
    Param("limit", p.Range(1, 5000), default=25),
    Param("offset", p.Range(0, 5000), default=0),
)


def template_deployment_params(data):
    """``createTemplateDeployment``'s parameters for this body: the 1.8.1 form (``type`` +
    ``reference``, what SDK 16 sends) or the 1.8.0 one (``version``, without ``type``)."""
    if "version" in data and "type" not in data:
        return TEMPLATE_DEPLOYMENT_1_8_0
    return TEMPLATE_DEPLOYMENT


def vcs_deployment_fields(data):
    """``createVcsDeployment``: ``type`` (branch, commit or tag: SDK 16 offers tag, Appwrite
    1.8.0 refused it) and ``reference``."""
    return clean(VCS_DEPLOYMENT, data)


# -- users ----------------------------------------------------------------------------------

USER = (
    Param("email", p.Email()),
    Param("phone", p.Phone()),
    Param("password", p.Password(dictionary=True)),
    Param("name", p.Text(128, 0), default=""),
)


def user_fields(data):
    """``POST /users`` (and the console's form): every field optional but the ID."""
    return clean(USER, data)


# -- variables ------------------------------------------------------------------------------

VARIABLE_CREATE = (
    Param("key", p.VariableKey(), required=True),
    Param("value", p.Text(8192, 0), required=True),
    Param("secret", p.Boolean(), default=True),
)
VARIABLE_UPDATE = (
    Param("key", p.VariableKey(), required=True),
    Param("value", p.Text(8192, 0)),
    Param("secret", p.Boolean()),
)


def variable_create_fields(data):
    return clean(VARIABLE_CREATE, data)


def variable_update_fields(data):
    return clean(VARIABLE_UPDATE, data)


# -- proxy rules ----------------------------------------------------------------------------

FUNCTION_RULE = (
    Param("domain", p.Domain(), required=True),
    Param("functionId", p.UID(), required=True, key="function_id"),
    Param("branch", p.Text(255, 0), default=""),
)


def function_rule_fields(data):
    """``POST /v1/proxy/rules/function``: its params, in Appwrite's order."""
    return clean(FUNCTION_RULE, data)


# -- executions -----------------------------------------------------------------------------

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
EXECUTION = (
    Param("body", p.Body(10485760), default=b""),
    Param("async", p.Boolean(loose=True), default=False),
    Param("path", p.ExecutionPath(), default="/"),
    Param("method", p.WhiteList(METHODS), default="POST"),
    Param("headers", p.Headers(), default={}),
    Param(
        "scheduledAt",
        p.Text(100),
        description="ISO 8601 date-time of a whole minute at least a minute ahead (with `async`)",
    ),
)


def execution_request(caller, data, meta):
    """The createExecution body (raw) -> (request, async, scheduled moment)."""
    return execution_request_of(caller, clean(EXECUTION, data), meta)


def execution_request_of(caller, values, meta):
    """The cleaned ``EXECUTION`` values -> (request, async, scheduled moment)."""
    run_async, scheduled_at = values["async"], values["scheduledAt"]
    if scheduled_at and not run_async:
        raise AppwriteError(
            "general_bad_request",
            "Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.",
        )
    moment = executions.parse_scheduled_at(scheduled_at) if scheduled_at else None
    message = p.validate_execution_headers(values["headers"])
    if message:
        raise argument_invalid(message)
    path = values["path"]
    request = execution_requests.Request(
        method=values["method"],
        path=path if path.startswith("/") else f"/{path}",
        headers=values["headers"],
        body=values["body"],
        user_id=caller.end_user_id,
        client_ip=meta.get("REMOTE_ADDR", ""),
    )
    return request, run_async, moment
