"""What each API operation takes and answers, declared once next to its view method: the view
validates its parameters with it (``AppwriteView.params()``), and the OpenAPI description
(``api/openapi.py``) is generated from it, so the two cannot drift apart.

A ``Param`` is one parameter (name, validator, required or default, where it travels); an
``Operation`` is one method of one route: Appwrite's SDK method name, its parameters in
Appwrite's order (which is the order errors are found in), its responses and extra errors."""

from dataclasses import dataclass, field, replace

from django.conf import settings

from . import params as p

PATH, QUERY, BODY = "path", "query", "body"
JSON = "application/json"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True)
class Param:
    name: str
    validator: object
    required: bool = False
    default: object = None
    key: str = ""  # the cleaned value's key (default: the name)
    location: str = ""  # PATH, QUERY or BODY; "" is QUERY for GET and DELETE, BODY otherwise
    description: str = ""
    missing: object = None  # a function giving the error for a missing required value
    aliases: tuple = ()  # other names the value may come under (not described)

    @property
    def target(self):
        return self.key or self.name

    def read(self, data):
        value = data.get(self.name)
        for alias in self.aliases:
            value = data.get(alias) if value is None else value
        if value is None and self.required and self.missing is not None:
            raise self.missing()
        return p.get({self.name: value}, self.name, self.validator, **self.defaults)

    @property
    def defaults(self):
        return {"required": self.required, "default": self.default}


def clean(params, data):
    """The declared parameters' values from ``data``, checked in declaration order (the first
    error found is the one Appwrite reports). Undeclared parameters are ignored, as on Appwrite."""
    return {param.target: param.read(data) for param in params if param.location != PATH}


@dataclass(frozen=True)
class Returns:
    """A response body: a model of ``api/response_models.py``, or raw bytes (``model=None``)."""

    model: str | None
    media: tuple = (JSON,)


@dataclass(frozen=True)
class Operation:
    name: str  # Appwrite's SDK method name (operationId = namespace + Name)
    summary: str
    params: tuple = ()
    returns: dict = field(default_factory=dict)  # status -> model name, Returns, or None (204)
    errors: tuple = ()  # error statuses beyond the ones every operation may answer
    multipart: bool = False  # the body is multipart/form-data (an upload)
    deprecated: bool = False
    description: str = ""
    rate: tuple = ()  # the abuse limit: (requests, seconds, key); numbers may be ``setting``s

    def path_param(self, name):
        """The declared path parameter ``name``, or an ID (what a path carries unless said)."""
        for param in self.params:
            if param.name == name and param.location == PATH:
                return param
        return Param(name, p.UID(), required=True, location=PATH)


def setting(name):
    """A number read from the settings when the description is made (an abuse limit)."""
    return lambda: getattr(settings, name)


def operation(name, summary, *params, **details):
    """Declares the decorated view method's operation (read by ``declared``)."""

    def decorate(handler):
        handler.operation = Operation(name, summary, tuple(params), **details)
        return handler

    return decorate


def declare(op):
    """Declares the decorated view method's operation as ``op`` (built elsewhere)."""

    def decorate(handler):
        handler.operation = op
        return handler

    return decorate


def declared(view, method):
    """The operation a view (class or instance) declares for an HTTP method, or None."""
    return getattr(getattr(view, method.lower(), None), "operation", None)


def reuse(handler, **changes):
    """Another route's handler: the same code, declared as ``handler``'s operation with
    ``changes`` (its own name, ``deprecated``...)."""

    def reused(*args, **kwargs):
        return handler(*args, **kwargs)

    reused.operation = replace(handler.operation, **changes)
    return reused
