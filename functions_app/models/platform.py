from django.db import models

from .timestamps import Timestamped


class Platform(Timestamped):
    """A web app of a project, Appwrite's "platform": browser pages whose host matches
    ``hostname`` (exact, or ``*.example.com`` for every host under ``example.com``) may call
    the project's API from their origin (CORS, see ``services/origins.py``)."""

    TYPES = [("web", "Web"), ("flutter-web", "Flutter Web")]

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="platforms"
    )
    uid = models.CharField(max_length=36)
    type = models.CharField(max_length=16, choices=TYPES, default="web")
    name = models.CharField(max_length=128)
    hostname = models.CharField(max_length=256)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "uid"], name="platform_uid_per_project")
        ]

    def __str__(self):
        return f"{self.name} ({self.hostname})"
