"""Reading what a container wrote, as root, without trusting it.

A container can replace anything in a folder it can write: with a link to a host file, a
FIFO that blocks a reader, a huge file, or another socket. So every access here starts from
a directory file descriptor opened with ``O_NOFOLLOW`` and names one entry in it, opened
with ``O_NOFOLLOW``, checked for its type on the open descriptor (never by path), and read
up to a cap. Sockets are connected through ``/proc/self/fd`` of an ``O_PATH`` descriptor,
so the path is never resolved twice."""

import contextlib
import os
import socket
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class NotASocket(ConnectionRefusedError):
    """The entry is missing, a link, or not a socket: nothing to connect to."""


@contextlib.contextmanager
def directory(path):
    """A descriptor of ``path``, which must be a real directory (not a link)."""
    fd = os.open(path, DIR_FLAGS)
    try:
        yield fd
    finally:
        os.close(fd)


def read_capped(dir_fd, name, limit):
    """``(bytes, truncated)`` of the regular file ``name``, or None when it is missing or is
    not a regular file. At most ``limit`` bytes are read."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        return _read_open(fd, limit)
    finally:
        os.close(fd)


def take_capped(dir_fd, name, limit):
    """``read_capped`` then ``remove``, with no removal to try when there is no such entry
    (the common case: runtimes create log files on first write)."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError:  # a link, or anything else that is not ours to open
        remove(dir_fd, name)
        return None
    try:
        found = _read_open(fd, limit)
    finally:
        os.close(fd)
        remove(dir_fd, name)
    return found


def _read_open(fd, limit):
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return None
    with os.fdopen(os.dup(fd), "rb") as handle:
        data = handle.read(limit + 1)
    return data[:limit], len(data) > limit


def remove(dir_fd, name):
    """Unlink an entry (never follows it)."""
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


def connect(folder, name, timeout, factory=socket.socket):
    """A connected stream socket to the Unix socket ``folder/name``. Raises
    ``FileNotFoundError`` when the folder is gone and :class:`NotASocket` when the entry is
    missing, is a link or is something else."""
    with directory(folder) as dir_fd:
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as error:
            raise NotASocket(f"{name}: {error.strerror}") from None
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise NotASocket(f"{name} is not a socket")
        sock = factory(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(f"/proc/self/fd/{fd}")
        except BaseException:
            sock.close()
            raise
        return sock
    finally:
        os.close(fd)


def is_listening(folder, name):
    try:
        connect(folder, name, 1).close()
        return True
    except OSError:
        return False
