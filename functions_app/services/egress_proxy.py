"""The egress proxy: the only way out for runtime and build containers, which have no network.

An asyncio HTTP proxy on a Unix socket (``EGRESS_SOCKET``), bind-mounted into containers and
bridged to ``127.0.0.1:3128`` inside them. Each request names its container with a signed token
(``services/egress.py``) as the password of ``Proxy-Authorization: Basic``. It serves:

* ``CONNECT host:port`` (HTTPS, and any tunnelling client): a byte pipe once allowed;
* absolute-form requests (``GET http://host/path``, and ``https://`` as axios sends them): one
  request per connection, forwarded in origin form (TLS to the origin for ``https``).

Every destination is resolved here, checked by ``egress_policy`` and connected to by the
address that was checked, so a name cannot resolve one way for the check and another for the
connection. Refusals are a ``403`` with the reason in the body, and a log line naming the
project, function, deployment and destination. Connections are capped per container and per
project and end after ``EGRESS_IDLE_TIMEOUT`` of silence or ``EGRESS_MAX_DURATION``."""

import asyncio
import base64
import binascii
import contextlib
import ipaddress
import logging
import os
import socket
import ssl
import time
from collections import Counter
from pathlib import Path

from django.conf import settings

from . import egress, keys
from .egress_policy import Policy, Refused, split_host_port

logger = logging.getLogger("functions.egress")
HEAD_LIMIT = 64 * 1024
HEAD_TIMEOUT = 10
# Connections not yet identified (head still arriving) hold no per-container slot, so they have
# their own instance-wide cap: past it a new connection is closed at once.
PENDING_LIMIT = 256
CHUNK = 64 * 1024
REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    407: "Proxy Authentication Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
}
HOP_BY_HOP = {
    "connection",
    "proxy-connection",
    "proxy-authorization",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
}


class Reply(Exception):
    """Ends a request with this status and reason (and, for 403, a logged refusal)."""

    def __init__(self, status, reason, headers="", destination=""):
        super().__init__(reason)
        self.status, self.reason = status, reason
        self.headers, self.destination = headers, destination


def own_addresses():
    """This host's addresses (every interface, v4 and v6), from /proc."""
    found = set()
    with contextlib.suppress(OSError):
        lines = Path("/proc/net/fib_trie").read_text().splitlines()
        for previous, line in zip(lines, lines[1:], strict=False):
            if "/32 host LOCAL" in line:
                found.add(ipaddress.ip_address(previous.split()[-1]))
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            raw = line.split()[0]
            found.add(ipaddress.ip_address(":".join(raw[i : i + 4] for i in range(0, 32, 4))))
    return frozenset(found)


class Proxy:
    def __init__(self):
        self.policies = {use: Policy.for_use(use) for use in ("execution", "build")}
        self.own = own_addresses()
        self.by_container = Counter()
        self.by_project = Counter()
        self.pending = 0

    async def serve(self, path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server = await asyncio.start_unix_server(self.handle, str(path), limit=HEAD_LIMIT)
        os.chmod(path, 0o666)  # containers connect as their unprivileged user
        os.chmod(path.parent, 0o755)
        logger.warning("Egress proxy listening on %s", path)
        async with server:
            await server.serve_forever()

    async def handle(self, reader, writer):
        identity = None
        try:
            method, target, headers = await self.read_head(reader)
            identity = self.identify(headers)
            with self.slot(identity):
                await self.route(identity, method, target, headers, reader, writer)
        except Reply as reply:
            if reply.status == 403:
                log_refusal(identity, reply)
            await send_reply(writer, reply)
        except (TimeoutError, ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def read_head(self, reader):
        if self.pending >= PENDING_LIMIT:
            raise Reply(429, "Too many connections waiting to be identified")
        self.pending += 1
        try:
            return await asyncio.wait_for(read_head(reader), HEAD_TIMEOUT)
        finally:
            self.pending -= 1

    def identify(self, headers):
        scheme, _, credentials = headers.get("proxy-authorization", "").partition(" ")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
            payload = keys.decode_jwt(decoded.partition(":")[2], keys.EGRESS)
        except (binascii.Error, UnicodeDecodeError, keys.InvalidToken, keys.ExpiredToken):
            payload = None
        if scheme.lower() != "basic" or payload is None or payload.get("use") not in self.policies:
            challenge = 'Proxy-Authenticate: Basic realm="egress"\r\n'
            raise Reply(407, "Proxy authentication required", headers=challenge)
        return payload

    @contextlib.contextmanager
    def slot(self, identity):
        container, project = identity.get("container", ""), identity.get("projectId", "")
        if self.by_container[container] >= settings.EGRESS_CONTAINER_CONNECTIONS:
            raise Reply(429, "Too many open connections for this container")
        if self.by_project[project] >= settings.EGRESS_PROJECT_CONNECTIONS:
            raise Reply(429, "Too many open connections for this project")
        self.by_container[container] += 1
        self.by_project[project] += 1
        try:
            yield
        finally:
            self.by_container[container] -= 1
            self.by_project[project] -= 1

    async def route(self, identity, method, target, headers, reader, writer):
        policy = self.policies[identity["use"]]
        if method == "CONNECT":
            host, port = destination(target, None)
            upstream_reader, upstream_writer = await self.open(policy, identity, host, port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await pipe_both(reader, writer, upstream_reader, upstream_writer)
            return
        scheme, _, rest = target.partition("://")
        if scheme.lower() not in ("http", "https") or not rest:
            raise Reply(400, "The proxy takes CONNECT or absolute-form http(s) requests")
        authority, _, path = rest.partition("/")
        host, port = destination(authority, 443 if scheme.lower() == "https" else 80)
        tls = scheme.lower() == "https"
        upstream_reader, upstream_writer = await self.open(policy, identity, host, port, tls)
        upstream_writer.write(forwarded_head(method, "/" + path, authority, headers))
        await pipe_both(reader, writer, upstream_reader, upstream_writer, close_reply=True)

    async def open(self, policy, identity, host, port, tls=False):
        """A connection to an allowed address of ``host``; checked before anything is sent."""
        try:
            admitted = policy.check_name(host, port)
            addresses = await self.resolve(host, port)
            addresses = policy.check_addresses(host, port, addresses, self.own, admitted)
        except Refused as refused:
            raise Reply(403, str(refused), destination=f"{host}:{port}") from None
        context = ssl.create_default_context() if tls else None
        last = None
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(
                        address, port, ssl=context, server_hostname=host if tls else None
                    ),
                    settings.EGRESS_CONNECT_TIMEOUT,
                )
            except (OSError, TimeoutError) as error:
                last = error
        raise Reply(502, f"Could not connect to {host}:{port}: {last or 'no address'}")

    async def resolve(self, host, port):
        try:
            ipaddress.ip_address(host)
            return [host]
        except ValueError:
            pass
        try:
            found = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                settings.EGRESS_CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError):
            raise Refused(f"{host} does not resolve") from None
        return list(dict.fromkeys(info[4][0] for info in found))


def destination(target, default_port):
    try:
        host, port = split_host_port(target, default_port)
    except Refused:
        raise Reply(400, "Not a valid destination") from None
    if port is None:
        raise Reply(400, "CONNECT needs host:port")
    return host, port


async def read_head(reader):
    """(method, target, lower-cased headers) of a request head; 400 when it is not one."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise Reply(431, "Request head too large") from None
    try:
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
    except ValueError:
        raise Reply(400, "Malformed request") from None
    return method.upper(), target, headers


def forwarded_head(method, path, authority, headers):
    kept = [(k, v) for k, v in headers.items() if k not in HOP_BY_HOP and k != "host"]
    lines = [f"{method} {path} HTTP/1.1", f"Host: {authority}", *(f"{k}: {v}" for k, v in kept)]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def pipe_both(reader, writer, upstream_reader, upstream_writer, close_reply=False):
    deadline = time.monotonic() + settings.EGRESS_MAX_DURATION
    out = asyncio.create_task(pipe(reader, upstream_writer, deadline))
    back = asyncio.create_task(pipe(upstream_reader, writer, deadline, close_reply))
    try:
        await asyncio.wait({out, back}, return_when=asyncio.FIRST_COMPLETED)
        if out.done():
            await back  # the client has sent everything: the reply may still be coming
    finally:
        for task in (out, back):
            task.cancel()
        with contextlib.suppress(Exception):
            upstream_writer.close()


async def pipe(reader, writer, deadline, close_reply=False):
    """Copy until EOF, silence past the idle timeout, or the connection's deadline."""
    first = close_reply
    with contextlib.suppress(ConnectionError, OSError, TimeoutError, asyncio.CancelledError):
        while True:
            wait = min(settings.EGRESS_IDLE_TIMEOUT, deadline - time.monotonic())
            if wait <= 0:
                return
            data = await asyncio.wait_for(reader.read(CHUNK), wait)
            if not data:
                with contextlib.suppress(OSError, RuntimeError, NotImplementedError):
                    writer.write_eof()
                return
            if first:
                data, first = closing_reply(data), False
            writer.write(data)
            await writer.drain()


def closing_reply(data):
    """The first bytes of a forwarded reply, marked ``Connection: close`` (the proxy serves one
    request per connection, so the client must not reuse it)."""
    head, separator, rest = data.partition(b"\r\n")
    if not separator or not head.startswith(b"HTTP/"):
        return data
    return head + b"\r\nConnection: close" + separator + rest


async def send_reply(writer, reply):
    body = f"Egress proxy: {reply.reason}\n".encode()
    reason = REASONS.get(reply.status, "Error")
    head = (
        f"HTTP/1.1 {reply.status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{reply.headers}\r\n"
    )
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(head.encode() + body)
        await writer.drain()


def log_refusal(identity, reply):
    who = egress.describe(identity)
    logger.warning("Egress refused: %s -> %s: %s", who, reply.destination, reply.reason)


def run():
    """``manage.py egress_proxy``: serve until stopped."""
    asyncio.run(Proxy().serve(settings.EGRESS_SOCKET))
