"""Web platforms (Appwrite's "platforms" of type ``web`` and ``flutter-web``): the hosts a
project's browser apps call the API from. The console and the admin manage them through these
functions; CORS reads them (``services/origins.py``)."""

from ..errors import param_invalid
from ..hostnames import is_pattern
from ..ids import unique_id
from ..models import Platform
from .names import clean_name

TYPES = [value for value, _ in Platform.TYPES]
HOSTNAME_INVALID = (
    "Value must be a valid hostname without path, port and protocol, or `*.` followed by one "
    "(for every host under it)."
)


def clean_type(value):
    if value not in TYPES:
        raise param_invalid("type", f"Value must be one of ({', '.join(TYPES)})")
    return value


def clean_hostname(value):
    """``App.Example.com`` -> ``app.example.com``; ``*.example.com`` stays a wildcard. No
    scheme, port or path (browsers compare hosts; ports are ignored)."""
    hostname = (value or "").strip().lower()
    if not is_pattern(hostname):
        raise param_invalid("hostname", HOSTNAME_INVALID)
    return hostname


def create_platform(project, type_, name, hostname):
    return Platform.objects.create(
        project=project,
        uid=unique_id(),
        type=clean_type(type_),
        name=clean_name(name),
        hostname=clean_hostname(hostname),
    )


def update_platform(platform, name, hostname):
    platform.name = clean_name(name)
    platform.hostname = clean_hostname(hostname)
    platform.save()
    return platform


def delete_platform(platform):
    platform.delete()


def hostnames(project_id):
    """The host patterns of a project's web platforms."""
    return list(Platform.objects.filter(project_id=project_id).values_list("hostname", flat=True))
