"""Deployments from git, for the API, the console and the admin:

* template deployments: a template of the shipped catalog (packed here from its files, offline)
  or, for any other ``owner/repository``, a template repository under
  ``FUNCTIONS_TEMPLATES_GIT_URL``;
* VCS deployments of a function linked to a repository of a git connection (a branch, a
  commit or a tag), the branch head when a function is linked, and one per linked function on
  each push webhook (GitHub, GitLab and Gitea formats).

Git deployments start with no source (``git_source`` says where it is); the build worker fetches
it in a git source container first (``services/fetching.py``). Everything a caller gets wrong is
refused here, before anything is queued."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.conf import settings

from ..errors import AppwriteError, argument_invalid, param_invalid
from ..ids import unique_id
from ..models import Deployment, Function, Installation
from . import catalog, deployments, events, git, installations, secrets, storage

TYPES = ("branch", "commit", "tag")
# Branch and tag names as git allows them (check-ref-format), a little stricter.
REF_NAME = re.compile(r"[A-Za-z0-9_@+][A-Za-z0-9._/@+-]{0,254}")
TAG_PATTERN = re.compile(r"[A-Za-z0-9_@+*?\[\]][A-Za-z0-9._/@+*?\[\]-]{0,254}")
COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")
ROOT_PART = re.compile(r"[A-Za-z0-9_@+][A-Za-z0-9._@+ -]{0,127}")
ZERO_COMMIT = re.compile(r"0{40}(0{24})?")
LINK_FIELDS = ("installation_id", "provider_repository_id", "provider_branch")


# -- parameters -----------------------------------------------------------------------------


def clean_reference(type_, reference, name="reference", pattern=False):
    """A branch or tag name (tags may be a version pattern when ``pattern``) or a commit hash."""
    if type_ == "commit":
        valid = bool(COMMIT.fullmatch(reference))
        reference = reference.lower()
    else:
        regex = TAG_PATTERN if type_ == "tag" and pattern else REF_NAME
        valid = (
            bool(regex.fullmatch(reference))
            and ".." not in reference
            and "//" not in reference
            and "@{" not in reference
            and not reference.endswith((".", "/", ".lock"))
        )
    if not valid:
        what = "commit hash (4 to 64 hex digits)" if type_ == "commit" else f"{type_} name"
        raise param_invalid(name, f"Value must be a valid git {what}")
    return reference


def clean_root(value, name="rootDirectory"):
    """A folder of the repository: ``""`` (its root), ``functions/api``, ``./api/``..."""
    text = (value or "").strip().strip("/")
    while text.startswith("./"):
        text = text[2:].lstrip("/")
    if text in ("", "."):
        return ""
    parts = text.split("/")
    if any(not ROOT_PART.fullmatch(part) or part.endswith(".") for part in parts):
        raise param_invalid(
            name, "Value must be a folder of the repository (no .., no absolute path)"
        )
    return "/".join(parts)


# -- template deployments -------------------------------------------------------------------


def create_template_deployment(
    function, owner, repository, root, type_, reference, activate, origin=None
):
    """``POST /functions/{id}/deployments/template``: a catalog template when ``owner`` and
    ``repository`` name the catalog, else ``<FUNCTIONS_TEMPLATES_GIT_URL>/owner/repository``."""
    if not function.entrypoint:
        raise AppwriteError("function_entrypoint_missing")
    if catalog.is_catalog(owner, repository):
        return _catalog_deployment(function, root, activate, origin)
    installations.split_repository(f"{owner}/{repository}")
    root = clean_root(root)
    if type_ != "branch" or reference:
        reference = clean_reference(type_, reference, pattern=True)
    base = settings.FUNCTIONS_TEMPLATES_GIT_URL
    full_name = f"{owner}/{repository}"
    try:
        installations.locate(base, full_name)  # a local repository must be there already
    except installations.NotFound as exc:
        raise AppwriteError("provider_repository_not_found", str(exc)) from None
    provider = _guess_provider(base)
    repo_url, commit_url, branch_url = installations.links(provider, base, full_name)
    source = {
        "url": base,
        "repository": full_name,
        "type": type_,
        "reference": reference,
        "root": root,
        "commitUrl": commit_url,
    }
    vcs = _repository_fields(owner, repository, repo_url)
    if type_ == "branch" and reference:
        vcs |= _branch_fields(reference, branch_url)
    return _git_deployment(function, source, vcs, activate, origin)


def _guess_provider(base_url):
    host = base_url.split("://", 1)[-1].split("/", 1)[0].lower()
    for name, provider in (("github", "github"), ("gitlab", "gitlab"), ("gitea", "gitea")):
        if name in host:
            return provider
    return Installation.Provider.GIT


def _catalog_deployment(function, root, activate, origin):
    folder = catalog.code_folder(root or "")
    if folder is None:
        roots = sorted({rt.root for t in catalog.catalog().values() for rt in t.runtimes})
        raise param_invalid(
            "rootDirectory",
            f'The template catalog has no folder "{root}"; its folders are {", ".join(roots)}',
        )
    relative = folder.relative_to(catalog.ROOT).as_posix()
    template = catalog.get(relative.split("/", 1)[0])
    repo = catalog.repository()
    deployment = _new_deployment(
        function,
        activate,
        vcs={
            **_repository_fields(repo.owner, repo.repository, ""),
            "providerCommitHash": catalog.content_hash(folder),
            "providerCommitAuthor": "Template catalog",
            "providerCommitMessage": f"{template.name} ({relative}), from the template catalog",
        },
    )
    target = storage.source_path(deployment, create=True)
    size = catalog.pack(folder, target)
    deployment.mark_uploaded(str(target), size)
    return _queue(function, deployment, activate, origin)


# -- VCS deployments --------------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    """What a push notification says (the branch head after the push)."""

    repository: str
    branch: str
    commit: str
    author_url: str = ""


def linked_installation(function):
    """The connection a function is linked to, or Appwrite's errors when it is not linked."""
    if not function.provider_repository_id:
        raise AppwriteError(
            "provider_repository_not_found",
            "This function is not linked to a repository: set its installationId, "
            "providerRepositoryId and providerBranch first.",
        )
    return installations.get_installation(function.project, function.installation_id)


def create_vcs_deployment(function, type_, reference, activate, origin=None, push=None):
    """``POST /functions/{id}/deployments/vcs``: ``type_`` ``reference`` of the function's
    repository, its ``providerRootDirectory`` as the source."""
    installation = linked_installation(function)
    reference = clean_reference(type_, reference)
    if not function.entrypoint:
        raise AppwriteError("function_entrypoint_missing")
    full_name = function.provider_repository_id
    owner, name = installations.split_repository(full_name)
    repo_url, commit_url, branch_url = installations.links(
        installation.provider, installation.base_url, full_name
    )
    source = {
        "installation": installation.uid,
        "repository": full_name,
        "type": type_,
        "reference": reference,
        "root": function.provider_root_directory,
        "commitUrl": commit_url,
        "authorUrl": push.author_url if push else "",
    }
    vcs = _repository_fields(owner, name, repo_url)
    branch = push.branch if push else (reference if type_ == "branch" else "")
    if branch:
        vcs |= _branch_fields(branch, branch_url)
    return _git_deployment(function, source, vcs, activate, origin)


def _repository_fields(owner, name, url):
    return {
        "providerRepositoryName": name,
        "providerRepositoryOwner": owner,
        "providerRepositoryUrl": url,
    }


def _branch_fields(branch, pattern):
    return {
        "providerBranch": branch,
        "providerBranchUrl": installations.page(pattern, branch=branch),
    }


def _new_deployment(function, activate, vcs, git_source=None):
    deployment = Deployment.objects.create(
        project=function.project,
        function=function,
        uid=unique_id(),
        type="vcs",
        entrypoint=function.entrypoint,
        build_commands=function.commands,
        activate=activate,
        vcs=vcs,
        git_source=git_source or {},
    )
    function.set_latest_deployment(deployment)
    return deployment


def _git_deployment(function, source, vcs, activate, origin):
    return _queue(function, _new_deployment(function, activate, vcs, source), activate, origin)


def _queue(function, deployment, activate, origin):
    deployments.queue_build(function, deployment, activate)
    events.deployment_changed(deployment, "create", origin)
    return deployment


# -- linking a function ---------------------------------------------------------------------


def check_link(project, fields, current=None):
    """Appwrite's checks on a function's VCS fields, in its order (an unknown installation is
    ``installation_not_found``, a repository without installation or branch a 400), then ours:
    a well-formed repository, branch and root directory, and, when the link is new or points
    elsewhere, a repository that answers (``provider_repository_not_found`` with the reason).
    Normalises ``provider_root_directory``."""
    installation = None
    if fields.get("installation_id"):
        installation = Installation.objects.filter(
            project=project, uid=fields["installation_id"]
        ).first()
        if installation is None:
            raise AppwriteError("installation_not_found")
    repository = fields.get("provider_repository_id")
    if repository and (not installation or not fields.get("provider_branch")):
        raise argument_invalid(
            'When connecting to VCS (Version Control System), you need to provide "installationId" and "providerBranch".'
        )
    if not repository:
        return
    owner, name = installations.split_repository(repository)
    fields["provider_repository_id"] = f"{owner}/{name}"
    clean_reference("branch", fields["provider_branch"], name="providerBranch")
    fields["provider_root_directory"] = clean_root(
        fields.get("provider_root_directory", ""), name="providerRootDirectory"
    )
    before = (current.installation_id, current.provider_repository_id) if current else None
    if before != (installation.uid, fields["provider_repository_id"]):
        check_repository(installation, fields["provider_repository_id"], current)


def check_repository(installation, repository, function=None):
    """The repository must answer (``git ls-remote`` in a git source container)."""
    fail = f"Repository {repository} of the git connection {installation.name}"
    try:
        source = installations.source_for(installation, repository)
        git.probe(source, installation.project_id, function.uid if function else "")
    except installations.NotFound:
        raise AppwriteError("provider_repository_not_found", f"{fail} was not found.") from None
    except secrets.Undecryptable:
        raise AppwriteError(
            "provider_repository_not_found",
            f"{fail} cannot be read: the connection's credentials no longer open (was "
            "SECRET_KEY changed?); set them again.",
        ) from None
    except git.GitFailed as exc:
        raise AppwriteError("provider_repository_not_found", f"{fail}: {exc}") from None


def link_of(function):
    return tuple(getattr(function, name) for name in LINK_FIELDS)


def deploy_if_relinked(function, before, origin=None):
    """Linking a function, or pointing it at another repository or branch, deploys the
    branch head once (and activates it)."""
    if function.provider_repository_id and link_of(function) != before:
        return create_vcs_deployment(function, "branch", function.provider_branch, True, origin)
    return None


# -- push webhooks --------------------------------------------------------------------------


class WebhookRefused(Exception):
    pass


def receive_webhook(installation_id, headers, body):
    """``POST /v1/vcs/webhooks/{installationId}``: check the notification against the
    connection's webhook secret (401 otherwise: nothing happens), then deploy and activate the
    pushed commit for every function linked to that repository and branch."""
    installation = Installation.objects.filter(uid=installation_id).first()
    if installation is None:
        raise AppwriteError("installation_not_found")
    kind = _webhook_kind(headers)
    try:
        secret = installations.secret(installation, "webhook_secret")
    except secrets.Undecryptable:
        secret = ""
    if not secret:
        raise AppwriteError(
            "general_access_forbidden",
            "This git connection has no webhook secret: set one, then use it in the webhook.",
        )
    if not _signed(kind, headers, body, secret):
        raise AppwriteError(
            "general_access_forbidden",
            "Invalid webhook signature or token: the webhook's secret must be the git "
            "connection's webhook secret.",
        )
    event = _event(kind, headers)
    push = _push(kind, event, _payload(headers, body), installation)
    result = {"event": event, "deployments": []}
    if push is None:
        return result
    result.update(repository=push.repository, branch=push.branch, commit=push.commit)
    linked = Function.objects.filter(
        project=installation.project,
        installation_id=installation.uid,
        provider_repository_id__iexact=push.repository,
        provider_branch=push.branch,
    ).order_by("id")
    for function in linked:
        deployment = create_vcs_deployment(
            function, "commit", push.commit, True, events.Origin(), push=push
        )
        result["deployments"].append({"functionId": function.uid, "deploymentId": deployment.uid})
    return result


def _webhook_kind(headers):
    if "X-Gitea-Event" in headers or "X-Forgejo-Event" in headers or "X-Gogs-Event" in headers:
        return "gitea"
    if "X-Gitlab-Event" in headers:
        return "gitlab"
    if "X-GitHub-Event" in headers:
        return "github"
    raise argument_invalid(
        "Not a webhook notification from GitHub, GitLab or Gitea (no X-GitHub-Event, "
        "X-Gitlab-Event or X-Gitea-Event header)."
    )


def _signed(kind, headers, body, secret):
    if kind == "gitlab":
        return hmac.compare_digest(headers.get("X-Gitlab-Token", "").encode(), secret.encode())
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if kind == "github":
        given = [headers.get("X-Hub-Signature-256", "")]
        return hmac.compare_digest(given[0].encode(), f"sha256={expected}".encode())
    given = [
        headers.get("X-Gitea-Signature", ""),
        headers.get("X-Forgejo-Signature", ""),
        headers.get("X-Hub-Signature-256", "").removeprefix("sha256="),
    ]
    return any(value and hmac.compare_digest(value.encode(), expected.encode()) for value in given)


def _event(kind, headers):
    name = {
        "github": "X-GitHub-Event",
        "gitlab": "X-Gitlab-Event",
    }.get(kind)
    if name:
        return headers.get(name, "")
    return (
        headers.get("X-Gitea-Event")
        or headers.get("X-Forgejo-Event")
        or headers.get("X-Gogs-Event", "")
    )


def _payload(headers, body):
    """The notification's JSON (GitHub may send it form-encoded, as ``payload=``)."""
    try:
        if headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            body = parse_qs(body.decode()).get("payload", [""])[0].encode()
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise argument_invalid("The webhook's body is not JSON.") from None
    if not isinstance(data, dict):
        raise argument_invalid("The webhook's body is not a JSON object.")
    return data


def _push(kind, event, data, installation):
    """The branch push a notification reports, or None (another event, a tag, a deletion)."""
    if event.lower() not in ("push", "push hook"):
        return None
    ref, commit = data.get("ref"), data.get("checkout_sha") or data.get("after")
    if not isinstance(ref, str) or not ref.startswith("refs/heads/"):
        return None
    if not isinstance(commit, str) or not COMMIT.fullmatch(commit) or ZERO_COMMIT.fullmatch(commit):
        return None  # the branch was deleted
    if kind == "gitlab":
        repository = (data.get("project") or {}).get("path_with_namespace", "")
        user = data.get("user_username", "")
    else:
        repository = (data.get("repository") or {}).get("full_name", "")
        head = data.get("head_commit") or {}
        user = (head.get("author") or {}).get("username", "")
    web = installations.web_base(installation.provider, installation.base_url)
    if not isinstance(repository, str) or not repository:
        raise argument_invalid("The push notification names no repository.")
    author_url = f"{web}/{user}" if web and isinstance(user, str) and user else ""
    return Push(repository, ref.removeprefix("refs/heads/"), commit.lower(), author_url)
