"""Deployments from git, with real git source containers and real builds: repositories the tests
create (``file:///`` connections, mounted read-only into the git container; and one served over
git's smart HTTP, reached through the egress proxy), a function linked to a branch, deployments
of a branch, a commit and a tag (the executed code proves which), push webhooks, and failures
that say why."""

import json

import pytest
import requests
from appwrite.enums.runtime import Runtime
from appwrite.enums.template_reference_type import TemplateReferenceType
from appwrite.enums.vcs_reference_type import VCSReferenceType
from appwrite.exception import AppwriteException
from appwrite.models.deployment import Deployment

from functions_app.models import Deployment as DeploymentRow
from functions_app.services import installations

from .deploy import wait_deployment, wait_for
from .gitrepos import Repository, github_push, gitlab_push, python_function, signed

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]
SECRET = "push-secret-1"


@pytest.fixture
def repo(git_root):
    """acme/app: main has two commits (the first tagged v1.0), feature one more."""
    repository = Repository(git_root, "acme/app")
    first = repository.commit({"fn/main.py": python_function("tag-v1")}, "first")
    repository.tag("v1.0", first)
    main = repository.commit({"fn/main.py": python_function("main-2")}, "second on main")
    feature = repository.commit(
        {"fn/main.py": python_function("feature-3")}, "on feature", "feature"
    )
    repository.hashes = {"first": first, "main": main, "feature": feature}
    return repository


@pytest.fixture
def connection(project, git_root):
    return installations.create_installation(
        project, "Local repositories", f"file://{git_root}", webhook_secret=SECRET
    )


def linked(functions, connection, function_id="app", branch="main", root="fn"):
    """A Python function linked to acme/app (linking deploys the branch head)."""
    return functions.create(
        function_id,
        "App",
        Runtime.PYTHON_3_11,
        entrypoint="main.py",
        execute=["any"],
        installation_id=connection.uid,
        provider_repository_id="acme/app",
        provider_branch=branch,
        provider_root_directory=root,
    )


def run(functions, function_id="app"):
    execution = functions.create_execution(function_id)
    assert execution.status.value == "completed", execution.errors
    return execution.responsebody


def active_after(functions, deployment_id, function_id="app"):
    ready = wait_deployment(functions, function_id, deployment_id, timeout=240)
    assert ready.status.value == "ready", ready.buildlogs
    wait_for(lambda: functions.get(function_id).deploymentid == deployment_id, timeout=30)
    return ready


def test_linking_deploys_the_branch_head_then_a_commit_a_tag_and_a_branch(
    functions, repo, connection
):
    function = linked(functions, connection)
    assert (function.installationid, function.providerrepositoryid) == (connection.uid, "acme/app")
    head = active_after(functions, function.latestdeploymentid)
    assert run(functions) == "main-2"
    assert head.type == "vcs"
    assert (head.providerrepositoryowner, head.providerrepositoryname) == ("acme", "app")
    assert (head.providerbranch, head.providercommithash) == ("main", repo.hashes["main"])
    assert (head.providercommitauthor, head.providercommitmessage) == (
        "Ada Lovelace",
        "second on main",
    )
    assert "Fetching acme/app (branch main) from git." in head.buildlogs

    commit = functions.create_vcs_deployment(
        "app", VCSReferenceType.COMMIT, repo.hashes["feature"], activate=True
    )
    assert isinstance(commit, Deployment) and commit.type == "vcs"
    assert commit.status.value == "waiting" and commit.sourcesize == 0
    ready = active_after(functions, commit.id)
    assert run(functions) == "feature-3"
    assert ready.providercommithash == repo.hashes["feature"] and ready.providerbranch == ""
    assert ready.sourcesize > 0

    tag = functions.create_vcs_deployment("app", VCSReferenceType.TAG, "v1.0", activate=True)
    assert active_after(functions, tag.id).providercommithash == repo.hashes["first"]
    assert run(functions) == "tag-v1"

    branch = functions.create_vcs_deployment(
        "app", VCSReferenceType.BRANCH, "feature", activate=True
    )
    assert active_after(functions, branch.id).providerbranch == "feature"
    assert run(functions) == "feature-3"


def test_a_push_webhook_deploys_and_activates_the_new_commit(
    functions, repo, connection, live_server
):
    function = linked(functions, connection)
    active_after(functions, function.latestdeploymentid)
    pushed = repo.commit({"fn/main.py": python_function("pushed-4")}, "pushed")
    url = f"{live_server.url}/v1/vcs/webhooks/{connection.uid}"
    body, signature = signed(SECRET, github_push("acme/app", "main", pushed, "pushed"))
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}

    before = DeploymentRow.objects.count()
    bad = requests.post(
        url, data=body, headers=headers | {"X-Hub-Signature-256": "sha256=" + "0" * 64}, timeout=30
    )
    assert bad.status_code == 401 and bad.json()["type"] == "general_access_forbidden"
    assert DeploymentRow.objects.count() == before  # nothing deployed

    good = requests.post(
        url, data=body, headers=headers | {"X-Hub-Signature-256": f"sha256={signature}"}, timeout=30
    )
    assert good.status_code == 200, good.text
    created = good.json()["deployments"]
    assert created == [{"functionId": "app", "deploymentId": created[0]["deploymentId"]}]
    ready = active_after(functions, created[0]["deploymentId"])
    assert run(functions) == "pushed-4"
    assert (ready.providercommithash, ready.providerbranch) == (pushed, "main")

    # Another branch's push deploys nothing; GitLab's token is checked the same way.
    body, _ = signed(SECRET, gitlab_push("acme/app", "feature", repo.hashes["feature"]))
    gitlab = {"X-Gitlab-Event": "Push Hook", "Content-Type": "application/json"}
    wrong = requests.post(url, data=body, headers=gitlab | {"X-Gitlab-Token": "nope"}, timeout=30)
    assert wrong.status_code == 401
    other = requests.post(url, data=body, headers=gitlab | {"X-Gitlab-Token": SECRET}, timeout=30)
    assert other.status_code == 200 and other.json()["deployments"] == []


def test_unknown_references_and_a_missing_root_directory_fail_clearly(functions, repo, connection):
    function = linked(functions, connection, root="missing")
    failed = wait_deployment(functions, "app", function.latestdeploymentid, timeout=120)
    assert failed.status.value == "failed"
    assert 'Root directory "missing" was not found in acme/app' in failed.buildlogs

    functions.update("app", "App", entrypoint="main.py", provider_root_directory="fn")
    nope = functions.create_vcs_deployment("app", VCSReferenceType.BRANCH, "nope")
    failed = wait_deployment(functions, "app", nope.id, timeout=120)
    assert failed.status.value == "failed"
    assert 'Branch "nope" was not found in acme/app.' in failed.buildlogs

    missing = functions.create_vcs_deployment("app", VCSReferenceType.COMMIT, "1" * 40)
    failed = wait_deployment(functions, "app", missing.id, timeout=120)
    assert failed.status.value == "failed"
    assert f'Commit "{"1" * 40}" was not found in acme/app.' in failed.buildlogs

    with pytest.raises(AppwriteException) as error:  # refused before anything is queued
        functions.create_vcs_deployment("app", VCSReferenceType.BRANCH, "../etc")
    assert error.value.code == 400 and "reference" in error.value.message


def test_linking_an_unknown_repository_is_refused(functions, repo, connection):
    with pytest.raises(AppwriteException) as error:
        functions.create(
            "ghost",
            "Ghost",
            Runtime.PYTHON_3_11,
            entrypoint="main.py",
            installation_id=connection.uid,
            provider_repository_id="acme/ghost",
            provider_branch="main",
        )
    assert (error.value.code, error.value.type) == (404, "provider_repository_not_found")
    assert "acme/ghost" in error.value.message
    assert not DeploymentRow.objects.exists()


def test_git_over_https_goes_through_the_egress_proxy_with_the_token(
    functions, git_root, project, egress
):
    """A git host on the network (here: git http-backend on this host, allowlisted as an
    operator would), with a token: git in its container reaches it only through the proxy."""
    repository = Repository(git_root, "team/site")
    head = repository.commit({"main.py": python_function("over-http")}, "served over http")
    egress.git_token = "token-123"
    base = f"http://{egress.host}:{egress.allowed_port}/git"
    try:
        wrong = installations.create_installation(project, "Wrong token", base, token="nope")
        with pytest.raises(AppwriteException) as error:
            functions.create(
                "site",
                "Site",
                Runtime.PYTHON_3_11,
                entrypoint="main.py",
                installation_id=wrong.uid,
                provider_repository_id="team/site",
                provider_branch="main",
            )
        assert error.value.type == "provider_repository_not_found"
        assert "Authentication to the git host failed" in error.value.message

        good = installations.create_installation(project, "Token", base, token="token-123")
        function = functions.create(
            "site",
            "Site",
            Runtime.PYTHON_3_11,
            entrypoint="main.py",
            execute=["any"],
            installation_id=good.uid,
            provider_repository_id="team/site",
            provider_branch="main",
        )
        ready = active_after(functions, function.latestdeploymentid, "site")
        assert ready.providercommithash == head
        assert ready.providerrepositoryurl == f"{base}/team/site"
        assert run(functions, "site") == "over-http"
    finally:
        egress.git_token = None


def test_a_template_repository_from_the_templates_git_url(functions, git_root, settings):
    """Not a catalog template: cloned from FUNCTIONS_TEMPLATES_GIT_URL (here a file:/// folder;
    the deployment records the URL it was asked with), at the newest tag matching the version
    pattern."""
    repository = Repository(git_root, "someone/templates")
    old = repository.commit({"python/hello/main.py": python_function("template-0.1")}, "0.1")
    repository.tag("0.1.0", old)
    new = repository.commit({"python/hello/main.py": python_function("template-0.2")}, "0.2")
    repository.tag("0.2.3", new)
    repository.commit({"python/hello/main.py": python_function("unreleased")}, "later")
    settings.FUNCTIONS_TEMPLATES_GIT_URL = f"file://{git_root}"
    functions.create("tpl", "Tpl", Runtime.PYTHON_3_11, entrypoint="main.py", execute=["any"])
    deployment = functions.create_template_deployment(
        "tpl", "templates", "someone", "python/hello", TemplateReferenceType.TAG, "0.*", True
    )
    assert (deployment.type, deployment.providerrepositoryowner) == ("vcs", "someone")
    ready = active_after(functions, deployment.id, "tpl")
    assert ready.providercommithash == new
    assert run(functions, "tpl") == "template-0.2"


def test_webhook_body_is_what_is_signed(live_server, connection, repo):
    """The signature covers the raw body: the same JSON with other spacing does not pass."""
    url = f"{live_server.url}/v1/vcs/webhooks/{connection.uid}"
    payload = github_push("acme/app", "main", repo.hashes["main"])
    body, signature = signed(SECRET, payload)
    respaced = json.dumps(payload, indent=2).encode()
    response = requests.post(
        url,
        data=respaced,
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={signature}"},
        timeout=30,
    )
    assert response.status_code == 401
    assert not DeploymentRow.objects.exists()


def test_ssh_goes_through_the_egress_proxy_and_its_policy(project, egress, functions):
    """SSH leaves through the proxy as a CONNECT tunnel: a private address is refused there,
    before any connection is opened (the canary listener sees nothing)."""
    from functions_app.services import git

    connection = installations.create_installation(
        project, "SSH", f"ssh://git@{egress.address}:{egress.canary_port}/srv"
    )
    with pytest.raises(git.GitFailed) as error:
        git.probe(installations.source_for(connection, "acme/app"), project.pk)
    assert "egress proxy refused" in str(error.value)
    assert egress.canary_accepts == 0


def test_a_source_over_the_size_limit_is_refused(project, git_root, settings, tmp_path):
    """The packed folder is capped at COMPUTE_SIZE_LIMIT in the container, and again on its
    way out."""
    import os

    from functions_app.services import containers, git

    repository = Repository(git_root, "acme/big")
    repository.commit({"blob.txt": os.urandom(20000).hex()}, "big")
    settings.COMPUTE_SIZE_LIMIT = 5000
    source = installations.locate(f"file://{git_root}", "acme/big")
    name = f"fn-git-test-{os.getpid()}"
    with pytest.raises(git.GitFailed) as error:
        git.fetch(
            source,
            "branch",
            "main",
            "",
            tmp_path / "out.tar.gz",
            identity=(project.pk, "", ""),
            name=name,
            labels=containers.mine("git-probe"),
        )
    assert "over the deployment size limit of 5000 bytes" in str(error.value)
    assert not docker_exists(name)


def docker_exists(name):
    from functions_app.services import docker

    return docker.container_exists(name)
