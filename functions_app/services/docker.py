"""The only module that talks to the Docker engine (through the ``docker`` SDK). Every other
module calls these functions and handles :class:`DockerError`; no SDK type leaks out."""

import threading

import docker
import requests
from django.conf import settings
from docker import errors as sdk_errors

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


SECURITY = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "init": True}


def run_container(
    name,
    image,
    command,
    environment,
    labels,
    mounts,
    network,
    read_only,
    cpus,
    memory_mb,
    pids,
    user,
    tmpfs=None,
):
    """Create and start a detached container. ``mounts`` is ``[(host, container, "ro"|"rw")]``.
    Every container drops all capabilities, cannot gain privileges and never sees the socket."""
    volumes = {host: {"bind": target, "mode": mode} for host, target, mode in mounts}
    try:
        container = client().containers.create(
            image, command=command, name=name, environment=environment, labels=labels, volumes=volumes,
            network_mode=network, read_only=read_only, tmpfs=tmpfs or {}, user=user,
            nano_cpus=int(cpus * 1e9), mem_limit=f"{int(memory_mb)}m", memswap_limit=f"{int(memory_mb)}m",
            pids_limit=pids, detach=True, **SECURITY,
        )  # fmt: skip
    except sdk_errors.APIError as error:
        if error.status_code == 409:
            raise Conflict(f"Container {name} already exists") from error
        raise _wrap(f"Creating container {name}", error) from error
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Creating container {name}", error) from error
    try:
        container.start()
    except (sdk_errors.DockerException, requests.RequestException) as error:
        remove_container(name)
        raise _wrap(f"Starting container {name}", error) from error
    return container.id


def _get(name):
    try:
        return client().containers.get(name)
    except sdk_errors.NotFound:
        return None
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Looking up container {name}", error) from error


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


def container_logs(name):
    """Yield the container's combined output as it is produced, until it exits."""
    try:
        yield from client().api.logs(name, stream=True, follow=True, stdout=True, stderr=True)
    except sdk_errors.NotFound:
        return
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap(f"Reading logs of {name}", error) from error


def wait_container(name, timeout):
    """The exit code, or None when the container is gone or did not exit in time."""
    try:
        return client().api.wait(name, timeout=timeout)["StatusCode"]
    except sdk_errors.NotFound:
        return None
    except (sdk_errors.DockerException, requests.RequestException):
        return None


def list_containers(labels):
    """Containers (running or not) carrying all these labels, as plain dicts."""
    filters = {"label": [f"{key}={value}" for key, value in labels.items()]}
    try:
        found = client().containers.list(all=True, filters=filters)
    except (sdk_errors.DockerException, requests.RequestException) as error:
        raise _wrap("Listing containers", error) from error
    return [
        {"id": c.id, "name": c.name, "labels": c.labels, "running": c.status == "running"} for c in found
    ]  # fmt: skip
