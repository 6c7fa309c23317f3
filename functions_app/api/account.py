"""/v1/account: sign-up, email sessions, the signed-in account, sign-out and JWTs, for a
project's users and (project ``console``) for console accounts, as appwrite-cli signs in."""

from urllib.parse import quote, urlsplit

from ..errors import AppwriteError
from ..services import documents, sessions, users
from . import params as p
from .base import AppwriteView, no_content, ok
from .declarations import PATH, Param, operation, reuse

SIGN_UP = (
    Param("userId", p.CustomId(), required=True, key="user_id"),
    Param("email", p.Email(), required=True),
    Param("password", p.Password(dictionary=True), required=True),
    Param("name", p.Text(128, 0), default=""),
)
SIGN_IN = (
    Param("email", p.Email(), required=True),
    Param("password", p.Password(), required=True),
)
SESSION_ID = Param("sessionId", p.SessionId(), required=True, location=PATH)


class AccountView(AppwriteView):
    scopes = {"GET": "account", "POST": "sessions.write"}
    project_required = False

    @operation("get", "Get account", returns={200: "user"})
    def get(self, request):
        return ok(account_document(self.caller))

    @operation(
        "create",
        "Create account",
        *SIGN_UP,
        returns={201: "user"},
        errors=(409, 429),
        rate=(10, 3600, "url:{url},ip:{ip}"),
    )
    def post(self, request):
        """Sign up (a project's users only: console accounts are made by the operator)."""
        if self.project is None:
            raise AppwriteError("user_email_not_whitelisted")
        fields = self.params()
        user_id = fields.pop("user_id")
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

    @operation("listSessions", "List sessions", returns={200: "sessionList"})
    def get(self, request):
        rows = [
            documents.session(s, current=s == self.caller.session)
            for s in sessions.owned(self.caller)
        ]
        return ok(documents.listing("sessions", rows))

    @operation(
        "deleteSessions",
        "Delete sessions",
        returns={204: None},
        errors=(429,),
        rate=(100, 3600, "url:{url},ip:{ip}"),
    )
    def delete(self, request):
        self.limit("deleteSession", request.META.get("REMOTE_ADDR", ""))
        sessions.end_all(self.caller)
        response = no_content()
        set_session_cookies(request, response, realm_of(self.project), "", None)
        return response

    @operation(
        "createEmailSession",
        "Create email password session (alias)",
        *SIGN_IN,
        returns={201: "session"},
        errors=(429,),
        rate=(10, 3600, "url:{url},email:{param-email}"),
        deprecated=True,
        description="The older route of `createEmailPasswordSession`.",
    )
    def post(self, request):
        return email_session(self, request)


def realm_of(project):
    return project.pk if project is not None else "console"


class EmailSessionView(AppwriteView):
    scopes = {"POST": "sessions.write"}
    project_required = False

    @operation(
        "createEmailPasswordSession",
        "Create email password session",
        *SIGN_IN,
        returns={201: "session"},
        errors=(429,),
        rate=(10, 3600, "url:{url},email:{param-email}"),
    )
    def post(self, request):
        return email_session(self, request)


def email_session(view, request):
    caller = view.caller
    if caller.session is not None or caller.account is not None:
        raise AppwriteError("user_session_already_exists")
    values = view.params()
    email, password = values["email"], values["password"]
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

    @operation("getSession", "Get session", SESSION_ID, returns={200: "session"})
    def get(self, request, session_id):
        session = sessions.own(self.caller, session_id)
        return ok(documents.session(session, current=session == self.caller.session))

    @operation(
        "deleteSession",
        "Delete session",
        SESSION_ID,
        returns={204: None},
        errors=(429,),
        rate=(100, 3600, "url:{url},ip:{ip}"),
    )
    def delete(self, request, session_id):
        self.limit("deleteSession", request.META.get("REMOTE_ADDR", ""))
        ended = sessions.end(self.caller, session_id)
        response = no_content()
        if ended == self.caller.session:
            set_session_cookies(request, response, realm_of(self.project), "", None)
        return response


class JWTView(AppwriteView):
    scopes = {"POST": "account"}

    @operation(
        "createJWT",
        "Create JWT",
        Param("duration", p.Range(0, 3600), description="Seconds the JWT is valid (default 900)."),
        returns={201: "jwt"},
        errors=(429,),
        rate=(100, 3600, "url:{url},userId:{userId}"),
    )
    def post(self, request):
        duration = self.params()["duration"]
        self.limit("createJWT", self.caller.user_id)
        return ok(documents.jwt(sessions.mint_jwt(self.caller, duration)), status=201)


class JWTAliasView(JWTView):
    """``/account/jwt``, the older route of ``/account/jwts``."""

    post = reuse(JWTView.post, name="createJWTAlias", deprecated=True)


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
