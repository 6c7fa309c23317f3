"""Container conventions shared by runtime and build containers: names, labels, the
unprivileged user, resource limits and writable scratch space. ``docker.py`` turns a
:class:`Spec` into an engine call; nothing here talks to the engine.

Every container runs as uid 1000 with a read-only root, all capabilities dropped and
``no-new-privileges``. Everything it can write is a size-capped tmpfs: either private to the
container (``Scratch``) or, when the host must read what the container wrote (the runtime's
socket and log folders), a tmpfs-backed volume the engine mounts on the host for the
container's lifetime (``Scratch(shared=True)``). No container-writable folder is ever a
host directory, so a container can neither fill the host's disk nor plant links the host
would follow."""

import hashlib
import math
from dataclasses import dataclass, field

from django.conf import settings

RUNTIME_UID = 1000
USER = f"{RUNTIME_UID}:{RUNTIME_UID}"
MB = 1024 * 1024


@dataclass(frozen=True)
class Scratch:
    """A writable tmpfs at ``target``: ``size`` bytes, owned by the runtime user."""

    target: str
    size: int
    executable: bool = False
    shared: bool = False  # also reachable by the host while the container runs

    def options(self):
        return ",".join(
            [
                f"size={int(self.size)}",
                f"uid={RUNTIME_UID}",
                f"gid={RUNTIME_UID}",
                "mode=0700" if self.shared else "mode=1777",
                "nosuid",
                "nodev",
                "exec" if self.executable else "noexec",
            ]
        )


@dataclass(frozen=True)
class Bind:
    """A host path (under ``STORAGE_DIR``, or the API or egress socket folder), read-only."""

    source: str
    target: str


@dataclass
class Spec:
    name: str
    image: str
    command: list
    environment: dict
    labels: dict
    cpus: float
    memory_mb: int
    pids: int
    binds: list = field(default_factory=list)
    scratch: list = field(default_factory=list)
    network: str = "none"
    user: str = USER


def limits(spec, memory_floor=0):
    """CPU, memory and process limits from a function specification."""
    return {
        "cpus": spec.cpus,
        "memory_mb": max(spec.memory, memory_floor),
        "pids": 128 * max(1, math.ceil(spec.cpus)),
    }


API_DIR = "/var/run/opr-api"
API_PORT = 3080


def api_bridge():
    """(binds, environment) that let a container call this API at ``127.0.0.1:3080``: the API's
    socket folder, read-only, for the loopback bridge the runtime's helpers start."""
    if not settings.API_SOCKET.exists():
        return [], {}
    env = {
        "OPEN_RUNTIMES_API_SOCKET": f"{API_DIR}/{settings.API_SOCKET.name}",
        "OPEN_RUNTIMES_API_PORT": str(API_PORT),
        "APPWRITE_FUNCTION_API_ENDPOINT": f"http://127.0.0.1:{API_PORT}/v1",
    }
    return [Bind(str(settings.API_SOCKET.parent), API_DIR)], env


def instance_id():
    """Tells this installation's containers from another's on a shared engine (by database:
    its server, named by host or socket folder and port, and its name; a SQLite file's path)."""
    db = settings.DATABASES["default"]
    options = db.get("OPTIONS") or {}
    host = db.get("HOST") or options.get("host") or ""  # a socket folder may come as ?host=
    port = db.get("PORT") or options.get("port") or ""
    server = f"{host}:{port}" if port else host
    return hashlib.sha256(f"{server}/{db['NAME']}".encode()).hexdigest()[:12]


def labels(deployment, kind):
    return {
        "functions.managed": "1",
        "functions.instance": instance_id(),
        "functions.node": settings.NODE_ID,
        "functions.kind": kind,
        "functions.project": deployment.project_id,
        "functions.function": deployment.function.uid,
        "functions.deployment": deployment.uid,
    }


def mine(kind):
    """The label filter that finds this node's containers of one kind, of this installation
    (nodes share the database, each runs its own engine: never another node's containers,
    even on an engine two nodes would share)."""
    return {
        "functions.managed": "1",
        "functions.kind": kind,
        "functions.instance": instance_id(),
        "functions.node": settings.NODE_ID,
    }


def runtime_name(deployment):
    return f"fn-{deployment.project_id}-{deployment.uid}"


def build_name(deployment):
    return f"fn-build-{deployment.project_id}-{deployment.uid}"
