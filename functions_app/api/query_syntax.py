"""The syntax half of the Appwrite 1.8 query language: ``Query::parse`` and the ``queries``
param validator (``Validator\\Queries`` with ``Limit``, ``Offset``, ``Cursor``, ``Filter``, ``Order``
and ``Select``), with utopia-php/database 2.3.x's exact messages. ``queries.run`` applies the
validated queries to a queryset."""

import json
import re
from collections import namedtuple
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .rendering import DEPTH_ERROR, SURROGATE_ERROR, check_json_value

DEFAULT_LIMIT = 25
COUNT_CAP = 5000  # APP_LIMIT_COUNT
PARAM_MAX_VALUES = 5000  # Filter validator default the Appwrite validator ends up with
DB_MAX_VALUES = 500  # APP_DATABASE_QUERY_MAX_VALUES, enforced again by Database::find
INT64_MAX = 2**63 - 1
PHP_INT_MAX_TEXT = "9,223,372,036,854,775,807"  # number_format(PHP_INT_MAX)

UID_DESCRIPTION = "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore"
UID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")
PHP_INT_RE = re.compile(r"[ \t\n\r\v\f]*[+-]?[0-9]+[ \t\n\r\v\f]*")
PHP_NUMERIC_RE = re.compile(
    r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\v\f]*"
)
SEARCH_SPECIALS = re.compile(r'[@+\-*()<>~"]')
# Database::INTERNAL_ATTRIBUTES: always selectable.
INTERNAL_KEYS = frozenset(
    {"$id", "$sequence", "$collection", "$tenant", "$createdAt", "$updatedAt", "$permissions"}
)

LOGICAL = frozenset({"and", "or"})
AT_LEAST_ONE = frozenset({"equal", "contains", "notContains"})
EXACTLY_ONE = frozenset(
    {
        "notEqual",
        "lessThan",
        "lessThanEqual",
        "greaterThan",
        "greaterThanEqual",
        "search",
        "notSearch",
        "startsWith",
        "notStartsWith",
        "endsWith",
        "notEndsWith",
    }
)
EXACTLY_TWO = frozenset({"between", "notBetween"})
NULL_CHECKS = frozenset({"isNull", "isNotNull"})  # no value count rule
DISTANCE = frozenset(
    {"distanceEqual", "distanceNotEqual", "distanceGreaterThan", "distanceLessThan"}
)
SPATIAL = DISTANCE | {
    "crosses",
    "notCrosses",
    "intersects",
    "notIntersects",
    "overlaps",
    "notOverlaps",
    "touches",
    "notTouches",
}
SEARCHES = frozenset({"search", "notSearch"})
ARRAY_METHODS = frozenset({"contains", "notContains", "isNull", "isNotNull"})
METHOD_TYPES = {
    "select": "select",
    "limit": "limit",
    "offset": "offset",
    "cursorAfter": "cursor",
    "cursorBefore": "cursor",
    "orderAsc": "order",
    "orderDesc": "order",
    "orderRandom": "order",
}
FILTER_METHODS = LOGICAL | AT_LEAST_ONE | EXACTLY_ONE | EXACTLY_TWO | NULL_CHECKS | SPATIAL
KNOWN_METHODS = FILTER_METHODS | METHOD_TYPES.keys()  # Query::isMethod in 2.3.x


@dataclass(frozen=True)
class Attribute:
    field: str  # ORM lookup path, e.g. "uid", "deployment_uid", "created_at"
    type: str  # "string" | "integer" | "float" | "boolean" | "datetime"
    array: bool = False  # JSON list field -> only contains/notContains/isNull/isNotNull
    fulltext: bool = False  # has a fulltext index: search/notSearch queries allowed


_Query = namedtuple("_Query", "method attribute values")


@dataclass
class Plan:
    filters: list
    orders: list
    limit: object = None
    offset: object = None
    cursor: tuple | None = None
    selected: list | None = None


Order = namedtuple("Order", "name field desc")


class Invalid(Exception):
    """A failure of the ``queries`` param validator; ``args[0]`` is its description."""


class _ParseError(Exception):
    """A ``Query::parse`` failure (a QueryException or a PHP TypeError)."""


# --- PHP look-alikes ---------------------------------------------------------------------
def _is_php_int(value):
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -INT64_MAX - 1 <= value <= INT64_MAX
    )


def _php_gettype(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "integer" if _is_php_int(value) else "double"
    return "string" if isinstance(value, str) else "array"


def _php_type_name(value):
    """The type name PHP's TypeError messages use."""
    names = {"NULL": "null", "boolean": "bool", "integer": "int", "double": "float"}
    return names.get(_php_gettype(value), _php_gettype(value))


def _ucfirst(text):
    return text[:1].upper() + text[1:]


def _php_string(value):
    """Coercion of a scalar to a ``string`` parameter (non-strict PHP)."""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    raise _ParseError(
        f"Utopia\\Database\\Query::parse(): Argument #1 ($query) must be of type string, {_php_type_name(value)} given"
    )


def _reject_constant(name):
    raise ValueError(name)


def _json_error(exc):
    """PHP's json_last_error_msg() for the failure Python reported."""
    if isinstance(exc, RecursionError):
        return DEPTH_ERROR
    if str(exc) in (DEPTH_ERROR, SURROGATE_ERROR):
        return str(exc)
    if str(exc).startswith("Invalid control character"):
        return "Control character error, possibly incorrectly encoded"
    return "Syntax error"


# --- Query::parse ------------------------------------------------------------------------
def _parse(raw):
    text = raw if isinstance(raw, str) else _php_string(raw)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
        check_json_value(data)
    except (ValueError, RecursionError) as exc:
        raise _ParseError(f"Invalid query: {_json_error(exc)}") from None
    if not isinstance(data, dict | list):
        raise _ParseError(f"Invalid query. Must be an array, got {_php_gettype(data)}")
    return _parse_query(data)


def _field(data, key, default):
    value = data.get(key) if isinstance(data, dict) else None
    return default if value is None else value


def _parse_query(data):
    method, attribute, values = (
        _field(data, "method", ""),
        _field(data, "attribute", ""),
        _field(data, "values", []),
    )
    if not isinstance(method, str):
        raise _ParseError(f"Invalid query method. Must be a string, got {_php_gettype(method)}")
    if method not in KNOWN_METHODS:
        raise _ParseError(f"Invalid query method: {method}")
    if not isinstance(attribute, str):
        raise _ParseError(
            f"Invalid query attribute. Must be a string, got {_php_gettype(attribute)}"
        )
    if not isinstance(values, list | dict):
        raise _ParseError(f"Invalid query values. Must be an array, got {_php_gettype(values)}")
    values = list(values.values()) if isinstance(values, dict) else values
    if method in LOGICAL:
        values = [_parse_nested(value) for value in values]
    if attribute == "" and method in ("orderAsc", "orderDesc"):
        attribute = "$sequence"
    return _Query(method, attribute, values)


def _parse_nested(value):
    if isinstance(value, dict | list):
        return _parse_query(value)
    raise _ParseError(
        f"Utopia\\Database\\Query::parseQuery(): Argument #1 ($query) must be of type array, {_php_type_name(value)} given"
    )


# --- the queries param validator (Validator\Queries and Validator\Query\*) ---------------
def as_list(raw_queries):
    if raw_queries is None:
        return []
    if isinstance(raw_queries, dict):
        return list(raw_queries.values())
    if isinstance(raw_queries, list | tuple):
        return list(raw_queries)
    raise Invalid("Queries must be an array")


def validate_all(raw_queries, ctx):
    parsed = []
    for raw in raw_queries:
        query = raw if isinstance(raw, _Query) else _parse_or_invalid(raw)
        if query.method in LOGICAL:
            validate_all(query.values, ctx)
        _validate_one(query, ctx)
        parsed.append(query)
    return parsed


def _parse_or_invalid(raw):
    try:
        return _parse(raw)
    except _ParseError as exc:
        raise Invalid(f"Invalid query: {exc}") from None


def _validate_one(query, ctx):
    validator = ctx.validators.get(METHOD_TYPES.get(query.method, "filter"))
    if validator is None:
        raise Invalid(f"Invalid query method: {query.method}")
    message = validator(query, ctx)
    if message:
        raise Invalid(f"Invalid query: {message}")


def _check_limit(query, ctx):
    return _check_range(query.values, 1, "Invalid limit: ", "Invalid limit: ")


def _check_offset(query, ctx):
    # Sic: utopia's Offset validator reports a non-numeric offset as "Invalid limit".
    return _check_range(query.values, 0, "Invalid limit: ", "Invalid offset: ")


def _check_range(values, minimum, numeric_prefix, range_prefix):
    value = values[0] if values else None
    if not _php_is_numeric(value):
        return numeric_prefix + "Value must be a valid number"
    if php_int_value(value) is None or php_int_value(value) < minimum:
        return f"{range_prefix}Value must be a valid range between {minimum} and {PHP_INT_MAX_TEXT}"
    return None


def _php_is_numeric(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and PHP_NUMERIC_RE.fullmatch(value) is not None


def php_int_value(value):
    """``$value + 0`` when that is a PHP int within range, else None."""
    if isinstance(value, str) and PHP_INT_RE.fullmatch(value):
        value = int(value)
    return value if _is_php_int(value) else None


def _check_cursor(query, ctx):
    value = query.values[0] if query.values else None
    return None if _is_uid(value) else f"Invalid cursor: {UID_DESCRIPTION}"


def _is_uid(value):
    return isinstance(value, str) and UID_RE.fullmatch(value) is not None


def _check_order(query, ctx):
    if query.method == "orderRandom":
        return None
    return _attribute_error(query.attribute, ctx.schema, "Cannot order by nested attribute: ")


def _attribute_error(attribute, schema, nested_message):
    if "." in attribute and attribute not in schema:
        attribute = attribute.split(".")[0]
        if attribute in schema:
            return nested_message + attribute
    return None if attribute in schema else f"Attribute not found in schema: {attribute}"


def _check_select(query, ctx):
    values = query.values
    if not values:
        return "No attributes selected"
    if len({json.dumps(value) for value in values}) != len(values):
        return "Duplicate attributes selected"
    for name in map(str, values):
        top = name.split(".")[0] if "." in name and name not in ctx.selectable else name
        if top not in INTERNAL_KEYS and top != "*" and top not in ctx.selectable:
            return f"Attribute not found in schema: {top}"
    return None


def _check_filter(query, ctx):
    method, values = query.method, query.values
    if method in LOGICAL:
        return _check_logical(query)
    message = _count_error(method, values)
    return message or _check_attribute_values(query.attribute, values, method, ctx)


def _count_error(method, values):
    name = _ucfirst(method)
    if method in AT_LEAST_ONE | (SPATIAL - DISTANCE) and _is_empty(values):
        return f"{name} queries require at least one value."
    if method in EXACTLY_ONE and len(values) != 1:
        return f"{name} queries require exactly one value."
    if method in EXACTLY_TWO and len(values) != 2:
        return f"{name} queries require exactly two values."
    if method in DISTANCE and not (
        len(values) == 1 and isinstance(values[0], list) and len(values[0]) == 3
    ):
        return "Distance query requires [[geometry, distance]] parameters"
    return None


def _is_empty(values):
    return not values or (isinstance(values[0], list | dict) and not values[0])


def _check_logical(query):
    filters = [
        value for value in query.values if METHOD_TYPES.get(value.method, "filter") == "filter"
    ]
    if len(filters) != len(query.values):
        return f"{_ucfirst(query.method)} queries can only contain filter queries"
    if len(filters) < 2:
        return f"{_ucfirst(query.method)} queries require at least two queries"
    return None


def _check_attribute_values(attribute, values, method, ctx):
    message = _attribute_error(attribute, ctx.schema, "Cannot query nested attribute on: ")
    if message:
        return message
    spec = ctx.schema[attribute]
    if len(values) > PARAM_MAX_VALUES:
        return f"Query on attribute has greater than {PARAM_MAX_VALUES} values: {attribute}"
    if method in SPATIAL:
        return f'Spatial query "{method}" cannot be applied on non-spatial attribute: {attribute}'
    if not all(VALUE_CHECKS[spec.type](value) for value in values):
        return f'Query value is invalid for attribute "{attribute}"'
    return _shape_error(attribute, spec, method)


def _shape_error(attribute, spec, method):
    if not spec.array and method in ("contains", "notContains") and spec.type != "string":
        return f'Cannot query {method} on attribute "{attribute}" because it is not an array or string.'
    if spec.array and method not in ARRAY_METHODS:
        return f'Cannot query {method} on attribute "{attribute}" because it is an array.'
    return None


VALUE_CHECKS = {
    "string": lambda value: isinstance(value, str),  # Text(0, 0)
    "integer": _is_php_int,  # Integer(), strict
    "float": lambda value: (
        isinstance(value, int | float) and not isinstance(value, bool)
    ),  # FloatValidator()
    "boolean": lambda value: isinstance(value, bool),  # Boolean(), strict
    "datetime": lambda value: parse_query_datetime(value) is not None,  # Validator\Datetime
}


def parse_query_datetime(value):
    """An aware datetime for an ISO 8601 date or date-time string (naive means UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_datetime(value) or _midnight(parse_date(value))
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _midnight(day):
    return datetime.combine(day, time.min) if day else None


class Context:
    def __init__(self, schema, allow_select, selectable):
        self.schema = schema
        self.selectable = frozenset(schema if selectable is None else selectable)
        self.validators = {
            "limit": _check_limit,
            "offset": _check_offset,
            "cursor": _check_cursor,
            "filter": _check_filter,
            "order": _check_order,
        }
        self.validators.update({"select": _check_select} if allow_select else {})
