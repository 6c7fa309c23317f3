"""/v1/functions/{id}/executions."""

import json
from dataclasses import replace

from django.http import HttpResponse

from ..errors import AppwriteError
from ..models import Execution
from ..services import abuse, documents, functions
from ..services import executions as service
from . import fields as parse
from . import queries
from .base import AppwriteView, no_content, ok
from .declarations import JSON, MULTIPART, Returns, operation, setting
from .functions import COMMON_ATTRIBUTES, get_function

A = queries.Attribute
EXECUTION_ATTRIBUTES = COMMON_ATTRIBUTES | {
    "trigger": A("trigger", "string"),
    "status": A("status", "string"),
    "responseStatusCode": A("response_status_code", "integer"),
    "duration": A("duration", "float"),
    "requestMethod": A("request_method", "string"),
    "requestPath": A("request_path", "string"),
    "deploymentId": A("deployment_uid", "string"),
}


def visible_executions(caller, function):
    executions = Execution.objects.filter(function=function).select_related("function")
    if caller.privileged:
        return executions
    return executions.filter(user_id=caller.user_id) if caller.user_id else executions.none()


def get_callable_function(caller, function_id):
    function = get_function(caller.project, function_id, with_variables=False)
    if not function.enabled and not caller.privileged:
        raise AppwriteError("function_not_found")
    return function


class ExecutionsView(AppwriteView):
    scopes = {"GET": "execution.read", "POST": "execution.write"}

    @operation(
        "listExecutions",
        "List executions",
        parse.QUERIES,
        replace(
            parse.SEARCH, description="Checked, then ignored (Appwrite 1.8 has no search here)."
        ),
        parse.TOTAL,
        returns={200: "executionList"},
    )
    def get(self, request, function_id):
        function = get_callable_function(self.caller, function_id)
        args = self.params()
        args.pop("search")
        items, total, _ = queries.run(
            visible_executions(self.caller, function),
            resource="Execution",
            schema=EXECUTION_ATTRIBUTES,
            search_field=None,
            **args,
        )
        rows = [documents.execution(e, self.caller.privileged) for e in items]
        return ok(documents.listing("executions", rows, total))

    @operation(
        "createExecution",
        "Create execution",
        *parse.EXECUTION,
        returns={201: Returns("execution", (JSON, MULTIPART)), 202: "execution"},
        errors=(408, 429),
        rate=(
            setting("FUNCTIONS_EXECUTION_ABUSE_LIMIT"),
            setting("FUNCTIONS_EXECUTION_ABUSE_PERIOD"),
            "functionId:{functionId},ip:{ip},userId:{userId}",
        ),
        description=(
            "Synchronous runs answer 201 with the function's response (`Accept: "
            "multipart/form-data` keeps a binary body intact); asynchronous and scheduled ones 202. "
            "Callers without a key are rate-limited per function, IP and user (`x-appwrite`)."
        ),
    )
    def post(self, request, function_id):
        ip = request.META.get("REMOTE_ADDR", "")
        self.quota = abuse.execution_quota(self.caller, function_id, ip)
        if self.quota and self.quota.exceeded:
            raise AppwriteError("general_rate_limit_exceeded")
        req, run_async, moment = parse.execution_request_of(
            self.caller, self.params(), request.META
        )
        function = functions.runnable(self.project, function_id)
        execution, result = service.create_http_execution(
            self.caller, function, req, run_async, moment
        )
        if result is None:
            return ok(documents.execution(execution, self.caller.privileged), status=202)
        return sync_reply(request, execution, result, self.caller.privileged)


def sync_reply(request, execution, result, privileged):
    headers = [*result.headers, ("x-appwrite-execution-id", execution.uid)]
    accept = request.headers.get("Accept", "")
    if accept.startswith("multipart/"):
        return multipart_reply(execution, result, headers, privileged)
    try:
        body = result.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AppwriteError(
            "general_argument_invalid", f"Failed to parse response: {exc}"
        ) from None
    data = documents.execution(execution, privileged, body, documents.headers_list(headers))
    return ok(data, status=201)


def multipart_reply(execution, result, headers, privileged):
    """``Accept: multipart/form-data`` keeps binary response bodies intact."""
    data = documents.execution(execution, privileged, "", documents.headers_list(headers))
    boundary = "----appwrite" + execution.uid
    parts = []
    for name, value in data.items():
        raw = result.body if name == "responseBody" else encode_field(value)
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + raw
            + b"\r\n"
        )
    payload = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return HttpResponse(
        payload, status=201, content_type=f"multipart/form-data; boundary={boundary}"
    )


def encode_field(value):
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


class ExecutionView(AppwriteView):
    scopes = {"GET": "execution.read", "DELETE": "execution.write"}

    @operation("getExecution", "Get execution", returns={200: "execution"})
    def get(self, request, function_id, execution_id):
        function = get_callable_function(self.caller, function_id)
        return ok(
            documents.execution(self.get_execution(function, execution_id), self.caller.privileged)
        )

    @operation("deleteExecution", "Delete execution", returns={204: None})
    def delete(self, request, function_id, execution_id):
        if not self.caller.privileged:
            raise AppwriteError("function_not_found")
        function = get_function(self.project, function_id, with_variables=False)
        execution = self.get_execution(function, execution_id)
        service.delete_execution(execution, self.origin)
        return no_content()

    def get_execution(self, function, execution_id):
        execution = visible_executions(self.caller, function).filter(uid=execution_id).first()
        if execution is None:
            raise AppwriteError("execution_not_found")
        return execution
