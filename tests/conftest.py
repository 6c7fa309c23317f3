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
