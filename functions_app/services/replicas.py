"""A deployment's warm containers (replicas), found again by name from any process (web or
worker), each reached over a Unix socket in its socket folder:

- replica 0 is ``fn-<project>-<deployment>``; under concurrent load replicas 1, 2... (``-r1``,
  ``-r2``) join it, up to the function's limit (``capacity.limits``);
- a *standby* (``-standby``) is a container created but never started: the next cold start of
  any replica renames and starts it, so creating the container is not part of the cold start.

A call holds a capacity slot whose index says how many executions of the function run; it goes
to replica ``index % replicas known here`` (so load spreads to the least busy), and when the
index reaches ``known × per_replica`` the next replica is started in the background while the
call goes to one that runs. Concurrent cold starts of one replica merge: the first takes the
replica's state-file lock, the others wait for it and then find it running.

The socket and log folders are size-capped tmpfs volumes that exist only while the container
does; the host reaches into them only through :mod:`container_files`."""

import hashlib
import hmac
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections

from .. import runtimes
from . import (
    capacity,
    containers,
    docker,
    egress,
    images,
    runtime_socket,
    runtime_state,
    specifications,
    storage,
)
from .containers import MB, Bind, Scratch
from .environment import container_environment

SOCKET_DIR = "/var/run/opr"
LOGS_DIR = "/mnt/logs"
READY_POLL = 0.002
STANDBY = "standby"
CONFIG_LABEL = "functions.config"
SETTINGS_LABEL = "functions.settings"
UNHASHED = {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"}  # hold a per-container token
BACKGROUND_START = 30  # seconds a replica started in the background may take at least
START_TRIES = 3  # containers one cold start makes when they are removed as they start


class ColdStartError(Exception):
    pass


@dataclass
class Runtime:
    """A running runtime container and the host paths of its socket and log folders."""

    name: str
    container_id: str
    socket_dir: str
    logs_dir: str
    secret: str
    in_use: runtime_state.InUse = field(init=False, repr=False)

    def __post_init__(self):
        self.in_use = runtime_state.InUse(self.name, self.logs_dir)

    def logs_fd(self):
        """The log folder, opened once (use it only within ``in_use``)."""
        return self.in_use.logs_fd()

    def close(self):
        self.in_use.close()


def base_name(deployment):
    return containers.runtime_name(deployment)


def replica_name(deployment, index):
    base = base_name(deployment)
    return base if index == 0 else f"{base}-r{index}"


def standby_name(deployment):
    return f"{base_name(deployment)}-{STANDBY}"


def role_of(name, base):
    """0, 1, 2... for a replica of ``base``, ``STANDBY``, or None for any other name."""
    if name == base:
        return 0
    suffix = name[len(base) + 1 :] if name.startswith(base + "-") else ""
    if suffix == STANDBY:
        return STANDBY
    return int(suffix[1:]) if suffix[:1] == "r" and suffix[1:].isdigit() else None


def secret_for(base):
    """The deployment's secret (all its replicas share it), derivable by every process."""
    return hmac.new(settings.SECRET_KEY.encode(), base.encode(), hashlib.sha256).hexdigest()[:32]


# -- this process's view ------------------------------------------------------------------------

_known = {}  # base name -> {replica index: Runtime}
_guard = threading.Lock()
_locks = {}  # container name -> thread lock (cold starts merge within the process too)
_starting = set()  # names this process is starting in the background
_background = {}  # pid -> executor (a forked worker starts its own threads)


def known(deployment):
    """The replicas this process knows to run (replica 0 is looked up on first use)."""
    base = base_name(deployment)
    with _guard:
        found = _known.get(base)
        if found is not None:
            return dict(found)
    runtime = _find(base, base)
    with _guard:
        found = _known.setdefault(base, {})
        if runtime is not None:
            found.setdefault(0, runtime)
        return dict(found)


def _register(base, index, runtime):
    with _guard:
        _known.setdefault(base, {})[index] = runtime
    return runtime


def forget(runtime):
    """This process stops using a container (gone, or removed)."""
    base, index = _owner(runtime.name)
    with _guard:
        replicas = _known.get(base, {})
        if index is not None and replicas.get(index) is runtime:
            del replicas[index]
    runtime_socket.discard(runtime.socket_dir)
    runtime.close()


def _owner(name):
    with _guard:
        for base, replicas in _known.items():
            for index, runtime in replicas.items():
                if runtime.name == name:
                    return base, index
    return None, None


def _forget_name(name):
    base, index = _owner(name)
    with _guard:
        runtime = _known.get(base, {}).get(index)
    if runtime is not None:
        forget(runtime)


def _lock(name):
    with _guard:
        return _locks.setdefault(name, threading.Lock())


# -- routing ------------------------------------------------------------------------------------


def route(function, deployment, slot, deadline):
    """The replica for a call holding capacity slot ``slot``; cold-starts replica 0 when this
    process knows of none running."""
    replicas = known(deployment)
    if not replicas:
        return start(function, deployment, 0, deadline)
    found = capacity.limits(function)
    wanted = min(found.replicas, slot // found.per_replica + 1)
    if wanted > len(replicas):
        _scale_out(function, deployment, replicas, found.replicas)
    indices = sorted(replicas)
    return replicas[indices[slot % len(indices)]]


def _scale_out(function, deployment, replicas, most):
    index = next((i for i in range(most) if i not in replicas), None)
    if index is None:
        return
    name = replica_name(deployment, index)
    with _guard:
        if name in _starting:
            return
        _starting.add(name)
    deadline = time.monotonic() + max(function.timeout, BACKGROUND_START)
    _in_background(_start_quietly, function, deployment, index, deadline, name)


def _start_quietly(function, deployment, index, deadline, name):
    try:
        start(function, deployment, index, deadline)
    except (ColdStartError, docker.DockerError):
        pass  # the calls carry on with the replicas that run
    finally:
        with _guard:
            _starting.discard(name)


def _in_background(task, *args):
    with _guard:
        pool = _background.get(os.getpid())
        if pool is None:
            pool = _background[os.getpid()] = ThreadPoolExecutor(2, "replicas")
    pool.submit(_closing_connections, task, *args)


def _closing_connections(task, *args):
    try:
        task(*args)
    finally:
        connections.close_all()  # this thread's own


# -- cold starts --------------------------------------------------------------------------------


def _find(name, base):
    """The running container ``name`` (started by any process), or None."""
    try:
        found = docker.running_volumes(name)
    except docker.DockerError:
        return None
    if found is None or SOCKET_DIR not in found[1] or LOGS_DIR not in found[1]:
        return None
    container_id, volumes = found
    return Runtime(name, container_id, volumes[SOCKET_DIR], volumes[LOGS_DIR], secret_for(base))


def start(function, deployment, index, deadline):
    """Start replica ``index`` unless another thread or process already did."""
    base, name = base_name(deployment), replica_name(deployment, index)
    with _lock(name), runtime_state.exclusive(name):
        runtime_state.touch(name)  # a state file left from an earlier container is not idle
        runtime = _find(name, base)
        if runtime is None or not runtime_socket.is_listening(runtime.socket_dir):
            _forget_name(name)
            docker.remove_container(name)  # stopped, or running but not answering
            started = _started(deployment, container_spec(function, deployment, name))
            volumes = started.volumes
            runtime = Runtime(
                name, started.id, volumes[SOCKET_DIR], volumes[LOGS_DIR], secret_for(base)
            )
            _wait_ready(runtime, deadline)
            _in_background(prepare, function, deployment)
    return _register(base, index, runtime)


def _started(deployment, spec):
    """The standby, or a container of its own: one removed under the cold start by something
    outside these locks (an operator's ``docker rm``, a cleanup by label) is made again."""
    for _ in range(START_TRIES - 1):
        try:
            return _claim_standby(deployment, spec) or docker.run_container(spec)
        except docker.Gone:
            pass
    return _claim_standby(deployment, spec) or docker.run_container(spec)


def _claim_standby(deployment, spec):
    """The deployment's standby, renamed ``spec.name`` and started, when it was made with
    the configuration ``spec`` has (a stale one is removed); else None, and the caller
    creates its own container.

    The cold starts of different replicas (in any process) claim the one standby in turn,
    under its own lock: the engine looks a rename's container up by its old name before it
    locks it, then renames it from whatever name it has by then, so two claims at once both
    "succeeded" and the first claimer's container was renamed away under it (its start or
    inspect found no container of its name)."""
    standby, name = standby_name(deployment), spec.name
    with _lock(standby), runtime_state.exclusive(standby):
        labels = docker.container_labels(standby)
        if labels is None:
            return None
        if labels.get(CONFIG_LABEL) != spec.labels[CONFIG_LABEL]:
            docker.remove_container(standby)  # variables or limits changed since it was made
            return None
        if not docker.rename_container(standby, name):
            return None
    try:
        started = docker.start_container(name)
    except docker.DockerError:
        return None  # removed again by start_container: the caller makes a fresh one
    if SOCKET_DIR not in started.volumes or LOGS_DIR not in started.volumes:
        docker.remove_container(name)
        return None
    return started


def prepare(function, deployment):
    """Create the deployment's standby container if it has none (cheap when it has)."""
    try:
        docker.create_container(container_spec(function, deployment, standby_name(deployment)))
    except docker.Conflict:
        pass
    except (ColdStartError, docker.DockerError):
        pass  # the next cold start creates its container itself


def _wait_ready(runtime, deadline):
    checked = time.monotonic()
    while time.monotonic() < deadline:
        if runtime_socket.is_listening(runtime.socket_dir):
            return
        if time.monotonic() - checked > 0.25:
            checked = time.monotonic()
            if not docker.container_running(runtime.name):
                raise ColdStartError("The runtime stopped while starting the server.")
        time.sleep(READY_POLL)
    raise ColdStartError("Cold start timeout exceeded while starting the server.")


def container_spec(function, deployment, name):
    runtime = runtimes.get(function.runtime)
    if runtime is None:
        raise ColdStartError(f'Runtime "{function.runtime}" is not supported')
    try:
        images.ensure_present(runtime)  # a node that lacks the image builds it on first use
    except images.ImageBuildError as exc:
        raise ColdStartError(f"The runtime image could not be built on this node: {exc}") from exc
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    code = storage.code_dir(deployment)
    if not code.is_dir():
        raise ColdStartError("The deployment's build output is missing. Redeploy the function.")
    env = container_environment(function, deployment, spec) | {
        "OPEN_RUNTIMES_SOCKET": f"{SOCKET_DIR}/{runtime_socket.SOCKET_NAME}",
        "OPEN_RUNTIMES_SECRET": secret_for(base_name(deployment)),
        "OPEN_RUNTIMES_ENTRYPOINT": deployment.entrypoint,
        "OPEN_RUNTIMES_LOGS_DIR": LOGS_DIR,
        "OPEN_RUNTIMES_CPUS": f"{spec.cpus:g}",
        "OPEN_RUNTIMES_MEMORY": str(spec.memory),
        "CI": "true",
    }
    api_binds, api_env = containers.api_bridge()
    # The egress proxy names the container in its caps and logs: a standby changes its name.
    identity = f"{name}#{os.urandom(4).hex()}"
    egress_binds, egress_env = egress.for_container("execution", deployment, identity)
    binds = [Bind(str(code), "/usr/local/server/src/function"), *api_binds, *egress_binds]
    env |= api_env | egress_env
    made = containers.Spec(
        name=name,
        image=runtime.image,
        command=["bash", "helpers/start.sh", "bash helpers/server.sh"],
        environment=env,
        labels=containers.labels(deployment, "runtime"),
        binds=binds,
        scratch=[
            Scratch(SOCKET_DIR, MB, shared=True),
            Scratch(LOGS_DIR, settings.COMPUTE_LOGS_SIZE * MB, shared=True),
            Scratch("/tmp", settings.COMPUTE_TMP_SIZE * MB, executable=True),
        ],
        **containers.limits(spec),
    )
    made.labels[CONFIG_LABEL] = config_hash(made)
    made.labels[SETTINGS_LABEL] = settings_hash(function, deployment)
    return made


def settings_hash(function, deployment):
    """What the function's settings (its variables, the project's, its specification) give a
    container of the deployment, from the database alone: the same on every node, so that a
    node's maintenance can tell its containers made before a change made through another."""
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    env = sorted(container_environment(function, deployment, spec).items())
    parts = [env, spec.cpus, spec.memory, deployment.entrypoint]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def config_hash(spec):
    """What a container was made with, but its name and egress token: a standby whose hash
    differs from a fresh spec's is stale."""
    env = sorted((k, v) for k, v in spec.environment.items() if k not in UNHASHED)
    parts = [spec.image, spec.command, env, spec.binds, spec.scratch, spec.cpus, spec.memory_mb]
    return hashlib.sha256(repr(parts + [spec.pids]).encode()).hexdigest()[:16]


# -- retiring -----------------------------------------------------------------------------------


def retire(name):
    """Remove a runtime container (its socket and log volumes go with it)."""
    _forget_name(name)
    docker.remove_container(name)
    runtime_state.forget(name)


def retire_all(labels):
    """Every runtime container (replicas and standby) carrying these labels."""
    for container in docker.list_containers(containers.mine("runtime") | labels):
        retire(container["name"])
