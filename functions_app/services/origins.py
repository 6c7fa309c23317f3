"""Which browser origins may call a project's API: Appwrite 1.8's platforms and ``Origin``
validator, for the CORS middleware (``api/cors.py``).

Allowed for every project: ``localhost`` and ``127.0.0.1``, the API's own host name (the request's ``Host``, and
``PUBLIC_URL``'s), ``CONSOLE_HOSTNAMES`` and the hosts of ``CSRF_TRUSTED_ORIGINS``. For one
project, also its web platforms (``services/platforms.py``) and its function domains, so that a
function's pages may call their own project. Ports are never compared. Web origins (``http``,
``https`` and the browser-extension schemes) are checked by host; of other schemes, an existing
project allows ``exp`` (Expo) and ``appwrite-callback-<projectId>``; nothing else."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from ..hostnames import is_pattern, matches
from ..ids import is_valid_id
from ..models import Project, Rule
from . import platforms, rules

ALWAYS = ("localhost", "127.0.0.1")  # as the issue asks: both loopback names, any port
WEB_SCHEMES = (
    "http",
    "https",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
    "ms-browser-extension",
)
# What Appwrite's refusal message calls the platform of each scheme it knows.
PLATFORM_NAMES = {
    "http": "Web",
    "https": "Web",
    "appwrite-ios": "iOS",
    "appwrite-macos": "macOS",
    "appwrite-watchos": "watchOS",
    "appwrite-tvos": "tvOS",
    "appwrite-android": "Android",
    "appwrite-windows": "Windows",
    "appwrite-linux": "Linux",
    "chrome-extension": "Web (Chrome Extension)",
    "moz-extension": "Web (Firefox Extension)",
    "safari-web-extension": "Web (Safari Extension)",
    "ms-browser-extension": "Web (Edge Extension)",
}
_SCHEME = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass(frozen=True)
class Origin:
    """An ``Origin`` (or ``Referer``) header, taken apart: scheme, lowercase host, port."""

    raw: str
    scheme: str = ""
    host: str = ""
    port: int | None = None

    @classmethod
    def parse(cls, value):
        match = _SCHEME.match(value)
        scheme = match.group(1) if match else ""
        try:
            parts = urlsplit(value.strip())
            host, port = parts.hostname or "", parts.port
        except ValueError:  # a broken IPv6 literal or port
            host, port = "", None
        return cls(value, scheme, host, port)

    def rebuilt(self, host, default_scheme):
        """``<scheme>://<host>[:<port>]`` (Appwrite's ``Access-Control-Allow-Origin``)."""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme or default_scheme}://{host}{port}"


def host_of(value):
    """The lowercase host name of a ``Host`` header or a URL, or "" if it has none."""
    try:
        return urlsplit(value if "//" in value else f"//{value}").hostname or ""
    except ValueError:
        return ""


def common_hostnames():
    """The host patterns allowed for every project, besides the API's own host name."""
    trusted = (host_of(origin) for origin in settings.CSRF_TRUSTED_ORIGINS)
    return [*ALWAYS, *settings.CONSOLE_HOSTNAMES, *(host for host in trusted if is_pattern(host))]


def always_allowed(api_host):
    """Every host pattern allowed for every project, for the console to show."""
    hosts = [*ALWAYS, api_host, host_of(settings.PUBLIC_URL), *common_hostnames()]
    return list(dict.fromkeys(host for host in hosts if host))


def is_allowed(origin, project_id, api_host):
    """Whether ``origin`` may call project ``project_id`` ("" or unknown: no project) on the
    API reached as ``api_host``."""
    if origin.scheme in WEB_SCHEMES:
        return host_allowed(origin.host, project_id, api_host)
    if origin.scheme in ("exp", f"appwrite-callback-{project_id}"):
        return is_valid_id(project_id) and Project.objects.filter(pk=project_id).exists()
    return False


def host_allowed(host, project_id, api_host):
    if not matches(host, host):  # empty, or with ":" or "/": never allowed, as on Appwrite
        return False
    if host in (api_host, host_of(settings.PUBLIC_URL)):
        return True
    if any(matches(host, pattern) for pattern in common_hostnames()):
        return True
    if not is_valid_id(project_id):
        return False
    if any(matches(host, pattern) for pattern in platforms.hostnames(project_id)):
        return True
    return is_function_domain(host, project_id)


def is_function_domain(host, project_id):
    """A host that runs one of the project's functions: its rule's domain, or (under the
    functions domain) ``<functionId>.<projectId>.<FUNCTIONS_DOMAIN>``."""
    if host.endswith("." + rules.parent_domain()):
        function = rules.find_function(host)
        return function is not None and function.project_id == project_id
    return Rule.objects.filter(domain=host, project_id=project_id).exists()


def refusal(origin):
    """Appwrite's message for a write from an origin that is not allowed."""
    if not origin.host and not origin.scheme:
        return "Invalid Origin."
    platform = PLATFORM_NAMES.get(origin.scheme, "")
    if not platform:
        return (
            f"Invalid Scheme. The scheme used ({origin.scheme}) in the Origin ({origin.raw}) is "
            "not supported. If you are using a custom scheme, please change it to "
            "`appwrite-callback-<PROJECT_ID>`"
        )
    host = f"({origin.host})" if origin.host else ""
    return (
        f"Invalid Origin. Register your new client {host} as a new {platform} platform on your "
        "project console dashboard"
    )
