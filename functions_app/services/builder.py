"""Builds: a deployment's source archive is checked, then built by the runtime's
``helpers/build.sh`` in a build container (network ``none``: package installs reach the
registries through the egress proxy, under the builds' policy), with the logs streamed into the
deployment while it builds.

The container's root is read-only and everything it can write is size-capped tmpfs; the
source archive is mounted read-only and the output leaves through a pipe, so no host folder
is ever writable by build code. Its main process is ``sleep``: the container ends by itself
shortly after the build timeout even if the worker that started it is gone, and maintenance
(:func:`recover`) fails builds whose worker died and removes their containers."""

import logging
import os
import queue
import shutil
import threading
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from .. import runtimes
from ..models import Deployment
from . import (
    archives,
    containers,
    docker,
    egress,
    events,
    fetching,
    images,
    keys,
    reaper,
    scheduler,
    specifications,
    storage,
    workers,
)
from .containers import MB, Bind, Scratch
from .environment import container_environment

LOG_FLUSH_SECONDS = 0.5
ARTIFACT = "/mnt/code/code.tar.gz"
ARTIFACT_GRACE = 30  # seconds the container outlives the build timeout, to hand over its output
CANCELED = "Build has been canceled."
logger = logging.getLogger(__name__)


def ansi_line(text, colour="32"):
    clock = datetime.now(UTC).strftime("%H:%M:%S")
    return f"\x1b[90m[{clock}] \x1b[90m[\x1b[0mappwrite\x1b[90m]\x1b[{colour}m {text} \x1b[0m\n"


build_name = containers.build_name


def build(deployment_pk):
    """Entry point of the build task; does nothing when another worker claimed it first."""
    deployment = Deployment.claim_build(deployment_pk, workers.current())
    if deployment is None:
        _note_cancel(
            Deployment.objects.filter(pk=deployment_pk, status=Deployment.Status.CANCELED).first()
        )
        return
    if deployment.awaits_source and not _fetch(deployment):
        return
    try:
        archives.inspect(storage.source_path(deployment))
    except archives.UnsafeArchive as exc:
        deployment.mark_failed(f"\x1b[31m{exc}\x1b[0m\n")
        return
    if not deployment.mark_building():
        _note_cancel(deployment)
        return
    _announce_building(deployment)
    _run(deployment)


def _fetch(deployment):
    """A git deployment's source, fetched in a git source container; False when it failed or
    the build was canceled meanwhile (both recorded)."""
    try:
        fetching.fetch_source(deployment, lambda text: deployment.append_logs(ansi_line(text)))
    except fetching.FetchFailed as exc:
        _fail(deployment, str(exc))
        return False
    finally:
        docker.remove_container(build_name(deployment))
    return not _canceled(deployment)


def _announce_building(deployment):
    events.deployment_changed(deployment, "update")


def _note_cancel(deployment):
    if deployment is not None and CANCELED not in deployment.build_logs:
        deployment.append_logs(ansi_line(CANCELED, "31"))


def _run(deployment):
    """The build container only sleeps (its end is the engine's own deadline for the build):
    the build runs in it as a command, and its output comes back over that command's pipe."""
    name = build_name(deployment)
    try:
        _ensure_image(deployment)
        docker.run_container(_container_spec(deployment, name))
        exit_code = _follow(deployment, name)
        artifact = _copy_artifact(deployment, name) if exit_code == 0 else None
    except (docker.DockerError, images.ImageBuildError, ArtifactTooLarge) as exc:
        _fail(deployment, str(exc))
        return
    finally:
        docker.remove_container(name)
    _finish(deployment, exit_code, artifact)


def _ensure_image(deployment):
    """A runtime without its image on this node gets it built now, by this worker (a file lock
    makes concurrent builds of the same runtime wait for one image build), logged in the
    deployment's build logs."""
    runtime = runtimes.get(deployment.function.runtime)
    if images.is_ready(runtime):
        return
    deployment.append_logs(
        ansi_line(f"Runtime image for {runtime.id} is not on this node yet: building it.")
    )
    result = images.ensure_image(runtime, log=lambda line: deployment.append_logs(ansi_line(line)))
    if result.built:
        seconds = result.base_seconds + result.seconds
        deployment.append_logs(ansi_line(f"Runtime image {result.image} built in {seconds:.1f}s."))
    else:
        deployment.append_logs(ansi_line(f"Runtime image {result.image} built by another build."))


def _container_spec(deployment, name):
    function = deployment.function
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    memory = max(spec.memory, settings.COMPUTE_BUILD_MEMORY)
    env = container_environment(function, deployment, spec) | {
        "APPWRITE_FUNCTION_API_KEY": keys.mint_dynamic_key(
            function.project_id, function.pk, function.scopes, settings.COMPUTE_BUILD_TIMEOUT
        ),
        "APPWRITE_FUNCTION_MEMORY": str(memory),
        "OPEN_RUNTIMES_ENTRYPOINT": deployment.entrypoint,
        "CI": "true",
    }
    api_binds, api_env = containers.api_bridge()
    egress_binds, egress_env = egress.for_container("build", deployment, name)
    scratch = settings.COMPUTE_BUILD_SCRATCH_SIZE * MB
    return containers.Spec(
        name=name,
        image=runtimes.get(function.runtime).image,
        command=["sleep", str(settings.COMPUTE_BUILD_TIMEOUT + ARTIFACT_GRACE)],
        environment=env | api_env | egress_env,
        labels=containers.labels(deployment, "build"),
        binds=[
            Bind(str(storage.source_path(deployment)), "/tmp/code.tar.gz"),
            *api_binds,
            *egress_binds,
        ],
        scratch=[
            Scratch("/tmp", scratch, executable=True),
            Scratch("/usr/local/build", scratch, executable=True),
            Scratch("/mnt/code", settings.COMPUTE_BUILD_SIZE_LIMIT + MB),
        ],
        **containers.limits(spec, memory_floor=memory),
    )


def _follow(deployment, name):
    """Run ``helpers/build.sh`` in the container and stream its output into the deployment
    until it exits; returns its exit code (None when it was killed: timeout or cancel).
    A reader thread collects output; this thread writes it to the row every half second, so a
    line followed by silence shows up while the build is still running."""
    timer = threading.Timer(settings.COMPUTE_BUILD_TIMEOUT, docker.remove_container, [name])
    timer.start()
    command = ["bash", "helpers/build.sh", deployment.build_commands]
    exec_id, output = docker.exec_stream(name, command, containers.USER)
    chunks = queue.SimpleQueue()
    reader = threading.Thread(target=_read_output, args=(output, chunks), daemon=True)
    reader.start()
    try:
        while reader.is_alive():
            reader.join(LOG_FLUSH_SECONDS)
            _flush(deployment, chunks)
        _flush(deployment, chunks)
        return docker.exec_exit_code(exec_id)
    finally:
        timer.cancel()


def _read_output(output, chunks):
    try:
        for chunk in output:
            chunks.put(chunk.decode("utf-8", "replace"))
    except docker.DockerError as exc:
        chunks.put(f"\x1b[31m{exc}\x1b[0m\n")


def _flush(deployment, chunks):
    pending = []
    while not chunks.empty():
        pending.append(chunks.get())
    if pending:
        deployment.append_logs("".join(pending))


class ArtifactTooLarge(Exception):
    pass


def _copy_artifact(deployment, name):
    """The container's ``/mnt/code/code.tar.gz``, piped out by ``cat`` into a host file and
    capped at ``COMPUTE_BUILD_SIZE_LIMIT``. Returns the file, or None when there is none."""
    limit = settings.COMPUTE_BUILD_SIZE_LIMIT
    target = storage.partial_build_path(deployment)
    exec_id, output = docker.exec_stream(name, ["cat", ARTIFACT], containers.USER, stderr=False)
    size = 0
    with open(target, "wb") as out:
        for chunk in output:
            size += len(chunk)
            if size > limit:
                raise ArtifactTooLarge(
                    f"Build size should be less than {limit / 1_000_000:,.2f} MBs."
                )
            out.write(chunk)
    return target if docker.exec_exit_code(exec_id) == 0 and size else None


def _finish(deployment, exit_code, artifact):
    if exit_code != 0 or artifact is None:
        reason = (
            "Build timed out." if exit_code is None else f"Build failed with exit code {exit_code}."
        )
        _fail(deployment, reason)
    elif not _canceled(deployment):
        _publish(deployment, artifact)


def _canceled(deployment):
    deployment.refresh_from_db()
    if deployment.status == Deployment.Status.CANCELED:
        _note_cancel(deployment)
        return True
    return False


def _fail(deployment, reason):
    if not _canceled(deployment):
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{reason}\x1b[0m\n")


def _publish(deployment, artifact):
    target = storage.build_path(deployment)
    os.replace(artifact, target)
    code = storage.code_dir(deployment)
    shutil.rmtree(code, ignore_errors=True)
    try:
        archives.unpack_output(target, code, settings.COMPUTE_UNPACKED_SIZE_LIMIT)
    except archives.UnsafeArchive as exc:
        target.unlink(missing_ok=True)
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{exc}\x1b[0m\n")
        return
    size = target.stat().st_size
    deployment.mark_ready(
        str(target), size, deployment.build_logs + ansi_line("Deployment finished.")
    )
    function = deployment.function
    function.activate_after_build(deployment)
    scheduler.refresh(function)
    if function.deployment_uid == deployment.uid:
        reaper.warm_up_by_id(function.pk)  # its standby (and first replica, if kept warm)


def stop(deployment):
    """Cancel: kill the build container; the build task notices and records the cancel."""
    docker.remove_container(build_name(deployment))


def recover(now=None, dead_nodes=frozenset()):
    """Maintenance: fail builds whose worker (or its node) died or that outlived every
    deadline, removing their containers, and remove this node's build containers no build is
    using (a build canceled on another node too). Returns failed IDs."""
    now = now or timezone.now()
    leftovers = {c["name"] for c in docker.list_containers(containers.mine("build"))}
    failed = []
    building = Deployment.objects.filter(
        status__in=(Deployment.Status.PROCESSING, Deployment.Status.BUILDING)
    )
    for deployment in building.select_related("function"):
        reason = _interruption(deployment, now, dead_nodes)
        if reason is None:
            leftovers.discard(build_name(deployment))
            continue
        docker.remove_container(build_name(deployment))
        logger.warning("Build %s of %s failed: %s", deployment.uid, deployment.project_id, reason)
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{reason}\x1b[0m\n")
        failed.append(deployment.uid)
    for name in leftovers:
        docker.remove_container(name)
    return failed


def _interruption(deployment, now, dead_nodes):
    """Why a build in flight can no longer finish, or None while it still may."""
    if workers.is_gone(deployment.worker, dead_nodes):
        return f"Build was interrupted: its worker ({deployment.worker}) stopped."
    started = deployment.build_started_at or deployment.updated_at
    limit = settings.COMPUTE_BUILD_TIMEOUT + ARTIFACT_GRACE + settings.COMPUTE_MAINTENANCE_INTERVAL
    if deployment.git_source:
        limit += fetching.deadline()  # its source was fetched first
    if (now - started).total_seconds() > limit:
        return "Build was interrupted: it outlived the build timeout."
    return None
