"""The health checks that make sense for this platform (Appwrite's Health API): the database,
the storage folder, the clocks, and the queues of builds and executions. Queue sizes are the
caller's project's own work (one tenant learns nothing of another's); failed jobs are the
worker cluster's failed tasks."""

import os
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.db import connection
from django_q.models import Task

from ..errors import AppwriteError
from ..models import Deployment, Execution

VERSION = "1.8.0"
# Appwrite's queue names; the ones this platform has are counted, the rest are always empty.
QUEUES = (
    "webhooks",
    "logs",
    "certificates",
    "builds",
    "deletes",
    "mails",
    "messaging",
    "migrations",
    "functions",
    "stats-resources",
    "stats-usage",
    "databases",
)
FAILED_QUEUES = (
    "v1-database",
    "v1-deletes",
    "v1-audits",
    "v1-mails",
    "v1-functions",
    "v1-stats-resources",
    "v1-stats-usage",
    "v1-webhooks",
    "v1-certificates",
    "v1-builds",
    "v1-messaging",
    "v1-migrations",
)
TASKS = {
    "v1-builds": "functions_app.tasks.build_deployment",
    "v1-functions": "functions_app.tasks.run_execution",
}


def version():
    return {"version": VERSION}


def antivirus():
    """HealthAntivirus: there is no antivirus here."""
    return {"version": "", "status": "disabled"}


def status(name="", ping=0):
    return {"name": name, "ping": ping, "status": "pass"}


def database():
    """A round trip to the database, in ms; a failure is a 500 as on Appwrite."""
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any database failure is the check's answer
        raise AppwriteError("general_server_error", "DB failure on: default") from error
    ping = round((time.monotonic() - started) * 1000)
    vendor = connection.vendor
    return [status(f"Database ({vendor}: {connection.settings_dict['NAME']})", ping)]


def storage():
    """Write, read back and delete a probe file in STORAGE_DIR (500 when any step fails)."""
    folder = Path(settings.STORAGE_DIR)
    probe = folder / f".health-{secrets.token_hex(8)}"
    data = secrets.token_bytes(32)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        ok = probe.read_bytes() == data
    except OSError:
        ok = False
    finally:
        probe.unlink(missing_ok=True)
    if not ok:
        raise AppwriteError("general_server_error", "Storage failure")
    return status()


def clock():
    """HealthTime: the database server's clock stands in for Appwrite's NTP server (no NTP is
    reachable here): nodes sharing a database must agree with it."""
    local = int(time.time())
    remote = _database_time() or local
    if abs(remote - local) > 60:
        raise AppwriteError("general_server_error", "Server time gaps detected")
    return {"remoteTime": remote, "localTime": local, "diff": remote - local}


def _database_time():
    query = {
        "sqlite": "SELECT CAST(strftime('%s','now') AS INTEGER)",
        "postgresql": "SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
    }.get(connection.vendor)
    if query is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(query)
        return int(cursor.fetchone()[0])


def queue_size(project, name):
    if name == "builds":
        return Deployment.objects.filter(project=project, status=Deployment.Status.WAITING).count()
    if name == "functions":
        return Execution.objects.filter(project=project, status=Execution.Status.WAITING).count()
    return 0


def failed_jobs(name):
    func = TASKS.get(name)
    return Task.objects.filter(func=func, success=False).count() if func else 0


def check_threshold(size, threshold, what="size"):
    if size >= threshold:
        raise AppwriteError(
            "health_queue_size_exceeded",
            f"Queue {what} threshold hit. Current size is {size} and threshold is {threshold}.",
        )
    return {"size": size}
