"""The one settings module. Every knob is an environment variable with a default that
works on a fresh checkout; the README lists them all."""

import os
import re
import socket
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from functions_app import hostnames

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); anything else stops the start."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in BOOLEANS:
        raise ImproperlyConfigured(f"{name} must be a boolean (true or false), not {value!r}.")
    return BOOLEANS[value]


BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
BOOLEANS |= {"0": False, "false": False, "no": False, "off": False}


def env_number(name, default, kind=int, minimum=0):
    """A whole (or, with ``kind=float``, decimal) number of at least ``minimum``; an empty
    variable takes the default, and anything unreadable stops the start naming the variable."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {KINDS[kind]}, not {value!r}.") from None
    if number != number or number < minimum:  # NaN compares unequal to itself
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value!r}.")
    return number


KINDS = {int: "whole number", float: "number"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def env_choice(name, default, choices):
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        allowed = ", ".join(choices)
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}.")
    return value


def env_ports(name, default):
    """Port numbers and ranges (``80,443,8000-8999``), or ``*`` for every port (None)."""
    items = env_list(name, default)
    if items == ["*"]:
        return None
    ports = set()
    for item in items:
        low, _, high = item.partition("-")
        if not (low.isdigit() and (high or low).isdigit()):
            raise ImproperlyConfigured(f"{name} must list ports or ranges, not {item!r}.")
        if not 1 <= int(low) <= int(high or low) <= 65535:
            raise ImproperlyConfigured(f"{name} has a port outside 1-65535: {item!r}.")
        ports.update(range(int(low), int(high or low) + 1))
    return frozenset(ports)


def env_hostnames(name, default=""):
    """Host names or ``*.example.com`` patterns, comma-separated (lowercased); anything else,
    such as a URL or a port, stops the start."""
    items = [item.lower() for item in env_list(name, default)]
    for item in items:
        if not hostnames.is_pattern(item):
            raise ImproperlyConfigured(
                f"{name} must be comma-separated host names or *.domain patterns (no scheme, "
                f"port or path), not {item!r}."
            )
    return items


# A test run (pytest sets PYTEST_VERSION) gets a storage directory of its own, so runs on one
# machine never share files, databases or containers.
_default_storage = (
    BASE_DIR / "data" / (f"test-run-{os.getpid()}" if "PYTEST_VERSION" in os.environ else "")
)
STORAGE_DIR = Path(env("STORAGE_DIR", str(_default_storage))).resolve()
STORAGE_DIR.mkdir(parents=True, exist_ok=True)


def env_node_id(name):
    """This node's name (default the host name): letters, digits, ``.``, ``_`` and ``-``, as
    it names a folder and goes into container labels and worker identities."""
    value = env(name, "").strip() or socket.gethostname()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", value):
        raise ImproperlyConfigured(
            f"{name} must be 1-63 letters, digits, '.', '_' or '-' (not first), not {value!r}."
        )
    return value


# This machine's name among the nodes sharing the database (recorded with the work it runs and
# the containers it starts), and its own folder: what must never be shared between nodes (the
# runtime state files, capacity slots and their locks, the API and egress sockets, the image
# build locks). STORAGE_DIR is what nodes share (sources, build outputs, the runtime-build
# cache); NODE_DIR should be on a local disk (the default, under STORAGE_DIR, is for one node).
NODE_ID = env_node_id("NODE_ID")
NODE_DIR = Path(env("NODE_DIR", str(STORAGE_DIR / "nodes" / NODE_ID))).resolve()
NODE_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    if env("SECRET_KEY"):
        return env("SECRET_KEY")
    # A fresh checkout gets a random key that survives restarts (sessions and
    # per-execution API keys stay valid) without anyone having to set one.
    path = STORAGE_DIR / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_q",
    "functions_app",
]

MIDDLEWARE = [
    "functions_app.domains.function_domain_middleware",  # first: function domains get it all
    "functions_app.web.guard.nul_guard_middleware",
    "functions_app.api.cors.cors_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{STORAGE_DIR / 'db.sqlite3'}"), conn_max_age=600
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; the timeout rides out
    # short write bursts from several processes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file (not in-memory) so that worker subprocesses share it.
    DATABASES["default"]["TEST"] = {"NAME": str(STORAGE_DIR / "test-db.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Only the console's own front-end packages are served (node_modules also holds test tools).
for _package in ("@picocss/pico", "chart.js", "htmx.org"):
    if (BASE_DIR / "node_modules" / _package).is_dir():
        STATICFILES_DIRS.append((f"vendor/{_package}", BASE_DIR / "node_modules" / _package))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["functions_app.api.auth.AppwriteAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["functions_app.api.rendering.AppwriteJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "functions_app.api.rendering.LenientJSONParser",
        "functions_app.api.rendering.BytesKeepingMultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "functions_app.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# The largest /v1 request body, as Appwrite's server limits it (12 MiB: a 5 MiB upload chunk or
# a 10 MiB execution body fit); larger ones get a JSON 413. Also Django's limit for form fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_number("REQUEST_SIZE_LIMIT", 12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

Q_CLUSTER = {
    "name": "functions",
    "workers": env_number("Q_WORKERS", 4, minimum=1),
    "timeout": 1000,
    "retry": 1100,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": -1,  # outcomes live in our own rows; failures are still kept
    "ack_failures": True,
    "poll": env_number("Q_POLL", 0.05, float, minimum=0.01),
    "orm": "default",
}
if env("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = env("REDIS_URL")

# Appwrite compatibility knobs (names follow Appwrite's where one exists).
APPWRITE_VERSION = "1.8.0"
FUNCTIONS_TIMEOUT_MAX = env_number("FUNCTIONS_TIMEOUT", 900, minimum=1)
FUNCTIONS_SYNC_TIMEOUT = env_number("FUNCTIONS_SYNC_TIMEOUT", 30, minimum=1)
FUNCTIONS_RUNTIMES = env_list("FUNCTIONS_RUNTIMES", "")
FUNCTIONS_DOMAIN = env("FUNCTIONS_DOMAIN", "functions.localhost")
# Host names no proxy rule may take (Appwrite's _APP_CUSTOM_DOMAIN_DENY_LIST), besides the
# service's own (PUBLIC_URL, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, localhost): see services/rules.py.
CUSTOM_DOMAIN_DENY_LIST = env_list("CUSTOM_DOMAIN_DENY_LIST", "")
COMPUTE_SIZE_LIMIT = env_number("COMPUTE_SIZE_LIMIT", 30000000)
COMPUTE_UNPACKED_SIZE_LIMIT = env_number("COMPUTE_UNPACKED_SIZE_LIMIT", 500000000)
COMPUTE_BUILD_SIZE_LIMIT = env_number("COMPUTE_BUILD_SIZE_LIMIT", 2000000000)
COMPUTE_BUILD_TIMEOUT = env_number("COMPUTE_BUILD_TIMEOUT", 900, minimum=1)
COMPUTE_CPUS = env_number("COMPUTE_CPUS", 0.0, float)
COMPUTE_MEMORY = env_number("COMPUTE_MEMORY", 0)
COMPUTE_INACTIVE_THRESHOLD = env_number("COMPUTE_INACTIVE_THRESHOLD", 600, minimum=1)
COMPUTE_MAINTENANCE_INTERVAL = env_number("COMPUTE_MAINTENANCE_INTERVAL", 60, minimum=1)
# Writable space of containers, in MB: all of it is tmpfs (counted against the container's memory).
COMPUTE_TMP_SIZE = env_number("COMPUTE_TMP_SIZE", 64, minimum=1)  # /tmp of execution containers
COMPUTE_LOGS_SIZE = env_number("COMPUTE_LOGS_SIZE", 16, minimum=1)  # their log folder (/mnt/logs)
# MB of each of a build's writable folders (/tmp and its work dir)
COMPUTE_BUILD_SCRATCH_SIZE = env_number("COMPUTE_BUILD_SCRATCH_SIZE", 2048, minimum=1)
COMPUTE_BUILD_MEMORY = env_number(
    "COMPUTE_BUILD_MEMORY", 2048, minimum=1
)  # least memory a build gets
# Each node's worker cluster (manage.py node) records a heartbeat this often; a node silent for
# NODE_HEARTBEAT_TIMEOUT seconds is taken for dead: another node's maintenance fails its builds
# and executions in flight and queues its waiting work again.
NODE_HEARTBEAT_INTERVAL = env_number("NODE_HEARTBEAT_INTERVAL", 10.0, float, minimum=0.5)
NODE_HEARTBEAT_TIMEOUT = env_number("NODE_HEARTBEAT_TIMEOUT", 60.0, float, minimum=1)
if NODE_HEARTBEAT_TIMEOUT < 2 * NODE_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        "NODE_HEARTBEAT_TIMEOUT must be at least twice NODE_HEARTBEAT_INTERVAL."
    )
FUNCTIONS_CREATION_ABUSE_LIMIT = env_number("FUNCTIONS_CREATION_ABUSE_LIMIT", 0)
# Fair use. Event-triggered executions one originating action may cause, across its whole chain.
FUNCTIONS_EVENT_BUDGET = env_number("FUNCTIONS_EVENT_BUDGET", 100)
# createExecution calls per IP + user per function and window, for callers without a key.
FUNCTIONS_EXECUTION_ABUSE_LIMIT = env_number("FUNCTIONS_EXECUTION_ABUSE_LIMIT", 60)
FUNCTIONS_EXECUTION_ABUSE_PERIOD = env_number("FUNCTIONS_EXECUTION_ABUSE_PERIOD", 60, minimum=1)
# Appwrite's abuse limits on sign-up, sign-in, sign-out and JWTs (for callers without a key).
ACCOUNT_ABUSE_LIMITS = env_bool("ACCOUNT_ABUSE_LIMITS", True)
# Synchronous executions one web process runs at once (below its threads, which bin/run gives
# gunicorn from the same variable: two are always left for everything else), and how many of
# them one project, and one function, may hold (each leaves one to the others).
WEB_THREADS = env_number("WEB_THREADS", 8, minimum=1)
FUNCTIONS_SYNC_CONCURRENCY = env_number(
    "FUNCTIONS_SYNC_CONCURRENCY", max(1, WEB_THREADS - 2), minimum=1
)
FUNCTIONS_SYNC_PROJECT_CONCURRENCY = env_number(
    "FUNCTIONS_SYNC_PROJECT_CONCURRENCY", max(1, FUNCTIONS_SYNC_CONCURRENCY - 1), minimum=1
)
FUNCTIONS_SYNC_FUNCTION_CONCURRENCY = env_number(
    "FUNCTIONS_SYNC_FUNCTION_CONCURRENCY",
    max(1, FUNCTIONS_SYNC_PROJECT_CONCURRENCY - 1),
    minimum=1,
)
if not FUNCTIONS_SYNC_PROJECT_CONCURRENCY <= FUNCTIONS_SYNC_CONCURRENCY < max(2, WEB_THREADS):
    raise ImproperlyConfigured(
        "FUNCTIONS_SYNC_CONCURRENCY must be below WEB_THREADS and at least "
        "FUNCTIONS_SYNC_PROJECT_CONCURRENCY."
    )
# Replicas: warm containers a deployment may have at most by default (the specification and
# the host may allow fewer), executions one takes before another starts, and how long an extra
# one lives idle. Executions of one function at once default to replicas x that share; a
# synchronous caller over it waits this long for a slot; a function may occupy this many workers.
FUNCTIONS_MAX_REPLICAS = env_number("FUNCTIONS_MAX_REPLICAS", 8, minimum=1)
FUNCTIONS_REPLICA_CONCURRENCY = env_number("FUNCTIONS_REPLICA_CONCURRENCY", 4, minimum=1)
FUNCTIONS_REPLICA_IDLE = env_number("FUNCTIONS_REPLICA_IDLE", 60, minimum=1)
FUNCTIONS_QUEUE_TIMEOUT = env_number("FUNCTIONS_QUEUE_TIMEOUT", 10.0, float, minimum=0)
FUNCTIONS_WORKER_CONCURRENCY = env_number(
    "FUNCTIONS_WORKER_CONCURRENCY", max(1, Q_CLUSTER["workers"] - 1), minimum=1
)
# Runtime images: where debootstrap and apt fetch Debian, and the host's extra CA certificates
# (``*.crt``) the images trust, for builds behind a TLS-intercepting proxy.
RUNTIME_DEBIAN_MIRROR = env("RUNTIME_DEBIAN_MIRROR", "http://deb.debian.org/debian")
RUNTIME_DEBIAN_SECURITY_MIRROR = env(
    "RUNTIME_DEBIAN_SECURITY_MIRROR", "http://deb.debian.org/debian-security"
)
RUNTIME_IMAGES_PREBUILT = env_list(
    "RUNTIME_IMAGES_PREBUILT", "python-3.11,python-3.13,node-18.0,node-22"
)
RUNTIME_NPM_REGISTRY = env("RUNTIME_NPM_REGISTRY", "https://registry.npmjs.org")
RUNTIME_EXTRA_CA_DIR = env("RUNTIME_EXTRA_CA_DIR", "/usr/local/share/ca-certificates")
PUBLIC_URL = env("PUBLIC_URL", "http://localhost:8000")
# Browser origins (hosts) every project allows, as Appwrite's _APP_CONSOLE_HOSTNAMES; localhost,
# the API's own host name and each project's web platforms are allowed without it.
CONSOLE_HOSTNAMES = env_hostnames("CONSOLE_HOSTNAMES")
DOCKER_HOST = env("DOCKER_HOST", "unix:///var/run/docker.sock")
# The API also listens here (bin/run binds gunicorn to it); execution containers, which have no
# network, reach it through a loopback bridge in the runtime at 127.0.0.1:3080.
API_SOCKET = Path(env("API_SOCKET", str(NODE_DIR / "api" / "api.sock")))
# Outbound network: containers have none; they reach the egress proxy (manage.py egress_proxy,
# started by bin/run) at 127.0.0.1:3128 through a loopback bridge to this Unix socket.
EGRESS_SOCKET = Path(env("EGRESS_SOCKET", str(NODE_DIR / "egress" / "egress.sock")))
EGRESS_MODES = ("off", "public", "allowlist")
EGRESS_EXECUTIONS = env_choice("EGRESS_EXECUTIONS", "public", EGRESS_MODES)
EGRESS_BUILDS = env_choice("EGRESS_BUILDS", "public", EGRESS_MODES)
EGRESS_EXECUTIONS_ALLOWLIST = env_list("EGRESS_EXECUTIONS_ALLOWLIST")
EGRESS_BUILDS_ALLOWLIST = env_list("EGRESS_BUILDS_ALLOWLIST")
EGRESS_INTERNAL_HOSTS = env_list("EGRESS_INTERNAL_HOSTS")
EGRESS_PORTS = env_ports("EGRESS_PORTS", "80,443")
EGRESS_CONTAINER_CONNECTIONS = env_number("EGRESS_CONTAINER_CONNECTIONS", 32, minimum=1)
EGRESS_PROJECT_CONNECTIONS = env_number("EGRESS_PROJECT_CONNECTIONS", 128, minimum=1)
EGRESS_CONNECT_TIMEOUT = env_number("EGRESS_CONNECT_TIMEOUT", 10.0, float, minimum=0.1)
EGRESS_IDLE_TIMEOUT = env_number("EGRESS_IDLE_TIMEOUT", 60.0, float, minimum=0.1)
EGRESS_MAX_DURATION = env_number("EGRESS_MAX_DURATION", 900.0, float, minimum=1)

# Git deployments (templates, installations, push webhooks). Git runs in a git source container
# (services/git.py) through the egress proxy, never on this host.
GIT_URL_SCHEMES = ("https://", "http://", "ssh://", "file:///")


def env_git_url(name, default):
    value = env(name, default).strip().rstrip("/")
    if not value.startswith(GIT_URL_SCHEMES) or any(c in value for c in " \n\r\t\x00"):
        raise ImproperlyConfigured(
            f"{name} must be an https://, http://, ssh:// or file:/// URL, not {value!r}."
        )
    return value


def env_folders(name):
    """Absolute folders, comma-separated; none of them may hold (or lie in) STORAGE_DIR or
    NODE_DIR, whose files containers must never see."""
    folders = []
    for item in env_list(name):
        if not item.startswith("/"):
            raise ImproperlyConfigured(f"{name} must be absolute folders, not {item!r}.")
        folder = Path(os.path.realpath(item))
        for private in (STORAGE_DIR, NODE_DIR):
            if folder == private or private in folder.parents or folder in private.parents:
                raise ImproperlyConfigured(
                    f"{name} must not hold or lie in STORAGE_DIR or NODE_DIR: {item!r}."
                )
        folders.append(folder)
    return folders


# Where templates that are not in the shipped catalog are cloned from (<URL>/<owner>/<repo>.git).
FUNCTIONS_TEMPLATES_GIT_URL = env_git_url("FUNCTIONS_TEMPLATES_GIT_URL", "https://github.com")
# Folders whose repositories git connections may name with file:/// URLs (mounted read-only into
# the git source container); empty: file:/// connections are refused.
VCS_LOCAL_ROOTS = env_folders("VCS_LOCAL_ROOTS")
# Seconds each git command of a fetch may take (the whole fetch: twice that).
VCS_GIT_TIMEOUT = env_number("VCS_GIT_TIMEOUT", 300, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "warning", LOG_LEVELS).upper(),
    },
}
