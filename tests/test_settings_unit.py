"""Settings are read strictly: a mistyped number or boolean stops the start, naming it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from console import settings as module

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "value, expected",
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("Off", False)],
)
def test_booleans_read_every_spelling(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert module.env_bool("SOME_FLAG", not expected) is expected


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y"])
def test_mistyped_boolean_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be a boolean"):
        module.env_bool("SOME_FLAG")


def test_unset_or_empty_takes_the_default(monkeypatch):
    monkeypatch.delenv("SOME_NUMBER", raising=False)
    assert module.env_number("SOME_NUMBER", 7) == 7
    monkeypatch.setenv("SOME_NUMBER", "")
    assert module.env_number("SOME_NUMBER", 7) == 7
    assert module.env_bool("SOME_NUMBER", True) is True


@pytest.mark.parametrize(
    "value, kind, message",
    [
        ("ten", int, "must be a whole number"),
        ("1.5", int, "must be a whole number"),
        ("-1", int, "must be at least 0"),
        ("nan", float, "must be at least 0"),
        ("0.5x", float, "must be a number"),
    ],
)
def test_unreadable_number_names_the_variable(monkeypatch, value, kind, message):
    monkeypatch.setenv("SOME_NUMBER", value)
    with pytest.raises(ImproperlyConfigured, match=f"SOME_NUMBER {message}"):
        module.env_number("SOME_NUMBER", 1, kind)


def test_minimum_is_enforced(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "0")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER must be at least 1"):
        module.env_number("SOME_NUMBER", 5, minimum=1)
    monkeypatch.setenv("SOME_NUMBER", " 12 ")
    assert module.env_number("SOME_NUMBER", 5, minimum=1) == 12


def test_hostnames_are_host_names_or_wildcards(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", " App.Example.com, *.corp.test ,127.0.0.1")
    assert module.env_hostnames("SOME_HOSTS") == ["app.example.com", "*.corp.test", "127.0.0.1"]
    for bad in ("https://x.test", "x.test:8000", "x.test/", "*", "a.*.test", "x.test.", "-x.test"):
        monkeypatch.setenv("SOME_HOSTS", bad)
        with pytest.raises(
            ImproperlyConfigured, match="SOME_HOSTS must be comma-separated host names"
        ):
            module.env_hostnames("SOME_HOSTS")


def test_git_urls_and_local_roots(monkeypatch, tmp_path):
    monkeypatch.setenv("SOME_URL", "https://git.example.com/")
    assert module.env_git_url("SOME_URL", "") == "https://git.example.com"
    for bad in ("ftp://x", "git@host:acme", "https://a b", "file://relative"):
        monkeypatch.setenv("SOME_URL", bad)
        with pytest.raises(ImproperlyConfigured, match="SOME_URL must be an https://"):
            module.env_git_url("SOME_URL", "")
    monkeypatch.setenv("SOME_ROOTS", f"{tmp_path}/a, {tmp_path}/b")
    assert module.env_folders("SOME_ROOTS") == [tmp_path / "a", tmp_path / "b"]
    for bad in (
        str(module.STORAGE_DIR / "repos"),
        str(module.STORAGE_DIR.parent),
        str(module.NODE_DIR / "repos"),
    ):
        monkeypatch.setenv("SOME_ROOTS", bad)
        with pytest.raises(ImproperlyConfigured, match="must not hold or lie in STORAGE_DIR"):
            module.env_folders("SOME_ROOTS")


@pytest.mark.parametrize(
    "name, value",
    [
        ("DEBUG", "ture"),
        ("COMPUTE_BUILD_TIMEOUT", "15m"),
        ("WEB_THREADS", "0"),
        ("CONSOLE_HOSTNAMES", "https://console.example.com"),
        ("FUNCTIONS_TEMPLATES_GIT_URL", "git@github.com:acme"),
        ("VCS_LOCAL_ROOTS", "relative/repos"),
        ("VCS_GIT_TIMEOUT", "0"),
        ("NODE_ID", "node/one"),
        ("NODE_ID", "-node"),
        ("NODE_HEARTBEAT_TIMEOUT", "5"),  # below twice the interval (10 s)
    ],
)
def test_the_service_refuses_to_start(tmp_path, name, value):
    """What ``manage.py`` (so gunicorn and the workers too) does with a bad value."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "STORAGE_DIR": str(tmp_path), name: value},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be" in result.stderr


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    source = (ROOT / "console" / "settings.py").read_text()
    names = set(
        re.findall(
            r'env(?:_bool|_number|_list|_choice|_ports|_hostnames|_git_url|_folders|_node_id)?\(\s*"([A-Z_]+)"',
            source,
        )
    )
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert names and missing == []
