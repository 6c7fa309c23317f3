"""Fixtures that compose: project -> key -> client (the official Appwrite SDK against a live
server), plus an outsider project with its own key."""

import pytest
import requests
from appwrite.client import Client
from appwrite.services.functions import Functions

from functions_app.api.auth import KEY_SCOPES
from functions_app.models import ApiKey, Project


def make_client(url, project_id, key=None):
    client = Client().set_endpoint(f"{url}/v1").set_project(project_id)
    if key:
        client.set_key(key)
    return client


@pytest.fixture
def project(transactional_db):
    return Project.objects.create(id="main", name="Main project")


@pytest.fixture
def outsider_project(transactional_db):
    return Project.objects.create(id="outsider", name="Outsider project")


@pytest.fixture
def key(project):
    return ApiKey.issue(project, "Test key", KEY_SCOPES)[1]


@pytest.fixture
def client(live_server, project, key):
    return make_client(live_server.url, project.id, key)


@pytest.fixture
def functions(client):
    return Functions(client)


@pytest.fixture
def outsider_functions(live_server, outsider_project):
    secret = ApiKey.issue(outsider_project, "Outsider key", KEY_SCOPES)[1]
    return Functions(make_client(live_server.url, outsider_project.id, secret))


class Raw:
    """Plain HTTP for what the SDK cannot send."""

    def __init__(self, base, project_id, key):
        self.base, self.headers = (
            f"{base}/v1",
            {"X-Appwrite-Project": project_id, "X-Appwrite-Key": key},
        )

    def request(self, method, path, headers=None, **kwargs):
        return requests.request(
            method,
            self.base + path,
            headers={**self.headers, **(headers or {})},
            timeout=30,
            **kwargs,
        )

    def __getattr__(self, method):
        return lambda path, **kwargs: self.request(method.upper(), path, **kwargs)


@pytest.fixture
def raw(live_server, project, key):
    return Raw(live_server.url, project.id, key)


# -- Docker-backed tests: a real django-q2 cluster against the test database --------------------

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from django.conf import settings as django_settings  # noqa: E402

TEST_PROJECTS = ("main", "outsider")


@pytest.fixture(scope="session")
def qcluster(django_db_setup, django_db_blocker):
    """``manage.py qcluster`` in a subprocess, on the same database and storage as the tests."""
    db = django_settings.DATABASES["default"]
    env = dict(
        os.environ,
        STORAGE_DIR=str(django_settings.STORAGE_DIR),
        SECRET_KEY=django_settings.SECRET_KEY,
    )
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    root = Path(__file__).resolve().parent.parent
    log = open(Path(django_settings.STORAGE_DIR) / "test-qcluster.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"], cwd=root, env=env, stdout=log, stderr=log
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def remove_test_containers():
    from functions_app.services import docker

    for container in docker.list_containers({"functions.managed": "1"}):
        if container["labels"].get("functions.project") in TEST_PROJECTS:
            docker.remove_container(container["name"])


@pytest.fixture
def engine(qcluster, live_server, project):
    """For tests marked ``docker``: a worker cluster, and no container or file left behind."""
    remove_test_containers()
    yield
    remove_test_containers()
    for name in TEST_PROJECTS:
        shutil.rmtree(Path(django_settings.STORAGE_DIR) / "deployments" / name, ignore_errors=True)
    for path in (Path(django_settings.STORAGE_DIR) / "runtimes").glob("fn-*"):
        if path.name.split("-")[1] in TEST_PROJECTS:
            shutil.rmtree(path, ignore_errors=True)
