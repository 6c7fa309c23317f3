"""Git connections ("installations") without containers: secrets sealed at rest, the checks on
base URLs, ``manage.py createinstallation``, linking errors, ``createVcsDeployment``'s errors,
the update semantics of the link, and the push webhook's checks and dispatch (deployments are
queued; ``test_vcs.py`` builds them)."""

import io

import pytest
import requests
from appwrite.enums.runtime import Runtime
from appwrite.enums.vcs_reference_type import VCSReferenceType
from django.core.management import CommandError, call_command

from functions_app.errors import AppwriteError
from functions_app.models import Deployment, Function, Installation, Project
from functions_app.services import installations, secrets

from .gitrepos import github_push, gitlab_push, signed
from .helpers import expect_error, expect_raw_error

SECRET = "hook-secret"
COMMIT = "a" * 40


# -- secrets --------------------------------------------------------------------------------


def test_sealed_values_open_only_in_their_context_and_with_this_secret_key(settings):
    sealed = secrets.seal("ghp_token", "installation:x:token")
    assert sealed.startswith("v2:") and "ghp_token" not in sealed
    assert secrets.seal("ghp_token", "installation:x:token") != sealed  # a fresh nonce
    assert secrets.open_sealed(sealed, "installation:x:token") == "ghp_token"
    with pytest.raises(secrets.Undecryptable):
        secrets.open_sealed(sealed, "installation:y:token")  # another row's
    tampered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(secrets.Undecryptable):
        secrets.open_sealed(tampered, "installation:x:token")
    with pytest.raises(secrets.Undecryptable):
        secrets.open_sealed("v1:not-base64!", "installation:x:token")
    settings.SECRET_KEY = "another-key"
    with pytest.raises(secrets.Undecryptable):
        secrets.open_sealed(sealed, "installation:x:token")
    assert secrets.seal("", "c") == "" and secrets.open_sealed("", "c") == ""
    long = "é" * 5000
    assert secrets.open_sealed(secrets.seal(long, "c"), "c") == long


def test_credentials_are_stored_sealed(project):
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"
    installation = installations.create_installation(
        project,
        "Host",
        "https://git.example.com",
        token="tok-1",
        ssh_key=key,
        webhook_secret=SECRET,
    )
    row = Installation.objects.values().get(pk=installation.pk)
    assert all(value not in str(row) for value in ("tok-1", "abc", SECRET))
    assert installations.secret(installation, "token") == "tok-1"
    assert installations.secret(installation, "ssh_key") == key
    source = installations.source_for(installation, "acme/app")
    assert (source.url, source.fallback_url) == (
        "https://git.example.com/acme/app.git",
        "https://git.example.com/acme/app",
    )
    assert (source.username, source.token) == ("git", "tok-1")
    assert "tok-1" not in repr(source)
    installations.update_installation(
        installation, "Host", "https://git.example.com", "github", "", "", token=None
    )
    assert installations.secret(installation, "token") == "tok-1"  # None keeps it
    installations.update_installation(
        installation, "Host", "https://git.example.com", "github", "", "", token=""
    )
    assert installations.secret(installation, "token") == ""


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com",
        "https://git.example.com:8443/scm/",
        "http://10.0.0.5/git",
        "ssh://git@github.com",
        "ssh://git@host:2222/repos",
    ],
)
def test_good_base_urls(url):
    assert installations.clean_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://host",
        "git@github.com:acme",  # scp-like syntax: use ssh://
        "https://user:secret@github.com",
        "https://token@github.com",
        "https://github.com/?x=1",
        "https://github.com/#x",
        "https://github.com:99999",
        "file:///etc",  # outside VCS_LOCAL_ROOTS
        "file://host/srv/git",
        "https://git hub.com",
    ],
)
def test_bad_base_urls(url, settings, tmp_path):
    settings.VCS_LOCAL_ROOTS = [tmp_path]
    with pytest.raises(AppwriteError) as error:
        installations.clean_base_url(url)
    assert error.value.type == "general_argument_invalid"


def test_file_urls_must_lie_in_the_local_roots(settings, tmp_path):
    settings.VCS_LOCAL_ROOTS = [tmp_path]
    (tmp_path / "repos").mkdir()
    assert installations.clean_base_url(f"file://{tmp_path}/repos") == f"file://{tmp_path}/repos"
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(AppwriteError):
        installations.clean_base_url(f"file://{tmp_path}/link")


def test_a_local_repository_behind_a_link_is_not_found(settings, tmp_path):
    settings.VCS_LOCAL_ROOTS = [tmp_path]
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "real.git").mkdir()
    (tmp_path / "acme" / "alias.git").symlink_to(tmp_path / "acme" / "real.git")
    source = installations.locate(f"file://{tmp_path}", "acme/real")
    assert (source.url, source.mount) == ("file:///mnt/repo", str(tmp_path / "acme" / "real.git"))
    with pytest.raises(installations.NotFound):
        installations.locate(f"file://{tmp_path}", "acme/alias")


@pytest.mark.parametrize(
    "name", ["acme", "acme/", "/app", "acme/../x", "a/b/c/d/e/f/g", "-x/y", "a/b c"]
)
def test_repository_names(name):
    with pytest.raises(AppwriteError):
        installations.split_repository(name)


def test_repository_names_may_have_subgroups():
    assert installations.split_repository("group/sub/app.git") == ("group/sub", "app")


# -- manage.py createinstallation -------------------------------------------------------------


def test_createinstallation_prints_only_the_id(project, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("tok-from-file\n")
    out = io.StringIO()
    call_command(
        "createinstallation",
        "--project", project.pk,
        "--url", "https://git.example.com",
        "--name", "Example",
        "--provider", "gitea",
        "--token-file", str(token_file),
        "--webhook-secret", SECRET,
        stdout=out,
    )  # fmt: skip
    uid = out.getvalue().strip()
    assert out.getvalue() == uid + "\n"
    installation = Installation.objects.get(uid=uid)
    assert (installation.project, installation.name, installation.provider) == (
        project,
        "Example",
        "gitea",
    )
    assert installations.secret(installation, "token") == "tok-from-file"
    assert installations.secret(installation, "webhook_secret") == SECRET


def test_createinstallation_errors(project):
    with pytest.raises(CommandError, match="not found"):
        call_command("createinstallation", "--project", "nope", "--url", "https://x.org")
    with pytest.raises(CommandError, match="file:///"):
        call_command("createinstallation", "--project", project.pk, "--url", "file:///etc")
    assert not Installation.objects.exists()


# -- linking (the checks that need no repository) -----------------------------------------------


@pytest.fixture
def connection(project):
    return installations.create_installation(
        project, "Example", "https://git.example.com", provider="github", webhook_secret=SECRET
    )


def test_link_errors(functions, connection, outsider_project):
    other = installations.create_installation(outsider_project, "Theirs", "https://x.org")
    expect_error(
        lambda: functions.create("f", "F", Runtime.PYTHON_3_11, installation_id=other.uid),
        404,
        "installation_not_found",
    )
    expect_error(
        lambda: functions.create(
            "f",
            "F",
            Runtime.PYTHON_3_11,
            installation_id=connection.uid,
            provider_repository_id="a/b",
        ),
        400,
        "general_argument_invalid",
        'When connecting to VCS (Version Control System), you need to provide "installationId" and "providerBranch".',
    )
    error = expect_error(
        lambda: functions.create(
            "f",
            "F",
            Runtime.PYTHON_3_11,
            installation_id=connection.uid,
            provider_repository_id="no-owner",
            provider_branch="main",
        ),
        400,
        "general_argument_invalid",
    )
    assert "providerRepositoryId" in error.message
    error = expect_error(
        lambda: functions.create(
            "f",
            "F",
            Runtime.PYTHON_3_11,
            installation_id=connection.uid,
            provider_repository_id="acme/app",
            provider_branch="a..b",
        ),
        400,
        "general_argument_invalid",
    )
    assert "providerBranch" in error.message
    assert not Function.objects.exists()


def link(function_id, connection, branch="main"):
    """Link a function as a successful check would (that check needs a container)."""
    Function.objects.filter(uid=function_id).update(
        installation_id=connection.uid,
        provider_repository_id="acme/app",
        provider_branch=branch,
        provider_root_directory="fn",
    )


def test_update_keeps_the_link_unless_the_repository_is_given(functions, connection):
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    link("f", connection)
    updated = functions.update("f", "Renamed", entrypoint="main.py")
    assert (updated.installationid, updated.providerrepositoryid, updated.providerbranch) == (
        connection.uid,
        "acme/app",
        "main",
    )
    assert updated.providerrootdirectory == "fn"
    assert not Deployment.objects.exists()  # the link did not change: nothing deployed
    unlinked = functions.update("f", "Renamed", provider_repository_id="")
    assert (unlinked.installationid, unlinked.providerrepositoryid, unlinked.providerbranch) == (
        "",
        "",
        "",
    )


def test_vcs_deployment_errors(functions, connection):
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    expect_error(
        lambda: functions.create_vcs_deployment("f", VCSReferenceType.BRANCH, "main"),
        404,
        "provider_repository_not_found",
    )
    expect_error(
        lambda: functions.create_vcs_deployment("ghost", VCSReferenceType.BRANCH, "main"),
        404,
        "function_not_found",
    )
    link("f", connection)
    error = expect_error(
        lambda: functions.create_vcs_deployment("f", VCSReferenceType.COMMIT, "not-a-hash"),
        400,
        "general_argument_invalid",
    )
    assert error.message.startswith("Invalid `reference` param:")
    deployment = functions.create_vcs_deployment("f", VCSReferenceType.TAG, "v1.0", activate=True)
    assert (deployment.type, deployment.status.value, deployment.sourcesize) == (
        "vcs",
        "waiting",
        0,
    )
    assert deployment.providerrepositoryurl == "https://git.example.com/acme/app"
    row = Deployment.objects.get(uid=deployment.id)
    assert row.git_source == {
        "installation": connection.uid,
        "repository": "acme/app",
        "type": "tag",
        "reference": "v1.0",
        "root": "fn",
        "commitUrl": "https://git.example.com/acme/app/commit/{commit}",
        "authorUrl": "",
    }
    branch = functions.create_vcs_deployment("f", VCSReferenceType.BRANCH, "dev")
    assert branch.providerbranchurl == "https://git.example.com/acme/app/tree/dev"


def test_deleting_a_connection_unlinks_its_functions(functions, connection):
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    link("f", connection)
    installations.delete_installation(connection)
    function = functions.get("f")
    assert (function.installationid, function.providerrepositoryid) == ("", "")


# -- push webhooks ----------------------------------------------------------------------------


def hook(live_server, installation_id, body, headers):
    url = f"{live_server.url}/v1/vcs/webhooks/{installation_id}"
    return requests.post(url, data=body, headers=headers, timeout=30)


def test_webhook_checks(live_server, connection, functions, project):
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    link("f", connection)
    body, signature = signed(SECRET, github_push("acme/app", "main", COMMIT))
    github = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    expect_raw_error(
        hook(live_server, "nope", body, github | {"X-Hub-Signature-256": f"sha256={signature}"}),
        404,
        "installation_not_found",
    )
    for wrong in ("", "sha256=" + "0" * 64, signature):  # missing, wrong, without its prefix
        expect_raw_error(
            hook(live_server, connection.uid, body, github | {"X-Hub-Signature-256": wrong}),
            401,
            "general_access_forbidden",
        )
    expect_raw_error(hook(live_server, connection.uid, body, {}), 400, "general_argument_invalid")
    unsigned = installations.create_installation(project, "No secret", "https://x.org")
    expect_raw_error(
        hook(
            live_server, unsigned.uid, body, github | {"X-Hub-Signature-256": f"sha256={signature}"}
        ),
        401,
        "general_access_forbidden",
    )
    assert not Deployment.objects.exists()


def test_a_push_queues_an_active_deployment_per_linked_function(live_server, connection, functions):
    for function_id, branch in (("f", "main"), ("g", "main"), ("h", "dev")):
        functions.create(function_id, function_id, Runtime.PYTHON_3_11, entrypoint="main.py")
        link(function_id, connection, branch)
    payload = github_push("acme/app", "main", COMMIT)
    payload["repository"]["full_name"] = "Acme/App"  # GitHub compares names without case
    body, signature = signed(SECRET, payload)
    response = hook(
        live_server,
        connection.uid,
        body,
        {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature}"},
    )
    assert response.status_code == 200, response.text
    created = response.json()["deployments"]
    assert [item["functionId"] for item in created] == ["f", "g"]
    for item in created:
        deployment = Deployment.objects.get(uid=item["deploymentId"])
        assert deployment.activate and deployment.git_source["type"] == "commit"
        assert deployment.git_source["reference"] == COMMIT
        assert deployment.git_source["authorUrl"] == "https://git.example.com/ada"
        assert deployment.vcs["providerBranch"] == "main"


@pytest.mark.parametrize(
    "kind",
    ["gitea", "gitlab", "github-ping", "github-tag", "github-deleted"],
)
def test_other_formats_and_events(live_server, connection, functions, kind):
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    link("f", connection)
    payload = (
        gitlab_push("acme/app", "main", COMMIT)
        if kind == "gitlab"
        else github_push("acme/app", "main", COMMIT)
    )
    if kind == "github-tag":
        payload["ref"] = "refs/tags/v1"
    if kind == "github-deleted":
        payload["after"] = "0" * 40
    body, signature = signed(SECRET, payload)
    headers = {
        "gitea": {"X-Gitea-Event": "push", "X-Gitea-Signature": signature},
        "gitlab": {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET},
        "github-ping": {"X-GitHub-Event": "ping", "X-Hub-Signature-256": f"sha256={signature}"},
    }.get(kind, {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature}"})
    response = hook(live_server, connection.uid, body, headers)
    assert response.status_code == 200, response.text
    deploys = kind in ("gitea", "gitlab")
    assert len(response.json()["deployments"]) == (1 if deploys else 0)
    assert Deployment.objects.count() == (1 if deploys else 0)


def test_installations_are_scoped_to_their_project(connection, outsider_project):
    assert Project.objects.get(pk=outsider_project.pk).installations.count() == 0
    with pytest.raises(AppwriteError) as error:
        installations.get_installation(outsider_project, connection.uid)
    assert error.value.type == "installation_not_found"


# -- the admin --------------------------------------------------------------------------------


def test_admin_saves_connections_through_the_service(project, functions):
    from django.contrib.auth import get_user_model
    from django.test import Client

    staff = Client()
    staff.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    url = "/admin/functions_app/installation/add/"
    form = {"project": project.pk, "name": "Host", "provider": "gitlab", "base_url": "ftp://x"}
    assert "Invalid `url` param" in staff.post(url, form).text
    assert not Installation.objects.exists()
    response = staff.post(
        url, form | {"base_url": "https://gitlab.example.com", "new_token": "tok-9"}
    )
    assert response.status_code == 302
    installation = Installation.objects.get()
    assert installations.secret(installation, "token") == "tok-9" and len(installation.uid) == 20
    change = f"/admin/functions_app/installation/{installation.pk}/change/"
    page = staff.get(change).text
    assert "tok-9" not in page and installations.webhook_url(installation) in page
    assert 'name="project"' not in page
    changed = {"name": "Renamed", "provider": "gitlab", "base_url": "https://gitlab.example.com"}
    assert staff.post(change, changed | {"new_webhook_secret": "w-1"}).status_code == 302
    installation.refresh_from_db()
    assert installation.name == "Renamed"
    assert installations.secret(installation, "token") == "tok-9"  # not typed: kept
    assert installations.secret(installation, "webhook_secret") == "w-1"
    assert staff.post(change, changed | {"remove_token": "on"}).status_code == 302
    installation.refresh_from_db()
    assert not installation.has_token and installation.has_webhook_secret
    functions.create("f", "F", Runtime.PYTHON_3_11, entrypoint="main.py")
    link("f", installation)
    delete = f"/admin/functions_app/installation/{installation.pk}/delete/"
    assert staff.post(delete, {"post": "yes"}).status_code == 302
    assert not Installation.objects.exists()
    assert Function.objects.get(uid="f").provider_repository_id == ""


def test_without_egress_for_builds_only_local_repositories_can_be_reached(settings, connection):
    from functions_app.services import git

    settings.EGRESS_BUILDS = "off"
    with pytest.raises(git.GitFailed, match="EGRESS_BUILDS=off"):
        git.probe(installations.source_for(connection, "acme/app"), "main")
