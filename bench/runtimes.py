#!/usr/bin/env python3
"""Per-runtime figures: cold start p50, warm p50, image size and image build time, for every
runtime this machine can run (or the ids given), with a plain API request as the floor.

Each runtime's conformance function (``tests/conformance/<key>``) is deployed to an isolated
instance (bench/instance.py: temporary STORAGE_DIR, gunicorn, qcluster); its ``/json`` path is
called synchronously through the REST API. Cold: the warm container is removed before each
call. Warm: sequential calls on one kept-alive connection. Floor: ``GET /v1/functions/runtimes``
on the same connection, interleaved. Image build times are the last ones recorded by
``build_runtime_images`` in ``data/runtime-build/build-times.json`` (the default STORAGE_DIR).

Usage: bench/runtimes.py [--quick] [RUNTIME_ID ...]
"""

import contextlib
import io
import json
import subprocess
import sys
import tarfile
import time

from instance import (
    ROOT,
    BenchError,
    Service,
    docker,
    expect,
    log,
    multipart,
    pct,
    wait_for,
)
from run import runtime_name

CONFORMANCE = ROOT / "tests" / "conformance"
BUILD_TIMES = ROOT / "data" / "runtime-build" / "build-times.json"
QUICK = "--quick" in sys.argv[1:]
N_COLD, N_WARM = (2, 20) if QUICK else (7, 200)
CALL = {"body": "", "async": False, "path": "/json"}


def registry():
    """(id, key, image) of every runtime that runs here, from the registry itself."""
    code = (
        "import json; from functions_app import runtimes; print(json.dumps([(r.id, r.key, r.image)"
        " for r in runtimes.registry().values() if r.runs_here]))"
    )
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "console.settings", "PATH": "/usr/bin:/bin"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def archive_of(key):
    folder, buffer = CONFORMANCE / key, io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.name != "conformance.json":
                tar.add(path, arcname=str(path.relative_to(folder)))
    return buffer.getvalue()


def deploy(api, runtime_id, key):
    spec = json.loads((CONFORMANCE / key / "conformance.json").read_text())
    function_id = "b-" + runtime_id.replace(".", "-")
    fields = {"functionId": function_id, "name": function_id, "runtime": runtime_id}
    fields |= {"entrypoint": spec["entrypoint"], "commands": spec["commands"], "execute": ["any"]}
    expect(*api.call("POST", "/functions", fields), 201)
    body, content_type = multipart({"activate": "true"}, archive_of(key))
    status, deployment = api.call(
        "POST", f"/functions/{function_id}/deployments", body, content_type
    )
    expect(status, deployment, 202)
    path = f"/functions/{function_id}/deployments/{deployment['$id']}"

    def ready():
        found = expect(*api.call("GET", path), 200)
        if found["status"] in ("failed", "canceled"):
            raise BenchError(
                f"{runtime_id}: build {found['status']}:\n{found['buildLogs'][-2000:]}"
            )
        return found["status"] == "ready"

    if not wait_for(ready, 900, 0.1):
        raise BenchError(f"{runtime_id}: not ready after 900 s")
    return function_id, deployment["$id"]


def timed(api, method, path, body=None, wanted=200):
    started = time.perf_counter()
    status, answer = api.call(method, path, body)
    elapsed = time.perf_counter() - started
    expect(status, answer, wanted)
    if wanted == 201 and answer["status"] != "completed":
        raise BenchError(f"execution {answer['status']}: {answer.get('errors', '')[:500]}")
    return elapsed


def measure(service, runtime_id, key):
    api = service.api()
    function_id, deployment_id = deploy(api, runtime_id, key)
    execute = ("POST", f"/functions/{function_id}/executions", CALL, 201)
    cold = []
    for _ in range(N_COLD):
        docker("rm", "-f", "-v", runtime_name(deployment_id), check=False)
        time.sleep(0.3)
        cold.append(timed(api, *execute))
    for _ in range(20):
        timed(api, *execute)
    warm, floor = [], []
    for _ in range(N_WARM):
        warm.append(timed(api, *execute))
        floor.append(timed(api, "GET", "/functions/runtimes"))
    return pct(cold, 50), pct(warm, 50), pct(floor, 50)


def image_size(image):
    out = docker("image", "inspect", "--format", "{{.Size}}", image, check=False)
    with contextlib.suppress(ValueError):
        return int(out.strip()) / 1e6
    return float("nan")


def build_time(runtime_id, image):
    with contextlib.suppress(OSError, ValueError):
        entry = json.loads(BUILD_TIMES.read_text()).get(runtime_id, {})
        if entry.get("image") == image:
            return entry.get("base_seconds", 0.0) + entry["seconds"], "base" in entry
    return float("nan"), False


def main():
    wanted = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    selected = [r for r in registry() if not wanted or r[0] in wanted]
    rows = []
    with contextlib.ExitStack() as stack:
        service = Service(stack)
        service.setup()
        service.manage("build_runtime_images", *[r[0] for r in selected])
        service.start()
        try:
            for runtime_id, key, image in selected:
                log(f"{runtime_id}: deploy, {N_COLD} cold, {N_WARM} warm")
                cold, warm, floor = measure(service, runtime_id, key)
                rows.append((runtime_id, cold, warm, floor, image_size(image), image))
        except BenchError:
            service.dump_logs()
            raise
    print(
        "\n| runtime | cold p50 ms | warm p50 ms | floor p50 ms | warm / floor | image MB | build s |"
    )
    print("|---|---|---|---|---|---|---|")
    for runtime_id, cold, warm, floor, size, image in rows:
        seconds, with_base = build_time(runtime_id, image)
        built = "not recorded" if seconds != seconds else f"{seconds:.1f}"
        if seconds == seconds and not with_base:
            built += " (layer; its base was already built)"
        print(
            f"| {runtime_id} | {cold:.0f} | {warm:.2f} | {floor:.2f} | {warm / floor:.2f}x "
            f"| {size:.0f} | {built} |"
        )


if __name__ == "__main__":
    main()
