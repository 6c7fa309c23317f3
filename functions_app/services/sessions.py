"""Signing in: sessions of project users and of console accounts, their tokens, and the user
JWTs a session mints.

A session token is Appwrite's: ``base64({"id": <user or account ID>, "secret": <256 hex>})``,
sent back as the ``a_session_<project>`` cookie (``a_session_console`` for console accounts),
the ``X-Appwrite-Session`` header or the ``X-Fallback-Cookies`` JSON. Only a SHA-256 of the
secret is stored."""

import base64
import binascii
import json
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..errors import AppwriteError
from ..ids import unique_id
from ..models import ProjectUser, Session
from ..models.user import hash_token_secret
from . import documents, events, keys

DURATION = timedelta(seconds=31536000)  # Appwrite's default session length: a year
MAX_SESSIONS = 10  # per user; older ones are removed when a new one starts
JWT_SECONDS = 900


def encode_token(owner_id, secret):
    text = json.dumps({"id": owner_id, "secret": secret}, separators=(",", ":"))
    return base64.b64encode(text.encode()).decode()


def decode_token(token):
    """``(id, secret)`` of a well-formed token, else None."""
    try:
        data = json.loads(base64.b64decode(token.strip(), validate=True))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    owner, secret = data.get("id"), data.get("secret")
    if isinstance(owner, str) and isinstance(secret, str) and owner and secret:
        return owner, secret
    return None


def find(token, project):
    """The live session a token stands for in ``project`` (None: the console), else None."""
    decoded = decode_token(token) if token else None
    if decoded is None:
        return None
    owner, secret = decoded
    session = (
        Session.objects.select_related("user", "account")
        .filter(secret_hash=hash_token_secret(secret), project=project)
        .first()
    )
    if session is None or session.expired or session.owner_id != owner:
        return None
    if session.account_id is not None and not session.account.is_active:
        return None
    return session


def start(project, person, client):
    """A new session for a project user or (``project`` None) a console account; returns
    ``(session, token)``. ``client`` is ``(ip, user agent)``."""
    secret = secrets.token_hex(128)
    ip, agent = client
    is_user = isinstance(person, ProjectUser)
    with transaction.atomic():
        session = Session.objects.create(
            uid=unique_id(),
            project=project,
            user=person if is_user else None,
            account=None if is_user else person,
            secret_hash=hash_token_secret(secret),
            provider_uid=person.email,
            ip=ip[:64],
            user_agent=agent[:512],
            expire=timezone.now() + DURATION,
        )
        _trim(session)
    if is_user:
        _emit(session, "create")
    return session, encode_token(session.owner_id, secret)


def _trim(session):
    owned = Session.objects.filter(
        user=session.user, account=session.account, project=session.project
    )
    stale = owned.order_by("-id").values_list("pk", flat=True)[MAX_SESSIONS:]
    Session.objects.filter(pk__in=list(stale)).delete()


def sign_in(project, email, password, client):
    """Email and password: a project user's, or (``project`` None) a console account's."""
    person = _user_by_email(project, email) if project else _account_by_email(email)
    if person is None or not person.check_password(password):
        raise AppwriteError("user_invalid_credentials")
    if project is not None and not person.status:
        raise AppwriteError("user_blocked")
    return start(project, person, client)


def _user_by_email(project, email):
    return ProjectUser.objects.filter(project=project, email=email.lower()).first()


def _account_by_email(email):
    return get_user_model().objects.filter(email__iexact=email, is_active=True).first()


def owned(caller):
    """The caller's sessions: a project user's, or a console account's console sessions."""
    if caller.user is not None:
        return caller.user.sessions.filter(expire__gt=timezone.now())
    if caller.account is not None:
        return Session.objects.filter(
            account=caller.account, project=None, expire__gt=timezone.now()
        )
    return Session.objects.none()


def own(caller, session_id):
    """One of the caller's sessions (``current``: the one it used), or 404."""
    if session_id == "current":
        session = caller.session
    else:
        session = owned(caller).filter(uid=session_id).first()
    if session is None:
        raise AppwriteError("user_session_not_found")
    return session


def end(caller, session_id):
    """Sign out of one of the caller's sessions."""
    session = own(caller, session_id)
    _end(session)
    return session


def end_all(caller):
    for session in list(owned(caller)):
        _end(session)


def _end(session):
    if session.user_id:
        _emit(session, "delete")
    session.delete()


def mint_jwt(caller, duration=None):
    """A JWT for the caller's user, from its session (a JWT cannot mint another)."""
    if caller.session is None or caller.user is None:
        raise AppwriteError("user_session_not_found")
    return keys.mint_user_jwt(
        caller.user.uid,
        caller.project.pk,
        JWT_SECONDS if duration is None else duration,
        session_id=caller.session.uid,
    )


def _emit(session, action):
    events.emit(
        session.project_id,
        f"users.[userId].sessions.[sessionId].{action}",
        {"userId": session.user.uid, "sessionId": session.uid},
        lambda: documents.session(session),
        events.Origin(session.user.uid),
    )
