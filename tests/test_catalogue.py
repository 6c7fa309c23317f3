"""Runtimes and specifications."""

import os

from appwrite.enums.runtime import Runtime

from functions_app.services.specifications import CATALOGUE


def test_runtimes_list_what_this_instance_can_run(functions):
    runtimes = functions.list_runtimes()
    ids = [rt.id for rt in runtimes.runtimes]
    assert runtimes.total == len(ids)
    assert {"python-3.11", "node-18.0"} <= set(ids)
    assert all(Runtime(rid) for rid in ids)  # named as in the SDK's enum
    python = next(rt for rt in runtimes.runtimes if rt.id == "python-3.11")
    assert (python.key, python.name, python.version, python.logo) == (
        "python",
        "Python",
        "3.11",
        "python.png",
    )
    assert python.image.startswith("functions-runtime/python-3.11:")


def test_runtime_allowlist(functions, settings):
    settings.FUNCTIONS_RUNTIMES = ["node-18.0"]
    assert [rt.id for rt in functions.list_runtimes().runtimes] == ["node-18.0"]


def test_specifications_follow_the_host(functions):
    specs = functions.list_specifications()
    assert [s.slug for s in specs.specifications] == [s.slug for s in CATALOGUE]
    by_slug = {s.slug: s for s in specs.specifications}
    cpus = os.cpu_count()
    assert by_slug["s-1vcpu-512mb"].enabled is True and by_slug["s-1vcpu-512mb"].memory == 512
    assert by_slug["s-8vcpu-8gb"].enabled is (cpus >= 8)
    assert by_slug["s-0.5vcpu-512mb"].cpus == 0.5


def test_specification_limits_from_settings(functions, settings):
    settings.COMPUTE_CPUS = 1
    settings.COMPUTE_MEMORY = 512
    enabled = [s.slug for s in functions.list_specifications().specifications if s.enabled]
    assert enabled == ["s-0.5vcpu-512mb", "s-1vcpu-512mb"]
