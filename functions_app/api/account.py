"""/v1/account: sign-up, email sessions, the signed-in account, sign-out and JWTs, for a
project's users and (project ``console``) for console accounts, as appwrite-cli signs in."""

from urllib.parse import quote, urlsplit

from ..errors import AppwriteError
from ..services import documents, sessions, users
from . import params as p
from .base import AppwriteView, no_content, ok


class AccountView(AppwriteView):
    scopes = {"GET": "account", "POST": "sessions.write"}
    project_required = False

    def get(self, request):
        return ok(account_document(self.caller))

    def post(self, request):
        """Sign up (a project's users only: console accounts are made by the operator)."""
        if self.project is None:
            raise AppwriteError("user_email_not_whitelisted")
        data = self.params()
        user_id = p.get(data, "userId", p.CustomId(), required=True)
        fields = {
            "email": p.get(data, "email", p.Email(), required=True),
            "password": p.get(data, "password", p.Password(dictionary=True), required=True),
            "name": p.get(data, "name", p.Text(128, 0), default=""),
        }
        self.limit("createAccount", request.META.get("REMOTE_ADDR", ""))
        user = users.create_user(self.project, user_id, fields, self.origin)
        return ok(documents.account(user), status=201)


def account_document(caller):
    if caller.user is not None:
        return documents.account(caller.user)
    return documents.console_account(caller.account)


class SessionsView(AppwriteView):
    """``/account/sessions``: list, sign out everywhere, and (an alias) email sign-in."""

    scopes = {"GET": "account", "DELETE": "account", "POST": "sessions.write"}
    project_required = False

    def get(self, request):
        rows = [
            documents.session(s, current=s == self.caller.session)
            for s in sessions.owned(self.caller)
        ]
        return ok(documents.listing("sessions", rows))

    def delete(self, request):
        self.limit("deleteSession", request.META.get("REMOTE_ADDR", ""))
        sessions.end_all(self.caller)
        response = no_content()
        set_session_cookies(request, response, realm_of(self.project), "", None)
        return response

    def post(self, request):
        return email_session(self, request)


def realm_of(project):
    return project.pk if project is not None else "console"


class EmailSessionView(AppwriteView):
    scopes = {"POST": "sessions.write"}
    project_required = False

    def post(self, request):
        return email_session(self, request)


def email_session(view, request):
    caller = view.caller
    if caller.session is not None or caller.account is not None:
        raise AppwriteError("user_session_already_exists")
    data = view.params()
    email = p.get(data, "email", p.Email(), required=True)
    password = p.get(data, "password", p.Password(), required=True)
    view.limit("createEmailPasswordSession", email)
    client = (request.META.get("REMOTE_ADDR", ""), request.headers.get("User-Agent", ""))
    session, token = sessions.sign_in(view.project, email, password, client)
    secret = token if caller.privileged else ""
    response = ok(documents.session(session, current=True, secret=secret), status=201)
    set_session_cookies(request, response, realm_of(view.project), token, session.expire)
    return response


class SessionView(AppwriteView):
    scopes = {"GET": "account", "DELETE": "account"}
    project_required = False
    path_ids = False  # ``current`` is no ID

    def get(self, request, session_id):
        session = sessions.own(self.caller, checked_session_id(session_id))
        return ok(documents.session(session, current=session == self.caller.session))

    def delete(self, request, session_id):
        session_id = checked_session_id(session_id)
        self.limit("deleteSession", request.META.get("REMOTE_ADDR", ""))
        ended = sessions.end(self.caller, session_id)
        response = no_content()
        if ended == self.caller.session:
            set_session_cookies(request, response, realm_of(self.project), "", None)
        return response


def checked_session_id(session_id):
    if session_id != "current":
        p.get({"sessionId": session_id}, "sessionId", p.UID(), required=True)
    return session_id


class JWTView(AppwriteView):
    scopes = {"POST": "account"}

    def post(self, request):
        duration = p.get(self.params(), "duration", p.Range(0, 3600), default=None)
        self.limit("createJWT", self.caller.user_id)
        return ok({"jwt": sessions.mint_jwt(self.caller, duration)}, status=201)


def set_session_cookies(request, response, realm, token, expire):
    """``a_session_<realm>`` and its ``_legacy`` twin, URL-encoded as Appwrite's server writes
    them; an empty token expires both. Clients that cannot keep cookies (the CLI, other
    sites' pages) get the token in ``X-Fallback-Cookies`` too."""
    name = f"a_session_{realm}"
    value = quote(token, safe="")
    secure = request.is_secure()
    for cookie, same_site in ((f"{name}_legacy", None), (name, "None")):
        if token:
            response.set_cookie(
                cookie,
                value,
                expires=expire,
                path="/",
                httponly=True,
                secure=secure,
                samesite=same_site,
            )
        else:
            response.delete_cookie(cookie, path="/", samesite=same_site)
    if needs_fallback(request):
        response["X-Fallback-Cookies"] = (
            f'{{"{name}":"{token}"}}' if token else "[]"  # the token is base64: nothing to escape
        )
    response["X-Debug-Fallback"] = "true" if needs_fallback(request) else "false"


def needs_fallback(request):
    """No Origin at all, or one whose host is not the API's own."""
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not origin:
        return True
    return (urlsplit(origin).hostname or "") != request.get_host().split(":")[0]
