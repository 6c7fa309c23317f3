"""How many executions of one function run at once, and how many warm containers it may have.

A function has ``Limits.concurrency`` slots on this node, shared by the web processes and the
workers: byte-range locks (Linux open file description locks) on one file per function in
``NODE_DIR/runtime-state``. A process keeps one descriptor per function and tracks the
slots its own threads hold; the kernel keeps processes apart and frees the slots of a process
that dies. Slots are taken lowest first, so a caller's slot index tells how many executions of
the function are running: replicas are added on it and requests spread by it. Workers take a
second slot from a smaller pool (``Limits.workers``), so one function never occupies every
worker.

Synchronous callers over the cap wait up to ``FUNCTIONS_QUEUE_TIMEOUT`` for a slot; queued
executions never wait in a worker (see ``parking``)."""

import collections
import fcntl
import math
import os
import struct
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from . import runtime_state, specifications

FLOCK = "hhqqi4x"  # struct flock: type, whence, start, length, pid (0 for OFD locks)
# Every process's first waiter looks at the same pace (a local release wakes nobody early),
# so a busy process never keeps the slots it frees from another's waiters.
POLL_FIRST, POLL_MOST = 0.001, 0.004


@dataclass(frozen=True)
class Limits:
    replicas: int  # warm containers at most
    per_replica: int  # executions a container takes before another is started
    concurrency: int  # executions at once
    workers: int  # workers one function may occupy


def limits(function):
    spec = specifications.get(function.specification) or specifications.get(
        specifications.DEFAULT_SLUG
    )
    replicas = function.max_replicas or default_replicas(spec)
    per_replica = settings.FUNCTIONS_REPLICA_CONCURRENCY
    concurrency = function.max_concurrency or replicas * per_replica
    return Limits(replicas, per_replica, concurrency, settings.FUNCTIONS_WORKER_CONCURRENCY)


def default_replicas(spec):
    """From the specification and the host: CPUs twice over (containers are capped, rarely
    busy all at once), half the memory, at most ``FUNCTIONS_MAX_REPLICAS``."""
    cpus, memory = specifications.host_limits()
    by_cpu = math.floor(2 * cpus / spec.cpus)
    by_memory = memory // (2 * spec.memory)
    return max(1, min(settings.FUNCTIONS_MAX_REPLICAS, by_cpu, by_memory))


@dataclass(frozen=True)
class Slot:
    index: int  # in the function's pool: how many ran when it was taken
    pool: object
    worker: object = None  # (pool, index) of a worker's share


def acquire(function, wait):
    """A slot of the function, waiting up to ``wait`` seconds; None when none came free.
    This process's waiters queue in arrival order, and only the first looks for a slot,
    every few milliseconds, as the first of every other process does."""
    pool, size = _pool(f"capacity-{function.pk}"), limits(function).concurrency
    if not pool.queue:
        index = pool.take(size)
        if index is not None:
            return Slot(index, pool)
    return _wait(pool, size, time.monotonic() + wait)


def _wait(pool, size, deadline):
    ticket, pause = object(), POLL_FIRST
    with pool.turn:
        pool.queue.append(ticket)
    try:
        while True:
            index = pool.take(size) if pool.queue[0] is ticket else None
            if index is not None:
                return Slot(index, pool)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with pool.turn:
                pool.turn.wait(min(pause, left))
            pause = min(pause * 2, POLL_MOST)
    finally:
        with pool.turn:
            pool.queue.remove(ticket)
            pool.turn.notify_all()


def try_acquire_worker(function):
    """A worker's slot (the function's share of workers, then a slot of the function), or
    None at once."""
    found = limits(function)
    workers = _pool(f"workers-{function.pk}")
    share = workers.take(found.workers)
    if share is None:
        return None
    pool = _pool(f"capacity-{function.pk}")
    index = pool.take(found.concurrency)
    if index is None:
        workers.give(share)
        return None
    return Slot(index, pool, (workers, share))


def release(slot):
    slot.pool.give(slot.index)
    if slot.worker is not None:
        slot.worker[0].give(slot.worker[1])


class Pool:
    """One function's slots as this process sees them."""

    def __init__(self, name):
        self.name = name
        self.fd = None
        self.pid = None
        self.held = set()
        self.guard = threading.Lock()
        self.queue = collections.deque()  # this process's waiters, first come first served
        self.turn = threading.Condition()

    def take(self, size):
        with self.guard:
            self._open()
            for index in range(size):
                if index not in self.held and _lock(self.fd, index, fcntl.F_WRLCK):
                    self.held.add(index)
                    return index
        return None

    def give(self, index):
        with self.guard:
            if self.pid == os.getpid() and index in self.held:
                _lock(self.fd, index, fcntl.F_UNLCK)
                self.held.discard(index)

    def busy(self, size):
        with self.guard:
            self._open()
            return sum(index in self.held or not self._free(index) for index in range(size))

    def _free(self, index):
        if not _lock(self.fd, index, fcntl.F_WRLCK):
            return False
        _lock(self.fd, index, fcntl.F_UNLCK)
        return True

    def _open(self):
        """One descriptor per process: a forked worker must not share its parent's (OFD
        locks belong to the open file, which a fork shares)."""
        if self.pid == os.getpid():
            return
        if self.fd is not None:
            os.close(self.fd)  # the parent's: closing our copy leaves its locks alone
        runtime_state.folder().mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        self.fd = os.open(runtime_state.path(self.name), flags, 0o600)
        self.pid, self.held = os.getpid(), set()


def _lock(fd, index, kind):
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack(FLOCK, kind, os.SEEK_SET, index, 1, 0))
        return True
    except (BlockingIOError, PermissionError):  # another process holds it
        return False


_pools = {}
_pools_guard = threading.Lock()


def _pool(name):
    with _pools_guard:
        return _pools.setdefault(name, Pool(name))


def running(function):
    """Slots of the function taken on this node, by any process (for tests and the console)."""
    return _pool(f"capacity-{function.pk}").busy(limits(function).concurrency)
