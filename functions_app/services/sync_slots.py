"""A cap on the synchronous executions one web process runs at once.

Each one holds a web thread for as long as the function runs (or waits for its function's
capacity), so the cap (``FUNCTIONS_SYNC_CONCURRENCY``) stays below the process's threads and
the API keeps answering everything else; one project may hold at most
``FUNCTIONS_SYNC_PROJECT_CONCURRENCY`` of it, and one function at most
``FUNCTIONS_SYNC_FUNCTION_CONCURRENCY``, so a busy function leaves room for the others. Over
any of them, the execution is refused at once instead of waiting for a slot. That also ends a
function calling its own domain or the API through its loopback bridge: the nested calls are
refused once the project's share is taken."""

import threading
from collections import Counter
from contextlib import contextmanager

from django.conf import settings

from ..errors import AppwriteError

BUSY = (
    "Too many synchronous executions are running. Please try again after some time, "
    "or run the execution asynchronously."
)
_guard = threading.Lock()
_running = Counter()  # project id -> synchronous executions running in this process
_functions = Counter()  # function pk -> the same, per function


@contextmanager
def slot(project_id, function_pk=None):
    """Hold one slot for the block, or raise ``429 general_rate_limit_exceeded`` at once."""
    with _guard:
        if (
            running() >= settings.FUNCTIONS_SYNC_CONCURRENCY
            or _running[project_id] >= settings.FUNCTIONS_SYNC_PROJECT_CONCURRENCY
            or _functions[function_pk] >= settings.FUNCTIONS_SYNC_FUNCTION_CONCURRENCY
        ):
            raise AppwriteError("general_rate_limit_exceeded", BUSY)
        _running[project_id] += 1
        _functions[function_pk] += 1
    try:
        yield
    finally:
        with _guard:
            _release(_running, project_id)
            _release(_functions, function_pk)


def _release(counter, key):
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


def running(project_id=None):
    """Slots held in this process (by one project, if given)."""
    return _running[project_id] if project_id is not None else sum(_running.values())
