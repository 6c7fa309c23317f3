"""Rules become Appwrite proxy rules: an ID, ``$updatedAt``, type, trigger, resource type,
branch, status and a search column. The rules that exist are the functions' automatic domains:
trigger ``deployment``, status ``verified`` (they are under ``FUNCTIONS_DOMAIN``)."""

import django.utils.timezone
from django.db import migrations, models

import functions_app.ids


def fill_existing_rules(apps, schema_editor):
    Rule = apps.get_model("functions_app", "Rule")
    for rule in Rule.objects.order_by("id"):
        rule.uid = functions_app.ids.unique_id()
        rule.updated_at = rule.created_at
        rule.trigger = "deployment"
        rule.status = "verified"
        rule.search = f"{rule.uid} {rule.domain} "
        rule.save(update_fields=["uid", "updated_at", "trigger", "status", "search"])


class Migration(migrations.Migration):
    dependencies = [
        ("functions_app", "0007_platforms"),
    ]

    operations = [
        migrations.AddField(
            model_name="rule",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="rule",
            name="uid",
            field=models.CharField(default="", max_length=36),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="rule",
            name="type",
            field=models.CharField(default="deployment", max_length=16),
        ),
        migrations.AddField(
            model_name="rule",
            name="trigger",
            field=models.CharField(
                choices=[("manual", "Manual"), ("deployment", "Deployment")],
                default="manual",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="rule",
            name="resource_type",
            field=models.CharField(default="function", max_length=16),
        ),
        migrations.AddField(
            model_name="rule",
            name="branch",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="rule",
            name="status",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("verifying", "Verifying"),
                    ("verified", "Verified"),
                    ("unverified", "Unverified"),
                ],
                default="verified",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="rule",
            name="search",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(fill_existing_rules, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="rule",
            name="uid",
            field=models.CharField(
                default=functions_app.ids.unique_id, max_length=36, unique=True
            ),
        ),
    ]
