from django.db import models
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

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="execution_uid_per_project")
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    # What the caller sent and the function printed or answered: NUL-free before it is stored.
    CALLER_TEXT = ("request_headers", "runtime_headers", "response_headers", "logs", "errors")

    def __str__(self):
        return self.uid

    def save(self, *args, **kwargs):
        for name in self.CALLER_TEXT:
            setattr(self, name, without_nul(getattr(self, name)))
        super().save(*args, **kwargs)

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
        """Move a queued execution to ``processing``; only one worker can win."""
        now = timezone.now()
        if not cls.objects.filter(pk=pk, status__in=statuses).update(
            status=cls.Status.PROCESSING, updated_at=now, worker=worker
        ):
            return None
        return cls.objects.select_related("function", "project").get(pk=pk)

    def finish(self, status_code, headers, logs, errors, duration, deployment_uid=None):
        """Record the outcome: ``failed`` for a status of 500 or more, ``completed`` otherwise."""
        self.status = self.Status.FAILED if status_code >= 500 else self.Status.COMPLETED
        self.response_status_code = status_code
        self.response_headers = headers
        self.logs, self.errors, self.duration = logs, errors, duration
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
        self.save(update_fields=fields) if self.pk else self.save()

    def release(self):
        """A delayed (``scheduled``) execution whose time has come moves to the queue; only one
        ticker can win. Returns whether this call moved it."""
        moved = type(self).objects.filter(pk=self.pk, status=self.Status.SCHEDULED)
        if moved.update(status=self.Status.WAITING, updated_at=timezone.now()):
            self.status = self.Status.WAITING
            return True
        return False
