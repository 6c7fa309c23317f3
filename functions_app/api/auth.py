"""The one authentication path: project + (API key | session | user JWT).

``AppwriteAuthentication`` resolves a ``Caller``; views then check one scope with
``require_scope``. Every queryset a view builds is scoped to ``caller.project``."""

import json
from urllib.parse import unquote

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authentication import BaseAuthentication, CSRFCheck

from ..errors import AppwriteError
from ..ids import is_valid_id
from ..models import ApiKey, Project, ProjectUser
from ..models.project import hash_secret
from ..services import cache, keys, sessions
from ..services.callers import (
    APP_EXTRA_SCOPES,
    Caller,
    account_caller,
    guest,
    project_user_caller,
)


def project_id_of(request):
    return request.headers.get("X-Appwrite-Project") or request.GET.get("project") or ""


def resolve_project(request):
    """The named project; None for Appwrite's console project (``console`` or none named)."""
    project_id = project_id_of(request)
    if not project_id or project_id == "console":
        return None
    project = cache.lookup("project", project_id, lambda: find_project(project_id))
    if project is None:
        raise AppwriteError("project_not_found")
    return project


def find_project(project_id):
    return Project.objects.filter(pk=project_id).first() if is_valid_id(project_id) else None


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
        return guest(project)
    if (
        project is None
        or payload.get("projectId") != project.pk
        or not _function_exists(project, payload)
    ):
        return guest(project)
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


def legacy_session_account(session_key):
    """A console account by its Django session key (the console's own sign-in), sent as
    ``X-Appwrite-Session``."""
    session = SessionStore(session_key=session_key)
    account_id = session.get("_auth_user_id")
    if not account_id:
        return None
    return get_user_model().objects.filter(pk=account_id, is_active=True).first()


def jwt_caller(project, token):
    """A user JWT acts in the project it was minted for, as that project's user (the
    ``users`` role); a JWT of a deleted session leaves a guest, as on Appwrite."""
    try:
        payload = keys.decode_jwt(token, keys.USER)
    except (keys.InvalidToken, keys.ExpiredToken):
        raise AppwriteError("user_jwt_invalid") from None
    if project is None or payload.get("projectId") != project.pk:
        raise AppwriteError("user_jwt_invalid")
    user = ProjectUser.objects.filter(project=project, uid=payload.get("userId")).first()
    if user is None:
        raise AppwriteError("user_jwt_invalid")
    if payload.get("sessionId"):
        session = user.sessions.filter(uid=payload["sessionId"]).first()
        if session is None or session.expired:
            return guest(project)
    # Not signed in with a session secret: ``current`` and new JWTs are not the JWT's to use.
    return checked(project_user_caller(project, user))


def checked(caller):
    if caller.user is not None and not caller.user.status:
        raise AppwriteError("user_blocked")
    return caller


def is_admin_mode(request):
    return (request.headers.get("X-Appwrite-Mode") or request.GET.get("mode")) == "admin"


def session_token(request, realm):
    """The session token a request carries for ``realm`` (a project ID or ``console``): its
    cookie (as a browser or the CLI sends it), ``X-Appwrite-Session``, or the Web SDK's
    ``X-Fallback-Cookies``."""
    name = f"a_session_{realm}"
    for cookie in (name, f"{name}_legacy"):
        if request.COOKIES.get(cookie):
            return unquote(request.COOKIES[cookie])
    if request.headers.get("X-Appwrite-Session"):
        return request.headers["X-Appwrite-Session"]
    return fallback_cookie(request.headers.get("X-Fallback-Cookies", ""), name)


def fallback_cookie(header, name):
    try:
        cookies = json.loads(header) if header else {}
    except ValueError:
        return ""
    value = cookies.get(name) if isinstance(cookies, dict) else None
    return value if isinstance(value, str) else ""


def session_caller(request, project):
    """Who a session token (or the console's own session key) names, or None."""
    admin = is_admin_mode(request) or project is None
    token = session_token(request, "console" if admin else project.pk)
    if not token:
        return None
    found = sessions.find(token, None if admin else project)
    if found is not None and found.account_id is not None:
        return account_caller(project, found.account, found)
    if found is not None:
        return checked(project_user_caller(project, found.user, found))
    account = legacy_session_account(token) if request.headers.get("X-Appwrite-Session") else None
    return account_caller(project, account) if account else None


def resolve_caller(request):
    """Resolve who is calling, for the API and for function domains alike."""
    secret = request.headers.get("X-Appwrite-Key", "")
    has_session = bool(request.headers.get("X-Appwrite-Session"))
    standard = standard_key(request, secret) if secret and not has_session else None
    if standard is not None:
        return standard
    project = resolve_project(request)
    if is_admin_mode(request) and project is None:
        raise AppwriteError("general_bad_request", "Admin mode is not allowed for console project")
    if secret and has_session:
        raise AppwriteError("user_key_and_session_set")
    if secret:
        return key_caller(project, secret)
    caller = session_caller(request, project)
    if request.headers.get("X-Appwrite-JWT"):
        return jwt_caller(project, request.headers["X-Appwrite-JWT"])
    if caller is None:
        return guest(project)
    if is_admin_mode(request) and caller.role != "admin":
        raise AppwriteError("user_unauthorized")  # a console account that is no member
    return caller


def standard_key(request, secret):
    """The common case: a valid standard key of the named project (cached, see
    ``services/cache.py``)."""
    project_id = project_id_of(request)
    if secret.startswith("dynamic_") or not is_valid_id(project_id):
        return None
    secret_hash = hash_secret(secret)
    key = cache.lookup("key", (secret_hash, project_id), lambda: find_key(secret_hash, project_id))
    if key is None:
        return None  # let the slow path find the exact error
    if key.expired:
        raise AppwriteError("project_key_expired")
    key.touch()
    return Caller(key.project, "apps", set(key.scopes) | APP_EXTRA_SCOPES, key=key)


def find_key(secret_hash, project_id):
    keys_ = ApiKey.objects.select_related("project")
    return keys_.filter(secret_hash=secret_hash, revoked=False, project_id=project_id).first()


class AppwriteAuthentication(BaseAuthentication):
    def authenticate(self, request):
        caller = resolve_caller(request)
        django_user = getattr(request._request, "user", None)
        if caller.role == "guests" and django_user is not None and django_user.is_authenticated:
            enforce_csrf(request)  # the console's own session cookie
            caller = account_caller(caller.project, django_user)
        return (caller.user or caller.account, caller)


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
    who = caller.email or "User"
    raise AppwriteError(
        "general_unauthorized_scope",
        f'{who} (role: {caller.role_label}) missing scopes (["{scope}"])',
    )
