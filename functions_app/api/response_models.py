"""Appwrite 1.8's response models as OpenAPI schemas, keyed by Appwrite's model names: what
``services/documents.py`` (and the health and console views) produce, property for property
and in the same order (``tests/test_openapi.py`` checks every document against its model)."""

from ..services import documents

STRING = {"type": "string"}
INTEGER = {"type": "integer", "format": "int64"}
NUMBER = {"type": "number", "format": "double"}
BOOLEAN = {"type": "boolean"}
DATETIME = {"type": "string", "description": "ISO 8601 (`2025-09-01T10:00:00.000+00:00`), or empty"}
OBJECT = {"type": "object", "additionalProperties": True}


def array(item):
    return {"type": "array", "items": item}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def enum(*values):
    return {"type": "string", "enum": list(values)}


def nullable(schema):
    return {**schema, "nullable": True}


# Beyond Appwrite's model: SDKs that do not know it ignore it.
KEEP_WARM = "Whether one container of the active deployment always runs (set in the console)."


def model(description, properties, optional=()):
    """An object schema: every property required but the ``optional`` ones, and no other."""
    required = [name for name in properties if name not in optional]
    return {
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def listing(description, key, item):
    return model(description, {"total": INTEGER, key: array(ref(item))})


def strings(*names):
    return dict.fromkeys(names, STRING)


BASE = {"$id": STRING, "$createdAt": DATETIME, "$updatedAt": DATETIME}
DEPLOYMENT_STATUS = enum("waiting", "processing", "building", "ready", "canceled", "failed")
VCS = strings(
    "providerRepositoryName",
    "providerRepositoryOwner",
    "providerRepositoryUrl",
    "providerCommitHash",
    "providerCommitAuthorUrl",
    "providerCommitAuthor",
    "providerCommitMessage",
    "providerCommitUrl",
    "providerBranch",
    "providerBranchUrl",
)
SESSION_CLIENT = strings(
    "osCode",
    "osName",
    "osVersion",
    "clientType",
    "clientCode",
    "clientName",
    "clientVersion",
    "clientEngine",
    "clientEngineVersion",
    "deviceName",
    "deviceBrand",
    "deviceModel",
)
USAGE_TOTALS = (
    "functionsTotal",
    "deploymentsTotal",
    "deploymentsStorageTotal",
    "buildsTotal",
    "buildsStorageTotal",
    "buildsTimeTotal",
    "buildsMbSecondsTotal",
    "executionsTotal",
    "executionsTimeTotal",
    "executionsMbSecondsTotal",
    "buildsSuccessTotal",
    "buildsFailedTotal",
    "buildsTimeAverage",
)


def usage(description, keys):
    """UsageFunctions / UsageFunction: ``range``, totals (integers) and Metric series."""
    types = {key: INTEGER if key in USAGE_TOTALS else array(ref("metric")) for key in keys}
    return model(description, {"range": STRING} | types)


MODELS = {
    "any": {"description": "Any", "type": "object", "additionalProperties": True},
    "error": model(
        "Error",
        {"message": STRING, "code": INTEGER, "type": STRING, "version": STRING},
    ),
    "variable": model(
        "Variable",
        BASE
        | {
            "key": STRING,
            "value": {**STRING, "description": "Empty when the variable is secret"},
            "secret": BOOLEAN,
            "resourceType": STRING,
            "resourceId": STRING,
        },
    ),
    "function": model(
        "Function",
        BASE
        | {"execute": array(STRING), "name": STRING}
        | dict.fromkeys(("enabled", "live", "logging"), BOOLEAN)
        | {"runtime": STRING, "deploymentId": STRING, "deploymentCreatedAt": DATETIME}
        | {"latestDeploymentId": STRING, "latestDeploymentCreatedAt": DATETIME}
        | {"latestDeploymentStatus": STRING, "scopes": array(STRING)}
        | {"vars": array(ref("variable")), "events": array(STRING), "schedule": STRING}
        | {"timeout": INTEGER}
        | strings("entrypoint", "commands", "version", "installationId", "providerRepositoryId")
        | strings("providerBranch", "providerRootDirectory")
        | {"providerSilentMode": BOOLEAN, "specification": STRING}
        | {"keepWarm": BOOLEAN | {"description": KEEP_WARM}},
    ),
    "runtime": model(
        "Runtime",
        strings("$id", "key", "name", "version", "base", "image", "logo")
        | {"supports": array(STRING)},
    ),
    "specification": model(
        "Specification",
        {"memory": INTEGER, "cpus": NUMBER, "enabled": BOOLEAN, "slug": STRING},
    ),
    "deployment": model(
        "Deployment",
        BASE
        | {"type": enum("manual", "cli", "vcs")}  # vcs: template and git deployments
        | strings("resourceId", "resourceType", "entrypoint")
        | dict.fromkeys(("sourceSize", "buildSize", "totalSize"), INTEGER)
        | {"buildId": STRING, "activate": BOOLEAN}
        | strings("screenshotLight", "screenshotDark")
        | {"status": DEPLOYMENT_STATUS, "buildLogs": STRING, "buildDuration": INTEGER}
        | VCS
        # Only in createDeployment's answer, for the SDKs' upload progress (not Appwrite's).
        | {"chunksTotal": INTEGER, "chunksUploaded": INTEGER},
        optional=("chunksTotal", "chunksUploaded"),
    ),
    "headers": model("Headers", strings("name", "value")),
    "execution": model(
        "Execution",
        BASE
        | {"$permissions": array(STRING), "functionId": STRING, "deploymentId": STRING}
        | {"trigger": enum("http", "schedule", "event")}
        | {"status": enum("waiting", "scheduled", "processing", "completed", "failed")}
        | strings("requestMethod", "requestPath")
        | {"requestHeaders": array(ref("headers")), "responseStatusCode": INTEGER}
        | {"responseBody": STRING, "responseHeaders": array(ref("headers"))}
        | strings("logs", "errors")
        | {"duration": NUMBER, "scheduledAt": nullable(DATETIME)},
        optional=("scheduledAt",),
    ),
    "user": model(
        "User",
        BASE
        | {"name": STRING, "password": nullable(STRING), "hash": nullable(STRING)}
        | {"hashOptions": nullable(OBJECT), "registration": DATETIME, "status": BOOLEAN}
        | {"labels": array(STRING), "passwordUpdate": DATETIME, "email": STRING, "phone": STRING}
        | dict.fromkeys(("emailVerification", "phoneVerification", "mfa"), BOOLEAN)
        | {"prefs": OBJECT, "targets": array(ref("target")), "accessedAt": DATETIME},
        optional=("password", "hash", "hashOptions"),
    ),
    "target": model(
        "Target",
        BASE
        | strings("name", "userId")
        | {"providerId": nullable(STRING), "providerType": STRING, "identifier": STRING}
        | {"expired": BOOLEAN},
        optional=("providerId",),
    ),
    "session": model(
        "Session",
        BASE
        | {"userId": STRING, "expire": DATETIME}
        | strings("provider", "providerUid", "providerAccessToken")
        | {"providerAccessTokenExpiry": DATETIME, "providerRefreshToken": STRING, "ip": STRING}
        | SESSION_CLIENT
        | strings("countryCode", "countryName")
        | {"current": BOOLEAN, "factors": array(STRING), "secret": STRING}
        | {"mfaUpdatedAt": DATETIME},
    ),
    "jwt": model("JWT", {"jwt": STRING}),
    "proxyRule": model(
        "Rule",
        BASE
        | {"domain": STRING, "type": enum("api", "deployment", "redirect")}
        | {"trigger": STRING, "redirectUrl": STRING, "redirectStatusCode": INTEGER}
        | {"deploymentId": STRING, "deploymentResourceType": enum("function", "site", "")}
        | strings("deploymentResourceId", "deploymentVcsProviderBranch")
        | {"status": enum("created", "verifying", "verified", "unverified")}
        | {"logs": STRING, "renewAt": DATETIME},
    ),
    "metric": model("Metric", {"value": INTEGER, "date": DATETIME}),
    "usageFunctions": usage("UsageFunctions", documents.USAGE_FUNCTIONS[1:]),
    "usageFunction": usage("UsageFunction", documents.USAGE_FUNCTION[1:]),
    "templateRuntime": model(
        "Template Runtime",
        strings("name", "commands", "entrypoint", "providerRootDirectory"),
    ),
    "templateVariable": model(
        "Template Variable",
        strings("name", "description", "value")
        | {"secret": BOOLEAN, "placeholder": STRING, "required": BOOLEAN, "type": STRING},
    ),
    "templateFunction": model(
        "Template Function",
        strings("icon", "id", "name", "tagline")
        | {"permissions": array(STRING), "events": array(STRING), "cron": STRING}
        | {"timeout": INTEGER, "useCases": array(STRING)}
        | {"runtimes": array(ref("templateRuntime")), "instructions": STRING}
        | strings("vcsProvider", "providerRepositoryId", "providerOwner", "providerVersion")
        | {"variables": array(ref("templateVariable")), "scopes": array(STRING)},
    ),
    # What the push webhook answers (a git host reads only its status; not Appwrite's).
    "vcsWebhook": model(
        "VCS Webhook",
        {"event": STRING, "deployments": array(ref("vcsWebhookDeployment"))}
        | strings("repository", "branch", "commit"),
        optional=("repository", "branch", "commit"),
    ),
    "vcsWebhookDeployment": model(
        "VCS Webhook Deployment",
        strings("functionId", "deploymentId"),
    ),
    "healthStatus": model(
        "Health Status",
        {"name": STRING, "ping": INTEGER, "status": enum("pass", "fail")},
    ),
    "healthQueue": model("Health Queue", {"size": INTEGER}),
    "healthTime": model(
        "Health Time",
        dict.fromkeys(("remoteTime", "localTime", "diff"), INTEGER),
    ),
    "healthVersion": model("Health Version", {"version": STRING}),
    "healthAntivirus": model(
        "Health Antivirus",
        {"version": STRING, "status": enum("disabled", "offline", "online")},
    ),
    "consoleVariables": model(
        "Console Variables",
        strings("_APP_DOMAIN_TARGET_CNAME", "_APP_DOMAIN_TARGET_A", "_APP_DOMAIN_TARGET_AAAA")
        | strings("_APP_DOMAIN_TARGET_CAA")
        | dict.fromkeys(("_APP_STORAGE_LIMIT", "_APP_COMPUTE_SIZE_LIMIT"), INTEGER)
        | {"_APP_USAGE_STATS": STRING}
        | dict.fromkeys(
            ("_APP_VCS_ENABLED", "_APP_DOMAIN_ENABLED", "_APP_ASSISTANT_ENABLED"), BOOLEAN
        )
        | strings("_APP_DOMAIN_SITES", "_APP_DOMAIN_FUNCTIONS", "_APP_OPTIONS_FORCE_HTTPS")
        | strings("_APP_DOMAINS_NAMESERVERS")
        | {"_APP_COMPUTE_BUILD_TIMEOUT": INTEGER},
    ),
}
LISTS = {
    "functionList": ("Functions List", "functions", "function"),
    "deploymentList": ("Deployments List", "deployments", "deployment"),
    "executionList": ("Executions List", "executions", "execution"),
    "variableList": ("Variables List", "variables", "variable"),
    "runtimeList": ("Runtimes List", "runtimes", "runtime"),
    "specificationList": ("Specifications List", "specifications", "specification"),
    "userList": ("Users List", "users", "user"),
    "sessionList": ("Sessions List", "sessions", "session"),
    "proxyRuleList": ("Rule List", "rules", "proxyRule"),
    "templateFunctionList": ("Function Templates List", "templates", "templateFunction"),
    "healthStatusList": ("Status List", "statuses", "healthStatus"),
}
MODELS |= {name: listing(*details) for name, details in LISTS.items()}
