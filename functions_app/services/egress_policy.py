"""Where a container may connect through the egress proxy: pure decisions, no I/O.

A destination is checked twice, both before any connection is opened: by name (egress on,
allowlisted, allowed port), then by every address the name resolved to (public only: never
loopback, link-local, private, unique-local, shared, multicast, reserved, nor one of this host's
own addresses). The proxy connects only to addresses that passed. Operator-listed internal hosts
(``EGRESS_INTERNAL_HOSTS``: a name pattern, an address or a network, optionally with ``:port``)
pass both checks."""

import ipaddress
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.conf import settings

LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
HOSTNAME = re.compile(rf"(?=.{{1,253}}$)({LABEL}\.)*{LABEL}")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
SHARED = ipaddress.ip_network("100.64.0.0/10")


class Refused(Exception):
    """The destination is not allowed; ``str()`` is the reason shown to the function."""


@dataclass(frozen=True)
class Internal:
    """One ``EGRESS_INTERNAL_HOSTS`` entry."""

    host: str  # a name pattern, or "" when ``network`` is set
    network: object  # ipaddress network, or None
    port: int | None

    @classmethod
    def parse(cls, entry):
        host, port = split_host_port(entry.strip().lower(), None)
        try:
            return cls("", ipaddress.ip_network(host, strict=False), port)
        except ValueError:
            return cls(host, None, port)

    def admits_name(self, host, port):
        return bool(self.host) and self.port in (None, port) and fnmatchcase(host, self.host)

    def admits_address(self, address, port):
        return self.network is not None and self.port in (None, port) and address in self.network


@dataclass(frozen=True)
class Policy:
    use: str  # "execution" or "build"
    mode: str  # off | public | allowlist
    allowlist: tuple
    internal: tuple
    ports: frozenset | None  # None: every port

    @classmethod
    def for_use(cls, use):
        mode, allowlist = {
            "execution": (settings.EGRESS_EXECUTIONS, settings.EGRESS_EXECUTIONS_ALLOWLIST),
            "build": (settings.EGRESS_BUILDS, settings.EGRESS_BUILDS_ALLOWLIST),
        }[use]
        internal = tuple(Internal.parse(entry) for entry in settings.EGRESS_INTERNAL_HOSTS)
        patterns = tuple(pattern.strip().lower().rstrip(".") for pattern in allowlist)
        return cls(use, mode, patterns, internal, settings.EGRESS_PORTS)

    def check_name(self, host, port):
        """Refuses by name and port. Returns True when an internal entry admits the name (its
        addresses are then not checked)."""
        if self.mode == "off":
            raise Refused(f"outbound network is off for {self.use}s")
        if not (1 <= port <= 65535) or not valid_host(host):
            raise Refused("not a valid destination")
        if any(entry.admits_name(host, port) for entry in self.internal):
            return True
        if self.mode == "allowlist" and not any(fnmatchcase(host, p) for p in self.allowlist):
            raise Refused(f"{host} is not in the allowlist for {self.use}s")
        if self.ports is not None and port not in self.ports and not self._internal_port(port):
            raise Refused(f"port {port} is not allowed")
        return False

    def _internal_port(self, port):
        return any(entry.network is not None and entry.port == port for entry in self.internal)

    def check_addresses(self, host, port, addresses, own_addresses, admitted=False):
        """The addresses to connect to: all of them, or a refusal naming the first bad one."""
        if not addresses:
            raise Refused(f"{host} does not resolve")
        for text in addresses:
            address = ipaddress.ip_address(text)
            if admitted or any(entry.admits_address(address, port) for entry in self.internal):
                continue
            if self.ports is not None and port not in self.ports:
                raise Refused(f"port {port} is not allowed")
            kind = non_public_kind(address)
            kind = f"a {kind} address" if kind else None
            if kind is None and address in own_addresses:
                kind = "an address of this host"
            if kind:
                shown = host if host == text else f"{host} resolves to {text}, which"
                raise Refused(f"{shown} is {kind}")
        return list(addresses)


def split_host_port(target, default_port):
    """``host:port``, ``[v6]:port`` or a bare host (with ``default_port``)."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif target.count(":") == 1:
        host, _, port = target.partition(":")
    else:
        host, port = target, ""
    if port and not (port.isdigit() and len(port) <= 5):
        raise Refused("not a valid destination")
    return host.rstrip(".").lower(), int(port) if port else default_port


def valid_host(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOSTNAME.fullmatch(host))


def non_public_kind(address):
    """Why ``address`` is not a public destination, or None when it is one."""
    if address.version == 6:
        embedded = address.ipv4_mapped or _embedded_v4(address)
        if embedded is not None:
            return non_public_kind(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (carrier-grade NAT)", address.version == 4 and address in SHARED),
        ("unique-local" if address.version == 6 else "private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, matches in checks if matches), None)


def _embedded_v4(address):
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in SIX_TO_FOUR:
        return address.sixtofour
    return None
