"""The periodic tasks exist after every migrate."""

from django.conf import settings
from django.db.models.signals import post_migrate


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


def connect(app_config):
    post_migrate.connect(ensure_schedules, sender=app_config, dispatch_uid="functions-schedules")
