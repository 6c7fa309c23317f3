"""Profile the warm path: an isolated instance (as bench/run.py's), 8 keep-alive clients
running one kind of request for a while, and py-spy sampling the gunicorn workers.

    .venv/bin/python bench/profile.py [exec|floor|node] [seconds] [--py-spy PATH]

Samples only threads holding the GIL (``--gil``): where the CPU goes, not where threads wait.
Writes the collapsed stacks to ``$TMPDIR/functions-profile-<kind>.txt`` and prints the
functions with the most inclusive and self time in the web workers. py-spy is not a dependency:
``pip download py-spy`` and point ``--py-spy`` at its binary."""

import collections
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from instance import CLIENTS, SYNC_BODY, Service, create_function, log, upload


def workers(master):
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def hammer(service, path, body, seconds):
    def client():
        api, count = service.api(), 0
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            status, _ = api.call("POST" if body is not None else "GET", path, body)
            count += status in (200, 201)
        return count

    with ThreadPoolExecutor(CLIENTS) as pool:
        return sum(pool.map(lambda _: client(), range(CLIENTS)))


def summarise(stacks, top=40):
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in stacks.splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames:
            continue
        count = int(count)
        names = [f.split(" (")[0] + " (" + f.split(" (")[-1] for f in frames.split(";")]
        total += count
        for name in set(names):
            inclusive[name] += count
        own[names[-1]] += count
    print(f"\n{total} samples; inclusive:")
    for name, count in inclusive.most_common(top):
        print(f"{100 * count / total:5.1f}%  {name}")
    print("\nself:")
    for name, count in own.most_common(top):
        print(f"{100 * count / total:5.1f}%  {name}")


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "exec"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2][0].isdigit() else 10
    spy = sys.argv[sys.argv.index("--py-spy") + 1] if "--py-spy" in sys.argv else "py-spy"
    runtime = "node-18.0" if kind == "node" else "python-3.11"
    with contextlib.ExitStack() as stack:
        service = Service(stack)
        service.setup()
        service.start()
        api = service.api()
        create_function(api, runtime)
        upload(api, runtime)
        function_id = "node" if kind == "node" else "py"
        path, body = (
            ("/functions/runtimes", None)
            if kind == "floor"
            else (f"/functions/{function_id}/executions", SYNC_BODY)
        )
        hammer(service, path, body, 2)  # warm up
        out = Path(tempfile.gettempdir()) / f"functions-profile-{kind}.txt"
        pids = workers(service.procs["gunicorn"].pid)
        spies = [
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--format",
                    "raw",
                    "--rate",
                    "500",
                    "--duration",
                    str(int(seconds)),
                    "--output",
                    f"{out}.{pid}",
                    "--nonblocking",
                    "--gil",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in pids
        ]
        time.sleep(0.5)
        done = hammer(service, path, body, seconds)
        for spy_process in spies:
            spy_process.wait()
        log(f"{kind}: {done} requests in {seconds:.0f} s = {done / seconds:.0f}/s")
        stacks = "".join(Path(f"{out}.{pid}").read_text() for pid in pids)
        for pid in pids:
            os.unlink(f"{out}.{pid}")
        out.write_text(stacks)
    summarise(stacks)


if __name__ == "__main__":
    main()
