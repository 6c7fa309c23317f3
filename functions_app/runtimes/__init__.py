"""The runtime registry: each runtime this instance can run is a self-contained folder
beside this file (``<id>/runtime.json``, its image recipe and its server), with no Django
imports. See ``RUNTIMES.md`` for the checklist to add one."""

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .catalogue import KNOWN_RUNTIME_IDS

ROOT = Path(__file__).resolve().parent
IMAGE_REPOSITORY = "functions-runtime"


@dataclass(frozen=True)
class Runtime:
    id: str
    key: str
    name: str
    version: str
    base: str
    supports: tuple
    folder: Path

    @property
    def recipe_hash(self):
        return recipe_hash(self.folder)

    @property
    def image(self):
        return f"{IMAGE_REPOSITORY}/{self.id}:{self.recipe_hash}"

    @property
    def logo(self):
        return f"{self.key}.png"


@cache
def recipe_hash(folder):
    """A hash of every file of the recipe, so an image is rebuilt only when it changes."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@cache
def registry():
    """Runtimes with a recipe folder, in catalogue order."""
    found = {}
    for manifest in ROOT.glob("*/runtime.json"):
        data = json.loads(manifest.read_text())
        found[data["id"]] = Runtime(
            id=data["id"],
            key=data["key"],
            name=data["name"],
            version=data["version"],
            base=data["base"],
            supports=tuple(data["supports"]),
            folder=manifest.parent,
        )
    return {rid: found[rid] for rid in KNOWN_RUNTIME_IDS if rid in found} | {
        rid: rt for rid, rt in found.items() if rid not in KNOWN_RUNTIME_IDS
    }


def known_ids():
    return KNOWN_RUNTIME_IDS + [rid for rid in registry() if rid not in KNOWN_RUNTIME_IDS]


def get(runtime_id):
    return registry().get(runtime_id)
