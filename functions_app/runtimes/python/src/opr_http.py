"""A small HTTP/1.1 server on asyncio, stdlib only: just what an executor speaks to a runtime.

Keep-alive, Content-Length and chunked request bodies, ``Expect: 100-continue``, and every
response written with a single ``write`` (head and body together), so Nagle's algorithm never
delays a keep-alive reply. It listens on a Unix socket (atomically: bound under a temporary
name, then renamed, so the path appearing means the server accepts) or on a TCP port.
"""

import asyncio
import contextlib
import os
import socket
from http import HTTPStatus

MAX_HEAD = 64 * 1024
MAX_BODY = 20 * 1024 * 1024
IDLE_TIMEOUT = 75.0
READ_TIMEOUT = 300.0
TOKEN_CHARS = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)


class HTTPError(Exception):
    """A request the server rejects before the application sees it."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Request:
    __slots__ = ("method", "target", "version", "headers", "body", "keep_alive")

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # [(lower-cased name, value)], in arrival order
        self.body = b""
        self.keep_alive = True

    def header(self, name, default=""):
        for key, value in self.headers:
            if key == name:
                return value
        return default


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def serialize(status, headers, body, keep_alive=True, head_only=False):
    """The whole response as one bytes object. ``headers`` is [(name, value)]."""
    lines = [f"HTTP/1.1 {status} {reason(status)}"]
    for name, value in headers:
        lines.append(f"{name}: {value}")
    if status >= 200 and status not in (204, 304):
        lines.append(f"content-length: {len(body)}")
    if not keep_alive:
        lines.append("connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    if head_only or status in (204, 304) or status < 200:
        return head
    return head + body


def _parse_head(data):
    lines = data.lstrip(b"\r\n").split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        raise HTTPError(400, "Bad Request")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0") or not set(method.encode()) <= TOKEN_CHARS:
        raise HTTPError(400, "Bad Request")
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or not set(name) <= TOKEN_CHARS:
            raise HTTPError(400, "Bad Request")
        headers.append(
            (name.decode("ascii").lower(), value.strip(b" \t").decode("utf-8", "surrogateescape"))
        )
    return Request(method, target, version, headers)


def _wants_keep_alive(request):
    tokens = {t.strip().lower() for t in request.header("connection").split(",")}
    if request.version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


async def _read_chunked(reader):
    chunks, size = [], 0
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            length = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise HTTPError(400, "Bad Request") from None
        if length == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers are ignored
            return b"".join(chunks)
        size += length
        if size > MAX_BODY:
            raise HTTPError(413, f"Maximum request body size {MAX_BODY} exceeded.")
        chunks.append(await reader.readexactly(length))
        await reader.readexactly(2)


async def _read_body(reader, writer, request):
    chunked = "chunked" in request.header("transfer-encoding").lower()
    length = request.header("content-length")
    if not chunked and not length:
        return b""
    if length and not chunked:
        if not length.isdigit():
            raise HTTPError(400, "Bad Request")
        if int(length) > MAX_BODY:
            raise HTTPError(
                413, f"Maximum request body size {MAX_BODY} exceeded, actual body size {length}"
            )
    if request.header("expect").lower() == "100-continue" and request.version == "HTTP/1.1":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if chunked:
        return await _read_chunked(reader)
    return await reader.readexactly(int(length))


async def read_request(reader, writer):
    """The next request on the connection, or None when the client closed it cleanly."""
    try:
        async with asyncio.timeout(IDLE_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if error.partial.strip():
            raise HTTPError(400, "Bad Request") from None
        return None
    except asyncio.LimitOverrunError:
        raise HTTPError(431, "Request Header Fields Too Large") from None
    request = _parse_head(head)
    request.keep_alive = _wants_keep_alive(request)
    if request.header("content-length") in ("", "0") and not request.header("transfer-encoding"):
        return request  # no body: no timer to arm
    async with asyncio.timeout(READ_TIMEOUT):
        request.body = await _read_body(reader, writer, request)
    return request


async def serve_connection(reader, writer, app):
    try:
        while True:
            try:
                request = await read_request(reader, writer)
            except HTTPError as error:
                headers = [("content-type", "text/plain; charset=utf-8")]
                writer.write(
                    serialize(error.status, headers, error.message.encode(), keep_alive=False)
                )
                await writer.drain()
                return
            if request is None:
                return
            status, headers, body = await app(request)
            head_only = request.method == "HEAD"
            writer.write(serialize(status, headers, body, request.keep_alive, head_only))
            await writer.drain()
            if not request.keep_alive:
                return
    except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


def _unlink(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


async def start(app, socket_path=None, host="0.0.0.0", port=3000):
    """Listen, and return the asyncio server once it accepts connections."""

    def handler(reader, writer):
        return serve_connection(reader, writer, app)

    if not socket_path:
        return await asyncio.start_server(
            handler, host, port, limit=MAX_HEAD, backlog=1024, reuse_address=True
        )
    staging = f"{socket_path}.{os.getpid()}.tmp"
    _unlink(staging)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(staging)
    os.chmod(staging, 0o666)
    server = await asyncio.start_unix_server(handler, sock=sock, limit=MAX_HEAD, backlog=1024)
    os.replace(staging, socket_path)
    return server
