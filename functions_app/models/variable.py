from django.db import models

from .timestamps import Timestamped


class Variable(Timestamped):
    """An environment variable of one function, or of the whole project when ``function`` is
    null (a global variable every function of the project receives)."""

    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="variables"
    )
    function = models.ForeignKey(
        "functions_app.Function",
        on_delete=models.CASCADE,
        related_name="variables",
        null=True,
        blank=True,
    )
    uid = models.CharField(max_length=36)
    key = models.CharField(max_length=255)
    value = models.TextField(blank=True)
    secret = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["function", "key"], name="variable_key_per_function"),
            models.UniqueConstraint(
                fields=["project", "key"],
                condition=models.Q(function__isnull=True),
                name="variable_key_per_project",
            ),
        ]

    def __str__(self):
        return self.key

    @property
    def resource_type(self):
        return "function" if self.function_id else "project"
