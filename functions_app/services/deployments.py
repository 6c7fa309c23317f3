"""Deployments: chunked uploads, activation, duplication, cancellation and deletion."""

import math
import re
import shutil
from dataclasses import dataclass

from django.conf import settings

from ..errors import AppwriteError
from ..ids import unique_id
from ..models import Deployment
from . import builder, enqueue, events, executor, storage

CHUNK_SIZE = 5 * 1024 * 1024
CONTENT_RANGE = re.compile(r"(\w+) ([0-9]{1,18})-([0-9]{1,18})/([0-9]{1,18})")


@dataclass
class Chunk:
    data: bytes
    start: int
    end: int
    size: int
    partial: bool  # False when the whole file came in one request


def parse_content_range(header, data):
    """A chunk from ``Content-Range`` (or the whole file when there is none)."""
    if not header:
        return Chunk(data, 0, max(len(data) - 1, 0), len(data), partial=False)
    match = CONTENT_RANGE.fullmatch(header.strip())
    if not match:
        raise AppwriteError("storage_invalid_content_range")
    start, end, size = (int(g) for g in match.groups()[1:])
    if end > size or start > end or end - start + 1 != len(data):
        raise AppwriteError("storage_invalid_content_range")
    return Chunk(data, start, end, size, partial=True)


def check_size(size):
    limit = settings.COMPUTE_SIZE_LIMIT
    if limit and size > limit:
        raise AppwriteError("storage_invalid_file_size")


def receive(
    function, chunk, upload_id, activate, entrypoint, commands, type_="manual", origin=None
):
    """Store one chunk; the last one assembles the archive and queues the build.
    ``upload_id`` (``X-Appwrite-ID``) only ever resumes an unfinished upload of this function."""
    check_size(chunk.size)
    index = _chunk_index(chunk)  # before anything is created: a bad chunk changes nothing
    deployment = _find_or_create(function, chunk, upload_id, activate, entrypoint, commands, type_)
    if deployment.uploaded:
        return deployment  # a chunk sent again after the upload finished changes nothing
    storage.chunk_path(deployment, index).write_bytes(chunk.data)
    parts = len(storage.chunk_paths(deployment))
    if parts >= deployment.source_chunks_total:
        _assemble(deployment)
        queue_build(function, deployment, activate)
        events.deployment_changed(deployment, "create", origin)
    else:
        deployment.source_chunks_uploaded = parts
        deployment.save(update_fields=["source_chunks_uploaded"])
    return deployment


def _chunk_index(chunk):
    """1-based; every chunk but the last is exactly ``CHUNK_SIZE`` long and starts on a
    multiple of it, so an upload can never hold more parts (or bytes) than it declared (an
    upload's parts are always ``_chunks`` of its declared size: ``_find_or_create``)."""
    if not chunk.partial:
        return 1
    total = _chunks(chunk)
    index = chunk.start // CHUNK_SIZE + 1
    last = index == total
    if (
        chunk.start % CHUNK_SIZE
        or index > total
        or len(chunk.data) > CHUNK_SIZE
        or (not last and len(chunk.data) != CHUNK_SIZE)
    ):
        raise AppwriteError("storage_invalid_content_range")
    return index


def _find_or_create(function, chunk, upload_id, activate, entrypoint, commands, type_):
    if upload_id:
        existing = Deployment.objects.filter(
            project=function.project, function=function, uid=upload_id
        ).first()
        if existing is None:
            raise AppwriteError("deployment_not_found")
        if existing.source_chunks_total != _chunks(chunk) or existing.source_size != chunk.size:
            raise AppwriteError("storage_invalid_content_range")
        return existing
    deployment = Deployment.objects.create(
        project=function.project,
        function=function,
        uid=unique_id(),
        type=type_,
        entrypoint=entrypoint,
        build_commands=commands,
        activate=activate,
        source_size=chunk.size,
        total_size=chunk.size,
        source_chunks_total=_chunks(chunk),
    )
    function.set_latest_deployment(deployment)
    return deployment


def _chunks(chunk):
    return max(math.ceil(chunk.size / CHUNK_SIZE), 1) if chunk.partial else 1


def _assemble(deployment):
    target = storage.source_path(deployment)
    parts = storage.chunk_paths(deployment)
    with open(target, "wb") as out:
        for index in sorted(parts):
            with open(parts[index], "rb") as src:
                shutil.copyfileobj(src, out)
    storage.remove_chunks(deployment)
    deployment.mark_uploaded(str(target), target.stat().st_size)


def queue_build(function, deployment, activate):
    """Queue a deployment's build; one to activate takes that flag from the others."""
    if activate:
        function.deployments.exclude(pk=deployment.pk).filter(activate=True).update(activate=False)
    enqueue.build(deployment)


@dataclass(frozen=True)
class Download:
    path: object
    filename: str


def download_path(deployment, kind):
    """What the API and the console serve for ``source`` or ``output``: only files that are
    whole (a source still being uploaded is not)."""
    path = storage.source_path(deployment) if kind == "source" else storage.build_path(deployment)
    if not path.is_file() or (kind == "source" and not deployment.uploaded):
        raise AppwriteError("deployment_not_found")
    return Download(path, f"{deployment.uid}-{kind}.tar.gz")


def activate_deployment(function, deployment, origin=None):
    """Manual activation (PATCH /functions/{id}/deployment): needs a ready build."""
    if deployment.status != Deployment.Status.READY:
        raise AppwriteError("build_not_ready")
    function.set_active_deployment(deployment)
    enqueue.warm_up(function)  # its standby container (and first replica, if kept warm)
    events.deployment_changed(deployment, "update", origin)
    return function


def duplicate(function, deployment, origin=None):
    """Rebuild a deployment's source with the function's current entrypoint and commands."""
    if not deployment.uploaded or not storage.source_path(deployment).exists():
        raise AppwriteError("deployment_not_found")
    copy = Deployment.objects.create(
        project=function.project,
        function=function,
        uid=unique_id(),
        type=deployment.type,
        entrypoint=function.entrypoint,
        build_commands=function.commands,
        activate=deployment.activate,
        source_size=deployment.source_size,
        total_size=deployment.source_size,
        vcs=deployment.vcs,
    )
    target = storage.source_path(copy, create=True)
    shutil.copyfile(storage.source_path(deployment), target)
    copy.mark_uploaded(str(target), target.stat().st_size)
    function.set_latest_deployment(copy)
    enqueue.build(copy)
    events.deployment_changed(copy, "update", origin)
    return copy


def cancel(deployment):
    if not deployment.mark_canceled():
        raise AppwriteError("build_already_completed")
    builder.stop(deployment)
    return deployment


def delete_deployment(function, deployment, origin=None):
    payload = events.payload_of(deployment)
    deployment.delete()
    storage.remove_deployment_files(deployment)
    if function.latest_deployment_uid == deployment.uid:
        function.set_latest_deployment(function.deployments.order_by("-created_at", "-id").first())
    if function.deployment_uid == deployment.uid:
        function.set_active_deployment(None)
    executor.remove_runtime(deployment)
    events.deployment_changed(deployment, "delete", origin, payload)
