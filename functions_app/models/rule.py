"""Function domains: a hostname, unique on the whole instance, that routes to one function."""

import re
import secrets
import string

from django.db import IntegrityError, models, transaction
from django.utils import timezone

LABEL_MAX = 63  # one DNS label
SUFFIX_LENGTH = 6
_NOT_LABEL = re.compile(r"[^a-z0-9-]")
_SUFFIX_CHARS = string.ascii_lowercase + string.digits


def sanitised(text):
    """Lowercase, with every character outside ``[a-z0-9-]`` as ``-``."""
    return _NOT_LABEL.sub("-", text.lower())


def candidate_labels(function_uid, project_id):
    """``<functionId>-<projectId>`` sanitised, then (taken, or longer than a label) the same cut
    short with a random ``-xxxxxx`` suffix, as many as asked for."""
    base = f"{sanitised(function_uid)}-{sanitised(project_id)}".strip("-")
    if len(base) <= LABEL_MAX:
        yield base
    stem = base[: LABEL_MAX - SUFFIX_LENGTH - 1].rstrip("-")
    while True:
        yield f"{stem}-{''.join(secrets.choice(_SUFFIX_CHARS) for _ in range(SUFFIX_LENGTH))}"


class Rule(models.Model):
    """``<label>.<FUNCTIONS_DOMAIN>`` runs ``function``. Created with the function, gone with it;
    a domain belongs to one function of one project, so no other project can take it over."""

    ATTEMPTS = 20

    domain = models.CharField(max_length=253, unique=True)
    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="rules"
    )
    function = models.ForeignKey(
        "functions_app.Function", on_delete=models.CASCADE, related_name="rules"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.domain

    @classmethod
    def claim(cls, function, parent_domain):
        """The function's rule under ``parent_domain``: the first free candidate label."""
        labels = candidate_labels(function.uid, function.project_id)
        for _ in range(cls.ATTEMPTS):
            domain = f"{next(labels)}.{parent_domain.lower()}"
            if cls.objects.filter(domain=domain).exists():
                continue
            try:
                with transaction.atomic():
                    return cls.objects.create(
                        domain=domain, project_id=function.project_id, function=function
                    )
            except IntegrityError:
                continue  # taken meanwhile
        raise RuntimeError(f"No free domain for function {function.pk}")
