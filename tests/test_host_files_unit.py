"""Fast unit tests of the host-side code that touches what containers wrote: unpacking build
outputs, reading log files, connecting to runtime sockets, and computing storage paths."""

import io
import os
import shutil
import socket
import tarfile
import threading
import time
from types import SimpleNamespace

import pytest

from functions_app.services import archives, container_files, docker, runtime_socket, storage


def tar_of(*members):
    """A .tar.gz of ``(TarInfo, bytes | None)`` pairs, in order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name, kind=tarfile.REGTYPE, link="", mode=0o644, mtime=1_700_000_000):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode, info.mtime = kind, link, mode, mtime
    return info


@pytest.fixture
def place(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")

    def unpack(*members, limit=10_000_000):
        archive = tmp_path / "output.tar.gz"
        archive.write_bytes(tar_of(*members))
        dest = tmp_path / "code"
        archives.unpack_output(archive, dest, limit)
        return dest

    unpack.outside = outside
    yield unpack
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "keep"


def test_files_folders_and_links_unpack_with_times_and_safe_modes(place):
    dest = place(
        (entry("./", tarfile.DIRTYPE, mode=0o777), None),
        (entry("./app/main.py", mode=0o4666), b"print(1)"),
        (entry("./app/run.sh", mode=0o700), b"#!/bin/sh"),
        (entry("./venv/bin/python", tarfile.SYMTYPE, "/usr/bin/python3"), None),
        (entry("./app/again.py", tarfile.LNKTYPE, "./app/main.py"), None),
    )
    main = dest / "app" / "main.py"
    assert main.read_text() == "print(1)" and main.stat().st_mtime == 1_700_000_000
    assert oct(main.stat().st_mode & 0o7777) == "0o644"
    assert oct((dest / "app" / "run.sh").stat().st_mode & 0o7777) == "0o755"
    assert os.readlink(dest / "venv" / "bin" / "python") == "/usr/bin/python3"
    assert (dest / "app" / "again.py").stat().st_ino == main.stat().st_ino


@pytest.mark.parametrize(
    "members, message",
    [
        ([(entry("../escape.txt"), b"x")], "points outside"),
        ([(entry("a/../../escape.txt"), b"x")], "points outside"),
        ([(entry("/abs.txt"), b"x")], "points outside"),
        ([(entry("dev", tarfile.CHRTYPE), None)], "is not a file, folder or link"),
        ([(entry("blk", tarfile.BLKTYPE), None)], "is not a file, folder or link"),
        ([(entry("fifo", tarfile.FIFOTYPE), None)], "is not a file, folder or link"),
        ([(entry("hl", tarfile.LNKTYPE, "/etc/passwd"), None)], "points outside"),
        ([(entry("hl", tarfile.LNKTYPE, "missing.txt"), None)], "does not name a file"),
    ],
)
def test_hostile_members_are_refused(place, members, message):
    with pytest.raises(archives.UnsafeArchive, match=message):
        place(*members)


def test_nothing_is_written_through_a_link(place):
    outside = str(place.outside)
    for members in (
        [(entry("link", tarfile.SYMTYPE, outside), None), (entry("link/pwned.txt"), b"x")],
        [
            (entry("link", tarfile.SYMTYPE, outside), None),
            (entry("link/sub", tarfile.DIRTYPE), None),
        ],
        [
            (entry("link", tarfile.SYMTYPE, outside), None),
            (entry("link/l2", tarfile.SYMTYPE, "/"), None),
        ],
        [(entry("link", tarfile.SYMTYPE, outside + "/keep.txt"), None), (entry("link"), b"over")],
        [
            (entry("link", tarfile.SYMTYPE, outside + "/keep.txt"), None),
            (entry("hard", tarfile.LNKTYPE, "link"), None),
        ],
    ):
        try:
            place(*members)
        except archives.UnsafeArchive:
            pass
        finally:
            shutil.rmtree(place.outside.parent / "code", ignore_errors=True)


def test_summed_size_bomb_is_refused_before_writing(place, tmp_path):
    members = [(entry(f"part{i}"), b"\0" * 600) for i in range(5)]
    with pytest.raises(archives.UnsafeArchive, match="decompression bomb"):
        place(*members, limit=2000)
    assert not (tmp_path / "code").exists()


# -- files and sockets in container-writable folders -------------------------------------------


def test_only_regular_files_are_read_and_reads_are_capped(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    secret = tmp_path / "secret"
    secret.write_text("SECRET")
    (folder / "link.log").symlink_to(secret)
    os.mkfifo(folder / "fifo.log")
    (folder / "dir.log").mkdir()
    (folder / "big.log").write_bytes(b"a" * 100)
    with container_files.directory(folder) as fd:
        assert container_files.read_capped(fd, "link.log", 10) is None
        assert container_files.read_capped(fd, "fifo.log", 10) is None  # and did not block
        assert container_files.read_capped(fd, "dir.log", 10) is None
        assert container_files.read_capped(fd, "missing.log", 10) is None
        assert container_files.read_capped(fd, "big.log", 10) == (b"a" * 10, True)
        container_files.remove(fd, "link.log")
    assert secret.read_text() == "SECRET" and not (folder / "link.log").is_symlink()
    (tmp_path / "folder-link").symlink_to(folder)
    with pytest.raises(OSError), container_files.directory(tmp_path / "folder-link"):
        pass


def listening(path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    return server


def test_sockets_are_connected_without_following_links(tmp_path):
    trap = listening(tmp_path / "trap.sock")
    folder = tmp_path / "runtime"
    folder.mkdir()
    (folder / "server.sock").symlink_to(tmp_path / "trap.sock")
    assert not runtime_socket.is_listening(str(folder))
    with pytest.raises(container_files.NotASocket):
        container_files.connect(str(folder), "server.sock", 1)
    (folder / "server.sock").unlink()
    (folder / "server.sock").write_text("not a socket")
    assert not runtime_socket.is_listening(str(folder))
    (folder / "server.sock").unlink()
    real = listening(folder / "server.sock")
    assert runtime_socket.is_listening(str(folder))
    trap.settimeout(0.2)
    with pytest.raises(TimeoutError):
        trap.accept()  # the trap never saw a connection
    trap.close()
    real.close()


def test_a_dripping_runtime_cannot_outlast_the_deadline(tmp_path):
    folder = tmp_path / "runtime"
    folder.mkdir()
    server = listening(folder / "server.sock")

    def drip():
        connection, _ = server.accept()
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(100):
            time.sleep(0.1)
            try:
                connection.sendall(b"x")
            except OSError:
                return

    threading.Thread(target=drip, daemon=True).start()
    # Each byte arrives well within a 1 s read timeout: only the shared deadline stops it.
    with pytest.raises(TimeoutError):
        runtime_socket.request(str(folder), "GET", "/", {}, b"", timeout=1)
    server.close()


# -- storage paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "project, uid",
    [
        ("main", "../x"),
        ("main", "a/b"),
        ("main", "ok\n"),
        ("..", "ok"),
        ("main", ".hidden"),
        ("main", ""),
        ("main", "x" * 37),
        ("ma\x00in", "ok"),
    ],
)
def test_storage_refuses_ids_that_are_not_ids(project, uid):
    with pytest.raises(storage.UnsafePath):
        storage.source_path(SimpleNamespace(project_id=project, uid=uid))


def test_storage_paths_stay_in_the_project_folder(settings, tmp_path):
    settings.STORAGE_DIR = tmp_path
    deployment = SimpleNamespace(project_id="main", uid="abc")
    assert storage.source_path(deployment) == tmp_path / "deployments/main/abc/source.tar.gz"
    (tmp_path / "deployments" / "main").mkdir(parents=True)
    (tmp_path / "deployments" / "main" / "abc").symlink_to(tmp_path)
    with pytest.raises(storage.UnsafePath):
        storage.source_path(deployment)


def test_mount_sources_are_checked_right_before_a_container_is_made(settings, tmp_path):
    """A bind source must be its own real path inside STORAGE_DIR (or a socket folder): a
    link, a path through a link, or anything outside is refused."""
    settings.STORAGE_DIR = tmp_path / "storage"
    inside = settings.STORAGE_DIR / "deployments" / "p" / "d"
    inside.mkdir(parents=True)
    docker.check_bind_source(str(inside))  # accepted
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (settings.STORAGE_DIR / "link").symlink_to(outside)
    (settings.STORAGE_DIR / "linked-dir").symlink_to(inside)
    for source in (
        outside,
        settings.STORAGE_DIR / "link",
        settings.STORAGE_DIR / "linked-dir",
        settings.STORAGE_DIR / "linked-dir" / ".." / "d",
        "/etc",
    ):
        with pytest.raises(docker.UnsafeMount):
            docker.check_bind_source(str(source))
