"""Where deployment files live: ``<STORAGE_DIR>/deployments/<projectId>/<deploymentId>/``."""

import shutil
from pathlib import Path

from django.conf import settings


def deployment_dir(deployment):
    path = Path(settings.STORAGE_DIR) / "deployments" / deployment.project_id / deployment.uid
    path.mkdir(parents=True, exist_ok=True)
    return path


def chunk_dir(deployment):
    path = deployment_dir(deployment) / "chunks"
    path.mkdir(exist_ok=True)
    return path


def source_path(deployment):
    return deployment_dir(deployment) / "source.tar.gz"


def build_path(deployment):
    return deployment_dir(deployment) / "build.tar.gz"


def code_dir(deployment):
    """The build output, unpacked once and mounted read-only into the runtime container."""
    return (
        Path(settings.STORAGE_DIR) / "deployments" / deployment.project_id / deployment.uid / "code"
    )


def output_dir(deployment):
    """Where the build container writes ``code.tar.gz``."""
    return deployment_dir(deployment) / "output"


def remove_deployment_files(deployment):
    shutil.rmtree(
        Path(settings.STORAGE_DIR) / "deployments" / deployment.project_id / deployment.uid,
        ignore_errors=True,
    )
