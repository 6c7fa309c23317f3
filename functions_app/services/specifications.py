"""Runtime specifications (CPU and memory per container), as Appwrite 1.8 names them."""

import functools
import os
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Specification:
    slug: str
    cpus: float
    memory: int  # MB


CATALOGUE = [
    Specification("s-0.5vcpu-512mb", 0.5, 512),
    Specification("s-1vcpu-512mb", 1, 512),
    Specification("s-1vcpu-1gb", 1, 1024),
    Specification("s-2vcpu-2gb", 2, 2048),
    Specification("s-2vcpu-4gb", 2, 4096),
    Specification("s-4vcpu-4gb", 4, 4096),
    Specification("s-4vcpu-8gb", 4, 8192),
    Specification("s-8vcpu-4gb", 8, 4096),
    Specification("s-8vcpu-8gb", 8, 8192),
]
BY_SLUG = {spec.slug: spec for spec in CATALOGUE}
SLUGS = [spec.slug for spec in CATALOGUE]
DEFAULT_SLUG = "s-1vcpu-512mb"


def host_limits():
    """(cpus, memory MB) this instance may hand out: the settings, or the host's own size."""
    return _host_limits(settings.COMPUTE_CPUS, settings.COMPUTE_MEMORY)


@functools.cache
def _host_limits(cpus, memory):
    cpus = cpus or os.cpu_count() or 1
    memory = memory or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return cpus, memory


def is_enabled(spec):
    cpus, memory = host_limits()
    return spec.cpus <= cpus and spec.memory <= memory


def get(slug):
    return BY_SLUG.get(slug)
