"""Appwrite 1.8 response models, field for field and in the model's order."""

from ..ids import format_datetime as dt
from ..models import Deployment, Execution, Function, ProjectUser, Rule, Session, Variable
from ..models.user import HASH_OPTIONS
from ..runtimes import Runtime
from .catalog import Template, repository
from .specifications import Specification, is_enabled


def variable(var):
    return {
        "$id": var.uid,
        "$createdAt": dt(var.created_at),
        "$updatedAt": dt(var.updated_at),
        "key": var.key,
        "value": "" if var.secret else var.value,
        "secret": var.secret,
        "resourceType": var.resource_type,
        "resourceId": var.function.uid if var.function_id else "",
    }


def function(fn):
    return {
        "$id": fn.uid,
        "$createdAt": dt(fn.created_at),
        "$updatedAt": dt(fn.updated_at),
        "execute": list(fn.execute),
        "name": fn.name,
        "enabled": fn.enabled,
        "live": fn.live,
        "logging": fn.logging,
        "runtime": fn.runtime,
        "deploymentId": fn.deployment_uid,
        "deploymentCreatedAt": dt(fn.deployment_created_at),
        "latestDeploymentId": fn.latest_deployment_uid,
        "latestDeploymentCreatedAt": dt(fn.latest_deployment_created_at),
        "latestDeploymentStatus": fn.latest_deployment_status,
        "scopes": list(fn.scopes),
        "vars": [variable(var) for var in fn.variables.all()],
        "events": list(fn.events),
        "schedule": fn.schedule,
        "timeout": fn.timeout,
        "entrypoint": fn.entrypoint,
        "commands": fn.commands,
        "version": fn.version,
        "installationId": fn.installation_id,
        "providerRepositoryId": fn.provider_repository_id,
        "providerBranch": fn.provider_branch,
        "providerRootDirectory": fn.provider_root_directory,
        "providerSilentMode": fn.provider_silent_mode,
        "specification": fn.specification,
        "keepWarm": fn.keep_warm,  # beyond Appwrite: SDKs that do not know it ignore it
    }


def runtime(rt: Runtime):
    return {
        "$id": rt.id,
        "key": rt.key,
        "name": rt.name,
        "version": rt.version,
        "base": rt.base,
        "image": rt.image,
        "logo": rt.logo,
        "supports": list(rt.supports),
    }


def specification(spec: Specification):
    return {
        "memory": spec.memory,
        "cpus": spec.cpus,
        "enabled": is_enabled(spec),
        "slug": spec.slug,
    }


def jwt(token):
    return {"jwt": token}


def template_function(template: Template, runtimes):
    """Appwrite's ``TemplateFunction``, with ``runtimes`` (the offered ones) as its list."""
    repo = repository()
    return {
        "icon": template.icon,
        "id": template.id,
        "name": template.name,
        "tagline": template.tagline,
        "permissions": list(template.permissions),
        "events": list(template.events),
        "cron": template.cron,
        "timeout": template.timeout,
        "useCases": list(template.use_cases),
        "runtimes": [
            {
                "name": rt.name,
                "commands": rt.commands,
                "entrypoint": rt.entrypoint,
                "providerRootDirectory": rt.root,
            }
            for rt in runtimes
        ],
        "instructions": template.instructions,
        "vcsProvider": repo.vcs_provider,
        "providerRepositoryId": repo.repository,
        "providerOwner": repo.owner,
        "providerVersion": repo.version,
        "variables": [
            {
                "name": var.name,
                "description": var.description,
                "value": var.value,
                "secret": var.secret,
                "placeholder": var.placeholder,
                "required": var.required,
                "type": var.type,
            }
            for var in template.variables
        ],
        "scopes": list(template.scopes),
    }


def listing(key, items, total=None):
    return {"total": len(items) if total is None else total, key: items}


VCS_FIELDS = [
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
]


def deployment(dep, chunks=False):
    data = {
        "$id": dep.uid,
        "$createdAt": dt(dep.created_at),
        "$updatedAt": dt(dep.updated_at),
        "type": dep.type,
        "resourceId": dep.function.uid,
        "resourceType": "functions",
        "entrypoint": dep.entrypoint,
        "sourceSize": dep.source_size,
        "buildSize": dep.build_size,
        "totalSize": dep.total_size,
        "buildId": "",
        "activate": dep.activate,
        "screenshotLight": "",
        "screenshotDark": "",
        "status": dep.status,
        "buildLogs": dep.build_logs,
        "buildDuration": dep.build_duration,
        **{name: str(dep.vcs.get(name, "")) for name in VCS_FIELDS},
    }
    if chunks:  # extra keys so the SDK's on_progress callback works
        data["chunksTotal"] = dep.source_chunks_total
        data["chunksUploaded"] = dep.source_chunks_uploaded
    return data


def headers_list(headers):
    return [{"name": str(name), "value": str(value)} for name, value in headers]


def execution(ex, privileged=True, response_body="", response_headers=None):
    return {
        "$id": ex.uid,
        "$createdAt": dt(ex.created_at),
        "$updatedAt": dt(ex.updated_at),
        "$permissions": list(ex.permissions),
        "functionId": ex.function.uid,
        "deploymentId": ex.deployment_uid,
        "trigger": ex.trigger,
        "status": ex.status,
        "requestMethod": ex.request_method,
        "requestPath": ex.request_path,
        "requestHeaders": list(ex.request_headers),
        "responseStatusCode": ex.response_status_code,
        "responseBody": response_body,
        "responseHeaders": list(
            ex.response_headers if response_headers is None else response_headers
        ),
        "logs": ex.logs if privileged else "",
        "errors": ex.errors if privileged else "",
        "duration": float(ex.duration),
        "scheduledAt": dt(ex.scheduled_at) if ex.scheduled_at else None,
    }


def user(person, with_hash=True):
    """Appwrite's ``User`` (the Users API); ``Account`` is the same without the hash fields."""
    data = {
        "$id": person.uid,
        "$createdAt": dt(person.created_at),
        "$updatedAt": dt(person.updated_at),
        "name": person.name,
    }
    if with_hash:
        data["password"] = person.password or None
        data["hash"] = "argon2" if person.password else None
        data["hashOptions"] = dict(HASH_OPTIONS) if person.password else None
    return data | {
        "registration": dt(person.registration),
        "status": person.status,
        "labels": list(person.labels),
        "passwordUpdate": dt(person.password_update),
        "email": person.email,
        "phone": person.phone,
        "emailVerification": person.email_verification,
        "phoneVerification": person.phone_verification,
        "mfa": False,
        "prefs": dict(person.prefs) or {},
        "targets": [target(person)] if person.email else [],
        "accessedAt": dt(person.accessed_at),
    }


def account(person):
    return user(person, with_hash=False)


def console_account(person):
    """A console account (a Django user) as Appwrite's ``Account``."""
    joined = dt(person.date_joined)
    return {
        "$id": str(person.pk),
        "$createdAt": joined,
        "$updatedAt": dt(person.last_login) or joined,
        "name": person.get_full_name() or person.get_username(),
        "registration": joined,
        "status": person.is_active,
        "labels": ["admin"] if person.is_superuser else [],
        "passwordUpdate": "",
        "email": person.email,
        "phone": "",
        "emailVerification": False,
        "phoneVerification": False,
        "mfa": False,
        "prefs": {},
        "targets": [],
        "accessedAt": dt(person.last_login),
    }


def target(person):
    """The email target Appwrite creates with a user's email."""
    return {
        "$id": f"{person.uid}-email"[:36],
        "$createdAt": dt(person.created_at),
        "$updatedAt": dt(person.updated_at),
        "name": "",
        "userId": person.uid,
        "providerId": None,
        "providerType": "email",
        "identifier": person.email,
        "expired": False,
    }


SESSION_CLIENT_FIELDS = [
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
]


def session(sess, current=False, secret=""):
    return {
        "$id": sess.uid,
        "$createdAt": dt(sess.created_at),
        "$updatedAt": dt(sess.updated_at),
        "userId": sess.owner_id,
        "expire": dt(sess.expire),
        "provider": sess.provider,
        "providerUid": sess.provider_uid,
        "providerAccessToken": "",
        "providerAccessTokenExpiry": "",
        "providerRefreshToken": "",
        "ip": sess.ip,
        **dict.fromkeys(SESSION_CLIENT_FIELDS, ""),
        "countryCode": "--",
        "countryName": "Unknown",
        "current": current,
        "factors": ["password"],
        "secret": secret,
        "mfaUpdatedAt": "",
    }


def rule(r, created=False):
    """Appwrite's ProxyRule. A rule follows its function's active deployment. There are no
    certificates here: ``logs`` is "" and ``renewAt`` is "" in lists and gets, and the model
    default, the string ``"datetime"``, in the create response (as Appwrite 1.8.0 answers)."""
    return {
        "$id": r.uid,
        "$createdAt": dt(r.created_at),
        "$updatedAt": dt(r.updated_at),
        "domain": r.domain,
        "type": r.type,
        "trigger": r.trigger,
        "redirectUrl": "",
        "redirectStatusCode": 301,
        "deploymentId": r.function.deployment_uid,
        "deploymentResourceType": r.resource_type,
        "deploymentResourceId": r.function.uid,
        "deploymentVcsProviderBranch": r.branch,
        "status": r.status,
        "logs": "",
        "renewAt": "datetime" if created else "",
    }


# Appwrite's UsageFunctions and UsageFunction, key for key in the models' order: ``*Total``
# (and ``buildsTimeAverage``) are numbers, the others lists of Metric.
USAGE_FUNCTIONS = [
    "range",
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
    "functions",
    "deployments",
    "deploymentsStorage",
    "buildsSuccessTotal",
    "buildsFailedTotal",
    "builds",
    "buildsStorage",
    "buildsTime",
    "buildsMbSeconds",
    "executions",
    "executionsTime",
    "executionsMbSeconds",
    "buildsSuccess",
    "buildsFailed",
]
USAGE_FUNCTION = [
    "range",
    "deploymentsTotal",
    "deploymentsStorageTotal",
    "buildsTotal",
    "buildsSuccessTotal",
    "buildsFailedTotal",
    "buildsStorageTotal",
    "buildsTimeTotal",
    "buildsTimeAverage",
    "buildsMbSecondsTotal",
    "executionsTotal",
    "executionsTimeTotal",
    "executionsMbSecondsTotal",
    "deployments",
    "deploymentsStorage",
    "builds",
    "buildsStorage",
    "buildsTime",
    "buildsMbSeconds",
    "executions",
    "executionsTime",
    "executionsMbSeconds",
    "buildsSuccess",
    "buildsFailed",
]


def _usage(keys, usage):
    """``usage``: a ``services.usage.Usage`` (its range, totals and series by metric name)."""
    values = {"range": usage.range, **usage.totals}
    for name, points in usage.series.items():
        values[name] = [{"value": value, "date": dt(date)} for date, value in points]
    return {key: values[key] for key in keys}


def usage_functions(usage):
    return _usage(USAGE_FUNCTIONS, usage)


def usage_function(usage):
    return _usage(USAGE_FUNCTION, usage)


# Which document a stored row is shown as (event payloads, admin previews).
BY_MODEL = {
    Function: function,
    Deployment: deployment,
    Execution: execution,
    Variable: variable,
    ProjectUser: user,
    Session: session,
    Rule: rule,
}


def of(row):
    return BY_MODEL[type(row)](row)
