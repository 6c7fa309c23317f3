from django.db import models
from django.utils import timezone

from .function import Function
from .text import without_nul
from .timestamps import Timestamped

MAX_BUILD_LOG = 1_000_000


class DeploymentStatus(models.TextChoices):
    WAITING = "waiting"
    PROCESSING = "processing"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    CANCELED = "canceled"


FINAL_STATUSES = (DeploymentStatus.READY, DeploymentStatus.FAILED, DeploymentStatus.CANCELED)


class Deployment(Timestamped):
    """One uploaded code archive of a function and its build."""

    Status = DeploymentStatus

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="deployments"
    )
    function = models.ForeignKey(
        "functions_app.Function", on_delete=models.CASCADE, related_name="deployments"
    )
    uid = models.CharField(max_length=36)
    type = models.CharField(max_length=16, default="manual")
    entrypoint = models.CharField(max_length=1028, blank=True, default="")
    build_commands = models.TextField(blank=True, default="")
    source_path = models.CharField(max_length=1024, blank=True, default="")
    source_size = models.BigIntegerField(default=0)
    source_chunks_total = models.PositiveIntegerField(default=1)
    source_chunks_uploaded = models.PositiveIntegerField(default=0)
    build_path = models.CharField(max_length=1024, blank=True, default="")
    build_size = models.BigIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    build_logs = models.TextField(blank=True, default="")
    build_duration = models.PositiveIntegerField(default=0)
    build_started_at = models.DateTimeField(null=True, blank=True)
    build_ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.WAITING)
    activate = models.BooleanField(default=False)
    vcs = models.JSONField(default=dict, blank=True)
    # Where a git deployment's source comes from, until a worker has fetched it: ``url`` or
    # ``installation`` (uid) + ``repository`` (owner/name), ``type``, ``reference``, ``root``.
    git_source = models.JSONField(default=dict, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")  # who builds it

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="deployment_uid_per_project")
        ]

    def __str__(self):
        return self.uid

    def save(self, *args, **kwargs):
        self.build_logs = without_nul(self.build_logs)  # build output may hold any character
        super().save(*args, **kwargs)

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def uploaded(self):
        return bool(self.source_path)

    def _set_status(self, status, **fields):
        """The only place a deployment's status changes; mirrored to the function when latest."""
        self.status = status
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])
        self._mirror_status()

    def _mirror_status(self):
        Function.objects.filter(pk=self.function_id, latest_deployment_uid=self.uid).update(
            latest_deployment_status=self.status
        )

    @classmethod
    def claim_build(cls, pk, worker):
        """Move ``waiting`` to ``processing``; only one worker can win. Returns the row or None."""
        now = timezone.now()
        if not cls.objects.filter(pk=pk, status=cls.Status.WAITING).update(
            status=cls.Status.PROCESSING, build_started_at=now, updated_at=now, worker=worker
        ):
            return None
        deployment = cls.objects.select_related("function", "project").get(pk=pk)
        deployment._mirror_status()
        return deployment

    def mark_building(self):
        building = self.Status.BUILDING
        if (
            type(self)
            .objects.filter(pk=self.pk, status=self.Status.PROCESSING)
            .update(status=building)
        ):
            self.status = building
            self._mirror_status()
            return True
        return False

    def append_logs(self, text):
        """Stream build output into the row while the build runs (capped at 1,000,000 chars)."""
        self.build_logs = without_nul(self.build_logs + text)[-MAX_BUILD_LOG:]
        type(self).objects.filter(pk=self.pk).update(build_logs=self.build_logs)

    def _ended(self):
        now = timezone.now()
        started = self.build_started_at or now
        return {
            "build_ended_at": now,
            "build_duration": max(0, round((now - started).total_seconds())),
        }

    def mark_ready(self, build_path, build_size, logs):
        fields = {
            "build_path": build_path,
            "build_size": build_size,
            "total_size": self.source_size + build_size,
        }
        self._set_status(
            self.Status.READY, build_logs=logs[-MAX_BUILD_LOG:], **fields, **self._ended()
        )

    def mark_failed(self, logs):
        self._set_status(self.Status.FAILED, build_logs=logs[-MAX_BUILD_LOG:], **self._ended())

    def mark_canceled(self):
        """Cancel unless the build already finished; returns whether it was canceled."""
        updated = (
            type(self)
            .objects.filter(pk=self.pk)
            .exclude(status__in=(self.Status.READY, self.Status.FAILED))
            .update(status=self.Status.CANCELED, updated_at=timezone.now())
        )
        if updated:
            self.refresh_from_db()
            self._set_status(self.Status.CANCELED, **self._ended())
        return bool(updated)

    @property
    def awaits_source(self):
        """A git deployment whose source a worker has yet to fetch."""
        return bool(self.git_source) and not self.uploaded

    def mark_fetched(self, source_path, source_size, vcs):
        """A worker fetched the git source: it is the deployment's source archive now."""
        self.vcs = {**self.vcs, **vcs}
        self.source_path, self.source_size, self.total_size = source_path, source_size, source_size
        self.source_chunks_uploaded = self.source_chunks_total
        self.save(
            update_fields=[
                "vcs",
                "source_path",
                "source_size",
                "total_size",
                "source_chunks_uploaded",
            ]
        )

    def mark_uploaded(self, source_path, source_size):
        self.source_path, self.source_size, self.total_size = source_path, source_size, source_size
        self.source_chunks_uploaded = self.source_chunks_total
        self.save(
            update_fields=["source_path", "source_size", "total_size", "source_chunks_uploaded"]
        )
