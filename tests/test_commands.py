"""The management commands scripts rely on."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from functions_app.models import ApiKey, Project
from functions_app.models.project import hash_secret


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_createproject_and_createapikey(db):
    assert run("createproject", "acme", "Acme Inc") == "acme"
    assert Project.objects.get(pk="acme").name == "Acme Inc"
    with pytest.raises(CommandError, match="Project with the requested ID already exists"):
        run("createproject", "acme", "Again")
    assert Project.objects.get(pk="acme").name == "Acme Inc"
    secret = run("createapikey", "--project", "acme")
    key = ApiKey.objects.get(secret_hash=hash_secret(secret))
    assert secret.startswith("standard_") and "\n" not in secret
    assert set(key.scopes) == {
        "functions.read",
        "functions.write",
        "execution.read",
        "execution.write",
        "rules.read",
        "rules.write",
    }
    limited = run("createapikey", "--project", "acme", "--name", "ro", "--scopes", "functions.read")
    assert ApiKey.objects.get(secret_hash=hash_secret(limited)).scopes == ["functions.read"]
    with pytest.raises(CommandError):
        run("createapikey", "--project", "missing")


@pytest.mark.parametrize("project_id", [".acme", "a" * 37, "acme\n", "ac me"])
def test_createproject_refuses_what_the_console_refuses(db, project_id):
    with pytest.raises(CommandError, match="Invalid `projectId` param"):
        run("createproject", project_id, "Acme")
    assert not Project.objects.exists()


def test_createproject_picks_an_id_for_unique(db):
    project_id = run("createproject", "unique()", "Acme")
    assert len(project_id) == 20 and Project.objects.get(pk=project_id).name == "Acme"


def test_bootstrap_creates_the_default_project(db, settings, tmp_path):
    settings.STORAGE_DIR = tmp_path
    output = run("bootstrap")
    assert Project.objects.filter(pk="default").exists()
    assert "API key: standard_" in output and "admin /" in output
    assert run("bootstrap") == output  # idempotent
