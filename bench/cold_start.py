#!/usr/bin/env python3
"""Measure runtime cold starts with plain ``docker run`` (stdlib only, no Django).

For each run: ``docker run -d`` an execution container (network none, read-only, unprivileged,
function code mounted read-only, server on a Unix socket in a mounted directory), poll every
millisecond for the socket, send one request over it and stop the clock at the response.
Reports p50/min/max of (a) ``docker run`` invocation -> first response and (b) container
``StartedAt`` -> first response (the runtime's own boot). Every container is removed.

Usage: bench/cold_start.py IMAGE FUNCTION_DIR [--runs 10] [--entrypoint main.py]
FUNCTION_DIR is an extracted build artifact (what helpers/build.sh packed).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from datetime import datetime

SECRET = "cold-start-secret"
REQUEST = (
    f"GET / HTTP/1.1\r\nhost: localhost\r\nx-open-runtimes-secret: {SECRET}\r\n"
    "x-open-runtimes-logging: disabled\r\nconnection: close\r\n\r\n"
).encode()


def docker_run(name, image, function_dir, work, entrypoint):
    return [
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "none",
        "--user",
        "1000:1000",
        "--read-only",
        "--tmpfs",
        "/tmp:rw,exec,nosuid,nodev,size=64m",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--pids-limit",
        "100",
        "-m",
        "512m",
        "--cpus",
        "1",
        "-v",
        f"{function_dir}:/usr/local/server/src/function:ro",
        "-v",
        f"{work}/logs:/mnt/logs",
        "-v",
        f"{work}/sock:/var/run/opr",
        "-e",
        "OPEN_RUNTIMES_SOCKET=/var/run/opr/server.sock",
        "-e",
        f"OPEN_RUNTIMES_SECRET={SECRET}",
        "-e",
        f"OPEN_RUNTIMES_ENTRYPOINT={entrypoint}",
        image,
    ]


def request(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(REQUEST)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def started_at(name):
    out = subprocess.run(
        ["docker", "inspect", "-f", "{{json .State.StartedAt}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stamp = json.loads(out)
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))


def one_run(args, index, work):
    name = f"cold-start-{os.getpid()}-{index}"
    for sub in ("logs", "sock"):
        path = os.path.join(work, sub)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        os.chown(path, 1000, 1000)
    sock_path = os.path.join(work, "sock", "server.sock")
    try:
        begin_wall, begin = time.time(), time.perf_counter()
        subprocess.run(
            docker_run(name, args.image, args.function_dir, work, args.entrypoint),
            check=True,
            capture_output=True,
        )
        deadline = begin + 10
        while not os.path.exists(sock_path):
            if time.perf_counter() > deadline:
                raise TimeoutError("socket never appeared")
            time.sleep(0.001)
        response = request(sock_path)
        end = time.perf_counter()
        end_wall = begin_wall + (end - begin)
        if not response.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(response[:300])
        return end - begin, end_wall - started_at(name)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def summary(label, values):
    ms = sorted(v * 1000 for v in values)
    return f"{label}: p50 {statistics.median(ms):.0f} ms, min {ms[0]:.0f}, max {ms[-1]:.0f} (n={len(ms)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("function_dir")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--entrypoint", default="main.py")
    args = parser.parse_args()
    args.function_dir = os.path.abspath(args.function_dir)
    totals, boots = [], []
    with tempfile.TemporaryDirectory(prefix="cold-start-") as work:
        os.chmod(work, 0o755)
        for index in range(args.runs):
            total, boot = one_run(args, index, work)
            totals.append(total)
            boots.append(boot)
            print(
                f"run {index + 1}: docker run -> response {total * 1000:.0f} ms; "
                f"StartedAt -> response {boot * 1000:.0f} ms",
                flush=True,
            )
    print(summary("docker run -> first response", totals))
    print(summary("container StartedAt -> first response", boots))


if __name__ == "__main__":
    main()
