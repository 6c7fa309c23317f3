"""Deployments: chunked uploads, builds in real containers, activation, cancel, download."""

import io
import os
import tarfile
import time

import pytest
import requests
from appwrite.enums.runtime import Runtime
from appwrite.input_file import InputFile
from appwrite.query import Query

from functions_app import runtimes
from functions_app.models import Deployment
from functions_app.services import docker, images

from .deploy import ECHO, make_archive, upload, wait_deployment, wait_for
from .helpers import expect_error, expect_raw_error

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("engine")]


@pytest.fixture
def pyfn(functions):
    return functions.create(
        "py", "Python", Runtime.PYTHON_3_11, entrypoint="main.py", execute=["any"]
    )


def test_upload_build_and_activate(functions, pyfn):
    dep = upload(functions, "py", {"main.py": ECHO["python-3.11"][1]})
    assert (
        dep.status.value == "waiting"
        and dep.resourceid == "py"
        and dep.type == "manual"
        and dep.activate
    )
    assert functions.get("py").latestdeploymentid == dep.id
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert "Deployment finished." in ready.buildlogs and "[open-runtimes]" in ready.buildlogs
    assert ready.buildsize > 0 and ready.totalsize == ready.sourcesize + ready.buildsize
    fn = functions.get("py")
    assert (fn.deploymentid, fn.latestdeploymentstatus, fn.live) == (dep.id, "ready", True)


def test_failing_build_keeps_its_logs(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="echo building; exit 3")
    failed = wait_deployment(functions, "py", dep.id)
    assert failed.status.value == "failed"
    assert "building" in failed.buildlogs and "exit code 3" in failed.buildlogs
    assert functions.get("py").deploymentid == ""


def test_build_output_with_nul_is_kept_with_a_replacement_character(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x = 1"}, commands="printf 'nul\\000here\\n'")
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert "nul\ufffdhere" in ready.buildlogs


def test_build_commands_install_packages_and_see_variables(functions, pyfn):
    functions.create_variable("py", "MY_BUILD_VAR", "from-variable", secret=False)
    dep = upload(
        functions,
        "py",
        {"main.py": "def main(context):\n    return context.res.text('ok')\n"},
        commands='echo "var=$MY_BUILD_VAR key=${APPWRITE_FUNCTION_API_KEY:0:8}"',
    )
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready", ready.buildlogs
    assert "var=from-variable key=dynamic_" in ready.buildlogs


def test_cancel_a_long_build(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x"}, commands="echo user-step-one; sleep 60")
    # The line shows while the build is still running: logs stream, they are not kept to the end.
    wait_for(lambda: "user-step-one" in functions.get_deployment("py", dep.id).buildlogs, 120)
    assert functions.get_deployment("py", dep.id).status.value == "building"
    started = time.monotonic()
    canceled = functions.update_deployment_status("py", dep.id)
    assert canceled.status.value == "canceled"
    final = wait_for(
        lambda: (d := functions.get_deployment("py", dep.id)) and "canceled." in d.buildlogs and d,
        30,
    )
    assert final.status.value == "canceled" and time.monotonic() - started < 30
    ready = upload(functions, "py", {"main.py": "x = 1"})
    wait_deployment(functions, "py", ready.id)
    expect_error(
        lambda: functions.update_deployment_status("py", ready.id), 400, "build_already_completed"
    )


def test_chunked_upload_over_5_mib(functions, pyfn):
    blob = os.urandom(6 * 1024 * 1024)  # incompressible: the archive itself is > 5 MiB
    progress = []
    code = InputFile.from_bytes(
        make_archive({"main.py": ECHO["python-3.11"][1], "blob.bin": blob}), "code.tar.gz"
    )
    dep = functions.create_deployment("py", code, True, on_progress=progress.append)
    assert [p["chunksUploaded"] for p in progress] == [1, 2] and progress[-1]["chunksTotal"] == 2
    ready = wait_deployment(functions, "py", dep.id)
    assert ready.status.value == "ready" and ready.sourcesize > 5 * 1024 * 1024
    source = functions.get_deployment_download("py", dep.id)
    with tarfile.open(fileobj=io.BytesIO(source)) as tar:
        assert tar.extractfile("blob.bin").read() == blob


def test_upload_errors(functions, pyfn, raw, settings):
    files = {"code": ("code.zip", b"PK", "application/zip")}
    expect_raw_error(
        raw.post("/functions/py/deployments", files=files, data={"activate": "true"}),
        400,
        "storage_file_type_unsupported",
    )
    expect_raw_error(
        raw.post("/functions/py/deployments", data={"activate": "true"}),
        400,
        "storage_file_empty",
        "No file sent",
    )
    good = {"code": ("code.tar.gz", make_archive({"main.py": "x"}), "application/gzip")}
    expect_raw_error(
        raw.post("/functions/py/deployments", files=good),
        400,
        "general_argument_invalid",
        'Param "activate" is not optional.',
    )
    headers = {"Content-Range": "bytes 0-10/5"}
    expect_raw_error(
        raw.post(
            "/functions/py/deployments", files=good, data={"activate": "true"}, headers=headers
        ),
        400,
        "storage_invalid_content_range",
    )
    settings.COMPUTE_SIZE_LIMIT = 10
    expect_raw_error(
        raw.post("/functions/py/deployments", files=good, data={"activate": "true"}),
        400,
        "storage_invalid_file_size",
    )
    assert Deployment.objects.count() == 0


def test_bad_upload_ids_and_chunks_create_nothing(functions, pyfn, raw):
    good = {"code": ("code.tar.gz", make_archive({"main.py": "x"}), "application/gzip")}
    form = {"activate": "true"}
    for upload_id in ("-bad", "a" * 37, "dép", "d p", "_x"):
        expect_raw_error(
            raw.post(
                "/functions/py/deployments",
                files=good,
                data=form,
                headers={"X-Appwrite-ID": upload_id},
            ),
            400,
            "general_argument_invalid",
            "Invalid `deploymentId` param: UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore",
        )
    size = len(good["code"][1])
    for content_range in (
        f"bytes 1-{size}/20000000",  # a first chunk that does not start on a chunk boundary
        f"bytes 0-{size - 1}/20000000",  # a short chunk that is not the last
        f"bytes 0-{'9' * 5000}/{'9' * 5000}",
    ):
        expect_raw_error(
            raw.post(
                "/functions/py/deployments",
                files=good,
                data=form,
                headers={"Content-Range": content_range},
            ),
            400,
            "storage_invalid_content_range",
        )
    assert Deployment.objects.count() == 0 and functions.get("py").latestdeploymentid == ""


def test_entrypoint_missing(functions):
    functions.create("noentry", "No entry", Runtime.PYTHON_3_11)
    code = InputFile.from_bytes(make_archive({"main.py": "x"}), "code.tar.gz")
    expect_error(
        lambda: functions.create_deployment("noentry", code, True),
        404,
        "function_entrypoint_missing",
    )


def _traversal(tar):
    info = tarfile.TarInfo("../../escaped.txt")
    info.size = 4
    tar.addfile(info, io.BytesIO(b"evil"))


def _absolute(tar):
    info = tarfile.TarInfo("/tmp/absolute-escape.txt")
    info.size = 4
    tar.addfile(info, io.BytesIO(b"evil"))


def _link_out(tar):
    info = tarfile.TarInfo("link")
    info.type, info.linkname = tarfile.SYMTYPE, "../../../../etc"
    tar.addfile(info)


class _Zeros:
    def read(self, size=-1):
        return bytes(size)


def _bomb(tar):
    info = tarfile.TarInfo("zeros.bin")
    info.size = 600_000_000  # ~600 KB compressed, over COMPUTE_UNPACKED_SIZE_LIMIT unpacked
    tar.addfile(info, _Zeros())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_traversal, "points outside the code directory"),
        (_absolute, "has an absolute path"),
        (_link_out, "points outside the code directory"),
        (_bomb, "decompression bomb"),
    ],
)
def test_malicious_archives_fail_with_a_clear_log(functions, pyfn, extra, message, tmp_path):
    dep = upload(functions, "py", {"main.py": "x"}, extra=extra)
    failed = wait_deployment(functions, "py", dep.id)
    assert failed.status.value == "failed" and message in failed.buildlogs
    assert not os.path.exists("/tmp/absolute-escape.txt")
    from django.conf import settings as s

    assert not list(s.STORAGE_DIR.rglob("escaped.txt"))


def test_list_get_download_and_delete(functions, pyfn):
    first = upload(functions, "py", {"main.py": ECHO["python-3.11"][1]})
    wait_deployment(functions, "py", first.id)
    second = upload(functions, "py", {"main.py": ECHO["python-3.11"][1]}, activate=False)
    wait_deployment(functions, "py", second.id)
    assert functions.get("py").deploymentid == first.id  # not activated
    listed = functions.list_deployments(
        "py", [Query.equal("status", "ready"), Query.order_desc("$createdAt")]
    )
    assert [d.id for d in listed.deployments] == [second.id, first.id]
    output = functions.get_deployment_download("py", first.id, "output")
    with tarfile.open(fileobj=io.BytesIO(output)) as tar:
        assert "./main.py" in tar.getnames() or "main.py" in tar.getnames()
    assert functions.update_function_deployment("py", second.id).deploymentid == second.id
    functions.delete_deployment("py", second.id)
    fn = functions.get("py")
    assert (fn.deploymentid, fn.latestdeploymentid) == ("", first.id)
    expect_error(lambda: functions.get_deployment("py", second.id), 404, "deployment_not_found")


def test_range_download(functions, pyfn, raw):
    dep = upload(functions, "py", {"main.py": "x" * 1000})
    full = raw.get(f"/functions/py/deployments/{dep.id}/download").content
    part = raw.get(f"/functions/py/deployments/{dep.id}/download", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == full[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(full)}"
    expect_raw_error(
        raw.get(f"/functions/py/deployments/{dep.id}/download", headers={"Range": "bytes=5-2"}),
        416,
        "storage_invalid_range",
    )


def test_duplicate_rebuilds_with_current_config(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x = 1"})
    wait_deployment(functions, "py", dep.id)
    functions.update(
        "py", "Python", entrypoint="main.py", commands="echo rebuilt-with-new-commands"
    )
    copy = functions.create_duplicate_deployment("py", dep.id)
    assert copy.id != dep.id and copy.status.value == "waiting"
    rebuilt = wait_deployment(functions, "py", copy.id)
    assert rebuilt.status.value == "ready" and "rebuilt-with-new-commands" in rebuilt.buildlogs


def test_activation_errors(functions, pyfn):
    dep = upload(functions, "py", {"main.py": "x"}, commands="sleep 30", activate=False)
    expect_error(lambda: functions.update_function_deployment("py", dep.id), 400, "build_not_ready")
    expect_error(
        lambda: functions.update_function_deployment("py", "missing"), 404, "deployment_not_found"
    )
    functions.update_deployment_status("py", dep.id)


def test_deleting_a_function_removes_its_files(functions, pyfn, settings):
    dep = upload(functions, "py", {"main.py": "x"})
    wait_deployment(functions, "py", dep.id)
    folder = settings.STORAGE_DIR / "deployments" / "main" / dep.id
    assert folder.exists()
    functions.delete("py")
    assert not folder.exists()


def test_sdk_probe_before_chunks_gets_json(raw, pyfn):
    expect_raw_error(raw.get("/functions/py/deployments/"), 404, "general_route_not_found")
    assert (
        requests.get(raw.base + "/functions/py/deployments/", timeout=5)
        .headers["Content-Type"]
        .startswith("application/json")
    )


def test_a_runtime_image_missing_on_the_node_is_built_once_by_its_first_builds(functions):
    """The worker builds a missing runtime image before the first build that needs it, says so
    in the build logs, and two builds at once wait for one image build."""
    runtime = runtimes.get("python-3.13")
    assert docker.remove_image(runtime.image)  # the runtime layer only: its base stays
    entrypoint, source = ECHO["python-3.11"]
    ids = ("first", "second")
    for function_id in ids:
        functions.create(function_id, function_id, "python-3.13", entrypoint=entrypoint)
    deployments = [upload(functions, function_id, {entrypoint: source}) for function_id in ids]
    ready = [wait_deployment(functions, f, d.id) for f, d in zip(ids, deployments, strict=True)]
    assert [r.status.value for r in ready] == ["ready", "ready"], ready[0].buildlogs
    built = [r for r in ready if f"Runtime image {runtime.image} built in" in r.buildlogs]
    assert len(built) == 1 and "is not on this node yet: building it" in built[0].buildlogs
    assert images.is_ready(runtime)
