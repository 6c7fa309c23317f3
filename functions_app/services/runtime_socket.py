"""HTTP/1.1 to a runtime server over its Unix socket, with per-thread keep-alive connections.

A minimal client, because it is on every execution's path: the request goes out in one write
(head and body), the response is read through one buffer (status line, headers, then a
``Content-Length`` or chunked body, or the bytes up to the close), every read sharing one
deadline and the whole answer capped. The socket lives in a folder the container can write,
so it is connected to through :mod:`container_files` (no link is ever followed). Nothing here
touches Docker."""

import socket
import threading
import time

from . import container_files

SOCKET_NAME = "server.sock"
RESPONSE_LIMIT = 20 * 1024 * 1024  # as the runtimes' own request limit
HEAD_LIMIT = 64 * 1024
BUFFER = 65536
_local = threading.local()
_FORBIDDEN = frozenset("\r\n\0")
_NO_BODY = (204, 304)
DEFAULTS = {"host": "localhost", "accept-encoding": "identity"}  # unless the caller's say else


class BadResponse(OSError):
    """The runtime answered something that is not a bounded HTTP response."""


class Closed(ConnectionError):
    """The server closed a kept-alive connection before answering (nothing was read)."""


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


class Connection:
    """One kept-alive connection to one runtime socket."""

    def __init__(self, folder, timeout):
        self.sock = container_files.connect(folder, SOCKET_NAME, timeout, DeadlineSocket)
        self.reader = self.sock.makefile("rb", buffering=BUFFER)

    def close(self):
        self.reader.close()
        self.sock.close()


def _connections():
    if not hasattr(_local, "pool"):
        _local.pool = {}
    return _local.pool


def discard(folder):
    conn = _connections().pop(folder, None)
    if conn is not None:
        conn.close()


def request(folder, method, url, headers, body, timeout):
    """One request to the server whose socket is in ``folder``. A kept-alive connection the
    server has since closed is retried once on a fresh one (only then: a request on a fresh
    connection is never sent twice). Returns ``(status, [(name, value)], body bytes)``;
    raises ``OSError`` / ``TimeoutError``, and ``ValueError`` for a request HTTP cannot carry."""
    payload = _head(method, url, headers, body) + body
    while True:
        pool = _connections()
        conn = pool.get(folder)
        reused = conn is not None
        try:
            if conn is None:
                conn = pool[folder] = Connection(folder, timeout)
            conn.sock.settimeout(timeout)
            conn.sock.deadline = time.monotonic() + timeout
            conn.sock.sendall(payload)
            status, response_headers, data, keep = _response(conn.reader, method)
        except (Closed, ConnectionError) as error:
            discard(folder)
            if reused:
                continue
            raise (BadResponse(str(error)) if isinstance(error, Closed) else error) from None
        except BaseException:
            discard(folder)
            raise
        if not keep:
            discard(folder)
        return status, response_headers, data


def _head(method, url, headers, body):
    """The request head. Header values go out as UTF-8, as Appwrite's executor sends its PHP
    strings; anything HTTP cannot carry is a ``ValueError``."""
    if not url.startswith("/") or any(c <= " " or c == "\x7f" for c in url):
        raise ValueError(f"URL can't contain control characters or spaces: {url!r}")
    lines = [f"{method} {url} HTTP/1.1", f"content-length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in DEFAULTS.items() if name not in headers]
    for name, value in headers.items():
        text = value if isinstance(value, str) else value.decode()
        if not name or not _FORBIDDEN.isdisjoint(name) or ":" in name or " " in name:
            raise ValueError(f"Invalid header name {name!r}")
        if not _FORBIDDEN.isdisjoint(text):
            raise ValueError(f"Invalid header value {text!r}")
        lines.append(f"{name}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def _response(reader, method):
    """(status, headers, body, keep-alive) of the next response (1xx ones are skipped)."""
    while True:
        status, version, response_headers = _read_head(reader)
        if status >= 200:
            break
    fields = {name.lower(): value for name, value in response_headers}
    keep = version != "HTTP/1.0" and "close" not in fields.get("connection", "").lower()
    if method == "HEAD" or status in _NO_BODY:
        return status, response_headers, b"", keep
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return status, response_headers, _read_chunked(reader), keep
    length = fields.get("content-length")
    if length is None:
        return status, response_headers, _read_capped(reader, RESPONSE_LIMIT + 1), False
    if not length.strip().isdigit():
        raise BadResponse(f"Invalid response from the runtime: content-length {length!r}")
    if int(length) > RESPONSE_LIMIT:
        raise BadResponse("Response body is larger than 20MB.")
    data = reader.read(int(length))
    if len(data) < int(length):
        raise BadResponse("Invalid response from the runtime: the body ended early")
    return status, response_headers, data, keep


def _read_head(reader):
    line = reader.readline(HEAD_LIMIT + 1)
    if not line:
        raise Closed("the runtime closed the connection")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise BadResponse(f"Invalid response from the runtime: {line[:100]!r}")
    headers, size = [], len(line)
    while True:
        line = reader.readline(HEAD_LIMIT + 1)
        size += len(line)
        if size > HEAD_LIMIT or not line.endswith(b"\n"):
            raise BadResponse("Invalid response from the runtime: bad or oversized head")
        if line in (b"\r\n", b"\n"):
            return int(parts[1]), parts[0], headers
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep:
            raise BadResponse(f"Invalid response from the runtime: header {line[:100]!r}")
        headers.append((name.strip(), value.strip()))


def _read_chunked(reader):
    chunks, size = [], 0
    while True:
        line = reader.readline(1024)
        try:
            length = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadResponse("Invalid response from the runtime: bad chunk") from None
        if length == 0:
            while reader.readline(HEAD_LIMIT) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        size += length
        if size > RESPONSE_LIMIT:
            raise BadResponse("Response body is larger than 20MB.")
        chunk = reader.read(length)
        if len(chunk) < length:
            raise BadResponse("Invalid response from the runtime: a chunk ended early")
        chunks.append(chunk)
        reader.readline(2)


def _read_capped(reader, limit):
    data = reader.read(limit)
    if len(data) >= limit:
        raise BadResponse("Response body is larger than 20MB.")
    return data


def is_listening(folder):
    return container_files.is_listening(folder, SOCKET_NAME)
