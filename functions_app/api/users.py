"""/v1/users: the server-side Users API (the subset functions use) over a project's users."""

from ..errors import AppwriteError
from ..models import ProjectUser
from ..services import documents
from ..services import users as service
from . import fields as parse
from . import params as p
from . import queries
from .base import AppwriteView, no_content, ok
from .functions import COMMON_ATTRIBUTES, list_params

A = queries.Attribute
USER_ATTRIBUTES = COMMON_ATTRIBUTES | {
    "name": A("name", "string"),
    "email": A("email", "string"),
    "phone": A("phone", "string"),
    "status": A("status", "boolean"),
    "passwordUpdate": A("password_update", "datetime"),
    "registration": A("registration", "datetime"),
    "emailVerification": A("email_verification", "boolean"),
    "phoneVerification": A("phone_verification", "boolean"),
    "labels": A("labels", "string", array=True),
}


def get_user(project, user_id):
    user = ProjectUser.objects.filter(project=project, uid=user_id).first()
    if user is None:
        raise AppwriteError("user_not_found")
    return user


class UsersView(AppwriteView):
    scopes = {"GET": "users.read", "POST": "users.write"}

    def get(self, request):
        args = list_params(self.params())
        items, total, _ = queries.run(
            ProjectUser.objects.filter(project=self.project),
            resource="User",
            schema=USER_ATTRIBUTES,
            **args,
        )
        return ok(documents.listing("users", [documents.user(u) for u in items], total))

    def post(self, request):
        data = self.params()
        user_id = p.get(data, "userId", p.CustomId(), required=True)
        user = service.create_user(self.project, user_id, parse.user_fields(data), self.origin)
        return ok(documents.user(user), status=201)


class UserView(AppwriteView):
    scopes = {"GET": "users.read", "DELETE": "users.write"}

    def get(self, request, user_id):
        return ok(documents.user(get_user(self.project, user_id)))

    def delete(self, request, user_id):
        service.delete_user(get_user(self.project, user_id), self.origin)
        return no_content()


class UserFieldView(AppwriteView):
    """``PATCH /users/{id}/name|email|status`` and ``PUT /users/{id}/labels``."""

    field = ""
    scopes = {"PATCH": "users.write", "PUT": "users.write"}
    VALIDATORS = {
        "name": lambda: p.Text(128, 0),
        "email": lambda: p.Email(allow_empty=True),
        "status": lambda: p.Boolean(loose=True),
        "labels": lambda: p.ArrayList(p.Label(), 1000),
    }
    UPDATES = {
        "name": service.update_name,
        "email": service.update_email,
        "status": service.update_status,
        "labels": service.update_labels,
    }

    def update(self, user_id):
        value = p.get(self.params(), self.field, self.VALIDATORS[self.field](), required=True)
        user = get_user(self.project, user_id)
        return ok(documents.user(self.UPDATES[self.field](user, value, self.origin)))

    def patch(self, request, user_id):
        if self.field == "labels":
            raise AppwriteError("general_route_not_found")
        return self.update(user_id)

    def put(self, request, user_id):
        if self.field != "labels":
            raise AppwriteError("general_route_not_found")
        return self.update(user_id)
