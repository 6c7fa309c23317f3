"""Runtime images, built locally (no container registry is needed).

Two layers per runtime:

1. a base image: a Debian root filesystem made by ``debootstrap --variant=minbase``, then
   ``apt-get install`` (in a chroot) of the packages listed in the runtime folder's
   ``base-packages.txt`` (updates and security suites enabled), trimmed, streamed into
   ``docker import`` and tagged ``functions-runtime-base:<suite>-<hash of the list>``;
2. the runtime image: the folder's ``Dockerfile`` built on that base (``BASE_IMAGE`` build
   argument), tagged ``Runtime.image`` = ``functions-runtime/<id>:<hash of the folder>``.

Both tags are content hashes, so :func:`ensure_image` does nothing when they exist.
Downloaded ``.deb`` files are kept in ``STORAGE_DIR/runtime-build/apt-cache``, which makes a
rebuild mostly local. Building a base needs root (debootstrap) and a Debian mirror.

Each node builds on its own engine: the lock files are the node's (``NODE_DIR``), while the
caches under ``STORAGE_DIR/runtime-build`` (debootstrap tars, ``.deb`` files, vendored
tarballs) are shared by every node, written under a node's own temporary name and renamed
into place. :func:`ensure_present` is what a cold start calls: a node without the image (a
runtime outside ``RUNTIME_IMAGES_PREBUILT``) builds it on first use, once at a time.
"""

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from functions_app import runtimes
from functions_app.services import docker

BASE_REPOSITORY = "functions-runtime-base"
VARIANT = "minbase"
VENDOR_LIMIT = 512 * 1024 * 1024  # bytes of one vendored tarball
TAR_CHUNK = 1024 * 1024
RUNTIME_LABEL = "functions-runtime"
RECIPE_LABEL = "functions-runtime.recipe"
BASE_LABEL = "functions-runtime.base"
# Paths removed from the base root filesystem: documentation, translations, apt indexes.
TRIMMED = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
    "var/lib/apt/lists",
    "var/cache/apt",
    "var/log",
)


class ImageBuildError(Exception):
    """A runtime image could not be built (debootstrap or a missing recipe file)."""


@dataclass
class BuildResult:
    runtime_id: str
    image: str
    base: str
    built: bool = False
    base_built: bool = False
    seconds: float = 0.0
    base_seconds: float = 0.0


def mirror():
    return settings.RUNTIME_DEBIAN_MIRROR


def security_mirror():
    return settings.RUNTIME_DEBIAN_SECURITY_MIRROR


def extra_ca_certificates():
    """The host's local CA certificates (``*.crt``) in ``RUNTIME_EXTRA_CA_DIR``, trusted in
    the images too, so builds work behind a TLS-intercepting proxy; an empty or missing folder
    adds nothing."""
    path = Path(settings.RUNTIME_EXTRA_CA_DIR)
    return sorted(path.rglob("*.crt")) if path.is_dir() else []


def work_dir():
    path = Path(settings.STORAGE_DIR) / "runtime-build"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _scratch(name):
    """A path in the shared work folder that only this node uses (nodes build at once)."""
    return work_dir() / f"{name}.{settings.NODE_ID}"


def base_packages(runtime):
    """The Debian packages of a runtime's base image (its manifest's, plus the contract's)."""
    return list(runtime.packages)


def base_image(runtime):
    """The tag of the base image: a hash of the suite, the variant, the package list and the
    extra CA certificates (runtimes with the same suite and packages share one)."""
    recipe = "\n".join([runtime.suite, VARIANT, *base_packages(runtime)])
    for cert in extra_ca_certificates():
        recipe += "\n" + hashlib.sha256(cert.read_bytes()).hexdigest()
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    return f"{BASE_REPOSITORY}:{runtime.suite}-{digest}"


@contextmanager
def _lock(name):
    """An exclusive file lock, so two processes of this node never build the same image at
    once. Node-local (``NODE_DIR/image-locks``): each node builds on its own engine."""
    locks = Path(settings.NODE_DIR) / "image-locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command, what, env=None):
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-4000:]
        raise ImageBuildError(f"{what} failed ({result.returncode}):\n{tail}")


def _link_debs(source, target):
    """Hard-link the .deb files of ``source`` missing from ``target`` (same filesystem)."""
    for deb in source.glob("*.deb"):
        destination = target / deb.name
        if not destination.exists():
            try:
                os.link(deb, destination)
            except FileExistsError:
                pass  # another image build linked it meanwhile (never overwrite: it is shared)
            except OSError:
                shutil.copy2(deb, destination)


def _debootstrap(target, cache, suite):
    """The suite's minimal root, debootstrapped once and kept as a tar for the next base."""
    kept = work_dir() / f"debootstrap-{suite}-{VARIANT}.tar"
    with _lock(f"debootstrap-{suite}"):
        if not kept.is_file():
            _keep_debootstrap(kept, cache, suite)
    target.mkdir(parents=True)
    _run(["tar", "--numeric-owner", "--xattrs", "-C", str(target), "-xf", str(kept)], "untar")


def _keep_debootstrap(kept, cache, suite):
    fresh = _scratch(f"debootstrap-{suite}")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        _run_debootstrap(fresh, cache, suite)
        partial = _scratch(kept.name + ".partial")
        tar = ["tar", "--numeric-owner", "--xattrs", "-C", str(fresh), "-cf", str(partial), "."]
        _run(tar, "tar")
        partial.rename(kept)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _run_debootstrap(target, cache, suite):
    if os.geteuid() != 0:
        raise ImageBuildError("Building a base image runs debootstrap, which needs root.")
    if not shutil.which("debootstrap"):
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap).")
    command = [
        "debootstrap",
        f"--variant={VARIANT}",
        f"--cache-dir={cache}",
        suite,
        str(target),
        mirror(),
    ]
    _run(command, "debootstrap")


def _write(path, text):
    """Replace a file of the new root; never follow a symlink out of it onto the host."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.write_text(text)


def _apt_install(rootfs, packages, cache, suite):
    """Install ``packages`` inside the new root with apt (debootstrap's own resolver cannot
    handle packages such as npm), with the updates and security suites enabled."""
    _write(
        rootfs / "etc/apt/sources.list",
        f"deb {mirror()} {suite} main\n"
        f"deb {mirror()} {suite}-updates main\n"
        f"deb {security_mirror()} {suite}-security main\n",
    )
    _write(rootfs / "etc/resolv.conf", Path("/etc/resolv.conf").read_text())
    archives = rootfs / "var/cache/apt/archives"
    _link_debs(cache, archives)
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEBIAN_FRONTEND": "noninteractive",
        "LANG": "C.UTF-8",
    }
    apt = ["chroot", str(rootfs), "apt-get", "-q", "-y", "-o", "Dpkg::Use-Pty=0"]
    _run([*apt, "update"], "apt-get update", env)
    with _proc_mounted(rootfs):
        _run([*apt, "--no-install-recommends", "install", *packages], "apt-get install", env)
        _run([*apt, "upgrade"], "apt-get upgrade", env)
        _add_ca_certificates(rootfs, env)  # its hooks too (Java's keystore needs java)
    _link_debs(archives, cache)
    (rootfs / "etc/resolv.conf").unlink()


@contextmanager
def _proc_mounted(rootfs):
    """/proc mounted in the new root while packages are configured: some maintainer scripts
    run programs that need it (openjdk's postinst runs java). Lazily unmounted afterwards, so
    the root is never packed with it."""
    proc = rootfs / "proc"
    proc.mkdir(exist_ok=True)
    _run(["mount", "-t", "proc", "proc", str(proc)], "mount /proc")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(proc)], check=False, capture_output=True)


def _add_ca_certificates(rootfs, env):
    certs = extra_ca_certificates()
    if not certs:
        return
    target = rootfs / "usr/local/share/ca-certificates"
    target.mkdir(parents=True, exist_ok=True)
    for cert in certs:
        _write(target / cert.name, cert.read_text())
    _run(["chroot", str(rootfs), "update-ca-certificates"], "update-ca-certificates", env)


def _trim(rootfs):
    for relative in TRIMMED:
        path = rootfs / relative
        if path.is_dir():
            shutil.rmtree(path)
            path.mkdir()


def _tar_chunks(rootfs):
    """The root filesystem as a tar stream (numeric owners, devices and links preserved)."""
    with subprocess.Popen(
        ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-cf", "-", "."],
        stdout=subprocess.PIPE,
    ) as process:
        while chunk := process.stdout.read(TAR_CHUNK):
            yield chunk
        if process.wait() != 0:
            raise ImageBuildError(f"tar of {rootfs} failed ({process.returncode})")


def ensure_base(runtime, force=False, log=None):
    """Build and import the base image of a runtime unless it exists. Returns
    (tag, built, seconds)."""
    tag = base_image(runtime)
    with _lock(tag.replace("/", "_").replace(":", "_")):
        if not force and docker.image_exists(tag):
            return tag, False, 0.0
        started = time.monotonic()
        rootfs = _scratch(f"rootfs-{tag.rpartition(':')[2]}")
        if rootfs.exists():
            shutil.rmtree(rootfs)
        try:
            packages = base_packages(runtime)
            cache = work_dir() / "apt-cache"
            cache.mkdir(exist_ok=True)
            _say(
                log,
                f"{runtime.id}: debootstrap {runtime.suite} {VARIANT}, then apt-get install {' '.join(packages)}",
            )
            _debootstrap(rootfs, cache, runtime.suite)
            _apt_install(rootfs, packages, cache, runtime.suite)
            _trim(rootfs)
            _say(log, f"{runtime.id}: importing {tag}")
            docker.import_image(_tar_chunks(rootfs), tag)
        finally:
            shutil.rmtree(rootfs, ignore_errors=True)
        return tag, True, time.monotonic() - started


def is_ready(runtime):
    """The runtime's image exists on this engine and sits on its current base."""
    return _is_current(runtime.image, base_image(runtime))


PRESENT_FOR = 60.0  # seconds a process trusts that an image it saw is still on its engine
_present = {}  # image tag -> monotonic time it was last seen current


def ensure_present(runtime):
    """Before a cold start on this node: the runtime's image, built now when this node's
    engine lacks it (the first cold start waits for it; a node's lock makes one build at a
    time, the others then find it). Raises :class:`ImageBuildError` or ``DockerError``."""
    seen = _present.get(runtime.image)
    if seen is not None and time.monotonic() - seen < PRESENT_FOR:
        return
    if not is_ready(runtime):
        ensure_image(runtime)
    _present[runtime.image] = time.monotonic()


def _is_current(image, base):
    """The runtime image exists and was built on the current base image."""
    labels = docker.image_labels(image)
    return labels is not None and labels.get(BASE_LABEL) == base


def ensure_image(runtime, force=False, log=None):
    """Make sure ``runtime.image`` exists and sits on the current base image, building the
    base and the layer when missing (or always with ``force``). Returns a BuildResult."""
    image, base = runtime.image, base_image(runtime)
    if not force and _is_current(image, base):
        return BuildResult(runtime.id, image, base)
    base, base_built, base_seconds = ensure_base(runtime, force=force, log=log)
    result = BuildResult(runtime.id, image, base, base_built=base_built, base_seconds=base_seconds)
    with _lock(image.replace("/", "_").replace(":", "_")):
        if not force and _is_current(image, base):
            return result
        _say(log, f"{runtime.id}: building {image} from {runtime.folder}")
        started = time.monotonic()
        labels = {RUNTIME_LABEL: runtime.id, RECIPE_LABEL: runtime.recipe_hash, BASE_LABEL: base}
        buildargs = {"BASE_IMAGE": base, "RUNTIME_VERSION": runtime.version}
        with _context(runtime, log) as context:
            docker.build_image(context, image, buildargs=buildargs, labels=labels)
        result.built = True
        result.seconds = time.monotonic() - started
    _record_build_time(result)
    return result


def _record_build_time(result):
    """Kept in ``runtime-build/build-times.json`` for ``bench/runtimes.py``: the seconds of the
    last build of each image (base and layer), with the tags they were for."""
    path = work_dir() / "build-times.json"
    with _lock("build-times"):
        try:
            times = json.loads(path.read_text())
        except (OSError, ValueError):
            times = {}
        entry = times.get(result.runtime_id, {})
        if result.base_built:
            entry |= {"base": result.base, "base_seconds": round(result.base_seconds, 1)}
        entry |= {"image": result.image, "seconds": round(result.seconds, 1)}
        times[result.runtime_id] = entry
        partial = _scratch("build-times.json.partial")
        partial.write_text(json.dumps(times, indent=1, sort_keys=True))
        partial.rename(path)  # another node may write it too: never a half-written file


@contextmanager
def _context(runtime, log):
    """The build context: a copy of the family folder plus ``vendor/`` with the version's
    vendored tarballs (fetched on the host, checked against their pinned integrity)."""
    context = _scratch(f"context-{runtime.id}-{runtime.recipe_hash}")
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(runtime.folder, context, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        (context / "vendor").mkdir(exist_ok=True)
        for item in runtime.vendor:
            os.link(vendored(item, log), context / "vendor" / item.file_name)
        yield context
    finally:
        shutil.rmtree(context, ignore_errors=True)


def vendored(item, log=None):
    """The path of a vendored tarball in the cache, downloaded from the npm registry once."""
    algorithm, _, expected = item.integrity.partition("-")
    cache = work_dir() / "vendor"
    cache.mkdir(exist_ok=True)
    path = cache / item.file_name
    if path.is_file() and _digest(path, algorithm) == expected:
        return path
    url = _npm_tarball(item)
    _say(log, f"fetching {item.npm}@{item.version} from {url}")
    partial = _scratch(path.name + ".partial")
    try:
        _download(url, partial)
    except OSError as error:
        raise ImageBuildError(f"{item.npm}@{item.version}: download failed: {error}") from error
    if _digest(partial, algorithm) != expected:
        partial.unlink()
        raise ImageBuildError(f"{item.npm}@{item.version}: integrity mismatch")
    partial.rename(path)
    return path


def _download(url, target):
    with urllib.request.urlopen(url, timeout=60) as response, open(target, "wb") as out:
        while chunk := response.read(TAR_CHUNK):
            if out.tell() + len(chunk) > VENDOR_LIMIT:
                raise OSError(f"larger than {VENDOR_LIMIT} bytes")
            out.write(chunk)


def _npm_tarball(item):
    registry = settings.RUNTIME_NPM_REGISTRY.rstrip("/")
    name = item.npm.replace("/", "%2F")
    try:
        with urllib.request.urlopen(f"{registry}/{name}/{item.version}", timeout=30) as response:
            return json.load(response)["dist"]["tarball"]
    except (OSError, ValueError, KeyError) as error:
        raise ImageBuildError(
            f"{item.npm}@{item.version}: registry lookup failed: {error}"
        ) from error


def _digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        while chunk := handle.read(TAR_CHUNK):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def ensure_all(force=False, runtime_ids=None, log=None, jobs=1):
    """:func:`ensure_image` for every runtime with a recipe (or the given ids), ``jobs`` at a
    time (the downloads and apt runs of different images overlap well)."""
    registry = runtimes.registry()
    selected = runtime_ids or list(registry)
    missing = [rid for rid in selected if rid not in registry]
    if missing:
        raise ImageBuildError(f"No recipe folder for runtime(s): {', '.join(missing)}")
    with ThreadPoolExecutor(jobs) as pool:
        results = list(
            pool.map(lambda rid: ensure_image(registry[rid], force=force, log=log), selected)
        )
    for rid in selected:
        _prune(registry[rid], log)
    return results


def prune(runtime, log=None):
    """Remove an image's superseded tags (see ``_prune``); for images outside the registry."""
    _prune(runtime, log)


def _prune(runtime, log):
    """Remove this runtime's superseded image tags (a tag still used by a container stays)."""
    repository = runtime.image.rsplit(":", 1)[0]
    for tag in docker.image_tags(repository):
        if tag != runtime.image and docker.remove_image(tag):
            _say(log, f"{runtime.id}: removed superseded image {tag}")


def _say(log, message):
    if log is not None:
        log(message)
