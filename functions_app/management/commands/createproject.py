from django.core.management.base import BaseCommand, CommandError

from functions_app.errors import AppwriteError
from functions_app.services.projects import create_project


class Command(BaseCommand):
    help = "Create a project: createproject <projectId> <name> (projectId may be unique())"

    def add_arguments(self, parser):
        parser.add_argument("project_id")
        parser.add_argument("name")

    def handle(self, project_id, name, **options):
        try:
            project = create_project(project_id, name)
        except AppwriteError as error:
            raise CommandError(error.message) from None
        self.stdout.write(project.id)
