"""HTTP/1.1 to a runtime server over its Unix socket, with per-thread keep-alive connections.

The socket lives in a folder the container can write, so it is connected to through
:mod:`container_files` (no link is ever followed). A warm round trip costs a fraction of a
millisecond; nothing here touches Docker."""

import http.client
import socket
import threading
import time

from . import container_files

SOCKET_NAME = "server.sock"
RESPONSE_LIMIT = 20 * 1024 * 1024  # as the runtimes' own request limit
_local = threading.local()


class DeadlineSocket(socket.socket):
    """A socket whose reads share one deadline, so a runtime that drips its answer a byte at
    a time cannot hold the caller past the request's timeout."""

    deadline = None

    def recv_into(self, buffer, nbytes=0, flags=0):
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out")
            self.settimeout(remaining)
        return super().recv_into(buffer, nbytes, flags)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, folder, timeout):
        super().__init__("localhost", timeout=timeout)
        self.folder = folder

    def connect(self):
        self.sock = container_files.connect(self.folder, SOCKET_NAME, self.timeout, DeadlineSocket)


def _connections():
    if not hasattr(_local, "pool"):
        _local.pool = {}
    return _local.pool


def _connection(folder, timeout):
    pool = _connections()
    conn = pool.get(folder)
    if conn is None:
        conn = pool[folder] = UnixHTTPConnection(folder, timeout)
    conn.timeout = timeout
    if conn.sock is not None:
        conn.sock.settimeout(timeout)
    return conn


def _start_clock(conn, timeout):
    if conn.sock is None:
        conn.connect()
    conn.sock.deadline = time.monotonic() + timeout


def discard(folder):
    conn = _connections().pop(folder, None)
    if conn is not None:
        conn.close()


class BadResponse(OSError):
    """The runtime answered something that is not a bounded HTTP response."""


def request(folder, method, url, headers, body, timeout):
    """One request to the server whose socket is in ``folder``. A kept-alive connection the
    server has since closed is retried once on a fresh one (only then: a request on a fresh
    connection is never sent twice). Returns ``(status, [(name, value)], body bytes)``;
    raises ``OSError`` / ``TimeoutError``."""
    while True:
        conn = _connection(folder, timeout)
        reused = conn.sock is not None
        try:
            _start_clock(conn, timeout)
            conn.request(method, url, body=body, headers=wire_headers(headers))
            response = conn.getresponse()
            payload = response.read(RESPONSE_LIMIT + 1)
        except http.client.HTTPException as error:
            discard(folder)
            if reused and isinstance(
                error, http.client.RemoteDisconnected | http.client.BadStatusLine
            ):
                continue
            raise BadResponse(f"Invalid response from the runtime: {error!r}") from None
        except ConnectionError:
            discard(folder)
            if not reused:
                raise
            continue
        except BaseException:
            discard(folder)
            raise
        if len(payload) > RESPONSE_LIMIT:
            discard(folder)
            raise BadResponse("Response body is larger than 20MB.")
        return response.status, response.getheaders(), payload


def wire_headers(headers):
    """Header values go out as UTF-8 bytes, as Appwrite's executor sends its PHP strings
    (http.client would encode them as Latin-1)."""
    return {
        name: value.encode() if isinstance(value, str) else value for name, value in headers.items()
    }


def is_listening(folder):
    return container_files.is_listening(folder, SOCKET_NAME)
