"""The base every API view shares: authentication, one scope check, Appwrite rendering."""

from django.conf import settings
from django.http import HttpResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from ..errors import AppwriteError, body_too_large, param_invalid
from ..services import abuse, events
from .auth import require_scope
from .declarations import Operation, clean, declared
from .params import UID, Invalid, request_params


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Appwrite answers JSON whatever ``Accept`` says."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.startswith(parser.media_type.split(";")[0]):
                return parser
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AppwriteView(APIView):
    """Subclasses set ``scopes = {"GET": "functions.read", ...}`` and declare each method's
    operation (``@operation(...)``, ``api/declarations.py``)."""

    scopes = {}
    project_required = True
    content_negotiation_class = JSONOnlyNegotiation
    quota = None  # an abuse-limited handler sets it: its X-RateLimit-* headers go on the reply
    namespace = ""  # Appwrite's SDK namespace (default: the path's first segment)

    def initial(self, request, *args, **kwargs):
        check_body_size(request)
        super().initial(request, *args, **kwargs)
        caller = request.auth
        scope = self.scopes.get(request.method)
        if scope is None:
            raise AppwriteError("general_route_not_found")
        require_scope(caller, scope)
        if self.project_required and caller.project is None:
            raise AppwriteError(
                "general_access_forbidden",
                "No Appwrite project was specified. Please specify your project ID when initializing your Appwrite SDK.",
            )
        self.check_path(request.resolver_match.captured_kwargs)

    def check_path(self, captured):
        """The path's parameters, before the handler runs: IDs unless declared otherwise."""
        for name, value in captured.items():
            self.operation.path_param(camel_case(name)).read({camel_case(name): value})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["X-Content-Type-Options"] = "nosniff"
        for name, value in self.quota.headers().items() if self.quota else ():
            response[name] = value
        return response

    @property
    def caller(self):
        return self.request.auth

    @property
    def project(self):
        return self.request.auth.project

    def declaration(self, method):
        """The operation this view declares for ``method`` (None if it declares none)."""
        return declared(self, method)

    @property
    def operation(self):
        return self.declaration(self.request.method) or Operation("", "")

    def params(self, form=None):
        """The declared parameters' values, checked in declaration order. An operation with
        more than one form (an older one) passes ``form``: the request's data -> its params."""
        data = request_params(self.request)
        return clean(form(data) if form else self.operation.params, data)

    def limit(self, route, subject):
        """Count this request against the route's abuse limit (429 past it)."""
        self.quota = abuse.account_quota(self.caller, route, subject)
        if self.quota and self.quota.exceeded:
            raise AppwriteError("general_rate_limit_exceeded")

    @property
    def origin(self):
        """Who caused what this request changes, for the events services fire."""
        return events.Origin.of_caller(self.caller)


def check_body_size(request):
    """The whole body, whatever its type, as Appwrite's server limits it (Django itself
    would only limit the non-file part of a form, and nothing of a JSON body)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if limit is not None and size > limit:
        raise body_too_large(limit)


def camel_case(name):
    """``function_id`` -> ``functionId``: Appwrite's name for a path parameter."""
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def check_uid(name, value):
    try:
        UID().clean(value)
    except Invalid as exc:
        raise param_invalid(name, exc.description) from None


def ok(data, status=200):
    return Response(data, status=status)


def no_content():
    """204 with a Content-Type: the Python SDK reads that header on every response."""
    return HttpResponse(status=204, content_type="text/html; charset=UTF-8")
