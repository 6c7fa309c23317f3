"""Every path of a deployment's files, computed here and nowhere else:

``<STORAGE_DIR>/deployments/<projectId>/<deploymentId>/``
    ``chunks/part.<n>``   upload chunks until the archive is assembled
    ``source.tar.gz``     the uploaded archive
    ``build.tar.gz``      the build output (``build.tar.gz.partial`` while it is copied out)
    ``code/``             the build output unpacked, mounted read-only into runtimes

Both IDs are checked (full match of the ID rules, so no ``/``, ``..`` or newline) and every
path is asserted to stay inside its project's folder. No container can write any of these:
builds hand their output over a pipe, runtimes mount ``code/`` read-only."""

import os
import re
import shutil
from pathlib import Path

from django.conf import settings

SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")


class UnsafePath(Exception):
    pass


def _segment(value):
    if not isinstance(value, str) or not SEGMENT.fullmatch(value):
        raise UnsafePath(f"{value!r} cannot name a storage folder.")
    return value


def project_dir(project_id):
    return Path(settings.STORAGE_DIR) / "deployments" / _segment(project_id)


def _inside(path, project_id):
    root = os.path.realpath(project_dir(project_id))
    if not os.path.realpath(path).startswith(root + os.sep):
        raise UnsafePath(f"{path} is outside the project's deployment folder.")
    return path


def deployment_dir(deployment, create=False):
    path = project_dir(deployment.project_id) / _segment(deployment.uid)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return _inside(path, deployment.project_id)


def _file(deployment, *parts, create=False):
    return _inside(deployment_dir(deployment, create).joinpath(*parts), deployment.project_id)


def chunk_path(deployment, index):
    folder = _file(deployment, "chunks", create=True)
    folder.mkdir(exist_ok=True)
    return _file(deployment, "chunks", f"part.{int(index)}")


def chunk_paths(deployment):
    """The stored chunks as ``{index: path}``."""
    folder = _file(deployment, "chunks")
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        number = path.name.removeprefix("part.")
        if path.name.startswith("part.") and number.isdigit():
            found[int(number)] = path
    return found


def remove_chunks(deployment):
    shutil.rmtree(_file(deployment, "chunks"), ignore_errors=True)


def source_path(deployment, create=False):
    return _file(deployment, "source.tar.gz", create=create)


def build_path(deployment, create=False):
    return _file(deployment, "build.tar.gz", create=create)


def partial_build_path(deployment):
    return _file(deployment, "build.tar.gz.partial", create=True)


def code_dir(deployment):
    """The build output, unpacked once and mounted read-only into the runtime container."""
    return _file(deployment, "code")


def remove_deployment_files(deployment):
    shutil.rmtree(deployment_dir(deployment), ignore_errors=True)
