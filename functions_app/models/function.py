from django.db import models

from .timestamps import Timestamped

DEFAULT_SPECIFICATION = "s-1vcpu-512mb"


class Function(Timestamped):
    """A function, with every field of Appwrite 1.8's model. The active and latest deployment
    are denormalised onto the row (as Appwrite does) so that lists and queries need no joins."""

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="functions"
    )
    uid = models.CharField(max_length=36)
    name = models.CharField(max_length=128)
    runtime = models.CharField(max_length=64)
    execute = models.JSONField(default=list, blank=True)
    events = models.JSONField(default=list, blank=True)
    schedule = models.TextField(blank=True, default="")  # any valid cron, however long
    schedule_next = models.DateTimeField(null=True, blank=True)
    schedule_previous = models.DateTimeField(null=True, blank=True)
    timeout = models.PositiveIntegerField(default=15)
    enabled = models.BooleanField(default=True)
    live = models.BooleanField(default=True)
    logging = models.BooleanField(default=True)
    entrypoint = models.CharField(max_length=1028, blank=True, default="")
    commands = models.TextField(blank=True, default="")
    scopes = models.JSONField(default=list, blank=True)
    version = models.CharField(max_length=8, default="v5")
    installation_id = models.CharField(max_length=128, blank=True, default="")
    provider_repository_id = models.CharField(max_length=128, blank=True, default="")
    provider_branch = models.CharField(max_length=128, blank=True, default="")
    provider_root_directory = models.CharField(max_length=128, blank=True, default="")
    provider_silent_mode = models.BooleanField(default=False)
    specification = models.CharField(max_length=32, default=DEFAULT_SPECIFICATION)
    deployment_uid = models.CharField(max_length=36, blank=True, default="")
    deployment_created_at = models.DateTimeField(null=True, blank=True)
    latest_deployment_uid = models.CharField(max_length=36, blank=True, default="")
    latest_deployment_created_at = models.DateTimeField(null=True, blank=True)
    latest_deployment_status = models.CharField(max_length=16, blank=True, default="")
    search = models.TextField(blank=True, default="")
    # Beyond Appwrite (console and admin settings): scaling of the warm containers.
    keep_warm = models.BooleanField(default=False)  # never fewer than one warm container
    max_replicas = models.PositiveSmallIntegerField(default=0)  # 0: from spec and host
    max_concurrency = models.PositiveIntegerField(default=0)  # 0: replicas x per-replica share

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="function_uid_per_project")
        ]
        indexes = [models.Index(fields=["schedule_next"])]

    def __str__(self):
        return f"{self.name} ({self.uid})"

    def save(self, *args, **kwargs):
        self.search = f"{self.uid} {self.name} {self.runtime}"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search"}
        super().save(*args, **kwargs)

    def mark_not_live(self):
        """A variable changed: the active deployment no longer matches the configuration."""
        if self.live:
            self.live = False
            self.save(update_fields=["live"])

    def set_latest_deployment(self, deployment):
        self.latest_deployment_uid = deployment.uid if deployment else ""
        self.latest_deployment_created_at = deployment.created_at if deployment else None
        self.latest_deployment_status = deployment.status if deployment else ""
        self.save(
            update_fields=[
                "latest_deployment_uid",
                "latest_deployment_created_at",
                "latest_deployment_status",
            ]
        )

    def set_active_deployment(self, deployment, live=None):
        self.deployment_uid = deployment.uid if deployment else ""
        self.deployment_created_at = deployment.created_at if deployment else None
        fields = ["deployment_uid", "deployment_created_at"]
        if live is not None:
            self.live = live
            fields.append("live")
        self.save(update_fields=fields)

    def activate_after_build(self, deployment):
        """A build finished: activate it unless a newer deployment is already active."""
        self.refresh_from_db()
        newer = self.deployment_uid and self.deployment_created_at >= deployment.created_at
        if deployment.activate and not newer:
            self.set_active_deployment(deployment, live=True)

    def unlink_repository(self):
        """Its git connection is gone: no repository any more (deployments stay)."""
        self.installation_id = self.provider_repository_id = self.provider_branch = ""
        self.provider_root_directory = ""
        self.provider_silent_mode = False
        self.save(
            update_fields=[
                "installation_id",
                "provider_repository_id",
                "provider_branch",
                "provider_root_directory",
                "provider_silent_mode",
            ]
        )

    def set_schedule_times(self, next_run, previous_run):
        self.schedule_next = next_run
        self.schedule_previous = previous_run
        self.save(update_fields=["schedule_next", "schedule_previous"])

    @property
    def schedule_active(self):
        return bool(self.schedule) and bool(self.deployment_uid) and self.enabled
