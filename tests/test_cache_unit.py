"""Cached lookups and the configuration version, without a server: a change to what is cached
moves the version, moving only schedule times does not, and an entry read under one version
is never served under another."""

from datetime import UTC, datetime

import pytest

from functions_app.models import ApiKey, ConfigVersion, Function, Project
from functions_app.services import cache


@pytest.fixture
def project(db):
    return Project.objects.create(id="main", name="Main")


def test_changes_to_cached_rows_move_the_version(project):
    before = ConfigVersion.current()
    key, _ = ApiKey.issue(project, "k", ["functions.read"])
    assert ConfigVersion.current() != before
    function = Function.objects.create(project=project, uid="fn", name="fn", runtime="python-3.11")
    before = ConfigVersion.current()
    when = datetime(2030, 1, 1, tzinfo=UTC)
    function.set_schedule_times(when, when)  # the scheduler does this every minute
    key.touch()  # and every request this
    assert ConfigVersion.current() == before
    key.revoke()
    assert ConfigVersion.current() != before
    before = ConfigVersion.current()
    function.delete()
    assert ConfigVersion.current() != before


def test_an_entry_is_served_only_under_its_version(project):
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert cache.lookup("test", "x", load) == 1
    assert cache.lookup("test", "x", load) == 1  # cached
    ConfigVersion.bump()
    assert cache.lookup("test", "x", load) == 2  # read again under the new version
    assert cache.lookup("test", None, lambda: None) is None
    assert cache.lookup("test", None, lambda: "now") == "now"  # misses are not kept


def test_nothing_is_cached_without_a_version(project):
    ConfigVersion.objects.all().delete()
    assert cache.lookup("test", "y", lambda: 1) == 1
    assert cache.lookup("test", "y", lambda: 2) == 2
