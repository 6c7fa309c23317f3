"""End users of one project (Appwrite's "users"), and the sessions of end users and of console
accounts. Console accounts are Django users: they administer projects; project users are the
people a project's functions serve (``users``, ``user:<id>`` roles, ``x-appwrite-user-id``)."""

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .timestamps import Timestamped

# Appwrite's default hash for its users: argon2id, memory 2048 KiB, 4 passes, 3 lanes; stored
# as the PHC string Appwrite stores, so hashes move between the two as they are.
HASH_OPTIONS = {"type": "argon2", "memoryCost": 2048, "timeCost": 4, "threads": 3}
_hasher = PasswordHasher(time_cost=4, memory_cost=2048, parallelism=3)


class ProjectUser(Timestamped):
    """A user of one project, with Appwrite 1.8's ``User`` fields."""

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="users"
    )
    uid = models.CharField(max_length=36)
    name = models.CharField(max_length=128, blank=True, default="")
    email = models.CharField(max_length=320, blank=True, default="")
    phone = models.CharField(max_length=16, blank=True, default="")
    password = models.CharField(max_length=256, blank=True, default="")
    status = models.BooleanField(default=True)
    labels = models.JSONField(default=list, blank=True)
    email_verification = models.BooleanField(default=False)
    phone_verification = models.BooleanField(default=False)
    prefs = models.JSONField(default=dict, blank=True)
    registration = models.DateTimeField(default=timezone.now)
    password_update = models.DateTimeField(null=True, blank=True)
    accessed_at = models.DateTimeField(null=True, blank=True)
    search = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="user_uid_per_project"),
            models.UniqueConstraint(
                fields=["project", "email"], condition=~Q(email=""), name="user_email_per_project"
            ),
            models.UniqueConstraint(
                fields=["project", "phone"], condition=~Q(phone=""), name="user_phone_per_project"
            ),
        ]

    def __str__(self):
        return f"{self.name or self.email or self.uid} ({self.uid})"

    def save(self, *args, **kwargs):
        self.search = f"{self.uid} {self.email} {self.phone} {self.name}"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search"}
        super().save(*args, **kwargs)

    def set_password(self, raw):
        self.password = _hasher.hash(raw) if raw else ""
        self.password_update = timezone.now() if raw else None

    def check_password(self, raw):
        if not self.password:
            return False
        try:
            return _hasher.verify(self.password, raw)
        except (VerificationError, InvalidHashError):
            return False


def hash_token_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


class Session(Timestamped):
    """A signed-in session: of a project user (``project`` set), or of a console account
    (``project`` empty, Appwrite's ``console`` project). Only a SHA-256 of its secret is kept."""

    uid = models.CharField(max_length=36, unique=True)
    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, null=True, blank=True
    )
    user = models.ForeignKey(
        ProjectUser, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="appwrite_sessions",
    )
    secret_hash = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=32, default="email")
    provider_uid = models.CharField(max_length=320, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="")
    user_agent = models.CharField(max_length=512, blank=True, default="")
    expire = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=True, account__isnull=False)
                | Q(user__isnull=False, account__isnull=True),
                name="session_of_a_user_or_an_account",
            )
        ]

    def __str__(self):
        return self.uid

    @property
    def expired(self):
        return self.expire <= timezone.now()

    @property
    def owner_id(self):
        """The ``id`` in the session's token: the user's ID, or the console account's."""
        return self.user.uid if self.user_id else str(self.account_id)
