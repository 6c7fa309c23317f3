"""Console user accounts emit ``users.[userId].create/update/delete`` in every project, and the
periodic tasks exist after every migrate."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_migrate, post_save

from .ids import format_datetime
from .models import Project
from .services import events


def user_payload(user):
    return {
        "$id": str(user.pk),
        "$createdAt": format_datetime(user.date_joined),
        "$updatedAt": format_datetime(user.last_login or user.date_joined),
        "name": user.get_full_name() or user.get_username(),
        "email": user.email,
        "status": user.is_active,
    }


def emit_user_event(user, action):
    for project_id in Project.objects.values_list("pk", flat=True):
        events.emit(
            project_id,
            f"users.[userId].{action}",
            {"userId": str(user.pk)},
            user_payload(user),
            events.Origin(str(user.pk)),
        )


def user_saved(sender, instance, created, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # signing in is not an account update
    emit_user_event(instance, "create" if created else "update")


def user_deleted(sender, instance, **kwargs):
    emit_user_event(instance, "delete")


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
    user_model = get_user_model()
    post_save.connect(user_saved, sender=user_model, dispatch_uid="functions-user-saved")
    post_delete.connect(user_deleted, sender=user_model, dispatch_uid="functions-user-deleted")
    post_migrate.connect(ensure_schedules, sender=app_config, dispatch_uid="functions-schedules")
