"""The OpenAPI 3 description of every ``/v1`` route, generated from the routes themselves
(``api/urls.py``), each view's ``scopes`` and each method's declared operation
(``api/declarations.py``), with the response models of ``api/response_models.py``; served at
``GET /v1/openapi.json``. Shaped like Appwrite's own specs: operationId = namespace +
capitalised SDK method, one tag per namespace, an ``x-appwrite`` block per operation."""

import re

from django.conf import settings
from django.urls import URLPattern, get_resolver

from . import response_models
from .base import AppwriteView, ok
from .declarations import BODY, JSON, MULTIPART, PATH, QUERY, Operation, Returns, declare

CAPTURE = re.compile(r"<(?:\w+:)?(\w+)>")
# Every operation may answer these: invalid parameters or body (400), credentials or scope
# (401), an unknown origin or a key with a session (403), an unknown project (404), a body
# over the size limit (413). Operations declare the others they may answer.
COMMON_ERRORS = (400, 401, 403, 404, 413)
SCHEMES = {
    "Project": "X-Appwrite-Project",
    "Key": "X-Appwrite-Key",
    "JWT": "X-Appwrite-JWT",
    "Session": "X-Appwrite-Session",
    "Mode": "X-Appwrite-Mode",
}
# Who holds each scope (besides console admins, in admin mode, for every scope but
# ``account`` and ``projects.read``): keys, signed-in users (session or JWT), or anyone.
USERS = ("Session", "JWT")
AUTH = {
    "execution.read": ("Key", *USERS),
    "execution.write": ("Key", *USERS),
    "rules.read": ("Key", *USERS),
    "account": USERS,
    "projects.read": ("Session",),
    "sessions.write": (),
    "public": (),
    "global": (),
}
DEFAULT_AUTH = ("Key",)
NO_ADMIN = ("account", "projects.read", "sessions.write", "public", "global")
CONSOLE_ONLY = ("proxy", "console")
NO_SDK = ("vcs",)  # called by git hosts (push webhooks): no SDK, no credentials


class Undeclared(Exception):
    """A route's method has no declared operation."""


def document(patterns):
    """The whole description of ``patterns`` (the ``/v1`` URL patterns)."""
    paths = {}
    for weight, (path, view, method, op) in enumerate(operations(patterns)):
        paths.setdefault(path, {})[method.lower()] = describe(path, view, method, op, weight)
    return {
        "openapi": "3.0.3",
        "info": info(),
        "servers": [{"url": "/v1"}],
        "paths": paths,
        "tags": [{"name": name} for name in sorted(tags(paths))],
        "components": components(),
        "externalDocs": {"url": "https://appwrite.io/docs"},
    }


def info():
    return {
        "title": "Functions (Appwrite Functions API)",
        "version": settings.APPWRITE_VERSION,
        "description": "Every `/v1` route of this service, as Appwrite's SDKs call them.",
        "license": {"name": "BSD-3-Clause", "url": "https://opensource.org/licenses/BSD-3-Clause"},
    }


def tags(paths):
    return {op["tags"][0] for item in paths.values() for op in item.values()}


def operations(patterns):
    """(OpenAPI path, view, HTTP method, operation) for each method each route serves."""
    for pattern in patterns:
        view_class = getattr(getattr(pattern, "callback", None), "view_class", None)
        if not isinstance(pattern, URLPattern) or view_class is None:
            continue  # the catch-all that answers unknown routes
        view = view_class(**pattern.callback.view_initkwargs)
        path = "/" + CAPTURE.sub(lambda m: "{" + camel(m.group(1)) + "}", str(pattern.pattern))
        for method in view.scopes:
            op = view.declaration(method)
            if op is None:
                raise Undeclared(f"{method} {path}: {view_class.__name__} declares no operation")
            yield path, view, method, op


def camel(name):
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def namespace(view, path):
    return view.namespace or path.strip("/").split("/")[0]


def describe(path, view, method, op, weight):
    name = namespace(view, path)
    scope = view.scopes[method]
    described = {
        "summary": op.summary,
        "operationId": name + op.name[0].upper() + op.name[1:],
        "tags": [name],
        "description": op.description,
        "parameters": parameters(path, method, op),
        "responses": responses(op),
        "security": [{}] if name in NO_SDK else security(scope),
        "x-appwrite": vendor(op, name, scope, weight),
    }
    body = request_body(method, op)
    if body:
        described["requestBody"] = body
    if op.deprecated:
        described["deprecated"] = True
    return described


def location(param, method):
    return param.location or (QUERY if method in ("GET", "DELETE") else BODY)


def parameters(path, method, op):
    described = [parameter(op.path_param(name), PATH) for name in re.findall(r"\{(\w+)\}", path)]
    queries = [param for param in op.params if location(param, method) == QUERY]
    return described + [parameter(param, QUERY) for param in queries]


def parameter(param, where):
    described = {
        "name": param.name,
        "in": where,
        "required": param.required or where == PATH,
        "schema": schema(param),
    }
    if param.description:
        described["description"] = param.description
    if where == QUERY and described["schema"].get("type") in ("array", "object"):
        described["style"], described["explode"] = "form", True
    return described


def schema(param, nullable=False):
    """The validator's JSON schema, with the default when it is itself a valid value."""
    described = dict(param.validator.schema())
    default = param.default.decode() if isinstance(param.default, bytes) else param.default
    if default is not None and valid(param.validator, default):
        described["default"] = default
    if nullable and not param.required:
        described["nullable"] = True
    return described


def valid(validator, value):
    try:
        validator.clean(value)
    except Exception:  # noqa: BLE001 - any refusal (Invalid or an Appwrite error) means no
        return False
    return True


def property_schema(param, multipart):
    """A body parameter's schema, with its description (a query parameter has it beside)."""
    described = schema(param, nullable=not multipart)
    if param.description:
        described["description"] = param.description
    return described


def request_body(method, op):
    params = [param for param in op.params if location(param, method) == BODY]
    if not params:
        return None
    media = MULTIPART if op.multipart else JSON
    properties = {param.name: property_schema(param, op.multipart) for param in params}
    described = {"type": "object", "properties": properties}
    required = [param.name for param in params if param.required]
    if required:
        described["required"] = required
    return {"required": bool(required), "content": {media: {"schema": described}}}


def responses(op):
    described = {str(status): response(returns) for status, returns in op.returns.items()}
    for status in sorted({*COMMON_ERRORS, *op.errors}):
        described[str(status)] = {"$ref": "#/components/responses/error"}
    return described


def response(returns):
    if returns is None:
        return {"description": "No content"}
    if isinstance(returns, str):
        returns = Returns(returns)
    body = {"type": "string", "format": "binary"}
    if returns.model is not None:
        body = {"$ref": f"#/components/schemas/{returns.model}"}
    content = {media: {"schema": body} for media in returns.media}
    return {"description": returns.model or "File", "content": content}


def security(scope):
    auth = AUTH.get(scope, DEFAULT_AUTH)
    if scope == "global":
        return [{}]
    alternatives = [{"Project": [], scheme: []} for scheme in auth] or [{"Project": []}]
    if scope not in NO_ADMIN:
        alternatives.append({"Project": [], "Session": [], "Mode": []})
    return alternatives


def vendor(op, name, scope, weight):
    limit, seconds, key = (
        value() if callable(value) else value for value in op.rate or (0, 3600, "url:{url},ip:{ip}")
    )
    auth = AUTH.get(scope, DEFAULT_AUTH)
    return {
        "method": op.name,
        "group": None,
        "weight": weight,
        "cookies": False,
        "type": "upload" if op.multipart else "",
        "rate-limit": limit,
        "rate-time": seconds,
        "rate-key": key,
        "scope": scope,
        "platforms": platforms(name, auth),
        "packaging": False,
        "auth": {} if name in NO_SDK else {"Project": [], **{scheme: [] for scheme in auth}},
    }


def platforms(name, auth):
    if name in NO_SDK:
        return []
    if name in CONSOLE_ONLY:
        return ["console"]
    found = (["client"] if not auth or "Session" in auth else []) + (
        ["server"] if not auth or "Key" in auth or "JWT" in auth else []
    )
    return [*found, "console"]


def components():
    error = {"$ref": "#/components/schemas/error"}
    return {
        "schemas": response_models.MODELS,
        "responses": {
            "error": {
                "description": "An Appwrite error: `code` is the HTTP status, `type` its kind",
                "content": {JSON: {"schema": error}},
            }
        },
        "securitySchemes": {
            scheme: {"type": "apiKey", "name": header, "in": "header"}
            for scheme, header in SCHEMES.items()
        },
    }


def served_patterns():
    """The ``/v1`` URL patterns, as the running service resolves them."""
    for resolver in get_resolver().url_patterns:
        module = getattr(resolver, "urlconf_name", None)
        if getattr(module, "__name__", module) == __package__ + ".urls":
            return resolver.url_patterns
    return []


class OpenAPIView(AppwriteView):
    scopes = {"GET": "global"}
    project_required = False
    namespace = "openapi"

    @declare(
        Operation(
            "get",
            "Get this description",
            returns={200: "any"},
            description="The OpenAPI 3 description of every `/v1` route (this document).",
        )
    )
    def get(self, request):
        return ok(document(served_patterns()))
