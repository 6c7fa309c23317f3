"""The one authentication path: project + (API key | console session | user JWT).

``AppwriteAuthentication`` resolves a ``Caller``; views then check one scope with
``require_scope``. Every queryset a view builds is scoped to ``caller.project``."""

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authentication import BaseAuthentication, CSRFCheck

from ..errors import AppwriteError
from ..ids import is_valid_id
from ..models import ApiKey, Project
from ..models.project import hash_secret
from ..services import keys
from ..services.callers import APP_EXTRA_SCOPES, GUEST_SCOPES, USER_SCOPES, Caller, user_caller


def project_id_of(request):
    return request.headers.get("X-Appwrite-Project") or request.GET.get("project") or ""


def resolve_project(request):
    project_id = project_id_of(request)
    if not project_id:
        return None
    project = Project.objects.filter(pk=project_id).first() if is_valid_id(project_id) else None
    if project is None:
        raise AppwriteError("project_not_found")
    return project


def key_caller(project, secret):
    """Keys that the one-query path (``standard_key``) did not accept."""
    if secret.startswith("dynamic_"):
        return dynamic_key_caller(project, secret[len("dynamic_") :])
    raise AppwriteError("user_unauthorized")  # unknown, revoked, or another project's


def dynamic_key_caller(project, token):
    """A key minted for a function's code: good in that function's project while the function
    exists (a function deleted and created again has a new row, so old keys stay dead).
    Anything else is a guest key, as on Appwrite."""
    try:
        payload = keys.decode_jwt(token, keys.DYNAMIC)
    except keys.ExpiredToken:
        raise AppwriteError("project_key_expired") from None
    except keys.InvalidToken:
        return Caller(project, "guests", set(GUEST_SCOPES))
    if (
        project is None
        or payload.get("projectId") != project.pk
        or not _function_exists(project, payload)
    ):
        return Caller(project, "guests", set(GUEST_SCOPES))
    scopes = set(payload.get("scopes") or []) | APP_EXTRA_SCOPES
    return Caller(
        project,
        "apps",
        scopes,
        cause_execution=str(payload.get("executionId") or ""),
        cause_chain=str(payload.get("chain") or ""),
    )


def _function_exists(project, payload):
    function_pk = payload.get("functionInternalId")
    return isinstance(function_pk, int) and project.functions.filter(pk=function_pk).exists()


def session_user(session_key):
    session = SessionStore(session_key=session_key)
    user_id = session.get("_auth_user_id")
    if not user_id:
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def jwt_caller(project, token):
    """A user JWT acts in the project it was minted for, always with the ``users`` role:
    even a project member's JWT never carries admin rights."""
    try:
        payload = keys.decode_jwt(token, keys.USER)
    except (keys.InvalidToken, keys.ExpiredToken):
        raise AppwriteError("user_jwt_invalid") from None
    if project is None or payload.get("projectId") != project.pk:
        raise AppwriteError("user_jwt_invalid")
    user = get_user_model().objects.filter(pk=payload.get("userId"), is_active=True).first()
    if user is None:
        raise AppwriteError("user_jwt_invalid")
    return Caller(project, "users", set(USER_SCOPES), user=user)


def resolve_caller(request):
    """Resolve who is calling, for the API and for function domains alike."""
    secret = request.headers.get("X-Appwrite-Key", "")
    session_key = request.headers.get("X-Appwrite-Session", "")
    standard = standard_key(request, secret) if secret and not session_key else None
    if standard is not None:
        return standard
    project = resolve_project(request)
    if secret and session_key:
        raise AppwriteError("user_key_and_session_set")
    if secret:
        return key_caller(project, secret)
    if not session_key and request.headers.get("X-Appwrite-JWT"):
        return jwt_caller(project, request.headers["X-Appwrite-JWT"])
    user = session_user(session_key) if session_key else None
    return user_caller(project, user) if user else Caller(project, "guests", set(GUEST_SCOPES))


def standard_key(request, secret):
    """The common case in one query: a valid standard key of the named project."""
    if secret.startswith("dynamic_") or not is_valid_id(project_id_of(request)):
        return None
    key = (
        ApiKey.objects.select_related("project")
        .filter(secret_hash=hash_secret(secret), revoked=False, project_id=project_id_of(request))
        .first()
    )
    if key is None:
        return None  # let the slow path find the exact error
    if key.expired:
        raise AppwriteError("project_key_expired")
    key.touch()
    return Caller(key.project, "apps", set(key.scopes) | APP_EXTRA_SCOPES, key=key)


class AppwriteAuthentication(BaseAuthentication):
    def authenticate(self, request):
        caller = resolve_caller(request)
        django_user = getattr(request._request, "user", None)
        if caller.role == "guests" and django_user is not None and django_user.is_authenticated:
            enforce_csrf(request)
            caller = user_caller(caller.project, django_user)
        return (caller.user, caller)


def enforce_csrf(request):
    """A console session cookie authenticates only with a CSRF token on unsafe methods."""
    check = CSRFCheck(lambda req: None)
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise AppwriteError("general_unauthorized_scope", f"CSRF Failed: {reason}")


def require_scope(caller, scope):
    if scope in caller.scopes:
        return
    who = caller.user.email if caller.user is not None and caller.user.email else "User"
    raise AppwriteError(
        "general_unauthorized_scope",
        f'{who} (role: {caller.role_label}) missing scopes (["{scope}"])',
    )
