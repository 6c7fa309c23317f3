"""What the host keeps about each runtime container, in a folder of this node that no container
can see (``NODE_DIR/runtime-state``): one file per container name. It is flocked exclusively while
the container is cold-started or reaped, and shared while any process has calls in flight on
it, so the reaper never removes a container that is serving or starting; its mtime is the
container's last use.

A process keeps one descriptor per container it calls and takes the shared lock only while it
has calls in flight there (two system calls a call, none while busy), and records use at most
once a second."""

import contextlib
import fcntl
import math
import os
import threading
import time
from pathlib import Path

from django.conf import settings

from . import container_files

TOUCH_EVERY = 1.0  # seconds: the reaper's thresholds are far longer
FOLDER = "runtime-state"


def folder():
    return Path(settings.NODE_DIR) / FOLDER


def path(name):
    return folder() / name


@contextlib.contextmanager
def exclusive(name):
    """The container's lock for a cold start or a removal (waits for calls in flight)."""
    fd = locked(name, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


def try_exclusive(name):
    """The exclusive lock's descriptor if nobody holds the container, else None."""
    try:
        return locked(name, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None


def locked(name, mode):
    target = path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode)
            if _same_file(fd, target):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # removed (the container retired) while we waited: lock the new file


def _same_file(fd, target):
    try:
        return os.stat(target, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def touch(name):
    with contextlib.suppress(FileNotFoundError):
        os.utime(path(name))


def idle_for(name, now):
    try:
        return now - path(name).stat().st_mtime
    except FileNotFoundError:
        return math.inf


def forget(name):
    with contextlib.suppress(FileNotFoundError):
        path(name).unlink()


class InUse:
    """This process's calls in flight on one container (one per container it knows), and the
    container's log folder, opened once: the root of a volume the host made, which the
    container can fill but never replace. Both descriptors are closed only once no call is
    in flight, so a call never uses a descriptor number that was closed and reused."""

    def __init__(self, name, logs_dir=None):
        self.name = name
        self.logs_dir = logs_dir
        self.logs = None
        self.fd = None
        self.count = 0
        self.touched = 0.0
        self.closing = False
        self.guard = threading.Lock()

    def __enter__(self):
        with self.guard:
            if self.fd is None:
                self.fd = locked(self.name, fcntl.LOCK_SH)
            elif self.count == 0:
                fcntl.flock(self.fd, fcntl.LOCK_SH)
            self.count += 1
        self.touch()
        return self

    def __exit__(self, *exc):
        self.touch()
        with self.guard:
            self.count -= 1
            if self.count == 0 and self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
                if self.closing:
                    self._close()

    def touch(self):
        now = time.monotonic()
        if now - self.touched >= TOUCH_EVERY:
            self.touched = now
            with contextlib.suppress(OSError):
                os.utime(self.fd)

    def close(self):
        """Let go of the descriptor (now, or once the calls in flight end)."""
        with self.guard:
            self.closing = True
            if self.count == 0:
                self._close()

    def logs_fd(self):
        with self.guard:
            if self.logs is None:
                self.logs = os.open(self.logs_dir, container_files.DIR_FLAGS)
            return self.logs

    def _close(self):
        for fd in (self.fd, self.logs):
            if fd is not None:
                os.close(fd)
        self.fd = self.logs = None
