"""Checks on uploaded ``.tar.gz`` archives before any of their content is unpacked.

An archive is refused when a member would land outside the code root (absolute paths,
``..``, links pointing out of the tree), is not a plain file, directory or in-tree link,
or when it unpacks to more than the allowed size (decompression bombs)."""

import gzip
import os
import posixpath
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


def _inside_dir(root, path):
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def extract_output(path, dest, owner=None):
    """Unpack a build output into ``dest``. Links may point anywhere (they are only ever
    followed inside the container), but nothing is written outside ``dest``."""
    os.makedirs(dest, exist_ok=True)

    def keep_inside(member, target_dir):
        target = os.path.join(target_dir, member.name)
        if not _inside_dir(target_dir, os.path.dirname(target) or target_dir):
            raise tarfile.OutsideDestinationError(member, target)
        if member.issym():
            return member.replace(mode=None, uid=None, gid=None, uname=None, gname=None, deep=False)
        return tarfile.data_filter(member, target_dir)

    try:
        with tarfile.open(path, "r:*") as archive:
            archive.extractall(dest, filter=keep_inside)
    except (tarfile.TarError, OSError, zlib.error, EOFError) as exc:
        raise UnsafeArchive(f"Build output could not be unpacked: {exc}") from None
    if owner is not None:
        _chown_tree(dest, owner)


def _chown_tree(root, owner):
    for folder, dirs, files in os.walk(root):
        os.lchown(folder, owner, owner)
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), owner, owner)
