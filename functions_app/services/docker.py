"""The only module that talks to the Docker engine (through the ``docker`` SDK). Every other
module calls these functions and handles :class:`DockerError`; no SDK type leaks out."""

import os
import threading
import time
from dataclasses import dataclass

import docker
import requests
from django.conf import settings
from docker import errors as sdk_errors
from docker.types import DriverConfig, Mount

CLIENT_TIMEOUT = 600
_client = None
_client_lock = threading.Lock()


class DockerError(Exception):
    """A call to the Docker engine failed (engine down, image missing, build failed...)."""


def client():
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                try:
                    _client = docker.DockerClient(
                        base_url=settings.DOCKER_HOST, timeout=CLIENT_TIMEOUT
                    )
                except sdk_errors.DockerException as error:
                    raise DockerError(f"Cannot connect to the Docker engine: {error}") from error
    return _client


def _wrap(action, error):
    return DockerError(f"{action} failed: {error}")


def image_exists(tag):
    """True when the engine has an image with this tag."""
    try:
        client().images.get(tag)
        return True
    except sdk_errors.ImageNotFound:
        return False
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Looking up image {tag}", error) from error


def image_labels(tag):
    """The labels of an image, or None when the engine has no image with this tag."""
    try:
        return client().images.get(tag).labels or {}
    except sdk_errors.ImageNotFound:
        return None
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Looking up image {tag}", error) from error


def image_id(tag):
    try:
        return client().images.get(tag).id
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Looking up image {tag}", error) from error


def image_tags(repository):
    """Every ``repository:tag`` the engine has for this repository."""
    try:
        found = client().images.list(name=repository)
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Listing images of {repository}", error) from error
    return [tag for image in found for tag in image.tags if tag.startswith(repository + ":")]


def remove_image(tag):
    """Remove an image tag; False when a container still uses it (or it is gone already)."""
    try:
        client().images.remove(tag)
        return True
    except (sdk_errors.NotFound, sdk_errors.APIError):
        return False
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Removing image {tag}", error) from error


def import_image(chunks, tag, changes=None):
    """``docker import``: create the image ``tag`` (``repository:tag``) from a root filesystem
    tar streamed as an iterable of bytes chunks. Returns the image id."""
    repository, _, version = tag.rpartition(":")
    try:
        client().api.import_image_from_data(
            chunks, repository=repository, tag=version, changes=changes
        )
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Importing image {tag}", error) from error
    return image_id(tag)


def build_image(folder, tag, buildargs=None, labels=None, network_mode="none"):
    """``docker build`` of a folder context (its ``Dockerfile``). Returns (image id, log text).
    The build network is ``none`` by default: runtime layers fetch nothing."""
    try:
        image, stream = client().images.build(
            path=str(folder),
            tag=tag,
            buildargs=buildargs or {},
            labels=labels or {},
            network_mode=network_mode,
            rm=True,
            forcerm=True,
            pull=False,
        )
    except sdk_errors.BuildError as error:
        log = "".join(
            chunk.get("stream", "") or chunk.get("error", "") for chunk in error.build_log
        )
        raise DockerError(f"Building image {tag} failed: {error.msg}\n{log[-4000:]}") from error
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Building image {tag}", error) from error
    return image.id, "".join(chunk.get("stream", "") for chunk in stream)


# -- containers ----------------------------------------------------------------------------------


class Conflict(DockerError):
    """A container with that name already exists."""


class UnsafeMount(DockerError):
    """A bind-mount source is a link, or lies outside the folders containers may see."""


SECURITY = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "init": True}


@dataclass(frozen=True)
class Started:
    id: str
    volumes: dict  # container path -> host path, for shared scratch volumes


def check_bind_source(source):
    """Right before a container is created: the source must be its own real path (no link
    anywhere on the way), not a link itself, and inside ``STORAGE_DIR``, the API or egress
    socket folder, or a ``VCS_LOCAL_ROOTS`` folder. Raises :class:`UnsafeMount`."""
    roots = [
        os.path.realpath(folder)
        for folder in (
            settings.STORAGE_DIR,
            settings.API_SOCKET.parent,
            settings.EGRESS_SOCKET.parent,
            *settings.VCS_LOCAL_ROOTS,  # git repositories of file:/// connections (git.py)
        )
    ]
    real = os.path.realpath(source)
    if real != os.path.abspath(source) or os.path.islink(source):
        raise UnsafeMount(f"Mount source {source} is a link or goes through one.")
    if not any(real == root or real.startswith(root + os.sep) for root in roots):
        raise UnsafeMount(f"Mount source {source} is outside the storage folder.")
    if not os.path.lexists(real):
        raise UnsafeMount(f"Mount source {source} does not exist.")


def _mounts(spec):
    mounts = []
    for bind in spec.binds:
        check_bind_source(bind.source)
        mounts.append(Mount(bind.target, bind.source, type="bind", read_only=True))
    for scratch in spec.scratch:
        if scratch.shared:
            options = {"type": "tmpfs", "device": "tmpfs", "o": scratch.options()}
            mounts.append(
                Mount(
                    scratch.target,
                    None,
                    type="volume",
                    driver_config=DriverConfig("local", options),
                )
            )
    return mounts


def _tmpfs(spec):
    return {s.target: s.options() for s in spec.scratch if not s.shared}


def run_container(spec):
    """Create and start a detached container from a :class:`containers.Spec`. Its root is
    read-only, it drops all capabilities, cannot gain privileges and never sees the engine's
    socket. Returns :class:`Started`."""
    create_container(spec)
    return start_container(spec.name)


def create_container(spec):
    """Create the container of a :class:`containers.Spec` without starting it (a runtime's
    standby: its start is then the whole cold start). Raises :class:`Conflict` when the name
    is taken. Returns its id."""
    try:
        container = client().containers.create(
            spec.image,
            command=spec.command,
            name=spec.name,
            environment=spec.environment,
            labels=spec.labels,
            mounts=_mounts(spec),
            tmpfs=_tmpfs(spec),
            network_mode=spec.network,
            read_only=True,
            user=spec.user,
            nano_cpus=int(spec.cpus * 1e9),
            mem_limit=f"{int(spec.memory_mb)}m",
            memswap_limit=f"{int(spec.memory_mb)}m",
            pids_limit=spec.pids,
            detach=True,
            **SECURITY,
        )
    except sdk_errors.APIError as error:
        if error.status_code == 409:
            raise Conflict(f"Container {spec.name} already exists") from error
        raise _wrap(f"Creating container {spec.name}", error) from error
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Creating container {spec.name}", error) from error
    return container.id


class Gone(DockerError):
    """The container was removed (or renamed) while it was being started."""


def start_container(name):
    """Start a created container (removed again if it cannot start). Returns :class:`Started`;
    raises :class:`Gone` when no container has this name any more."""
    try:
        client().api.start(name)
        attrs = client().api.inspect_container(name)
    except sdk_errors.NotFound as error:
        remove_container(name)
        raise Gone(f"Starting container {name} failed: {error}") from error
    except (sdk_errors.DockerException, requests.RequestException) as error:
        remove_container(name)
        raise _wrap(f"Starting container {name}", error) from error
    return Started(attrs["Id"], _volumes(attrs))


def rename_container(name, new_name):
    """Give a container another name; False when there is no container ``name`` (or the new
    name is taken): whoever renames it first has it."""
    try:
        client().api.rename(name, new_name)
        return True
    except (sdk_errors.NotFound, sdk_errors.APIError):
        return False
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Renaming container {name}", error) from error


def _volumes(attrs):
    return {
        m["Destination"]: m["Source"]
        for m in attrs.get("Mounts") or []
        if m.get("Type") == "volume" and m.get("Source")
    }


def running_volumes(name):
    """``(container id, {container path: host path})`` of a running container, or None."""
    container = _get(name)
    if container is None or container.status != "running":
        return None
    return container.id, _volumes(container.attrs)


def _get(name):
    try:
        return client().containers.get(name)
    except sdk_errors.NotFound:
        return None
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Looking up container {name}", error) from error


def container_labels(name):
    """The labels of a container (running or not), or None when there is none."""
    container = _get(name)
    return None if container is None else container.labels


def container_exists(name):
    return _get(name) is not None


def container_running(name):
    container = _get(name)
    return container is not None and container.status == "running"


def remove_container(name):
    """Force-remove a container; a missing one is not an error."""
    try:
        client().api.remove_container(name, force=True, v=True)
    except sdk_errors.NotFound:
        pass
    except sdk_errors.APIError as error:
        if error.status_code != 409:  # 409: removal already in progress
            raise _wrap(f"Removing container {name}", error) from error


def exec_stream(name, command, user, stderr=True, environment=None):
    """Run ``command`` in a running container. Returns ``(exec id, iterator of output
    chunks)``; the iterator ends when the command exits or the container goes away.
    ``environment`` is the command's own (not the container's: secrets given this way are not
    in the container's configuration)."""
    try:
        exec_id = client().api.exec_create(
            name,
            command,
            stdout=True,
            stderr=stderr,
            user=user,
            tty=False,
            environment=environment,
        )["Id"]
        return exec_id, _guarded(client().api.exec_start(exec_id, stream=True), name)
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Running a command in {name}", error) from error


def network_of(name):
    """(network mode, names of the network interfaces inside) of a running container: what
    isolation tests and support staff check."""
    try:
        mode = client().api.inspect_container(name)["HostConfig"]["NetworkMode"]
        _, output = exec_stream(name, ["cat", "/proc/net/dev"], "0:0", stderr=False)
        text = b"".join(output).decode(errors="replace")
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Inspecting {name}", error) from error
    lines = text.splitlines()[2:]  # two header lines, then "  name: counters"
    return mode, sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


def _guarded(chunks, name):
    try:
        yield from chunks
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Reading the output of {name}", error) from error


def exec_exit_code(exec_id, settle=10.0):
    """The exit code of a command whose output has ended; None when it was killed (its
    container removed) or still runs ``settle`` seconds later. Under load the engine reports
    an exec as running for a moment after its output closed: that is waited out, not taken for
    a failure (a build whose artifact copy was read that way failed "with exit code 0")."""
    deadline = time.monotonic() + settle
    while True:
        try:
            info = client().api.exec_inspect(exec_id)
        except (sdk_errors.DockerException, requests.RequestException):
            return None
        if not info.get("Running"):
            return info.get("ExitCode")
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def list_containers(labels):
    """Containers (running or not) carrying all these labels, as plain dicts. One listing call:
    no per-container inspection, which could race a container being removed meanwhile."""
    filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
    try:
        found = client().api.containers(all=True, filters=filters)
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap("Listing containers", error) from error
    return [
        {
            "id": c["Id"],
            "name": (c.get("Names") or ["/"])[0].lstrip("/"),
            "labels": c.get("Labels") or {},
            "running": c.get("State") == "running",
        }
        for c in found
    ]
