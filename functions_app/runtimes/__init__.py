"""The runtime registry: each runtime family is a self-contained folder beside this file
(``<key>/runtime.json``, its image recipe and its server), with no Django imports. A family's
manifest lists its versions; each version is one runtime (``<key>-<version>``) with its own
Debian suite, packages and vendored binaries. See ``RUNTIMES.md`` to add one."""

import hashlib
import json
import platform
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .catalogue import KNOWN_RUNTIME_IDS

ROOT = Path(__file__).resolve().parent
IMAGE_REPOSITORY = "functions-runtime"
# Every image carries what the executor contract needs (helpers/*.sh, the loopback bridges).
CONTRACT_PACKAGES = ("bash", "ca-certificates", "gzip", "socat", "tar")
# platform.machine() -> the architecture names Appwrite lists in ``supports``
MACHINES = {
    "x86_64": "x86",
    "amd64": "x86",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "armv7",
}


@dataclass(frozen=True)
class Vendored:
    """A binary package fetched on the host at image build time (the image build has no
    network): an npm registry tarball pinned by version and integrity."""

    npm: str
    version: str
    integrity: str

    @property
    def file_name(self):
        return f"{self.npm.replace('@', '').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class Runtime:
    id: str
    key: str
    name: str
    version: str
    base: str
    supports: tuple
    folder: Path
    suite: str = "bookworm"
    packages: tuple = ()
    vendor: tuple = ()
    entrypoint: str = ""

    @property
    def recipe_hash(self):
        digest = hashlib.sha256(folder_hash(self.folder).encode())
        digest.update(f"{self.id}\n{self.suite}\n{self.packages}\n{self.vendor}".encode())
        return digest.hexdigest()[:16]

    @property
    def image(self):
        return f"{IMAGE_REPOSITORY}/{self.id}:{self.recipe_hash}"

    @property
    def logo(self):
        return f"{self.key}.png"

    @property
    def runs_here(self):
        return MACHINES.get(platform.machine().lower()) in self.supports


@cache
def folder_hash(folder):
    """A hash of every file of the recipe, so an image is rebuilt only when it changes."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _family(manifest):
    data = json.loads(manifest.read_text())
    common = tuple(data.get("packages", ()))
    for entry in data["versions"]:
        yield Runtime(
            id=f"{data['key']}-{entry['version']}",
            key=data["key"],
            name=data["name"],
            version=entry["version"],
            base=entry["base"],
            supports=tuple(entry.get("supports", data.get("supports", ()))),
            folder=manifest.parent,
            suite=entry.get("suite", "bookworm"),
            packages=tuple(sorted({*CONTRACT_PACKAGES, *common, *entry.get("packages", ())})),
            vendor=tuple(Vendored(**item) for item in entry.get("vendor", ())),
            entrypoint=entry.get("entrypoint", data.get("entrypoint", "")),
        )


@cache
def registry():
    """Runtimes with a recipe, in catalogue order."""
    found = {rt.id: rt for manifest in ROOT.glob("*/runtime.json") for rt in _family(manifest)}
    return {rid: found[rid] for rid in KNOWN_RUNTIME_IDS if rid in found} | {
        rid: rt for rid, rt in found.items() if rid not in KNOWN_RUNTIME_IDS
    }


def known_ids():
    return KNOWN_RUNTIME_IDS + [rid for rid in registry() if rid not in KNOWN_RUNTIME_IDS]


def get(runtime_id):
    return registry().get(runtime_id)
