"""Fixtures that compose: project -> key -> client (the official Appwrite SDK against a live
server), plus an outsider project with its own key."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from appwrite.client import Client
from appwrite.services.functions import Functions
from django.conf import settings as django_settings

from functions_app.models import ApiKey, Project
from functions_app.services import runtime_state, users
from functions_app.services.callers import KEY_SCOPES

USER_PASSWORD = "correct-horse-9"


def make_client(url, project_id, key=None):
    client = Client().set_endpoint(f"{url}/v1").set_project(project_id)
    if key:
        client.set_key(key)
    return client


@pytest.fixture
def project(transactional_db):
    return Project.objects.create(id="main", name="Main project")


@pytest.fixture
def make_user(project):
    """``make_user("alice")``: a user of the main project with a password, whose session
    token is ``sign_in(url, "main", "alice@example.com", PASSWORD)``."""

    def make(name, **fields):
        values = {"email": f"{name}@example.com", "password": USER_PASSWORD, "name": name}
        return users.create_user(project, name, values | fields)

    return make


@pytest.fixture
def outsider_project(transactional_db):
    return Project.objects.create(id="outsider", name="Outsider project")


@pytest.fixture
def key(project):
    return ApiKey.issue(project, "Test key", KEY_SCOPES)[1]


@pytest.fixture
def client(live_server, project, key):
    return make_client(live_server.url, project.id, key)


@pytest.fixture
def functions(client):
    return Functions(client)


@pytest.fixture
def outsider_functions(live_server, outsider_project):
    secret = ApiKey.issue(outsider_project, "Outsider key", KEY_SCOPES)[1]
    return Functions(make_client(live_server.url, outsider_project.id, secret))


class Raw:
    """Plain HTTP for what the SDK cannot send."""

    def __init__(self, base, project_id, key):
        self.base, self.headers = (
            f"{base}/v1",
            {"X-Appwrite-Project": project_id, "X-Appwrite-Key": key},
        )

    def request(self, method, path, headers=None, **kwargs):
        return requests.request(
            method,
            self.base + path,
            headers={**self.headers, **(headers or {})},
            timeout=30,
            **kwargs,
        )

    def __getattr__(self, method):
        return lambda path, **kwargs: self.request(method.upper(), path, **kwargs)


@pytest.fixture
def raw(live_server, project, key):
    return Raw(live_server.url, project.id, key)


# -- Docker-backed tests: a real django-q2 cluster against the test database --------------------


# Git repositories the tests create (tests/gitrepos.py): a folder of their own outside
# STORAGE_DIR, which file:/// git connections may name (VCS_LOCAL_ROOTS of the worker cluster;
# the tests' own process gets it through the ``git_root`` fixture).
GIT_ROOT = Path(os.path.realpath(tempfile.gettempdir())) / f"functions-test-git-{os.getpid()}"

# The worker cluster builds with less scratch space than the defaults, so that the tests that
# fill it stay quick (builds only ever run in the cluster).
CLUSTER_SETTINGS = {
    "COMPUTE_BUILD_SCRATCH_SIZE": "256",
    "COMPUTE_BUILD_SIZE_LIMIT": "300000000",
    "VCS_LOCAL_ROOTS": str(GIT_ROOT),
}


def database_url_of_tests():
    """A ``DATABASE_URL`` for the database the tests run on (pytest-django's test database,
    whose name differs from the configured one), for the processes the tests start."""
    from urllib.parse import quote, urlencode

    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    assert db["ENGINE"].endswith("postgresql"), db["ENGINE"]
    options = {key: value for key, value in db.get("OPTIONS", {}).items() if value is not None}
    host = db["HOST"] or ""
    if host.startswith("/"):  # a socket folder: a URL's host part would be lowercased
        options["host"], host = host, ""
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    netloc = f"{auth}@{host}" if auth else host
    if db["PORT"]:
        netloc += f":{db['PORT']}"
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{netloc}/{quote(db['NAME'], safe='')}{query}"


class Cluster:
    """``manage.py node`` (the worker cluster with this node's heartbeat, ticker and
    maintenance, as ``bin/run`` starts it) in its own process group, on the tests' database
    and storage, as the tests' own node; tests may kill it outright (as a crash would) and
    start it again."""

    def __init__(self):
        self.env = dict(
            os.environ,
            STORAGE_DIR=str(django_settings.STORAGE_DIR),
            SECRET_KEY=django_settings.SECRET_KEY,
            DATABASE_URL=database_url_of_tests(),
            **CLUSTER_SETTINGS,
        )  # REDIS_URL, when set, is inherited: the cluster uses the tests' broker
        self.process = None

    def start(self, **overrides):
        root = Path(__file__).resolve().parent.parent
        log = open(Path(django_settings.STORAGE_DIR) / "qcluster.log", "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "node"],
            cwd=root,
            env={**self.env, **overrides},
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def kill(self):
        """SIGKILL to every process of the cluster, with no chance to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 20
        while _group_members(self.process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)  # SIGKILL is delivered, but each worker takes a moment to die

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


def _group_members(pgid):
    """Live (not zombie) processes of the process group ``pgid``."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            alive.append(stat.parent.name)
    return alive


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database. On PostgreSQL, the connections that the live server's
    keep-alive threads still hold when the run ends are closed first, so that it can be dropped."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
        connection.close()


def purge_broker():
    """Between tests the database flush empties the ORM broker's queue; a Redis queue
    (``REDIS_URL``) is emptied here, so that tasks an earlier test left never run in this one."""
    from django_q.brokers import get_broker
    from django_q.brokers.redis_broker import Redis

    broker = get_broker()
    if isinstance(broker, Redis):
        broker.purge_queue()


@pytest.fixture(scope="session")
def qcluster(django_db_setup, django_db_blocker):
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.stop()


def remove_test_containers():
    from functions_app.services import containers, docker

    for container in docker.list_containers({"functions.instance": containers.instance_id()}):
        docker.remove_container(container["name"])


@pytest.fixture
def engine(qcluster, live_server, project):
    """For tests marked ``docker``: a worker cluster, and no container or file left behind."""
    purge_broker()
    remove_test_containers()
    yield
    remove_test_containers()
    shutil.rmtree(Path(django_settings.STORAGE_DIR) / "deployments", ignore_errors=True)
    shutil.rmtree(runtime_state.folder(), ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def storage_cleanup():
    """The run's own storage directory (see console/settings.py) goes when the run ends, and
    so do the git repositories it made."""
    yield
    shutil.rmtree(GIT_ROOT, ignore_errors=True)
    if "test-run-" in str(django_settings.STORAGE_DIR):
        remove_test_containers()
        shutil.rmtree(django_settings.STORAGE_DIR, ignore_errors=True)


@pytest.fixture
def git_root(settings):
    """The folder of the tests' git repositories, allowed for file:/// connections here as in
    the worker cluster."""
    GIT_ROOT.mkdir(parents=True, exist_ok=True)
    settings.VCS_LOCAL_ROOTS = [GIT_ROOT]
    return GIT_ROOT


@pytest.fixture
def api_socket(live_server):
    """What bin/run's gunicorn does with ``--bind unix:API_SOCKET``, for the live test server:
    the API on a Unix socket, which execution containers reach through their loopback bridge."""
    import socketserver
    import threading
    from urllib.parse import urlparse

    target = urlparse(live_server.url)
    path = django_settings.API_SOCKET
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)

    class Forward(socketserver.BaseRequestHandler):
        def handle(self):
            import socket

            upstream = socket.create_connection((target.hostname, target.port))
            pipes = [
                threading.Thread(target=_pipe, args=pair)
                for pair in ((self.request, upstream), (upstream, self.request))
            ]
            for pipe in pipes:
                pipe.start()
            for pipe in pipes:
                pipe.join()

    server = socketserver.ThreadingUnixStreamServer(str(path), Forward)
    os.chmod(path, 0o666)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()
    path.unlink(missing_ok=True)


def _pipe(source, sink):
    import socket

    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with __import__("contextlib").suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class LoopbackServers:
    """A loopback HTTP server the operator allowlists (``allowed``), and a loopback canary
    listener that nothing may ever reach (``canary_accepts`` counts connections to it). Both
    listen on the address this host's name resolves to: containers name them by the host name,
    since ``127.0.0.1`` inside a container is the container itself (and in ``NO_PROXY``)."""

    def __init__(self):
        import socket
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        servers = self

        class Answer(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/git/"):
                    return servers.git(self)
                body = f"egress-ok {self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                return servers.git(self) if self.path.startswith("/git/") else self.send_error(404)

            def log_message(self, *args):
                pass

        self.git_token = None  # when set, /git/ wants it as the password of Basic auth
        self.host = socket.gethostname()
        self.address = socket.gethostbyname(self.host)
        self.http = ThreadingHTTPServer((self.address, 0), Answer)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.allowed_port = self.http.server_address[1]
        self.canary = socket.create_server((self.address, 0))
        self.canary_port = self.canary.getsockname()[1]
        self.canary_accepts = 0
        threading.Thread(target=self._count, daemon=True).start()

    def git(self, handler):
        """``/git/<owner>/<name>.git/...``: the tests' repositories (``GIT_ROOT``) over git's
        smart HTTP, served by ``git http-backend`` (CGI), as a git host would."""
        import base64
        import urllib.parse

        if self.git_token is not None:
            scheme, _, encoded = handler.headers.get("Authorization", "").partition(" ")
            try:
                password = base64.b64decode(encoded).decode().partition(":")[2]
            except ValueError:
                password = ""
            if scheme != "Basic" or password != self.git_token:
                handler.send_response(401)
                handler.send_header("WWW-Authenticate", 'Basic realm="git"')
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
        path, _, query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(GIT_ROOT),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": handler.command,
            "PATH_INFO": urllib.parse.unquote(path.removeprefix("/git")),
            "QUERY_STRING": query,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "GIT_PROTOCOL": handler.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": handler.headers.get("Content-Encoding", ""),
            "REMOTE_ADDR": handler.client_address[0],
        }
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, content = result.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def _count(self):
        while True:
            try:
                connection, _ = self.canary.accept()
            except OSError:
                return
            self.canary_accepts += 1
            connection.close()

    def close(self):
        self.http.shutdown()
        self.canary.close()


def registry_gateways():
    """Package registries that resolve to a non-public address on this network (a gateway, as
    in this sandbox): the operator lists those in ``EGRESS_INTERNAL_HOSTS``, and so do we."""
    import ipaddress
    import socket

    from functions_app.services.egress_policy import non_public_kind

    found = set()
    for host in ("registry.npmjs.org", "pypi.org", "files.pythonhosted.org"):
        try:
            infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM)
        except OSError:
            continue
        for info in infos:
            if non_public_kind(ipaddress.ip_address(info[4][0])):
                found.add(f"{info[4][0]}:443")
    return sorted(found)


@pytest.fixture(scope="session")
def egress(live_server):
    """``manage.py egress_proxy`` on the tests' storage, allowing the loopback test server and
    the registries' gateway; every port the tests use is an allowed port, so refusals of
    loopback destinations are the address check's."""
    import time
    from urllib.parse import urlparse

    servers = LoopbackServers()
    api_port = urlparse(live_server.url).port
    ports = f"80,443,{servers.allowed_port},{servers.canary_port},{api_port}"
    internal = [f"{servers.address}:{servers.allowed_port}", *registry_gateways()]
    log_path = Path(django_settings.STORAGE_DIR) / "egress.log"
    env = dict(
        os.environ,
        STORAGE_DIR=str(django_settings.STORAGE_DIR),
        SECRET_KEY=django_settings.SECRET_KEY,
        EGRESS_INTERNAL_HOSTS=",".join(internal),
        EGRESS_PORTS=ports,
    )
    log = open(log_path, "a")  # noqa: SIM115
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "manage.py", "egress_proxy"], cwd=root, env=env, stdout=log, stderr=log
    )
    log.close()
    deadline = time.monotonic() + 30
    while "listening" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    servers.log_path, servers.api_port = log_path, api_port
    yield servers
    process.terminate()
    process.wait(timeout=10)
    servers.close()
