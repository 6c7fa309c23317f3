"""Replicas and capacity: a function's scaling settings (keep one container warm, most
replicas, most concurrent executions; 0 means the default from its specification and the
host), executions parked while their function is at capacity, and the configuration version
that tells each process when its cached lookups are stale."""

import secrets

from django.db import migrations, models


def first_version(apps, schema_editor):
    apps.get_model("functions_app", "ConfigVersion").objects.get_or_create(
        pk=1, defaults={"value": secrets.randbits(62)}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("functions_app", "0010_text_columns"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(first_version, migrations.RunPython.noop),
        migrations.AddField(
            model_name="execution",
            name="parked",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="function",
            name="keep_warm",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="function",
            name="max_concurrency",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="function",
            name="max_replicas",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(
                condition=models.Q(("parked", True)), fields=["function"], name="execution_parked"
            ),
        ),
    ]
