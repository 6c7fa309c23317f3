"""The configuration version moves with every change to what requests cache (see
``services/cache.py``); the periodic django-q2 schedules of earlier versions go after a
migrate (each node's ``manage.py node`` now runs the ticker and its own maintenance)."""

from django.core.signals import request_finished, request_started
from django.db.models.signals import post_delete, post_migrate, post_save

from .models import ApiKey, ConfigVersion, Deployment, Function, Project, Rule, Variable
from .services import cache

# What requests cache, and variables: nothing caches them, but each node's maintenance reads the
# version to replace its warm containers promptly when they change (services/maintenance.py).
CACHED_MODELS = (ApiKey, Project, Function, Deployment, Rule, Variable)
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


OLD_SCHEDULES = ("functions: tick", "functions: reap idle runtimes")


def remove_old_schedules(sender, **kwargs):
    """A schedule runs on one node of many: the ticker and maintenance are each node's now."""
    from django_q.models import Schedule

    Schedule.objects.filter(name__in=OLD_SCHEDULES).delete()


def changed(sender, update_fields=None, **kwargs):
    if sender is Function and update_fields and set(update_fields) <= UNCACHED_FUNCTION_FIELDS:
        return
    ConfigVersion.bump()


def connect(app_config):
    post_migrate.connect(
        remove_old_schedules, sender=app_config, dispatch_uid="functions-schedules"
    )
    for model in CACHED_MODELS:
        uid = f"config-version-{model.__name__}"
        post_save.connect(changed, sender=model, dispatch_uid=uid)
        post_delete.connect(changed, sender=model, dispatch_uid=uid)
    request_started.connect(cache.request_began, dispatch_uid="cache-request-began")
    request_finished.connect(cache.request_ended, dispatch_uid="cache-request-ended")
