"""Function domains: a hostname, unique on the whole instance, that routes to one function.
Appwrite calls them proxy rules (``/v1/proxy/rules``)."""

import re
import secrets
import string

from django.db import IntegrityError, models, transaction

from ..ids import unique_id
from .timestamps import Timestamped

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


class RuleTrigger(models.TextChoices):
    MANUAL = "manual"  # created through the API (or the console): ``POST /v1/proxy/rules/function``
    DEPLOYMENT = "deployment"  # created by the platform: the function's automatic domain


class RuleStatus(models.TextChoices):
    CREATED = "created"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    UNVERIFIED = "unverified"


class Rule(Timestamped):
    """``domain`` runs ``function``, whichever deployment is active (Appwrite's rule of type
    ``deployment`` for resource type ``function``). Every function gets one when it is created
    (``<label>.<FUNCTIONS_DOMAIN>``, trigger ``deployment``); more come through the API (trigger
    ``manual``). All go with the function. A domain belongs to one rule on the whole instance,
    so no other project can take it over."""

    ATTEMPTS = 20
    Trigger = RuleTrigger
    Status = RuleStatus

    uid = models.CharField(max_length=36, unique=True, default=unique_id)
    domain = models.CharField(max_length=253, unique=True)
    project = models.ForeignKey(
        "functions_app.Project", on_delete=models.CASCADE, related_name="rules"
    )
    function = models.ForeignKey(
        "functions_app.Function", on_delete=models.CASCADE, related_name="rules"
    )
    type = models.CharField(max_length=16, default="deployment")
    trigger = models.CharField(max_length=16, choices=Trigger, default=Trigger.MANUAL)
    resource_type = models.CharField(max_length=16, default="function")
    branch = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status, default=Status.VERIFIED)
    search = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        self.search = f"{self.uid} {self.domain} {self.branch}"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search"}
        super().save(*args, **kwargs)

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
                        domain=domain,
                        project_id=function.project_id,
                        function=function,
                        trigger=cls.Trigger.DEPLOYMENT,
                        status=cls.Status.VERIFIED,
                    )
            except IntegrityError:
                continue  # taken meanwhile
        raise RuntimeError(f"No free domain for function {function.pk}")
