"""Who runs a piece of work: ``<node>:<pid>:<process start time>``, recorded when a build or
an execution is claimed, so that maintenance can tell work whose process died (on this node),
or whose node died (its heartbeat stopped: ``services/nodes.py``), from work that is still
running. The start time guards against a recycled pid."""

import os

from django.conf import settings


def _started(pid):
    """The process's start time in clock ticks since boot, or None when it is gone (a zombie
    is gone: it runs nothing any more)."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


def current():
    pid = os.getpid()
    return f"{settings.NODE_ID}:{pid}:{_started(pid)}"


def is_gone(identity, dead_nodes=frozenset()):
    """True when the worker ran on a node in ``dead_nodes``, or on this node and its process
    no longer exists. Work of other nodes (or of unknown workers) is judged by its deadline."""
    parts = (identity or "").rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    if parts[0] in dead_nodes:
        return True
    return parts[0] == settings.NODE_ID and _started(parts[1]) != parts[2]
