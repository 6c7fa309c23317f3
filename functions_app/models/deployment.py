from django.db import models
from django.utils import timezone

FINAL_STATUSES = ("ready", "failed", "canceled")


class Deployment(models.Model):
    """One uploaded code archive of a function and its build."""

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
    status = models.CharField(max_length=16, default="waiting")
    activate = models.BooleanField(default=False)
    vcs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="deployment_uid_per_project")
        ]

    def __str__(self):
        return self.uid

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES
