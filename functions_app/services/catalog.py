"""The shipped template catalog (``functions_app/catalog/``), in Appwrite's ``TemplateFunction``
model, served offline.

The catalog is data: ``catalog.json`` names it as a repository (``owner``/``repository``, the
``version`` pattern and ``vcsProvider`` every template shows), and each folder beside it is one
template: ``template.json`` (the model's fields, plus ``score`` for the order) and one folder of
code per language. A manifest's runtime entry lists the runtime IDs that language's folder runs
on, with its entrypoint and build commands; any runtime ID the SDKs know may be named (the
template lists only the ones this instance offers), so a template gains a language by adding
its folder and one entry. The root directory of a template's code is ``<template>/<folder>``,
which is what a template deployment sends as ``rootDirectory`` with this catalog's owner and
repository."""

import gzip
import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .. import runtimes
from ..ids import ID_PATTERN

ROOT = Path(__file__).resolve().parent.parent / "catalog"
USE_CASES = ("dev-tools", "starter", "databases", "ai", "messaging", "utilities")
FOLDER = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
VARIABLE_TYPES = ("text", "password", "number", "email", "url", "phone")
MTIME = 1_700_000_000  # packed files get one fixed time: a template packs the same every time


class CatalogError(Exception):
    """A catalog file is malformed (raised when the catalog is loaded)."""


@dataclass(frozen=True)
class TemplateRuntime:
    name: str  # a runtime ID
    entrypoint: str
    commands: str
    root: str  # "<template>/<folder>", the providerRootDirectory


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    value: str
    secret: bool
    placeholder: str
    required: bool
    type: str


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    icon: str
    tagline: str
    score: int
    use_cases: tuple
    permissions: tuple
    events: tuple
    cron: str
    timeout: int
    scopes: tuple
    instructions: str
    variables: tuple
    runtimes: tuple  # TemplateRuntime, every one the manifest lists

    def runtime(self, runtime_id):
        return next((rt for rt in self.runtimes if rt.name == runtime_id), None)


@dataclass(frozen=True)
class Repository:
    owner: str
    repository: str
    version: str
    vcs_provider: str


@cache
def repository():
    data = _read(ROOT / "catalog.json")
    try:
        return Repository(data["owner"], data["repository"], data["version"], data["vcsProvider"])
    except KeyError as missing:
        raise CatalogError(f"catalog.json: {missing} is missing") from None


@cache
def catalog():
    """Every template, by ID, best first (``score`` descending, then ID)."""
    found = [_template(folder) for folder in sorted(ROOT.iterdir()) if folder.is_dir()]
    found.sort(key=lambda template: (-template.score, template.id))
    return {template.id: template for template in found}


def _read(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise CatalogError(f"{path}: {error}") from None


def _template(folder):
    if not ID_PATTERN.fullmatch(folder.name) or not FOLDER.fullmatch(folder.name):
        raise CatalogError(f"{folder.name}: not a valid template ID")
    data = _read(folder / "template.json")
    where = f"{folder.name}/template.json"
    try:
        template = Template(
            id=folder.name,
            name=_text(data["name"], where),
            icon=_text(data["icon"], where),
            tagline=_text(data["tagline"], where),
            score=int(data.get("score", 0)),
            use_cases=tuple(data["useCases"]),
            permissions=tuple(data.get("permissions", ())),
            events=tuple(data.get("events", ())),
            cron=data.get("cron", ""),
            timeout=int(data.get("timeout", 15)),
            scopes=tuple(data.get("scopes", ())),
            instructions=data.get("instructions", ""),
            variables=tuple(_variable(item, where) for item in data.get("variables", ())),
            runtimes=tuple(
                runtime for entry in data["runtimes"] for runtime in _runtimes(folder, entry, where)
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogError(f"{where}: {error!r}") from None
    unknown = set(template.use_cases) - set(USE_CASES)
    if unknown or not template.use_cases:
        raise CatalogError(f"{where}: use cases must be among {USE_CASES}, not {sorted(unknown)}")
    names = [rt.name for rt in template.runtimes]
    if len(names) != len(set(names)) or not names:
        raise CatalogError(f"{where}: each runtime must be listed once")
    return template


def _text(value, where):
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: a text field is empty")
    return value


def _variable(item, where):
    variable = Variable(
        name=_text(item["name"], where),
        description=item.get("description", ""),
        value=str(item.get("value", "")),
        secret=bool(item.get("secret", False)),
        placeholder=item.get("placeholder", ""),
        required=bool(item.get("required", False)),
        type=item.get("type", "text"),
    )
    if variable.type not in VARIABLE_TYPES:
        raise CatalogError(
            f"{where}: variable type {variable.type!r} is not one of {VARIABLE_TYPES}"
        )
    return variable


def _runtimes(folder, entry, where):
    name = entry["folder"]
    code = folder / name
    if not FOLDER.fullmatch(name) or not code.is_dir():
        raise CatalogError(f"{where}: no code folder {name!r}")
    entrypoint = entry["entrypoint"]
    if not (code / entrypoint).is_file():
        raise CatalogError(f"{where}: {name}/{entrypoint} does not exist")
    known = set(runtimes.known_ids())
    for runtime_id in entry["names"]:
        if runtime_id not in known:
            raise CatalogError(f"{where}: {runtime_id!r} is not a runtime ID")
        yield TemplateRuntime(
            runtime_id, entrypoint, entry.get("commands", ""), f"{folder.name}/{name}"
        )


def offered(template, available_ids):
    """The template's runtimes this instance offers (Appwrite lists only those too)."""
    return [rt for rt in template.runtimes if rt.name in available_ids]


def listing(available_ids, runtime_ids=(), use_cases=()):
    """Templates with at least one offered runtime, filtered as Appwrite filters them: any of
    ``runtime_ids`` among the offered ones, any of ``use_cases`` (both when both are given)."""
    found = []
    for template in catalog().values():
        names = {rt.name for rt in offered(template, available_ids)}
        if not names:
            continue
        if runtime_ids and not names & set(runtime_ids):
            continue
        if use_cases and not set(template.use_cases) & set(use_cases):
            continue
        found.append(template)
    return found


def get(template_id):
    return catalog().get(template_id)


# -- template deployments -------------------------------------------------------------------


def is_catalog(owner, repository_name):
    repo = repository()
    return (owner, repository_name) == (repo.owner, repo.repository)


def code_folder(root_directory):
    """The folder of a catalog root directory (``<template>/<folder>``), or None."""
    root = root_directory.strip().strip("/").removeprefix("./")
    for template in catalog().values():
        if any(rt.root == root for rt in template.runtimes):
            return ROOT / root
    return None


def _files(folder):
    """Every file of a code folder, sorted; the catalog holds no links (refused here)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise CatalogError(f"{path}: the catalog must not hold links")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            found.append(path)
    return found


def content_hash(folder):
    """A hash of a code folder (the "commit" a catalog deployment shows)."""
    digest = hashlib.sha1()
    for path in _files(folder):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def pack(folder, target):
    """The code folder as a ``.tar.gz`` at ``target`` (files only, 0644, one fixed time).
    Returns its size."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in _files(folder):
            data = path.read_bytes()
            info = tarfile.TarInfo(path.relative_to(folder).as_posix())
            info.size, info.mode, info.mtime = len(data), 0o644, MTIME
            tar.addfile(info, io.BytesIO(data))
    with gzip.GzipFile(target, "wb", mtime=MTIME) as out:
        out.write(buffer.getvalue())
    return Path(target).stat().st_size
