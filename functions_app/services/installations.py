"""Git connections (Appwrite's "installations"): a git host per project, with optional
credentials, managed by the console, the admin and ``manage.py createinstallation``.

A connection's repository ``owner/name`` is the git repository at ``<base URL>/owner/name.git``
(or without ``.git``). Base URLs are ``https://`` (``http://`` too, for hosts on a trusted
network), ``ssh://`` or ``file:///`` (a folder under ``VCS_LOCAL_ROOTS``, which git reaches
through a read-only mount). Tokens, SSH keys and webhook secrets are sealed at rest
(``services/secrets.py``) and only opened for a git command's environment or a webhook check;
no page or document shows them again."""

import os
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings

from ..errors import AppwriteError, param_invalid
from ..ids import unique_id
from ..models import Function, Installation
from . import git, secrets
from .names import clean_name

Provider = Installation.Provider
URL_LENGTH = 1024
SECRET_LENGTH = 16384
SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")
REPOSITORY_INVALID = (
    "Value must be a repository as owner/name (letters, digits, period, hyphen and underscore; "
    "GitLab subgroups as group/subgroup/name)"
)
# The user name a token goes with, when none is given (what each host expects).
TOKEN_USERS = {Provider.GITHUB: "x-access-token", Provider.GITLAB: "oauth2"}


# -- checks ---------------------------------------------------------------------------------


def clean_provider(value):
    value = value or Provider.GIT
    if value not in Provider.values:
        raise param_invalid("provider", f"Value must be one of ({', '.join(Provider.values)})")
    return value


def clean_base_url(value):
    """``https://host[:port][/path]``, ``http://…``, ``ssh://[user@]host[:port][/path]`` or
    ``file:///folder`` (inside ``VCS_LOCAL_ROOTS``); no query, fragment or password, no
    trailing slash."""
    url = (value or "").strip().rstrip("/")
    invalid = param_invalid(
        "url",
        "Value must be an https://, http://, ssh:// or file:/// URL without query, fragment or password",
    )
    if not url or len(url) > URL_LENGTH or any(c in url for c in " \t\r\n\x00\\"):
        raise invalid
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise invalid from None
    if parts.query or parts.fragment or "?" in url or "#" in url or parts.password is not None:
        raise invalid
    if parts.scheme in ("https", "http", "ssh"):
        if not parts.hostname or (parts.scheme != "ssh" and parts.username is not None):
            raise invalid
        return url
    if parts.scheme == "file" and not parts.netloc and parts.path.startswith("/"):
        local_root(Path(parts.path))
        return url
    raise invalid


def local_root(folder):
    """The ``VCS_LOCAL_ROOTS`` entry ``folder`` lies in (a ``file:///`` base URL), or
    ``general_argument_invalid``."""
    real = Path(os.path.realpath(folder))
    for root in settings.VCS_LOCAL_ROOTS:
        if real == root or root in real.parents:
            return root
    raise param_invalid(
        "url", "file:/// URLs must name a folder listed in VCS_LOCAL_ROOTS on this server"
    )


def clean_text(name, value, length=SECRET_LENGTH):
    value = (value or "").strip()
    if len(value) > length or "\x00" in value:
        raise param_invalid(name, f"Value must be a valid string and no longer than {length} chars")
    return value


def clean_ssh_key(value):
    key = clean_text("sshKey", value)
    if key and not (key.startswith("-----BEGIN ") and "PRIVATE KEY-----" in key):
        raise param_invalid("sshKey", "Value must be a private key in PEM or OpenSSH form")
    return key.replace("\r\n", "\n")


def split_repository(value):
    """``owner/name`` -> ``("owner", "name")`` (the owner may hold subgroups), or
    ``general_argument_invalid``."""
    text = (value or "").strip().strip("/").removesuffix(".git")
    parts = text.split("/")
    if not 2 <= len(parts) <= 6 or len(text) > 128:
        raise param_invalid("providerRepositoryId", REPOSITORY_INVALID)
    for part in parts:
        if not SEGMENT.fullmatch(part) or part.endswith((".", ".lock")) or ".." in part:
            raise param_invalid("providerRepositoryId", REPOSITORY_INVALID)
    return "/".join(parts[:-1]), parts[-1]


# -- connections ----------------------------------------------------------------------------


def create_installation(
    project,
    name,
    base_url,
    provider=Provider.GIT,
    username="",
    token="",
    ssh_key="",
    ssh_known_hosts="",
    webhook_secret="",
):
    values = {
        "name": clean_name(name),
        "provider": clean_provider(provider),
        "base_url": clean_base_url(base_url),
        "username": clean_text("username", username, 128),
        "ssh_known_hosts": clean_text("sshKnownHosts", ssh_known_hosts),
    }
    secrets_ = {
        "token": clean_text("token", token),
        "ssh_key": clean_ssh_key(ssh_key),
        "webhook_secret": clean_text("webhookSecret", webhook_secret, 1024),
    }
    uid = unique_id()
    sealed = {field: secrets.seal(value, _context(uid, field)) for field, value in secrets_.items()}
    return Installation.objects.create(project=project, uid=uid, **values, **sealed)


def update_installation(
    installation, name, base_url, provider, username, ssh_known_hosts, **new_secrets
):
    """Settings are replaced; of ``token``, ``ssh_key``, ``webhook_secret`` only those given
    change (``""`` removes one, None or absent keeps it)."""
    cleaners = {
        "token": lambda v: clean_text("token", v),
        "ssh_key": clean_ssh_key,
        "webhook_secret": lambda v: clean_text("webhookSecret", v, 1024),
    }
    unknown = set(new_secrets) - set(cleaners)
    if unknown:
        raise TypeError(f"Unknown secret fields: {sorted(unknown)}")
    values = (
        clean_name(name),
        clean_provider(provider),
        clean_base_url(base_url),
        clean_text("username", username, 128),
        clean_text("sshKnownHosts", ssh_known_hosts),
    )
    sealed = {
        field: secrets.seal(cleaners[field](value), _context(installation.uid, field))
        for field, value in new_secrets.items()
        if value is not None
    }
    installation.configure(*values)
    installation.store_secrets(**sealed)
    return installation


def delete_installation(installation):
    """Deletes the connection; its functions are unlinked (their deployments stay)."""
    for function in linked_functions(installation):
        function.unlink_repository()
    installation.delete()


def get_installation(project, installation_id):
    found = Installation.objects.filter(project=project, uid=installation_id).first()
    if found is None:
        raise AppwriteError("installation_not_found")
    return found


def _context(uid, field):
    return f"installation:{uid}:{field}"


def secret(installation, field):
    """A sealed field opened, or :class:`secrets.Undecryptable`."""
    return secrets.open_sealed(getattr(installation, field), _context(installation.uid, field))


# -- repositories ---------------------------------------------------------------------------


class NotFound(Exception):
    """A ``file:///`` repository that is not there (or not allowed)."""


def locate(base_url, repository):
    """The :class:`git.Source` of ``owner/name`` under ``base_url`` (no credentials)."""
    owner, name = split_repository(repository)
    label = f"{owner}/{name}"
    if base_url.startswith("file://"):
        return git.Source(
            url=f"file://{git.MOUNT}", label=label, mount=local_repository(base_url, owner, name)
        )
    base = base_url.rstrip("/")
    return git.Source(url=f"{base}/{label}.git", fallback_url=f"{base}/{label}", label=label)


def local_repository(base_url, owner, name):
    """The folder of a ``file:///`` repository: ``owner/name.git`` or ``owner/name`` under the
    base folder, a real folder (no link on the way) inside ``VCS_LOCAL_ROOTS``."""
    base = Path(urlsplit(base_url).path)
    for candidate in (base / owner / f"{name}.git", base / owner / name):
        real = os.path.realpath(candidate)
        if real != os.path.abspath(candidate) or not os.path.isdir(real):
            continue
        try:
            local_root(Path(real))
        except AppwriteError:
            continue
        return real
    raise NotFound(f"Repository {owner}/{name} was not found.")


def source_for(installation, repository):
    """The repository of a connection with its credentials (opened for this one use)."""
    source = locate(installation.base_url, repository)
    token = secret(installation, "token")
    username = installation.username or TOKEN_USERS.get(installation.provider, "git")
    return git.Source(
        url=source.url,
        label=source.label,
        fallback_url=source.fallback_url,
        mount=source.mount,
        username=username if token else "",
        token=token,
        ssh_key=secret(installation, "ssh_key"),
        known_hosts=installation.ssh_known_hosts,
    )


def web_base(provider, base_url):
    """Where a host's pages are (``https://host[/path]``), or "" when it has none we know."""
    if base_url.startswith(("https://", "http://")):
        return base_url.rstrip("/")
    if base_url.startswith("ssh://") and provider != Provider.GIT:
        parts = urlsplit(base_url)
        return f"https://{parts.hostname}{parts.path}".rstrip("/")
    return ""


# Paths of a commit and a branch page, by host kind.
PAGES = {
    Provider.GITHUB: ("/commit/{commit}", "/tree/{branch}"),
    Provider.GITLAB: ("/-/commit/{commit}", "/-/tree/{branch}"),
    Provider.GITEA: ("/commit/{commit}", "/src/branch/{branch}"),
}


def links(provider, base_url, repository):
    """``(repository URL, commit URL pattern, branch URL pattern)`` for deployment documents;
    the patterns take ``commit``/``branch`` and are "" when the host's pages are unknown."""
    web = web_base(provider, base_url)
    if not web:
        return base_url.rstrip("/") + "/" + repository, "", ""
    repo = f"{web}/{repository}"
    commit, branch = PAGES.get(provider, ("", ""))
    return repo, repo + commit if commit else "", repo + branch if branch else ""


def page(pattern, **values):
    """A link from a :func:`links` pattern ("" stays "")."""
    for name, value in values.items():
        pattern = pattern.replace("{" + name + "}", quote(value, safe="/"))
    return pattern


def webhook_url(installation):
    """Where the git host sends its push webhooks (``PUBLIC_URL`` must reach this service)."""
    return f"{settings.PUBLIC_URL.rstrip('/')}/v1/vcs/webhooks/{installation.uid}"


def linked_functions(installation):
    return Function.objects.filter(project=installation.project, installation_id=installation.uid)
