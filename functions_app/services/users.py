"""A project's users: create (Users API, sign-up), update, block, label and delete, with the
``users.*`` events of that project."""

from django.db import IntegrityError, transaction

from ..errors import AppwriteError
from ..ids import unique_id
from ..models import ProjectUser
from . import documents, events


def create_user(project, user_id, fields, origin=None):
    """``fields``: email, phone, password, name (each optional)."""
    uid = unique_id() if user_id == "unique()" else user_id
    _check_personal_data(uid, fields)
    user = ProjectUser(
        project=project,
        uid=uid,
        name=fields.get("name") or "",
        email=fields.get("email") or "",
        phone=fields.get("phone") or "",
    )
    user.set_password(fields.get("password") or "")
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise AppwriteError("user_already_exists") from None
    _emit(user, "create", origin)
    return user


def _check_personal_data(uid, fields):
    """Appwrite's personal-data check, on by default for sign-ups: the password may not
    contain the user's ID, email, name or phone."""
    password = (fields.get("password") or "").lower()
    if not password:
        return
    personal = [uid, fields.get("email"), fields.get("name"), fields.get("phone")]
    for value in personal:
        if value and len(value) >= 3 and value.lower() in password:
            raise AppwriteError("user_password_personal_data")


def update_name(user, name, origin=None):
    user.name = name
    return _save(user, ["name"], "update.name", origin)


def update_email(user, email, origin=None):
    user.email = email
    user.email_verification = False
    return _save(user, ["email", "email_verification"], "update.email", origin)


def update_status(user, status, origin=None):
    user.status = status
    saved = _save(user, ["status"], "update.status", origin)
    if not status:
        user.sessions.all().delete()  # a blocked user is signed out everywhere
    return saved


def update_labels(user, labels, origin=None):
    user.labels = list(dict.fromkeys(labels))
    return _save(user, ["labels"], "update.labels", origin)


def delete_user(user, origin=None):
    payload = documents.user(user)
    user.delete()
    _emit(user, "delete", origin, payload)


def _save(user, fields, action, origin):
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError:
        raise AppwriteError("user_already_exists") from None
    _emit(user, action, origin)
    return user


def _emit(user, action, origin, payload=None):
    events.emit(
        user.project_id,
        f"users.[userId].{action}",
        {"userId": user.uid},
        payload or (lambda: documents.user(user)),
        origin,
    )
