"""The periodic tasks exist after every migrate; the configuration version moves with every
change to what requests cache (see ``services/cache.py``)."""

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_migrate, post_save

from .models import ApiKey, ConfigVersion, Deployment, Function, Project, Rule
from .services import cache

CACHED_MODELS = (ApiKey, Project, Function, Deployment, Rule)
# Function columns no cached lookup relies on: saving only these leaves the version alone
# (the scheduler moves them every minute for each cron function).
UNCACHED_FUNCTION_FIELDS = {
    "schedule_next",
    "schedule_previous",
    "latest_deployment_uid",
    "latest_deployment_created_at",
    "latest_deployment_status",
    "search",
    "updated_at",
}


def ensure_schedules(sender, **kwargs):
    from django_q.models import Schedule

    interval = max(1, settings.COMPUTE_MAINTENANCE_INTERVAL // 60)
    Schedule.objects.update_or_create(
        name="functions: tick",
        defaults={
            "func": "functions_app.tasks.tick",
            "schedule_type": Schedule.CRON,
            "cron": "* * * * *",
            "repeats": -1,
        },
    )
    Schedule.objects.update_or_create(
        name="functions: reap idle runtimes",
        defaults={
            "func": "functions_app.tasks.maintain_runtimes",
            "schedule_type": Schedule.MINUTES,
            "minutes": interval,
            "repeats": -1,
        },
    )


def changed(sender, update_fields=None, **kwargs):
    if sender is Function and update_fields and set(update_fields) <= UNCACHED_FUNCTION_FIELDS:
        return
    ConfigVersion.bump()


def connect(app_config):
    post_migrate.connect(ensure_schedules, sender=app_config, dispatch_uid="functions-schedules")
    for model in CACHED_MODELS:
        uid = f"config-version-{model.__name__}"
        post_save.connect(changed, sender=model, dispatch_uid=uid)
        post_delete.connect(changed, sender=model, dispatch_uid=uid)
    request_started.connect(cache.request_began, dispatch_uid="cache-request-began")
    request_finished.connect(cache.request_ended, dispatch_uid="cache-request-ended")
