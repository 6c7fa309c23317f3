"""Builds: a deployment's source archive is checked, then built by the runtime's
``helpers/build.sh`` in a build container (network ``host``, so package installs reach the
registries), with the logs streamed into the deployment while it builds."""

import queue
import shutil
import threading
import time
from datetime import UTC, datetime

from django.conf import settings

from .. import runtimes
from ..models import Deployment
from . import (
    archives,
    deployments,
    docker,
    events,
    executor,
    keys,
    scheduler,
    specifications,
    storage,
    variables,
)
from .environment import function_environment

LOG_FLUSH_SECONDS = 0.5
CANCELED = "Build has been canceled."


def ansi_line(text, colour="32"):
    clock = datetime.now(UTC).strftime("%H:%M:%S")
    return f"\x1b[90m[{clock}] \x1b[90m[\x1b[0mappwrite\x1b[90m]\x1b[{colour}m {text} \x1b[0m\n"


def build_name(deployment):
    return f"fn-build-{deployment.project_id}-{deployment.uid}"


def build(deployment_pk):
    """Entry point of the build task; does nothing when another worker claimed it first."""
    deployment = Deployment.claim_build(deployment_pk)
    if deployment is None:
        _note_cancel(Deployment.objects.filter(pk=deployment_pk, status="canceled").first())
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


def _announce_building(deployment):
    events.deployment_changed(deployment, "update")


def _note_cancel(deployment):
    if deployment is not None and CANCELED not in deployment.build_logs:
        deployment.append_logs(ansi_line(CANCELED, "31"))


def _run(deployment):
    name = build_name(deployment)
    output = storage.output_dir(deployment)
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    shutil.chown(output, executor.RUNTIME_UID, executor.RUNTIME_UID)
    try:
        docker.run_container(**_container_spec(deployment, name, output))
        exit_code = _follow(deployment, name)
    except docker.DockerError as exc:
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{exc}\x1b[0m\n")
        return
    finally:
        docker.remove_container(name)
    _finish(deployment, exit_code, output)


def _container_spec(deployment, name, output):
    function = deployment.function
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    env = function_environment(function, deployment, spec) | variables.environment(function) | {
        "APPWRITE_FUNCTION_API_KEY": keys.mint_dynamic_key(
            function.project_id, function.scopes, settings.COMPUTE_BUILD_TIMEOUT
        ),
        "APPWRITE_FUNCTION_MEMORY": str(max(spec.memory, 1024)),
        "OPEN_RUNTIMES_ENTRYPOINT": deployment.entrypoint,
        "CI": "true",
    }  # fmt: skip
    return {
        "name": name,
        "image": runtimes.get(function.runtime).image,
        "command": ["bash", "helpers/build.sh", deployment.build_commands],
        "environment": env,
        "labels": executor.labels(deployment, "build"),
        "mounts": [
            (str(storage.source_path(deployment)), "/tmp/code.tar.gz", "ro"),
            (str(output), "/mnt/code", "rw"),
        ],
        "network": "host",
        "read_only": False,
        **executor.limits(spec, memory_floor=1024),
    }


def _follow(deployment, name):
    """Stream the container's output into the deployment until it exits; returns its exit code.
    A reader thread collects output; this thread writes it to the row every half second, so a
    line followed by silence shows up while the build is still running."""
    timer = threading.Timer(settings.COMPUTE_BUILD_TIMEOUT, docker.remove_container, [name])
    timer.start()
    chunks = queue.SimpleQueue()
    reader = threading.Thread(target=_read_logs, args=(name, chunks), daemon=True)
    reader.start()
    try:
        while reader.is_alive():
            reader.join(LOG_FLUSH_SECONDS)
            _flush(deployment, chunks)
        _flush(deployment, chunks)
        return docker.wait_container(name, timeout=30)
    finally:
        timer.cancel()


def _read_logs(name, chunks):
    try:
        for chunk in docker.container_logs(name):
            chunks.put(chunk.decode("utf-8", "replace"))
    except docker.DockerError as exc:
        chunks.put(f"\x1b[31m{exc}\x1b[0m\n")


def _flush(deployment, chunks):
    pending = []
    while not chunks.empty():
        pending.append(chunks.get())
    if pending:
        deployment.append_logs("".join(pending))


def _finish(deployment, exit_code, output):
    deployment.refresh_from_db()
    if deployment.status == "canceled":
        _note_cancel(deployment)
        return
    artifact = output / "code.tar.gz"
    if exit_code != 0 or not artifact.exists():
        reason = (
            "Build timed out." if exit_code is None else f"Build failed with exit code {exit_code}."
        )
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{reason}\x1b[0m\n")
        return
    _publish(deployment, artifact)


def _publish(deployment, artifact):
    size = artifact.stat().st_size
    if size > settings.COMPUTE_BUILD_SIZE_LIMIT:
        limit_mb = settings.COMPUTE_BUILD_SIZE_LIMIT / 1_000_000
        deployment.mark_failed(
            deployment.build_logs
            + f"\x1b[31mBuild size should be less than {limit_mb:,.2f} MBs.\x1b[0m\n"
        )
        return
    target = storage.build_path(deployment)
    shutil.move(artifact, target)
    shutil.rmtree(artifact.parent, ignore_errors=True)
    try:
        archives.extract_output(target, storage.code_dir(deployment), owner=executor.RUNTIME_UID)
    except archives.UnsafeArchive as exc:
        deployment.mark_failed(deployment.build_logs + f"\x1b[31m{exc}\x1b[0m\n")
        return
    deployment.mark_ready(
        str(target), size, deployment.build_logs + ansi_line("Deployment finished.")
    )
    function = deployments.auto_activate(deployment)
    scheduler.refresh(function)


def stop(deployment):
    """Cancel: kill the build container; the build task notices and records the cancel."""
    docker.remove_container(build_name(deployment))


def recover_interrupted():
    """Builds whose worker died (no build container left) are marked failed, not left building."""
    names = {c["name"] for c in docker.list_containers({"functions.kind": "build"})}
    failed = []
    for deployment in Deployment.objects.filter(
        status__in=("processing", "building")
    ).select_related("function"):
        age = time.time() - deployment.updated_at.timestamp()
        if build_name(deployment) not in names and age > 120:
            deployment.mark_failed(
                deployment.build_logs + "\x1b[31mBuild was interrupted (worker stopped).\x1b[0m\n"
            )
            failed.append(deployment.uid)
    return failed
