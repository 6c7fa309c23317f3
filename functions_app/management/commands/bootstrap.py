"""First-run set-up: the default project, an admin account and an API key (printed once)."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from functions_app.models import ApiKey, Project
from functions_app.services.callers import KEY_SCOPES
from functions_app.services.projects import create_project

CREDENTIALS_FILE = "first-run.txt"


class Command(BaseCommand):
    help = "Create the default project, an admin user and an API key if they do not exist."

    def handle(self, **options):
        path = settings.STORAGE_DIR / CREDENTIALS_FILE
        project = Project.objects.filter(pk="default").first() or create_project(
            "default", "Default project"
        )
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser("admin", "admin@localhost", password)
            project.members.add(user)
            _, key = ApiKey.issue(project, "Default key", KEY_SCOPES)
            path.write_text(
                f"Console: {settings.PUBLIC_URL}/\nAdmin:   {settings.PUBLIC_URL}/admin/\n"
                f"Login:   admin / {password}\nProject: default\nAPI key: {key}\n"
            )
            path.chmod(0o600)
        if path.exists():
            self.stdout.write(path.read_text())
