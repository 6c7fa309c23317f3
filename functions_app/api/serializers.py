"""Appwrite 1.8 response models, field for field and in the model's order."""

from ..ids import format_datetime as dt
from ..runtimes import Runtime
from ..services.specifications import Specification, is_enabled


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


def listing(key, items, total=None):
    return {"total": len(items) if total is None else total, key: items}
