"""The worker's side of a git deployment: before its build, fetch the source its
``git_source`` names (a connection's repository, or a template repository under
``FUNCTIONS_TEMPLATES_GIT_URL``) in a git source container (``services/git.py``), keep the
packed folder as the deployment's source archive, and fill its ``provider*`` fields from the
commit. Every failure is a reason in words, for the build logs."""

import os

from django.conf import settings

from ..models import Installation
from . import containers, git, installations, secrets, storage


class FetchFailed(Exception):
    pass


MESSAGE_LENGTH = 255  # Appwrite cuts providerCommitMessage there


def source_of(deployment):
    """The :class:`git.Source` (with credentials) a deployment's ``git_source`` names."""
    spec = deployment.git_source
    repository = spec["repository"]
    try:
        if not spec.get("installation"):
            return installations.locate(spec["url"], repository)
        installation = Installation.objects.filter(
            project_id=deployment.project_id, uid=spec["installation"]
        ).first()
        if installation is None:
            raise FetchFailed(f"The git connection {spec['installation']} no longer exists.")
        return installations.source_for(installation, repository)
    except installations.NotFound as exc:
        raise FetchFailed(str(exc)) from None
    except secrets.Undecryptable:
        raise FetchFailed(
            "The git connection's credentials cannot be opened (was SECRET_KEY changed?): "
            "set them again."
        ) from None


def fetch_source(deployment, say):
    """Fetch, pack and record the source; raises :class:`FetchFailed`. ``say(text)`` writes
    one of the platform's own lines to the build logs."""
    spec = deployment.git_source
    source = source_of(deployment)
    kind, reference = spec["type"], spec.get("reference", "")
    shown = f"{kind} {reference}" if reference else "the default branch"
    say(f"Fetching {source.label} ({shown}) from git.")
    target = storage.source_path(deployment, create=True)
    partial = target.with_name(target.name + ".partial")
    name = containers.build_name(deployment)
    try:
        fetched = git.fetch(
            source,
            kind,
            reference,
            spec.get("root", ""),
            partial,
            identity=(deployment.project_id, deployment.function.uid, deployment.uid),
            name=name,
            labels=containers.labels(deployment, "build"),
            log=deployment.append_logs,
            say=say,
        )
    except git.GitFailed as exc:
        partial.unlink(missing_ok=True)
        raise FetchFailed(str(exc)) from None
    os.replace(fetched.archive, target)
    deployment.mark_fetched(str(target), fetched.size, commit_fields(spec, fetched.commit))


def commit_fields(spec, commit):
    """The deployment's ``providerCommit*`` fields from the fetched commit (plus what the push
    notification said about its author, when one did)."""
    pattern = spec.get("commitUrl", "")
    return {
        "providerCommitHash": commit.hash,
        "providerCommitAuthor": commit.author,
        "providerCommitAuthorUrl": spec.get("authorUrl", ""),
        "providerCommitMessage": commit.message[:MESSAGE_LENGTH],
        "providerCommitUrl": pattern.replace("{commit}", commit.hash),
    }


def deadline():
    """Seconds a fetch may add to a build (maintenance allows for them)."""
    return git.deadline() + settings.COMPUTE_MAINTENANCE_INTERVAL
