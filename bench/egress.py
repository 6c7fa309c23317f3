"""Egress proxy overhead: a GET of a loopback test server straight from the host (the floor)
vs the same GET through the egress proxy (absolute-form, and in a CONNECT tunnel), each on a
new connection as a function's client would open one. Prints p50/p90 and the ratio to the floor.

    .venv/bin/python bench/egress.py [requests per row, default 500]
"""

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = b"x" * 1024


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def read_all(conn):
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    return data


def direct(port):
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        return read_all(conn)


def proxied(path, auth, port):
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(
            f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: x\r\n"
            f"Proxy-Authorization: Basic {auth}\r\n\r\n".encode()
        )
        return read_all(conn)


def tunnelled(path, auth, port):
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(path)
        conn.sendall(
            f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: x\r\n"
            f"Proxy-Authorization: Basic {auth}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(1)
        conn.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        return read_all(conn)


def samples(call, n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        reply = call()
        times.append((time.perf_counter() - started) * 1000)
        assert reply.endswith(BODY), reply[:200]
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def token(storage):
    env = dict(os.environ, STORAGE_DIR=storage, DJANGO_SETTINGS_MODULE="console.settings")
    code = (
        "import django; django.setup()\n"
        "from types import SimpleNamespace as N\n"
        "from functions_app.services import keys\n"
        "d = N(project_id='bench', uid='bench', function=N(uid='bench'))\n"
        "print(keys.mint_egress_token('execution', d, 'bench', 3600))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)
    return out.stdout.decode().strip()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory() as storage:
        env = dict(
            os.environ,
            STORAGE_DIR=storage,
            NODE_DIR=storage,  # the proxy's socket in <storage>/egress
            EGRESS_INTERNAL_HOSTS=f"127.0.0.1:{port}",
            EGRESS_PORTS=str(port),
        )
        proxy = subprocess.Popen(
            [sys.executable, "manage.py", "egress_proxy"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        path = f"{storage}/egress/egress.sock"
        try:
            while not os.path.exists(path):
                time.sleep(0.05)
            auth = base64.b64encode(f"egress:{token(storage)}".encode()).decode()
            rows = [
                ("direct from the host (floor)", samples(lambda: direct(port), n)),
                ("through the proxy, absolute-form", samples(lambda: proxied(path, auth, port), n)),
                ("through the proxy, CONNECT", samples(lambda: tunnelled(path, auth, port), n)),
            ]
        finally:
            proxy.terminate()
            proxy.wait()
    floor = rows[0][1][0]
    print(
        f"Egress proxy overhead, {n} sequential GETs of a 1 KiB loopback reply, new connection each"
    )
    print(f"| {'path':34} | p50 ms | p90 ms | p50 / floor |")
    print(f"| {'-' * 34} | ------ | ------ | ----------- |")
    for name, (p50, p90) in rows:
        print(f"| {name:34} | {p50:6.3f} | {p90:6.3f} | {p50 / floor:10.2f}x |")


if __name__ == "__main__":
    main()
