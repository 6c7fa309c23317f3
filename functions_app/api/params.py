"""Request parameters, validated the way Appwrite's framework does it, with its exact
error texts: ``Param "x" is not optional.`` and ``Invalid `x` param: <description>``."""

import json
import re
from urllib.parse import quote

from croniter import croniter
from django.core.files.uploadedfile import UploadedFile

from .. import events, roles
from ..errors import AppwriteError, param_invalid, param_missing
from ..ids import ID_PATTERN
from ..services import specifications
from ..services.scheduler import expand_cron
from .rendering import load_json

MISSING = object()
ARRAY_KEY = re.compile(r"([^\[\]]+)\[([0-9]{0,6})\]")  # with fullmatch, as every pattern here


class Invalid(Exception):
    def __init__(self, description):
        super().__init__(description)
        self.description = description


# -- reading -----------------------------------------------------------------


def _flatten_query_dict(querydict):
    """``queries[0]=a&queries[1]=b``, ``queries[]=a`` and repeated ``queries=a`` become lists."""
    data, arrays = {}, {}
    for key, values in querydict.lists():
        match = ARRAY_KEY.fullmatch(key)
        if match:
            index = int(match.group(2)) if match.group(2) else len(arrays.get(match.group(1), {}))
            for offset, value in enumerate(values):
                arrays.setdefault(match.group(1), {})[index + offset] = value
        else:
            data[key] = values if len(values) > 1 else values[0]
    for name, items in arrays.items():
        data[name] = [items[i] for i in sorted(items)]
    return data


def request_params(request):
    """Query string merged with the body (JSON object or form), as Appwrite merges them."""
    data = _flatten_query_dict(request.query_params)
    body = request.data
    if hasattr(body, "lists"):
        data.update(_flatten_query_dict(body))
    elif isinstance(body, dict):
        data.update(body)
    return data


def get(data, name, validator, *, required=False, default=None):
    """One parameter: missing or null means the default, unless it is required."""
    value = data.get(name, MISSING)
    if value is MISSING or value is None:
        if required:
            raise param_missing(name)
        return default
    try:
        return validator.clean(value)
    except Invalid as exc:
        raise param_invalid(name, exc.description) from None


# -- validators ----------------------------------------------------------------


class Text:
    def __init__(self, length, min_length=1):
        self.length, self.min_length = length, min_length

    @property
    def description(self):
        if self.min_length:
            return f"Value must be a valid string and at least {self.min_length} chars and no longer than {self.length} chars"
        return f"Value must be a valid string and no longer than {self.length} chars"

    def schema(self):
        return {"type": "string", "maxLength": self.length} | (
            {"minLength": self.min_length} if self.min_length else {}
        )

    def clean(self, value):
        # NUL is no valid character in any stored string (PostgreSQL refuses it, environments
        # and HTTP cannot carry it).
        if (
            not isinstance(value, str)
            or not self.min_length <= len(value) <= self.length
            or "\x00" in value
        ):
            raise Invalid(self.description)
        return value


class Body(Text):
    """createExecution ``body``: text, or bytes kept as they came (a multipart field that is
    not UTF-8, or a file part). Always returns bytes."""

    def __init__(self, length):
        super().__init__(length, 0)

    def clean(self, value):
        if isinstance(value, UploadedFile):
            if value.size is None or value.size > self.length:
                raise Invalid(self.description)
            value = value.read()
        if isinstance(value, bytes):
            if len(value) > self.length:
                raise Invalid(self.description)
            return value
        if not isinstance(value, str) or len(value) > self.length:
            raise Invalid(self.description)
        return value.encode()


class ExecutionPath(Text):
    """createExecution ``path``: control characters can never be sent in a request line;
    anything else not allowed in a URL (spaces, non-ASCII) is percent-encoded as UTF-8.
    Existing ``%XX`` escapes and URL delimiters stay as they are."""

    CONTROL = re.compile(r"[\x00-\x1f\x7f]")
    ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
    SAFE = "/?&=:@!$'()*+,;~[]"

    def __init__(self):
        super().__init__(2048)

    def schema(self):
        return super().schema() | {"pattern": "^[^\\x00-\\x1f\\x7f]*$"}

    def clean(self, value):
        if isinstance(value, str) and self.CONTROL.search(value):
            raise Invalid("Path must not contain control characters (CR, LF, NUL, DEL, ...)")
        value = super().clean(value)
        parts, start = [], 0
        for escape in self.ESCAPE.finditer(value):
            parts.append(quote(value[start : escape.start()], safe=self.SAFE))
            parts.append(escape.group())
            start = escape.end()
        parts.append(quote(value[start:], safe=self.SAFE))
        return "".join(parts)


class VariableKey(Text):
    """Variable keys become environment variable names: the runtime executor keeps only
    ``[A-Za-z0-9_.-]`` keys, so anything else is refused up front."""

    KEY = re.compile(r"[A-Za-z0-9_.-]+")

    def __init__(self):
        super().__init__(255)

    def schema(self):
        return super().schema() | {"pattern": f"^{self.KEY.pattern}$"}

    def clean(self, value):
        value = super().clean(value)
        if not self.KEY.fullmatch(value):
            raise Invalid(
                "Variable key must contain only a-z, A-Z, 0-9, period, hyphen and underscore "
                f"and be at least 1 and no longer than {self.length} chars"
            )
        return value


class Email:
    description = "Value must be a valid email address"
    PATTERN = re.compile(
        r"[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}"
    )

    def __init__(self, allow_empty=False):
        self.allow_empty = allow_empty

    def schema(self):
        return {"type": "string", "format": "email", "maxLength": 254}

    def clean(self, value):
        if self.allow_empty and value == "":
            return value
        if not isinstance(value, str) or len(value) > 254 or not self.PATTERN.fullmatch(value):
            raise Invalid(self.description)
        return value.lower()


class Password:
    """Appwrite's ``Password`` (sign-in) and ``PasswordDictionary`` (sign-up, users) texts."""

    def __init__(self, dictionary=False):
        self.description = (
            "Password must be between 8 and 265 characters long, and should not be one of the commonly used password."
            if dictionary
            else "Password must be between 8 and 256 characters long."
        )

    def schema(self):
        return {"type": "string", "format": "password", "minLength": 8, "maxLength": 256}

    def clean(self, value):
        if not isinstance(value, str) or not 8 <= len(value.encode()) <= 256 or "\x00" in value:
            raise Invalid(self.description)
        return value


class Phone:
    description = "Phone number must start with a '+' can have a maximum of fifteen digits."
    PATTERN = re.compile(r"\+[1-9][0-9]{6,14}")

    def schema(self):
        return {"type": "string", "pattern": f"^{self.PATTERN.pattern}$"}

    def clean(self, value):
        if not isinstance(value, str) or not self.PATTERN.fullmatch(value):
            raise Invalid(self.description)
        return value


class Label(Text):
    """A user label: 1-36 letters and digits."""

    PATTERN = re.compile(r"[A-Za-z0-9]{1,36}")

    def __init__(self):
        super().__init__(36)

    def schema(self):
        return {"type": "string", "pattern": f"^{self.PATTERN.pattern}$"}

    def clean(self, value):
        if not isinstance(value, str) or not self.PATTERN.fullmatch(value):
            raise Invalid(self.description)
        return value


class Boolean:
    description = "Value must be a valid boolean"
    LOOSE = {"true": True, "false": False, "1": True, "0": False}

    def __init__(self, loose=False):
        self.loose = loose

    def schema(self):
        return {"type": "boolean"}

    def clean(self, value):
        if isinstance(value, bool):
            return value
        if self.loose and isinstance(value, int) and value in (0, 1):
            return bool(value)
        if self.loose and isinstance(value, str) and value.lower() in self.LOOSE:
            return self.LOOSE[value.lower()]
        raise Invalid(self.description)


class Range:
    def __init__(self, low, high):
        self.low, self.high = low, high
        self.description = f"Value must be a valid range between {low:,} and {high:,}"

    def schema(self):
        size = "int32" if self.low >= -(2**31) and self.high < 2**31 else "int64"
        return {"type": "integer", "format": size, "minimum": self.low, "maximum": self.high}

    def clean(self, value):
        if isinstance(value, bool):
            raise Invalid(self.description)
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or not self.low <= value <= self.high:
            raise Invalid(self.description)
        return value


class Integer:
    """Appwrite's loose integer: a number or a numeric string."""

    description = "Value must be a valid integer"

    def schema(self):
        return {"type": "integer", "format": "int64"}

    def clean(self, value):
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise Invalid(self.description)


class WhiteList:
    """``values``: a list, or a function giving it (a catalogue read when the value is checked)."""

    def __init__(self, values):
        self._values = values if callable(values) else list(values)

    @property
    def values(self):
        return list(self._values()) if callable(self._values) else self._values

    @property
    def description(self):
        return f"Value must be one of ({', '.join(self.values)})"

    def schema(self):
        return {"type": "string", "enum": self.values}

    def clean(self, value):
        if not isinstance(value, str) or value not in self.values:
            raise Invalid(self.description)
        return value


class ArrayList:
    def __init__(self, item, length=100):
        self.item, self.length = item, length

    @property
    def description(self):
        return f"Value must a valid array no longer than {self.length} items and {self.item.description}"

    def schema(self):
        return {"type": "array", "items": self.item.schema(), "maxItems": self.length}

    def clean(self, value):
        if not isinstance(value, list) or len(value) > self.length:
            raise Invalid(self.description)
        try:
            return [self.item.clean(item) for item in value]
        except Invalid:
            raise Invalid(self.description) from None


class CustomId:
    description = "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char"

    def schema(self):
        return {"type": "string", "pattern": f"^(unique\\(\\)|{ID_PATTERN.pattern})$"}

    def clean(self, value):
        if value == "unique()" or (isinstance(value, str) and ID_PATTERN.fullmatch(value)):
            return value
        raise Invalid(self.description)


class UID:
    description = "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore"

    def schema(self):
        return {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"}

    def clean(self, value):
        if isinstance(value, str) and ID_PATTERN.fullmatch(value):
            return value
        raise Invalid(self.description)


class SessionId(UID):
    """A session's ID, or ``current`` (the caller's own session)."""

    def schema(self):
        return {"type": "string", "pattern": f"^(current|{ID_PATTERN.pattern})$"}

    def clean(self, value):
        return value if value == "current" else super().clean(value)


class Queries:
    """``queries``: JSON strings, validated by the query language itself (``api/queries.py``)."""

    description = "Array of query strings generated using the Query class provided by the SDK."

    def schema(self):
        return {"type": "array", "items": {"type": "string", "maxLength": 4096}, "maxItems": 100}

    def clean(self, value):
        return [value] if isinstance(value, str) else value


class File:
    """A multipart file part; anything else, or nothing, is Appwrite's ``No file sent``."""

    description = "No file sent"

    def schema(self):
        return {"type": "string", "format": "binary"}

    def clean(self, value):
        if not isinstance(value, UploadedFile):
            raise AppwriteError("storage_file_empty", self.description)
        return value


class Domain:
    """utopia-php's ``Domain``: PHP's ``FILTER_VALIDATE_DOMAIN`` with ``FILTER_FLAG_HOSTNAME``
    (labels of ASCII letters, digits and inner hyphens, at most 63 chars each, 253 in all), and
    no trailing ``.`` or ``-``."""

    description = "Value must be a valid domain"
    LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

    def schema(self):
        return {"type": "string", "format": "hostname", "maxLength": 253}

    def clean(self, value):
        if (
            not isinstance(value, str)
            or not value
            or len(value) > 253
            or value.endswith((".", "-"))
            or not all(self.LABEL.fullmatch(label) for label in value.split("."))
        ):
            raise Invalid(self.description)
        return value


class Cron:
    description = "String must be a valid cron expression"

    def schema(self):
        return {"type": "string", "description": "5-field cron expression (UTC), or empty"}

    def clean(self, value):
        if not isinstance(value, str):
            raise Invalid(self.description)
        if value == "":
            return value
        expanded = expand_cron(value)
        if len(expanded.split()) != 5 or not croniter.is_valid(expanded):
            raise Invalid(self.description)
        return value


class Roles:
    def __init__(self, length=100):
        self.length = length
        self.description = "Roles Error"

    def schema(self):
        return {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": self.length,
            "description": "Roles: `any`, `guests`, `users`, `user:<id>`, `team:<id>`, "
            "`team:<id>/<role>`, `member:<id>`, `label:<label>` (`/verified`, `/unverified`)",
        }

    def clean(self, value):
        message = roles.validate_roles(value, self.length)
        if message:
            raise Invalid(message)
        return list(value)


class FunctionEvents:
    def __init__(self, length=100):
        self.length = length

    def schema(self):
        return {
            "type": "array",
            "items": {"type": "string"},
            "maxItems": self.length,
            "description": "Events such as `users.*.create` or `functions.*.executions.*.update`",
        }

    @property
    def description(self):
        return (
            f"Value must a valid array no longer than {self.length} items and Event is not valid."
        )

    def clean(self, value):
        if not isinstance(value, list) or len(value) > self.length:
            raise Invalid(self.description)
        for item in value:
            message = (
                events.validate_function_event(item)
                if isinstance(item, str)
                else "Event is not valid."
            )
            if message:
                raise Invalid(
                    f"Value must a valid array no longer than {self.length} items and {message}"
                )
        return list(value)


class Specification:
    @property
    def allowed(self):
        return [spec.slug for spec in specifications.CATALOGUE if specifications.is_enabled(spec)]

    @property
    def description(self):
        return "Specification must be one of: " + ", ".join(self.allowed)

    def schema(self):
        return {"type": "string", "enum": self.allowed}

    def clean(self, value):
        if not isinstance(value, str) or value not in self.allowed:
            raise Invalid(self.description)
        return value


class Headers:
    """Execution headers: an object, or an object encoded as a JSON string."""

    description = 'Invalid headers: Alphanumeric characters or hyphens only, cannot start with "x-appwrite", maximum 100 keys, and total size 16384.'
    NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
    # What an HTTP/1.1 field value may hold: tab, visible ASCII, space and obs-text (Latin-1).
    VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
    VALUE_MESSAGE = "Invalid headers: header values must be Latin-1 text without control characters (CR, LF, NUL, ...)."

    def schema(self):
        return {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "At most 100 headers: names of letters, digits and inner hyphens, "
            "not `x-appwrite-*`; Latin-1 values; under 16 KB in all",
        }

    def clean(self, value):
        if isinstance(value, str):
            try:
                value = load_json(value) if value.strip() else {}
            except ValueError:
                raise Invalid("Value must be a valid object.") from None
        if not isinstance(value, dict) or len(json.dumps(value)) > 65535:
            raise Invalid("Value must be a valid object.")
        return {str(k): "" if v is None else str(v) for k, v in value.items()}


def validate_execution_headers(headers):
    """Appwrite's Headers validator; returns the error message or None."""
    if len(headers) > 100:
        return Headers.description
    size = 0
    for name, value in headers.items():
        if not Headers.NAME.fullmatch(name) or name.startswith("x-appwrite-"):
            return Headers.description
        if not Headers.VALUE.fullmatch(value):
            return Headers.VALUE_MESSAGE
        size += len(name) + len(value)
    return Headers.description if size >= 16384 else None
