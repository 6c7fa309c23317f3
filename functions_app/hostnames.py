"""Host names and host patterns, as web platforms, ``CONSOLE_HOSTNAMES`` and CORS use them:
an exact host (``app.example.com``, ``127.0.0.1``) or ``*.example.com``, which matches every
host under ``example.com`` but never ``example.com`` itself (Appwrite's ``Hostname``
validator). Plain Python with no Django import, so that the settings module reads it too."""

import re

MAX_LENGTH = 253  # a whole DNS name
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_PATTERN = re.compile(rf"(?:\*\.)?{_LABEL}(?:\.{_LABEL})*")


def is_pattern(value):
    """A lowercase host name, or ``*.`` followed by one: no scheme, port, path or dot at the end."""
    return isinstance(value, str) and len(value) <= MAX_LENGTH and bool(_PATTERN.fullmatch(value))


def matches(host, pattern):
    """Whether ``host`` (lowercase, without port) is ``pattern`` or, for ``*.example.com``,
    ends with ``.example.com``. A host with a ``:`` (an IPv6 address) or ``/`` never matches,
    as on Appwrite."""
    if not host or ":" in host or "/" in host:
        return False
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern
