"""Function domains: a rule's domain (a function's automatic
``<functionId>-<projectId>.<FUNCTIONS_DOMAIN>``, or any domain added through
``/v1/proxy/rules``, see ``services/rules.py``) or ``<functionId>.<projectId>.<FUNCTIONS_DOMAIN>``
runs the function with the raw request and answers with its raw response. Router errors are
HTML pages, as on Appwrite. A host outside ``FUNCTIONS_DOMAIN`` with no rule (and this service's
own names, always) is a normal request for the API, console and admin."""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

from .errors import AppwriteError
from .services import execution_requests, executions, headers, rules

PAGES = {
    "rule_not_found": ("Nothing is here yet", "Start with this domain", "/"),
    "deployment_not_found": ("No active deployments", "View deployments", "/"),
    "function_not_found": ("Function not found", None, None),
    "build_not_ready": ("Deployment is still building", None, None),
    "build_failed": ("Deployment build failed", "View deployments", "/"),
    "build_canceled": ("Deployment build was canceled", "View deployments", "/"),
    "function_execute_permission_missing": ("Execution not permitted", "View settings", "/"),
    "general_access_forbidden": ("Access forbidden", None, None),
    "function_synchronous_timeout": ("Timed out", None, None),
    "general_rate_limit_exceeded": ("Too many requests", None, None),
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
STATUS_PAGES = {
    404: "The page you are looking for does not exist.",
    504: "The server did not respond in time.",
}


def function_domain_middleware(get_response):
    def middleware(request):
        host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].lower()
        domain = settings.FUNCTIONS_DOMAIN.lower()
        if host == domain:
            return error_page(
                AppwriteError(
                    "general_access_forbidden",
                    "This domain cannot be used for security reasons. Please use any subdomain instead.",
                )
            )
        if host.endswith("." + domain):
            return serve(request, rules.find_function(host))
        function = rules.custom_domain_function(host)
        if function is not None:
            return serve(request, function)
        return get_response(request)

    return middleware


def serve(request, function):
    if function is None:
        return error_page(AppwriteError("rule_not_found"))
    try:
        execution, result = executions.create_domain_execution(function, incoming(request))
    except AppwriteError as exc:
        return error_page(exc)
    return reply(execution, result)


def incoming(request):
    return execution_requests.Request(
        method=request.method,
        path=request.get_full_path(),
        headers=headers.from_caller(request.headers),
        body=request.body,
        client_ip=request.META.get("REMOTE_ADDR", ""),
    )


def reply(execution, result):
    if result.sync_timeout:
        return error_page(AppwriteError("function_synchronous_timeout"))
    if result.status_code >= 400 and not result.body:
        return status_page(result.status_code, execution.uid)
    response = HttpResponse(result.body, status=result.status_code, content_type="text/plain")
    for name, value in result.headers:
        if name not in HOP_BY_HOP:
            response[name] = value
    response["x-appwrite-execution-id"] = execution.uid
    return response


def status_page(code, execution_id):
    message = STATUS_PAGES.get(code) or (
        "An unexpected client error occured."
        if code < 500
        else "An unexpected server error occured."
    )
    response = render_page(code, f"Error {code}", message, "", None, None)
    response["x-appwrite-execution-id"] = execution_id
    return response


def error_page(error):
    title, cta, cta_url = PAGES.get(error.type, ("Error", None, None))
    return render_page(error.code, title, error.message, error.type, cta, cta_url)


def render_page(code, title, message, type_, cta, cta_url):
    context = {
        "code": code,
        "title": title,
        "message": message,
        "type": type_,
        "cta": cta,
        "cta_url": cta_url,
    }
    html = render_to_string("functions_app/domain_error.html", context)
    return HttpResponse(html, status=code, content_type="text/html; charset=utf-8")
