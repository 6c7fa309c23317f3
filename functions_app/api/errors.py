"""The one exception handler: every API error leaves as Appwrite's error JSON."""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf

from ..errors import AppwriteError, body_too_large

logger = logging.getLogger(__name__)

NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Expires": "0",
    "Pragma": "no-cache",
}


def to_appwrite(exc):
    if isinstance(exc, AppwriteError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return body_too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, SuspiciousOperation | UnreadablePostError):
        # Too many fields or files, a broken multipart body, a client that went away.
        return AppwriteError("general_argument_invalid", f"Invalid request body: {exc}")
    if isinstance(exc, Http404 | drf.NotFound | drf.MethodNotAllowed):
        return AppwriteError("general_route_not_found")
    if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
        return AppwriteError("general_argument_invalid", str(exc.detail))
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed | drf.PermissionDenied):
        return AppwriteError("general_unauthorized_scope", str(exc.detail))
    if isinstance(exc, drf.APIException):
        return AppwriteError("general_bad_request", str(exc.detail))
    logger.exception("Unhandled error in the API", exc_info=exc)
    return AppwriteError("general_unknown")


def error_response(error):
    body = error.as_dict(settings.APPWRITE_VERSION)
    response = JsonResponse(body, status=body["code"])
    response["Content-Type"] = "application/json; charset=UTF-8"
    for name, value in NO_CACHE.items():
        response[name] = value
    return response


def exception_handler(exc, context):
    return error_response(to_appwrite(exc))


@csrf_exempt
def route_not_found(request, *args, **kwargs):
    return error_response(AppwriteError("general_route_not_found"))
