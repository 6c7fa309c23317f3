"""Git, run only inside a git source container, never on this host.

A repository is untrusted input (its objects, its refs, its size), and so is everything a
container hands back. So git runs in a container built like a build container: network
``none`` (the git host is reached through the egress proxy, under the builds' policy), uid 1000,
a read-only root, no capabilities, and a size-capped tmpfs ``/tmp`` as its only writable place.
The container only sleeps; ``functions_app/gitsource/helpers/source.sh`` runs in it as a
command with the credentials in that command's environment (not in the container's
configuration), and its results leave through ``cat`` pipes, capped, into files the host
opened itself. The source archive is then checked like an uploaded one (``archives.inspect``)
before a build container sees it.

A ``file:///`` repository (a folder under ``VCS_LOCAL_ROOTS``) is mounted read-only at
``/mnt/repo`` after the same checks as every mount source (``docker.check_bind_source``).

Two uses: :func:`probe` (does the repository answer? synchronous, for the API) and
:func:`fetch` (one reference, shallow, packed to a ``.tar.gz``; in the build worker)."""

import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .. import runtimes
from ..ids import unique_id
from . import containers, docker, egress, images
from .containers import MB, Bind, Scratch

FOLDER = Path(__file__).resolve().parent.parent / "gitsource"
IMAGE = runtimes.Runtime(
    id="git-source",
    key="git",
    name="git",
    version="1",
    base="debian:bookworm (git, openssh-client)",
    supports=tuple(sorted(set(runtimes.MACHINES.values()))),
    folder=FOLDER,
    suite="bookworm",
    packages=tuple(sorted({*runtimes.CONTRACT_PACKAGES, "git", "openssh-client"})),
)
SCRIPT = "/usr/local/git-source/helpers/source.sh"
MOUNT = "/mnt/repo"
GRACE = 30  # seconds the container outlives its deadline, as build containers do
COMMIT_LIMIT = 256 * 1024  # bytes of the commit file (hash, author, email, message)
PROBE_KIND = "git-probe"
PROBE_TIMEOUT = 30  # seconds of the repository check's git command: someone waits for it


class GitFailed(Exception):
    """Git could not deliver: ``str()`` says why (the script's last line, or the platform's)."""


@dataclass(frozen=True)
class Source:
    """A repository as the container reaches it, with the credentials to use."""

    url: str  # as seen inside the container (file:///mnt/repo for a local repository)
    label: str  # owner/name, for messages
    fallback_url: str = ""  # tried when ``url`` is not a repository (``.git`` or not)
    mount: str = ""  # host folder mounted read-only at /mnt/repo
    username: str = ""
    token: str = field(default="", repr=False)
    ssh_key: str = field(default="", repr=False)
    known_hosts: str = ""

    def environment(self):
        env = {
            "GIT_SOURCE_URL": self.url,
            "GIT_SOURCE_FALLBACK_URL": self.fallback_url,
            "GIT_SOURCE_LABEL": self.label,
            "GIT_SOURCE_TIMEOUT": str(settings.VCS_GIT_TIMEOUT),
            "GIT_SOURCE_USERNAME": self.username,
            "GIT_SOURCE_TOKEN": self.token,
            "GIT_SOURCE_SSH_KEY": self.ssh_key,
            "GIT_SOURCE_KNOWN_HOSTS": self.known_hosts,
        }
        return {key: value for key, value in env.items() if value}


@dataclass(frozen=True)
class Commit:
    hash: str
    author: str
    email: str
    message: str


@dataclass(frozen=True)
class Fetched:
    archive: Path  # the packed folder, in a host file the caller named
    size: int
    commit: Commit


def ensure_image(log=None, force=False):
    """The git source image, built like a runtime image when this node lacks it (its former
    tags are removed then). Returns the ``images.BuildResult``."""
    if not force and images.is_ready(IMAGE):
        return images.BuildResult(IMAGE.id, IMAGE.image, images.base_image(IMAGE))
    result = images.ensure_image(IMAGE, force=force, log=log)
    images.prune(IMAGE, log)
    return result


def size_limit():
    return settings.COMPUTE_SIZE_LIMIT or settings.COMPUTE_UNPACKED_SIZE_LIMIT


def deadline(command_timeout=None):
    """Seconds a whole git run may take: at most two git commands (a tag pattern is listed
    first, a missing ``.git`` suffix retried), plus packing."""
    return 2 * (command_timeout or settings.VCS_GIT_TIMEOUT) + 60


def probe_timeout():
    return min(settings.VCS_GIT_TIMEOUT, PROBE_TIMEOUT)


def _check_network(source):
    """A git host needs the egress proxy: with builds' egress off, only local repositories."""
    if not source.mount and egress.mode("build") == "off":
        raise GitFailed(
            "Outbound network of builds is off (EGRESS_BUILDS=off): git hosts cannot be "
            "reached, only file:/// repositories."
        )


def _spec(name, labels, source, egress_parts, seconds):
    egress_binds, egress_env = egress_parts
    binds = [*egress_binds]
    if source.mount:
        binds.append(Bind(source.mount, MOUNT))
    scratch_mb = settings.COMPUTE_BUILD_SCRATCH_SIZE
    return containers.Spec(
        name=name,
        image=IMAGE.image,
        command=["sleep", str(seconds + GRACE)],
        environment=egress_env,
        labels=labels,
        binds=binds,
        scratch=[Scratch("/tmp", scratch_mb * MB)],
        cpus=1.0,
        memory_mb=scratch_mb + 512,  # the tmpfs counts against it, and git needs some too
        pids=64,
    )


def _run(name, spec, mode, env, log, seconds):
    """Start the container, run ``source.sh <mode>`` with ``env``, stream its output to
    ``log``; returns the last line it printed when it failed, else None. The container is
    removed after ``seconds`` whatever happens."""
    docker.run_container(spec)
    timer = threading.Timer(seconds, docker.remove_container, [name])
    timer.start()
    try:
        exec_id, output = docker.exec_stream(
            name, ["bash", SCRIPT, mode], containers.USER, environment=env
        )
        tail = _relay(output, log)
        code = docker.exec_exit_code(exec_id)
    finally:
        timer.cancel()
    if code == 0:
        return None
    if code is None:
        return f"git took longer than {seconds}s and was stopped."
    return _plain(tail) or f"git failed (exit code {code})."


def _relay(output, log):
    """Pass output chunks to ``log`` as they come (a reader thread, so a stalled stream does
    not hold the caller); returns the last non-empty line."""
    chunks = queue.SimpleQueue()

    def read():
        try:
            for chunk in output:
                chunks.put(chunk.decode("utf-8", "replace"))
        except docker.DockerError as exc:
            chunks.put(f"\x1b[31m{exc}\x1b[0m\n")
        finally:
            chunks.put(None)

    threading.Thread(target=read, daemon=True).start()
    text = []
    while (chunk := chunks.get()) is not None:
        text.append(chunk)
        if log is not None:
            log(chunk)
    lines = [line for line in "".join(text)[-8192:].splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _plain(line):
    """A log line without its colour codes."""
    for code in ("\x1b[31m", "\x1b[32m", "\x1b[90m", "\x1b[0m"):
        line = line.replace(code, "")
    return line.strip()


def _copy_out(name, path, target, limit):
    """``cat`` a file of the container into ``target`` (a host path the caller chose), at most
    ``limit`` bytes; returns the size, or None when the file is missing or too large."""
    exec_id, output = docker.exec_stream(name, ["cat", path], containers.USER, stderr=False)
    size = 0
    with open(target, "wb") as out:
        for chunk in output:
            size += len(chunk)
            if size > limit:
                return None
            out.write(chunk)
    return size if docker.exec_exit_code(exec_id) == 0 else None


def _read_out(name, path, limit):
    exec_id, output = docker.exec_stream(name, ["cat", path], containers.USER, stderr=False)
    data = b""
    for chunk in output:
        data += chunk
        if len(data) > limit:
            return None
    return data if docker.exec_exit_code(exec_id) == 0 else None


def _commit(data):
    parts = (data or b"").decode("utf-8", "replace").split("\x00", 3)
    if len(parts) != 4:
        raise GitFailed("git did not report the commit it fetched.")
    hash_, author, email, message = (part.strip() for part in parts)
    return Commit(hash_, _clean(author, 256), _clean(email, 256), _clean(message, 4096))


def _clean(text, length):
    """No control characters but newlines and tabs (these go to logs, documents and env)."""
    return "".join(c for c in text if c in "\n\t" or c >= " ")[:length]


def fetch(source, type_, reference, root, target, identity, name, labels, log=None, say=None):
    """Fetch ``type_`` (branch | commit | tag) ``reference`` of ``source`` and pack its folder
    ``root`` into the host file ``target``. ``identity`` (project, function, deployment IDs)
    names the container to the egress proxy; ``log`` gets git's output as it comes, ``say``
    the platform's own lines (an image build). Raises :class:`GitFailed` with the reason."""
    _check_network(source)
    try:
        if not images.is_ready(IMAGE) and say:
            say("The git source image is not on this node yet: building it.")
        ensure_image(log=say)
    except (docker.DockerError, images.ImageBuildError) as exc:
        raise GitFailed(f"The git source image could not be built: {exc}") from None
    seconds = deadline()
    parts = egress.for_identity("build", identity, name, seconds)
    spec = _spec(name, labels, source, parts, seconds)
    env = source.environment() | {
        "GIT_SOURCE_TYPE": type_,
        "GIT_SOURCE_REFERENCE": reference,
        "GIT_SOURCE_ROOT": root,
        "GIT_SOURCE_LIMIT": str(size_limit()),
    }
    try:
        failure = _run(name, spec, "fetch", env, log, seconds)
        if failure:
            raise GitFailed(failure)
        commit = _commit(_read_out(name, "/tmp/out/commit", COMMIT_LIMIT))
        size = _copy_out(name, "/tmp/out/source.tar.gz", target, size_limit())
        if not size:
            raise GitFailed("The packed source is missing or over the deployment size limit.")
    except docker.DockerError as exc:
        raise GitFailed(f"The git source container failed: {exc}") from None
    finally:
        docker.remove_container(name)
    return Fetched(Path(target), size, commit)


def probe(source, project_id, function_id=""):
    """Check that ``source`` answers as a git repository (``git ls-remote``), in a short-lived
    container. Raises :class:`GitFailed` with the reason."""
    name = f"fn-git-{project_id}-{unique_id()}"
    labels = {
        **containers.mine(PROBE_KIND),
        "functions.project": project_id,
        "functions.function": function_id,
    }
    identity = (project_id, function_id, "")
    _check_network(source)
    try:
        ensure_image()
        seconds = deadline(probe_timeout())
        parts = egress.for_identity("build", identity, name, seconds)
        spec = _spec(name, labels, source, parts, seconds)
        env = source.environment() | {"GIT_SOURCE_TIMEOUT": str(probe_timeout())}
        failure = _run(name, spec, "probe", env, None, seconds)
    except (docker.DockerError, images.ImageBuildError) as exc:
        raise GitFailed(f"The git source container failed: {exc}") from None
    finally:
        docker.remove_container(name)
    if failure:
        raise GitFailed(failure)


def reap_probes():
    """Maintenance: remove repository-check containers whose caller is gone (they stop by
    themselves at their deadline; a running one is still in use)."""
    removed = []
    for container in docker.list_containers(containers.mine(PROBE_KIND)):
        if not container["running"]:
            docker.remove_container(container["name"])
            removed.append(container["name"])
    return removed
