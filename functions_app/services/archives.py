"""Checks on uploaded ``.tar.gz`` archives before any of their content is unpacked.

An archive is refused when a member would land outside the code root (absolute paths,
``..``, links pointing out of the tree), is not a plain file, directory or in-tree link,
or when it unpacks to more than the allowed size (decompression bombs)."""

import contextlib
import gzip
import os
import posixpath
import shutil
import tarfile
import zlib

from django.conf import settings

ALLOWED_TYPES = (
    tarfile.REGTYPE,
    tarfile.AREGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
)
MAX_MEMBERS = 100_000


class UnsafeArchive(Exception):
    pass


class _CappedReader:
    """A read-only stream that refuses to produce more than ``limit`` bytes."""

    def __init__(self, stream, limit):
        self.stream, self.limit, self.total = stream, limit, 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.total += len(data)
        if self.total > self.limit:
            raise UnsafeArchive(
                f"Archive unpacks to more than {self.limit:,} bytes (decompression bomb?)."
            )
        return data


def unpacked_limit():
    return settings.COMPUTE_UNPACKED_SIZE_LIMIT


def _inside(root_relative):
    normal = posixpath.normpath(root_relative)
    return not (normal == ".." or normal.startswith("../") or posixpath.isabs(normal))


def check_member(member):
    name = member.name
    if posixpath.isabs(name) or name.startswith("\\"):
        raise UnsafeArchive(f'Archive member "{name}" has an absolute path.')
    if not _inside(name):
        raise UnsafeArchive(f'Archive member "{name}" points outside the code directory.')
    if member.type not in ALLOWED_TYPES:
        raise UnsafeArchive(f'Archive member "{name}" is not a regular file, directory or link.')
    if member.issym() and not _inside(posixpath.join(posixpath.dirname(name), member.linkname)):
        raise UnsafeArchive(
            f'Archive link "{name}" points outside the code directory ({member.linkname}).'
        )
    if member.islnk() and not _inside(member.linkname):
        raise UnsafeArchive(
            f'Archive link "{name}" points outside the code directory ({member.linkname}).'
        )
    if member.issym() and posixpath.isabs(member.linkname):
        raise UnsafeArchive(
            f'Archive link "{name}" points outside the code directory ({member.linkname}).'
        )


def inspect(path):
    """Validate the archive at ``path``; returns ``(members, unpacked bytes)``."""
    limit = unpacked_limit()
    declared = count = 0
    try:
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw) as unzipped:
            capped = _CappedReader(unzipped, limit + 1024 * 1024)
            with tarfile.open(fileobj=capped, mode="r|") as archive:
                for member in archive:
                    check_member(member)
                    count += 1
                    declared += max(member.size, 0)
                    if count > MAX_MEMBERS:
                        raise UnsafeArchive(f"Archive has more than {MAX_MEMBERS:,} entries.")
                    if declared > limit:
                        raise UnsafeArchive(
                            f"Archive unpacks to more than {limit:,} bytes (decompression bomb?)."
                        )
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise UnsafeArchive(f"Archive is not a valid .tar.gz file: {exc}") from None
    return count, declared


# -- unpacking build outputs ---------------------------------------------------------------------
#
# A build output is made by hostile code. It is unpacked by root, so nothing is ever resolved
# through the tree being written: every folder is opened relative to its parent's descriptor
# with O_NOFOLLOW, files are created with O_EXCL|O_NOFOLLOW, and a member whose parent is a
# link (or not a folder) is refused. Links themselves may point anywhere: they are only ever
# followed inside the container, where the tree is mounted read-only. Devices, FIFOs and
# sockets are refused, hard links must name an earlier regular file of the archive, and the
# summed size is capped. Files keep their modification times (Python checks them against its
# precompiled bytecode) and get modes 0644/0755, owned by root: the runtime user reads them.

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
OUTPUT_TYPES = (
    tarfile.REGTYPE,
    tarfile.AREGTYPE,
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
)


def _parts(name):
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if name.startswith("/") or ".." in parts or any("\x00" in part for part in parts):
        raise UnsafeArchive(f'Build output member "{name}" points outside the code directory.')
    return parts


class _Tree:
    """Descriptors of the folders created so far, relative to the destination."""

    def __init__(self, root_fd):
        self.fds = {(): root_fd}
        self.files = set()  # regular files written, as path tuples (hard-link targets)

    def folder(self, parts):
        key = tuple(parts)
        if key in self.fds:
            return self.fds[key]
        parent = self.folder(parts[:-1])
        with contextlib.suppress(FileExistsError):
            os.mkdir(parts[-1], 0o755, dir_fd=parent)
        try:
            fd = os.open(parts[-1], DIR_FLAGS, dir_fd=parent)
        except OSError:
            raise UnsafeArchive(
                f'Build output member "{"/".join(parts)}" is not a folder (a link?).'
            ) from None
        self.fds[key] = fd
        return fd

    def close(self):
        for fd in self.fds.values():
            os.close(fd)


def _replace(parent, name):
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.unlink(name, dir_fd=parent)


def _write_file(tree, parts, member, stream):
    parent = tree.folder(parts[:-1])
    _replace(parent, parts[-1])
    mode = 0o755 if member.mode & 0o111 else 0o644
    try:
        fd = os.open(parts[-1], NEW_FILE_FLAGS, mode, dir_fd=parent)
    except OSError as exc:
        raise UnsafeArchive(
            f'Build output member "{member.name}" cannot be written: {exc}'
        ) from None
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(stream, out)
        out.flush()
        os.fchmod(out.fileno(), mode)
        os.utime(out.fileno(), (member.mtime, member.mtime))
    tree.files.add(tuple(parts))


def _write_link(tree, parts, member):
    parent = tree.folder(parts[:-1])
    _replace(parent, parts[-1])
    if member.issym():
        os.symlink(member.linkname, parts[-1], dir_fd=parent)
        os.utime(parts[-1], (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)
        return
    target = tuple(_parts(member.linkname))
    if target not in tree.files:
        raise UnsafeArchive(
            f'Build output link "{member.name}" does not name a file of the output.'
        )
    os.link(
        target[-1],
        parts[-1],
        src_dir_fd=tree.folder(list(target[:-1])),
        dst_dir_fd=parent,
        follow_symlinks=False,
    )


def unpack_output(path, dest, limit):
    """Unpack the build output ``path`` into the new folder ``dest`` (see above). Raises
    :class:`UnsafeArchive`; ``dest`` is removed again when it does."""
    os.mkdir(dest, 0o755)
    try:
        _unpack(path, dest, limit)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _unpack(path, dest, limit):
    total = count = 0
    tree = _Tree(os.open(dest, DIR_FLAGS))
    try:
        with open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as archive:
            for member in archive:
                count += 1
                total += max(member.size, 0)
                if count > MAX_MEMBERS:
                    raise UnsafeArchive(f"Build output has more than {MAX_MEMBERS:,} entries.")
                if total > limit:
                    raise UnsafeArchive(
                        f"Build output unpacks to more than {limit:,} bytes (decompression bomb?)."
                    )
                _unpack_member(tree, archive, member)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UnsafeArchive(f"Build output could not be unpacked: {exc}") from None
    finally:
        tree.close()


def _unpack_member(tree, archive, member):
    if member.type not in OUTPUT_TYPES:
        raise UnsafeArchive(f'Build output member "{member.name}" is not a file, folder or link.')
    parts = _parts(member.name)
    if not parts:
        return  # the root itself ("./")
    if member.isdir():
        tree.folder(parts)
    elif member.issym() or member.islnk():
        _write_link(tree, parts, member)
    else:
        _write_file(tree, parts, member, archive.extractfile(member))
