import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class Project(models.Model):
    """A tenant. Console users who are members act as its admins."""

    id = models.CharField(primary_key=True, max_length=36)
    name = models.CharField(max_length=128)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="projects", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name} ({self.id})"


class Team(models.Model):
    """A group of the project's users, for ``team:<id>`` execute roles."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="teams")
    uid = models.CharField(max_length=36)
    name = models.CharField(max_length=128)
    members = models.ManyToManyField("functions_app.ProjectUser", related_name="teams", blank=True)

    class Meta:
        unique_together = [("project", "uid")]

    def __str__(self):
        return f"{self.name} ({self.uid})"


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    """A project API key. Only a SHA-256 of the secret is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=128)
    secret_hash = models.CharField(max_length=64, unique=True)
    secret_hint = models.CharField(max_length=24, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    expire = models.DateTimeField(null=True, blank=True)
    accessed_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.project_id})"

    @classmethod
    def issue(cls, project, name, scopes, expire=None):
        """Create a key; returns ``(key, secret)``. The secret is never stored."""
        secret = "standard_" + secrets.token_hex(128)
        key = cls.objects.create(
            project=project,
            name=name,
            scopes=list(scopes),
            expire=expire,
            secret_hash=hash_secret(secret),
            secret_hint=secret[:17],
        )
        return key, secret

    @property
    def expired(self):
        return self.expire is not None and self.expire <= timezone.now()

    def revoke(self):
        self.revoked = True
        self.save(update_fields=["revoked"])

    def touch(self):
        """Record access at most once a minute, so hot keys cost no write per request."""
        now = timezone.now()
        if self.accessed_at is None or (now - self.accessed_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=self.pk).update(accessed_at=now)
            self.accessed_at = now
