"""CORS for the API (``/v1``), as Appwrite 1.8 answers browsers. Every response carries the
CORS headers, errors included; an ``OPTIONS`` preflight to any ``/v1`` path, known or not, is a
``204`` with no authentication; and a write (POST, PUT, PATCH, DELETE) from an origin that is
not allowed, without an API key, is refused with ``403 general_unknown_origin`` before anything
else runs. Which origins are allowed is ``services/origins.py``'s rule. Requests to function
domains never get here: ``domains.function_domain_middleware`` runs first and answers them."""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from ..errors import AppwriteError
from ..services.origins import Origin, host_of, is_allowed, refusal
from .auth import project_id_of
from .errors import error_response

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
_HEADERS = (
    "Origin, Cookie, Set-Cookie, X-Requested-With, Content-Type, Access-Control-Allow-Origin, "
    "Access-Control-Request-Headers, Accept, X-Appwrite-Project, X-Appwrite-Key, "
    "X-Appwrite-Dev-Key, X-Appwrite-Locale, X-Appwrite-Mode, X-Appwrite-JWT, "
    "X-Appwrite-Response-Format, X-Appwrite-Timeout, X-SDK-Version, X-SDK-Name, X-SDK-Language, "
    "X-SDK-Platform, X-SDK-GraphQL, X-Appwrite-ID, X-Appwrite-Timestamp, Content-Range, Range, "
    "Cache-Control, Expires, Pragma, {}X-Forwarded-For, X-Forwarded-User-Agent"
)
ALLOW_HEADERS = _HEADERS.format("")
PREFLIGHT_ALLOW_HEADERS = _HEADERS.format("X-Appwrite-Session, X-Fallback-Cookies, ")
EXPOSE_HEADERS = "X-Appwrite-Session, X-Fallback-Cookies"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def is_api(path):
    return path == "/v1" or path.startswith("/v1/")


def cors_middleware(get_response):
    def middleware(request):
        if not is_api(request.path_info):
            return get_response(request)
        if request.method == "OPTIONS":
            return preflight(request)
        raw = request.headers.get("Origin") or request.headers.get("Referer") or ""
        origin = Origin.parse(raw)
        allowed = bool(raw) and is_allowed(
            origin, project_id_of(request), host_of(request.META.get("HTTP_HOST", ""))
        )
        if raw and not allowed and request.method in WRITES and not has_key(request):
            response = error_response(AppwriteError("general_unknown_origin", refusal(origin)))
        else:
            response = get_response(request)
        host = origin.host if allowed else "localhost"
        headers(response, origin.rebuilt(host, request.scheme), ALLOW_HEADERS)
        return response

    return middleware


def has_key(request):
    """Any ``X-Appwrite-Key``, valid or not (an invalid one fails authentication instead)."""
    return bool(request.headers.get("X-Appwrite-Key"))


def preflight(request):
    """No authentication and no origin check: the answer to the real request decides."""
    response = HttpResponse(status=204)
    headers(response, request.headers.get("Origin", ""), PREFLIGHT_ALLOW_HEADERS)
    return response


def headers(response, allow_origin, allow_headers):
    response["Access-Control-Allow-Methods"] = ALLOW_METHODS
    response["Access-Control-Allow-Headers"] = allow_headers
    response["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    response["Access-Control-Allow-Origin"] = allow_origin
    response["Access-Control-Allow-Credentials"] = "true"
    patch_vary_headers(response, ("Origin",))
