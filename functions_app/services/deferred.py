"""Execution rows written after the response, in batches, by one thread per process: the runs
of domain requests, which Appwrite's router also records through a queue rather than before it
answers. ``flush`` waits for what is pending (at exit, and for whoever must read them now)."""

import atexit
import logging
import os
import queue
import threading

from django.db import connections

from ..models import Execution

BATCH = 200
_pending = queue.Queue()
_writers = {}  # pid -> thread (a forked process starts its own)
_guard = threading.Lock()
logger = logging.getLogger(__name__)


def save(execution):
    """Write a new execution row soon, off the request's path."""
    execution.drop_nul()  # bulk_create passes no ``save()``
    _writer()
    _pending.put(execution)


def _writer():
    with _guard:
        if os.getpid() not in _writers:
            thread = threading.Thread(target=_write_forever, name="deferred-rows", daemon=True)
            _writers[os.getpid()] = thread
            thread.start()


def _write_forever():
    while True:
        batch = [_pending.get()]
        while len(batch) < BATCH:
            try:
                batch.append(_pending.get_nowait())
            except queue.Empty:
                break
        try:
            Execution.objects.bulk_create(batch)
        except Exception:  # the rows are lost; the writer must live on
            logger.exception("Writing %d execution rows failed", len(batch))
            connections.close_all()
        finally:
            for _ in batch:
                _pending.task_done()


def flush():
    """Wait until every row handed over so far is written."""
    if os.getpid() in _writers:
        _pending.join()


atexit.register(flush)
