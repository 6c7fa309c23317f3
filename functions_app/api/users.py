"""/v1/users: the server-side Users API (the subset functions use) over a project's users."""

from ..errors import AppwriteError
from ..models import ProjectUser
from ..services import documents
from ..services import users as service
from . import fields as parse
from . import params as p
from . import queries
from .base import AppwriteView, no_content, ok
from .declarations import Param, operation
from .functions import COMMON_ATTRIBUTES

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

    @operation("list", "List users", *parse.LIST, returns={200: "userList"})
    def get(self, request):
        items, total, _ = queries.run(
            ProjectUser.objects.filter(project=self.project),
            resource="User",
            schema=USER_ATTRIBUTES,
            **self.params(),
        )
        return ok(documents.listing("users", [documents.user(u) for u in items], total))

    @operation(
        "create",
        "Create user",
        parse.USER_ID,
        *parse.USER,
        returns={201: "user"},
        errors=(409,),
    )
    def post(self, request):
        fields = self.params()
        user_id = fields.pop("user_id")
        user = service.create_user(self.project, user_id, fields, self.origin)
        return ok(documents.user(user), status=201)


class UserView(AppwriteView):
    scopes = {"GET": "users.read", "DELETE": "users.write"}

    @operation("get", "Get user", returns={200: "user"})
    def get(self, request, user_id):
        return ok(documents.user(get_user(self.project, user_id)))

    @operation("delete", "Delete user", returns={204: None})
    def delete(self, request, user_id):
        service.delete_user(get_user(self.project, user_id), self.origin)
        return no_content()


class UserFieldView(AppwriteView):
    """``PATCH /users/{id}/name|email|status`` and ``PUT /users/{id}/labels``: one field each
    (the subclasses), set by ``update``."""

    def update(self, user_id):
        value = self.params()["value"]
        user = get_user(self.project, user_id)
        return ok(documents.user(self.set_field(user, value, self.origin)))


def field_operation(name, summary, field, validator, **details):
    return operation(name, summary, Param(field, validator, required=True, key="value"), **details)


class UserNameView(UserFieldView):
    scopes = {"PATCH": "users.write"}
    set_field = staticmethod(service.update_name)

    @field_operation("updateName", "Update name", "name", p.Text(128, 0), returns={200: "user"})
    def patch(self, request, user_id):
        return self.update(user_id)


class UserEmailView(UserFieldView):
    scopes = {"PATCH": "users.write"}
    set_field = staticmethod(service.update_email)

    @field_operation(
        "updateEmail",
        "Update email",
        "email",
        p.Email(allow_empty=True),
        returns={200: "user"},
        errors=(409,),
        description="An empty email removes the user's email.",
    )
    def patch(self, request, user_id):
        return self.update(user_id)


class UserStatusView(UserFieldView):
    scopes = {"PATCH": "users.write"}
    set_field = staticmethod(service.update_status)

    @field_operation(
        "updateStatus", "Update user status", "status", p.Boolean(loose=True), returns={200: "user"}
    )
    def patch(self, request, user_id):
        return self.update(user_id)


class UserLabelsView(UserFieldView):
    scopes = {"PUT": "users.write"}
    set_field = staticmethod(service.update_labels)

    @field_operation(
        "updateLabels",
        "Update user labels",
        "labels",
        p.ArrayList(p.Label(), 1000),
        returns={200: "user"},
    )
    def put(self, request, user_id):
        return self.update(user_id)
