import functools
import json

from django.db import connection, models
from django.db.models import Q
from django.utils import timezone

from ..ids import unique_id
from .text import without_nul
from .timestamps import Timestamped


class ExecutionStatus(models.TextChoices):
    SCHEDULED = "scheduled"
    WAITING = "waiting"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class ExecutionTrigger(models.TextChoices):
    HTTP = "http"
    SCHEDULE = "schedule"
    EVENT = "event"


FINAL_STATUSES = (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED)


class Execution(Timestamped):
    """One run of a function, whatever triggered it."""

    Status = ExecutionStatus
    Trigger = ExecutionTrigger

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="executions"
    )
    function = models.ForeignKey(
        "functions_app.Function", on_delete=models.CASCADE, related_name="executions"
    )
    uid = models.CharField(max_length=36)
    deployment_uid = models.CharField(max_length=36, blank=True, default="")
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.HTTP)
    status = models.CharField(max_length=16, choices=Status, default=Status.WAITING)
    # Text, not a bounded CharField: a domain request's method and path (with its query) are
    # whatever the HTTP server let through, and ``createExecution`` percent-encodes its path.
    request_method = models.TextField(default="POST")
    request_path = models.TextField(default="/")
    request_headers = models.JSONField(default=list, blank=True)
    request_body = models.BinaryField(blank=True, default=b"")
    runtime_headers = models.JSONField(default=dict, blank=True)
    response_status_code = models.PositiveIntegerField(default=0)
    response_headers = models.JSONField(default=list, blank=True)
    logs = models.TextField(blank=True, default="")
    errors = models.TextField(blank=True, default="")
    duration = models.FloatField(default=0.0)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    user_id = models.CharField(max_length=36, blank=True, default="")
    permissions = models.JSONField(default=list, blank=True)
    event_depth = models.PositiveSmallIntegerField(default=0)
    # The originating action this run belongs to: events it causes spend that chain's budget.
    event_chain = models.CharField(max_length=36, blank=True, default=unique_id)
    worker = models.CharField(max_length=200, blank=True, default="")  # who runs it (async)
    # Waiting for its function's capacity with no task queued: the next run of the function
    # that ends queues it again (``services/parking.py``).
    parked = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="execution_uid_per_project")
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"]),
            # Only parked rows: free for every other insert.
            models.Index(fields=["function"], condition=Q(parked=True), name="execution_parked"),
        ]

    # What the caller sent and the function printed or answered: NUL-free before it is stored.
    CALLER_TEXT = ("request_headers", "runtime_headers", "response_headers", "logs", "errors")

    def __str__(self):
        return self.uid

    def save(self, *args, **kwargs):
        self.drop_nul()
        super().save(*args, **kwargs)

    def drop_nul(self):
        """NUL out of what callers and functions wrote (``CALLER_TEXT``): PostgreSQL refuses it."""
        for name in self.CALLER_TEXT:
            setattr(self, name, without_nul(getattr(self, name)))

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def client_ip(self):
        """The caller's IP, as the platform saw it (kept in ``requestHeaders``)."""
        stored = {h["name"]: h["value"] for h in self.request_headers}
        return stored.get("x-appwrite-client-ip", "")

    @classmethod
    def claim(cls, pk, worker, statuses=(ExecutionStatus.WAITING,)):
        """Move a queued execution to ``processing``; only one worker can win (a parked one
        waits for its wake-up)."""
        now = timezone.now()
        if not cls.objects.filter(pk=pk, status__in=statuses, parked=False).update(
            status=cls.Status.PROCESSING, updated_at=now, worker=worker
        ):
            return None
        return cls.objects.select_related("function", "project").get(pk=pk)

    def park(self):
        """Back to ``waiting``, with no task queued: its function is at capacity."""
        parked = type(self).objects.filter(pk=self.pk, status=self.Status.PROCESSING)
        if parked.update(status=self.Status.WAITING, parked=True, worker=""):
            self.status, self.parked, self.worker = self.Status.WAITING, True, ""

    def unpark(self, worker):
        """Take it back from the parked ones (only one taker wins): ``processing`` again."""
        taken = type(self).objects.filter(pk=self.pk, status=self.Status.WAITING, parked=True)
        if not taken.update(status=self.Status.PROCESSING, parked=False, worker=worker):
            return False
        self.status, self.parked, self.worker = self.Status.PROCESSING, False, worker
        return True

    @classmethod
    def wake_parked(cls, function_id):
        """The oldest parked execution of a function, no longer parked (its task is to be
        queued by the caller); None when none is parked."""
        waiting = cls.objects.filter(
            function_id=function_id, status=cls.Status.WAITING, parked=True
        )
        for pk in waiting.order_by("id").values_list("pk", flat=True)[:5]:
            if cls.objects.filter(pk=pk, parked=True).update(parked=False):
                return pk
        return None

    def finish(self, status_code, headers, logs, errors, duration, deployment_uid=None):
        """Record the outcome: ``failed`` for a status of 500 or more, ``completed`` otherwise."""
        fields = self.settle(status_code, headers, logs, errors, duration, deployment_uid)
        self.save(update_fields=fields) if self.pk else self.insert()

    def insert(self):
        """Write this new row with one prepared statement: what ``save()`` writes, without
        the ORM's per-save work (synchronous runs write one row each; no signal listens)."""
        self.drop_nul()
        fields, sql = _insert_statement()
        values = [prep(getattr(self, attname)) for attname, prep in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            self.pk = cursor.fetchone()[0]
        self._state.adding, self._state.db = False, connection.alias

    def settle(self, status_code, headers, logs, errors, duration, deployment_uid=None):
        """The outcome on the instance, unsaved; returns the fields it set."""
        self.status = self.Status.FAILED if status_code >= 500 else self.Status.COMPLETED
        self.response_status_code = status_code
        self.response_headers = headers
        self.logs, self.errors, self.duration = logs, errors, duration
        self.updated_at = timezone.now()
        fields = [
            "status",
            "response_status_code",
            "response_headers",
            "logs",
            "errors",
            "duration",
        ]
        if deployment_uid is not None:
            self.deployment_uid = deployment_uid
            fields.append("deployment_uid")
        return fields

    def release(self):
        """A delayed (``scheduled``) execution whose time has come moves to the queue; only one
        ticker can win. Returns whether this call moved it."""
        moved = type(self).objects.filter(pk=self.pk, status=self.Status.SCHEDULED)
        if moved.update(status=self.Status.WAITING, updated_at=timezone.now()):
            self.status = self.Status.WAITING
            return True
        return False


@functools.cache
def _insert_statement():
    """([(attribute, its conversion)], INSERT ... RETURNING id) of ``Execution``, built once
    (SQLite 3.35 and PostgreSQL return the new id). Plain columns go as they are; JSON,
    dates and anything else as Django's own preparation makes them."""
    meta = Execution._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    return [(f.attname, _conversion(f)) for f in fields], f"{sql} RETURNING {quote(meta.pk.column)}"


# Columns whose Python value is what the database takes (a foreign key: its id).
PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.ForeignKey,
)


def _conversion(field):
    if isinstance(field, PLAIN):
        return _plain
    if isinstance(field, models.JSONField) and field.encoder is None:
        return json.dumps  # what Django's adapt_json_value does without an encoder
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value  # aware datetimes, or None
    return functools.partial(_prepared, field)


def _plain(value):
    return value


def _prepared(field, value):
    return field.get_db_prep_save(value, connection)
