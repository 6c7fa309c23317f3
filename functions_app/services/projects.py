"""Projects: the one way to make one, for the console, the admin and the management commands."""

from django.db import IntegrityError, transaction

from ..errors import AppwriteError
from ..ids import is_valid_id, unique_id
from ..models import Project

INVALID_ID = (
    "Invalid `projectId` param: Parameter must contain at most 36 chars. Valid chars are a-z, "
    "A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"
)


def create_project(project_id, name, creator=None):
    """A new project (``unique()`` picks its ID), with its creator as the first member."""
    project_id = unique_id() if project_id == "unique()" else project_id
    if not is_valid_id(project_id):
        raise AppwriteError("general_argument_invalid", INVALID_ID)
    try:
        with transaction.atomic():
            project = Project.objects.create(id=project_id, name=name)
    except IntegrityError:
        raise AppwriteError("project_already_exists") from None
    if creator is not None:
        project.members.add(creator)
    return project
