from django.core.management.base import BaseCommand, CommandError

from functions_app.models import ApiKey, Project
from functions_app.services.callers import KEY_SCOPES


class Command(BaseCommand):
    help = "Create an API key and print only its secret."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--name", default="CLI key")
        parser.add_argument(
            "--scopes", nargs="*", default=None, help=f"default: all ({' '.join(KEY_SCOPES)})"
        )

    def handle(self, project, name, scopes, **options):
        found = Project.objects.filter(pk=project).first()
        if found is None:
            raise CommandError(f"Project {project!r} not found")
        unknown = set(scopes or []) - set(KEY_SCOPES)
        if unknown:
            raise CommandError(f"Unknown scopes: {', '.join(sorted(unknown))}")
        _, secret = ApiKey.issue(found, name, scopes or KEY_SCOPES)
        self.stdout.write(secret)
