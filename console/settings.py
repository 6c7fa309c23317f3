"""The one settings module. Every knob is an environment variable with a default that
works on a fresh checkout; the README lists them all."""

import os
import socket
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


# A test run (pytest sets PYTEST_VERSION) gets a storage directory of its own, so runs on one
# machine never share files, databases or containers.
_default_storage = (
    BASE_DIR / "data" / (f"test-run-{os.getpid()}" if "PYTEST_VERSION" in os.environ else "")
)
STORAGE_DIR = Path(env("STORAGE_DIR", str(_default_storage))).resolve()
STORAGE_DIR.mkdir(parents=True, exist_ok=True)


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
    "functions_app.domains.function_domain_middleware",
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
if (BASE_DIR / "node_modules").is_dir():
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))
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
DATA_UPLOAD_MAX_MEMORY_SIZE = int(env("REQUEST_SIZE_LIMIT", str(12 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

Q_CLUSTER = {
    "name": "functions",
    "workers": int(env("Q_WORKERS", "4")),
    "timeout": 1000,
    "retry": 1100,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": -1,  # outcomes live in our own rows; failures are still kept
    "ack_failures": True,
    "poll": float(env("Q_POLL", "0.05")),
    "orm": "default",
}
if env("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = env("REDIS_URL")

# Appwrite compatibility knobs (names follow Appwrite's where one exists).
APPWRITE_VERSION = "1.8.0"
FUNCTIONS_TIMEOUT_MAX = int(env("FUNCTIONS_TIMEOUT", "900"))
FUNCTIONS_SYNC_TIMEOUT = int(env("FUNCTIONS_SYNC_TIMEOUT", "30"))
FUNCTIONS_RUNTIMES = env_list("FUNCTIONS_RUNTIMES", "")
FUNCTIONS_DOMAIN = env("FUNCTIONS_DOMAIN", "functions.localhost")
COMPUTE_SIZE_LIMIT = int(env("COMPUTE_SIZE_LIMIT", "30000000"))
COMPUTE_UNPACKED_SIZE_LIMIT = int(env("COMPUTE_UNPACKED_SIZE_LIMIT", "500000000"))
COMPUTE_BUILD_SIZE_LIMIT = int(env("COMPUTE_BUILD_SIZE_LIMIT", "2000000000"))
COMPUTE_BUILD_TIMEOUT = int(env("COMPUTE_BUILD_TIMEOUT", "900"))
COMPUTE_CPUS = float(env("COMPUTE_CPUS", "0") or 0)
COMPUTE_MEMORY = int(env("COMPUTE_MEMORY", "0") or 0)
COMPUTE_INACTIVE_THRESHOLD = int(env("COMPUTE_INACTIVE_THRESHOLD", "600"))
COMPUTE_MAINTENANCE_INTERVAL = int(env("COMPUTE_MAINTENANCE_INTERVAL", "60"))
# Writable space of containers, in MB: all of it is tmpfs (counted against the container's memory).
COMPUTE_TMP_SIZE = int(env("COMPUTE_TMP_SIZE", "64"))  # /tmp of execution containers
COMPUTE_LOGS_SIZE = int(env("COMPUTE_LOGS_SIZE", "16"))  # their log folder (/mnt/logs)
COMPUTE_BUILD_SCRATCH_SIZE = int(
    env("COMPUTE_BUILD_SCRATCH_SIZE", "2048")
)  # build /tmp and work dir
COMPUTE_BUILD_MEMORY = int(env("COMPUTE_BUILD_MEMORY", "2048"))  # least memory a build gets
# This machine's name among the nodes sharing the database (recorded with the work it runs).
NODE_ID = env("NODE_ID", "") or socket.gethostname()
FUNCTIONS_CREATION_ABUSE_LIMIT = int(env("FUNCTIONS_CREATION_ABUSE_LIMIT", "0"))
# Fair use. Event-triggered executions one originating action may cause, across its whole chain.
FUNCTIONS_EVENT_BUDGET = int(env("FUNCTIONS_EVENT_BUDGET", "100"))
# createExecution calls per IP + user per function and window, for callers without a key.
FUNCTIONS_EXECUTION_ABUSE_LIMIT = int(env("FUNCTIONS_EXECUTION_ABUSE_LIMIT", "60"))
FUNCTIONS_EXECUTION_ABUSE_PERIOD = int(env("FUNCTIONS_EXECUTION_ABUSE_PERIOD", "60"))
# Synchronous executions one web process runs at once (below its threads, which bin/run gives
# gunicorn from the same variable), and how many of them one project may hold.
WEB_THREADS = int(env("WEB_THREADS", "8"))
FUNCTIONS_SYNC_CONCURRENCY = int(env("FUNCTIONS_SYNC_CONCURRENCY", str(max(1, WEB_THREADS // 2))))
FUNCTIONS_SYNC_PROJECT_CONCURRENCY = int(
    env("FUNCTIONS_SYNC_PROJECT_CONCURRENCY", str(max(1, FUNCTIONS_SYNC_CONCURRENCY // 2)))
)
if (
    min(FUNCTIONS_EVENT_BUDGET, FUNCTIONS_EXECUTION_ABUSE_LIMIT) < 0
    or min(FUNCTIONS_EXECUTION_ABUSE_PERIOD, WEB_THREADS, FUNCTIONS_SYNC_PROJECT_CONCURRENCY) < 1
):
    raise ImproperlyConfigured("Fair-use limits must not be negative, and periods at least 1.")
if not FUNCTIONS_SYNC_PROJECT_CONCURRENCY <= FUNCTIONS_SYNC_CONCURRENCY < max(2, WEB_THREADS):
    raise ImproperlyConfigured(
        "FUNCTIONS_SYNC_CONCURRENCY must be below WEB_THREADS and at least "
        "FUNCTIONS_SYNC_PROJECT_CONCURRENCY."
    )
PUBLIC_URL = env("PUBLIC_URL", "http://localhost:8000")
DOCKER_HOST = env("DOCKER_HOST", "unix:///var/run/docker.sock")
# The API also listens here (bin/run binds gunicorn to it); execution containers, which have no
# network, reach it through a loopback bridge in the runtime at 127.0.0.1:3080.
API_SOCKET = Path(env("API_SOCKET", str(STORAGE_DIR / "api" / "api.sock")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
