"""The Executions tab: list (filters, pages), detail, and the Execute form."""

import json

from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ...api.fields import METHODS, execution_request
from ...errors import AppwriteError
from ...services import documents
from ...services import executions as service
from .. import filters, forms
from ..access import caller, function_view
from ..tabs import function_page

RESULT_KEY = "execution-result:"
MAX_SHOWN_BODY = 1_000_000
FORM_DEFAULTS = {"method": "POST", "path": "/", "mode": "sync", "headers": "", "body": ""}


def list_context(request, function):
    context = filters.paginate(request, filters.executions(function, request.GET))
    context.update(params=request.GET, methods=METHODS, statuses=filters.EXECUTION_STATUSES)
    context.update(triggers=filters.TRIGGERS, values=FORM_DEFAULTS)
    return context


def get_execution(function, execution_id):
    execution = function.executions.filter(uid=execution_id).first()
    if execution is None:
        raise Http404("Execution not found")
    return execution


@function_view
def execution_list(request, function):
    return function_page(request, function, "executions", list_context(request, function))


@require_POST
@function_view
def execution_create(request, function):
    """Run the function as the signed-in user; a synchronous run shows its response at once."""
    try:
        execution, result = execute(request, function)
    except AppwriteError as error:
        context = {**list_context(request, function), "error": error.message}
        context["values"] = request.POST
        return function_page(request, function, "executions", context, status=400)
    if result is not None:  # shown once on the next page: bodies are not stored
        request.session[RESULT_KEY + execution.uid] = {
            "body": readable(result.body)[:MAX_SHOWN_BODY],
            "headers": documents.headers_list(result.headers),
        }
    return redirect(detail_path(function, execution))


def execute(request, function):
    who = caller(function.project, request.user)
    req, run_async, moment = execution_request(
        who, forms.execution_data(request.POST), request.META
    )
    return service.create_http_execution(who, function, req, run_async, moment)


def detail_path(function, execution):
    kwargs = {"project_id": function.project_id, "function_id": function.uid}
    return reverse("console:execution", kwargs={**kwargs, "execution_id": execution.uid})


def detail(request, function, execution):
    """An execution; right after a synchronous run, also its response (once: POST, redirect, GET)."""
    result = request.session.pop(RESULT_KEY + execution.uid, None)
    context = {"execution": execution, "result": result, "request_body": request_body(execution)}
    context["response_headers"] = execution.response_headers
    if result is not None:
        context["response_body"] = result["body"]
        context["response_headers"] = result["headers"]
    return function_page(
        request, function, "executions", context, template="console/execution.html"
    )


def readable(body):
    """The response body as text; JSON is indented."""
    text = body.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def request_body(execution):
    return bytes(execution.request_body).decode("utf-8", errors="replace")


@function_view
def execution_detail(request, function, execution_id):
    return detail(request, function, get_execution(function, execution_id))


@function_view
def execution_status(request, function, execution_id):
    execution = get_execution(function, execution_id)
    return JsonResponse({**documents.execution(execution), "final": execution.is_final})
