"""Per-process caches of what nearly every request looks up: API keys, projects, functions,
active deployments, event subscribers and domain rules.

Every entry carries the configuration version (``ConfigVersion``) it was read under, and is
used only by requests that read the same version. A request reads the version once (one plain
query), at its first lookup; every change to those rows bumps the version in the same
transaction (``signals.py``). So a key revoked, a function changed or a deployment activated
in any process, on any node sharing the database, takes effect at the next request of every
process: correctness never depends on a timeout. Outside a request (workers, commands) each
lookup reads the version afresh."""

import threading

from ..models import ConfigVersion

LIMIT = 10_000  # entries per process; all are dropped when it is reached
_entries = {}  # (kind, key) -> (version, value)
_local = threading.local()


def request_began(**kwargs):
    _local.in_request, _local.version = True, None


def request_ended(**kwargs):
    _local.in_request, _local.version = False, None


def version():
    """The configuration version this request reads (once per request); None: cache nothing."""
    if not getattr(_local, "in_request", False):
        return ConfigVersion.current()
    if _local.version is None:
        _local.version = ConfigVersion.current() or 0
    return _local.version or None


def stored(value):
    return value is not None


def lookup(kind, key, load, keep=stored):
    """``load()``, reused while the configuration version is unchanged. Only values ``keep``
    accepts are stored (by default: not None, so a miss is looked up again each time)."""
    current = version()
    if current is None:
        return load()
    found = _entries.get((kind, key))
    if found is not None and found[0] == current:
        return found[1]
    value = load()
    if keep(value):
        if len(_entries) >= LIMIT:
            _entries.clear()
        _entries[(kind, key)] = (current, value)
    return value


def clear():
    _entries.clear()
