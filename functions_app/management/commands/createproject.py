from django.core.management.base import BaseCommand, CommandError

from functions_app.ids import is_valid_id
from functions_app.models import Project


class Command(BaseCommand):
    help = "Create a project: createproject <projectId> <name>"

    def add_arguments(self, parser):
        parser.add_argument("project_id")
        parser.add_argument("name")

    def handle(self, project_id, name, **options):
        if not is_valid_id(project_id):
            raise CommandError(
                "Project ID must be 1-36 chars of a-z, A-Z, 0-9, period, hyphen, underscore"
            )
        project, created = Project.objects.get_or_create(id=project_id, defaults={"name": name})
        if not created:
            raise CommandError(f"Project {project_id!r} already exists")
        self.stdout.write(project.id)
