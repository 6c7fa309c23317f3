"""Hostile function and build code, in real containers, against root-owned canaries outside
STORAGE_DIR: nothing may be read, changed, chowned, connected to or mounted. Also uploads
that try to reach other folders through X-Appwrite-ID."""

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from appwrite.enums.runtime import Runtime
from django.conf import settings

from functions_app.models import Deployment
from functions_app.services import containers, docker, executor

from .conftest import CLUSTER_SETTINGS
from .deploy import deploy_echo, make_archive, upload, wait_deployment, wait_for
from .hostile import HOSTILE

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]
RUNTIMES = ["python-3.11", "node-18.0"]
SECRET = "CANARY-SECRET-9f2c1e"


def snapshot(root):
    """Everything about a tree that reading, writing, chmod or chown would change."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in [".", *dirs, *files]:
            path = os.path.normpath(os.path.join(folder, name))
            info = os.lstat(path)
            digest = ""
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            found[path] = (
                info.st_mode,
                info.st_uid,
                info.st_gid,
                info.st_size,
                info.st_mtime_ns,
                info.st_ctime_ns,
                digest,
            )
    return found


class Canary:
    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="functions-canary-", dir="/tmp"))
        self.secret = self.root / "secret.txt"
        self.secret.write_text(SECRET)
        self.secret.chmod(0o600)
        (self.root / "folder").mkdir(mode=0o700)
        (self.root / "folder" / "inner.txt").write_text(SECRET)
        self.trap_path = self.root / "trap.sock"
        self.trap = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.trap.bind(str(self.trap_path))
        self.trap.listen(8)
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()
        self.before = snapshot(self.root)

    def _accept(self):
        while True:
            try:
                connection, _ = self.trap.accept()
            except OSError:
                return
            self.connections.append(connection.recv(4096))
            connection.close()

    def mounted_anywhere(self):
        ids = subprocess.run(
            [
                "docker",
                "ps",
                "-aq",
                "--filter",
                f"label=functions.instance={containers.instance_id()}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        if not ids:
            return []
        inspected = json.loads(subprocess.check_output(["docker", "inspect", *ids]))
        return [
            m["Source"]
            for c in inspected
            for m in c["Mounts"]
            if m.get("Source", "").startswith(str(self.root))
        ]

    def check_untouched(self):
        assert snapshot(self.root) == self.before
        assert self.connections == []
        assert self.mounted_anywhere() == []

    def close(self):
        self.trap.close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def canary():
    canary = Canary()
    yield canary
    try:
        canary.check_untouched()
    finally:
        canary.close()


def hostile(functions, runtime, **options):
    entrypoint, source = HOSTILE[runtime]
    return deploy_echo(functions, runtime, "hostile", {entrypoint: source}, **options)


def run(functions, path, **args):
    execution = functions.create_execution("hostile", body=json.dumps(args), path=path)
    return execution, (json.loads(execution.responsebody) if execution.responsebody else None)


def runtime_id(deployment_id):
    name = containers.runtime_name(Deployment.objects.get(uid=deployment_id))
    found = docker.running_volumes(name)
    return found[0] if found else None


def storage_bytes(excluding=None):
    """Bytes on host disk under STORAGE_DIR (without one deployment's own, legitimate files)."""
    return sum(
        os.lstat(os.path.join(folder, name)).st_size
        for folder, _, files in os.walk(settings.STORAGE_DIR)
        if excluding is None or not folder.startswith(str(excluding))
        for name in files
    )


# -- log files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_files_swapped_for_links_are_not_followed(functions, runtime, canary):
    hostile(functions, runtime)
    for target in (str(canary.secret), "/proc/self/environ", settings.DATABASES["default"]["NAME"]):
        execution, answer = run(functions, "/logs-symlink", target=target)
        assert execution.status.value == "completed" and len(answer["replaced"]) == 2
        stored = functions.get_execution("hostile", execution.id)
        for text in (stored.logs, stored.errors):
            assert SECRET not in text and settings.SECRET_KEY not in text and "SQLite" not in text
        assert (stored.logs, stored.errors) == ("", "")
    assert canary.secret.read_text() == SECRET  # the link was removed, not its target


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_files_swapped_for_fifos_do_not_block_the_host(functions, runtime):
    hostile(functions, runtime)
    execution, answer = run(functions, "/logs-fifo")
    assert execution.status.value == "completed" and answer["replaced"]
    assert functions.get_execution("hostile", execution.id).logs == ""
    assert functions.create_execution("hostile").status.value == "completed"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_flood_is_capped(functions, runtime):
    hostile(functions, runtime)
    before = storage_bytes()
    execution, answer = run(functions, "/logs-flood")
    assert execution.status.value == "completed" and answer == {"flooded": True}
    logs = functions.get_execution("hostile", execution.id).logs
    assert 0 < len(logs) <= 1_000_000 + 200  # the execution keeps the last 1,000,000 characters
    assert storage_bytes() - before < 8 * 1024 * 1024  # the flood never reached host disk


# -- the runtime's own folder -----------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_socket_swapped_for_a_link_is_never_connected(functions, runtime, canary):
    ready = hostile(functions, runtime)
    execution, answer = run(functions, "/socket-swap", target=str(canary.trap_path))
    assert answer == {"swapped": True}
    first = runtime_id(ready.id)
    # A new request needs a new connection: the host refuses the link and starts a new runtime.
    assert functions.create_execution("hostile").status.value == "completed"
    assert runtime_id(ready.id) not in (None, first)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_links_left_in_the_runtime_folder_are_never_acted_on(functions, runtime, canary):
    ready = hostile(functions, runtime)
    first = runtime_id(ready.id)
    execution, answer = run(functions, "/runtime-links", target=str(canary.root / "folder"))
    assert {"logs", "last-used", "code"} <= set(answer["linked"])
    wait_for(lambda: runtime_id(ready.id) != first, timeout=30)  # the runtime exited
    for _ in range(2):  # the next cold start gets fresh folders
        assert functions.create_execution("hostile").status.value == "completed"
    executor.reap()  # reaping used to follow the runtime folder's "last-used" file
    assert functions.create_execution("hostile").status.value == "completed"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_api_socket_folder_is_read_only(functions, runtime, api_socket):
    hostile(functions, runtime)
    execution, answer = run(functions, "/api-dir", socket=api_socket.name)
    assert answer is not None, (execution.status, execution.errors)
    assert set(answer.values()) <= {"Read-only file system", "EROFS"}, answer
    assert api_socket.is_socket() and sorted(p.name for p in api_socket.parent.iterdir()) == [
        api_socket.name
    ]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_writes_are_bounded_and_never_reach_host_disk(functions, runtime):
    hostile(functions, runtime)
    before = storage_bytes()
    execution, answer = run(functions, "/fill", mb=600)
    assert execution.status.value == "completed", execution.errors
    caps = {
        "/tmp": settings.COMPUTE_TMP_SIZE,
        "/mnt/logs": settings.COMPUTE_LOGS_SIZE,
        "/var/run/opr": 1,
    }
    for folder, cap in caps.items():
        assert answer[folder]["written"] <= cap * 1024 * 1024, (folder, answer[folder])
        assert answer[folder]["error"] in ("No space left on device", "ENOSPC"), answer[folder]
    for folder in ("/var/run/opr-api", "/usr/local/server/src/function", "/usr"):
        assert answer[folder]["written"] == 0, (folder, answer[folder])
    assert storage_bytes() - before < 8 * 1024 * 1024
    assert functions.create_execution("hostile").status.value == "completed"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_oversized_response_is_refused(functions, runtime):
    hostile(functions, runtime)
    execution = functions.create_execution("hostile", path="/huge-response")
    assert execution.status.value == "failed" and execution.responsestatuscode == 500
    assert "larger than 20MB" in functions.get_execution("hostile", execution.id).errors


# -- builds ------------------------------------------------------------------------------------


@pytest.fixture
def pyfn(functions):
    return functions.create(
        "py", "Python", Runtime.PYTHON_3_11, entrypoint="main.py", execute=["any"]
    )


def test_build_writes_are_bounded(functions, pyfn, canary):
    before = storage_bytes()
    scratch = int(CLUSTER_SETTINGS["COMPUTE_BUILD_SCRATCH_SIZE"])
    output = int(CLUSTER_SETTINGS["COMPUTE_BUILD_SIZE_LIMIT"]) // 1024 // 1024
    commands = "; ".join(
        [
            "set +e",
            f"for d in /usr/local/build /tmp /mnt/code; do"
            f" dd if=/dev/zero of=$d/fill bs=1M count={max(scratch, output) + 50} 2>&1;"
            " rm -f $d/fill; done",
            f"touch /usr/planted {canary.root}/planted 2>&1",
            f"cat {canary.secret} 2>&1",
            "true",
        ]
    )
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands=commands)
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert ready.buildlogs.count("No space left on device") == 3, ready.buildlogs
    assert "Read-only file system" in ready.buildlogs and SECRET not in ready.buildlogs
    assert storage_bytes(excluding=storage_code_dir(dep.id).parent) - before < 8 * 1024 * 1024


def test_a_hostile_build_output_is_refused(functions, pyfn, canary):
    """GNU tar honours TAR_OPTIONS, which a function variable sets for the build: its output
    then names a member outside the code folder. The host refuses to unpack it."""
    escape = f"../../../../../..{canary.root}/escaped.txt"
    functions.create_variable(
        "py", "TAR_OPTIONS", rf"--absolute-names --transform=s,^\./evil$,{escape},"
    )
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="echo pwned > evil")
    failed = wait_deployment(functions, "py", dep.id)
    assert failed.status.value == "failed", failed.buildlogs
    assert "points outside the code directory" in failed.buildlogs
    assert not (canary.root / "escaped.txt").exists()


def test_a_build_output_bomb_is_refused(functions, pyfn, settings):
    size_mb = settings.COMPUTE_UNPACKED_SIZE_LIMIT // 1_000_000 + 50
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands=f"truncate -s {size_mb}M bomb")
    failed = wait_deployment(functions, "py", dep.id)
    assert failed.status.value == "failed", failed.buildlogs
    assert "decompression bomb" in failed.buildlogs
    assert not storage_code_dir(dep.id).exists()


def storage_code_dir(deployment_id):
    return Path(settings.STORAGE_DIR) / "deployments" / "main" / deployment_id / "code"


def test_links_in_a_build_output_stay_inside_the_container(functions, pyfn, canary):
    """Absolute links are normal in build outputs (a venv's python): they are unpacked as
    links and only ever followed inside the container."""
    commands = f"ln -s {canary.root} outside; ln -s /etc etc"
    source = "import os\ndef main(context):\n    return context.res.text(os.readlink('function/outside'))\n"
    dep = upload(functions, "py", {"main.py": source}, commands=commands)
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    code = storage_code_dir(dep.id)
    assert os.readlink(code / "outside") == str(canary.root) and (code / "etc").is_symlink()
    assert functions.create_execution("py").responsebody == str(canary.root)


# -- uploads -----------------------------------------------------------------------------------


def test_upload_ids_cannot_reach_other_folders(functions, outsider_functions, raw, canary):
    outsider_functions.create("victim", "Victim", Runtime.PYTHON_3_11, entrypoint="main.py")
    victim = upload(outsider_functions, "victim", {"main.py": "x = 1"})
    assert wait_deployment(outsider_functions, "victim", victim.id).status.value == "ready"
    victim_files = snapshot(Path(settings.STORAGE_DIR) / "deployments" / "outsider")
    functions.create("py", "Python", Runtime.PYTHON_3_11, entrypoint="main.py")
    archive = make_archive({"main.py": "owned = True"})
    for upload_id in (
        f"../../../../../..{canary.root}/x",
        f"../outsider/{victim.id}",
        victim.id,
        "..",
        "x/../../y",
    ):
        response = raw.post(
            "/functions/py/deployments",
            headers={"X-Appwrite-ID": upload_id},
            data={"activate": "true"},
            files={"code": ("code.tar.gz", archive)},
        )
        assert response.status_code in (400, 404), (upload_id, response.text)
        assert response.json()["type"] in ("deployment_not_found", "general_argument_invalid")
    functions.delete("py")
    assert snapshot(Path(settings.STORAGE_DIR) / "deployments" / "outsider") == victim_files
    assert outsider_functions.get_deployment("victim", victim.id).status.value == "ready"
    assert Deployment.objects.filter(function__uid="py").count() == 0
