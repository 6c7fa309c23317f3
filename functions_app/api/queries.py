"""Appwrite 1.8 query language over Django querysets.

Mirrors Appwrite 1.8.0 with its locked utopia-php/database 2.3.x: the ``queries`` param validator
(``Validator\\Queries`` with the ``Limit``, ``Offset``, ``Cursor``, ``Filter``, ``Order`` and
optionally ``Select`` validators, and ``Query::parse``), the list action (cursor lookup), then
``Database::find`` (its own validation, cursor pagination, order-null check) and ``count``
(capped at ``APP_LIMIT_COUNT``). Messages are quoted from those sources, with the PHP helpers
they embed (``gettype``, ``ucfirst``, ``number_format``) reproduced. Documented choices:

* ``search`` param: ``@ + - * ( ) < > ~ "`` become spaces and whitespace collapses (MariaDB's
  ``getFulltextValue``); a term wrapped in ``"…"`` is one phrase, otherwise the words are OR-ed.
  Each word/phrase is a case-insensitive substring match on ``search_field``. A term with no word
  left (``***``) matches nothing, like MariaDB's ``AGAINST('')``; ``search_field=None`` ignores it.
* ``search``/``notSearch`` queries on an attribute without ``fulltext=True`` fail as
  ``Database::find`` does: 400 ``general_query_invalid``.
* ``orderRandom`` orders randomly; with it a cursor is looked up but does not position the page.
* Datetimes compare in millisecond slots (Appwrite's precision); naive values are UTC.
"""

import json
import operator
from datetime import UTC, datetime, timedelta
from functools import reduce

from django.db.models import F, Q
from django.db.models.functions import Random

from ..errors import AppwriteError, param_invalid
from ..models.text import without_nul
from .query_syntax import (
    COUNT_CAP,
    DB_MAX_VALUES,
    DEFAULT_LIMIT,
    INT64_MAX,
    LOGICAL,
    METHOD_TYPES,
    SEARCH_SPECIALS,
    SEARCHES,
    Attribute,
    Context,
    Invalid,
    Order,
    Plan,
    as_list,
    parse_query_datetime,
    php_int_value,
    validate_all,
)


# --- Query::groupByType, the action and Database::find ------------------------------------
def _group(queries):
    plan = Plan(filters=[], orders=[])
    for query in queries:
        kind = METHOD_TYPES.get(query.method, "filter")
        if kind in ("limit", "offset") and getattr(plan, kind) is None:
            setattr(plan, kind, query.values[0])
        elif kind == "cursor" and plan.cursor is None:
            plan.cursor = query
        elif kind == "select":
            plan.selected = list(dict.fromkeys([*(plan.selected or []), *query.values]))
        elif kind in ("order", "filter"):
            (plan.orders if kind == "order" else plan.filters).append(query)
    return plan


def _find_cursor(queryset, cursor, schema, resource):
    """The cursor document's pk (the list action's ``getDocument``)."""
    if cursor is None:
        return None
    value = cursor.values[0]
    id_field = schema["$id"].field if "$id" in schema else "uid"
    pk = queryset.filter(**{id_field: value}).values_list("pk", flat=True).first()
    if pk is None:
        raise AppwriteError(
            "general_cursor_not_found", f"{resource} '{value}' for the 'cursor' value not found."
        )
    return pk


def _walk(filters):
    for query in filters:
        if query.method in LOGICAL:
            yield from _walk(query.values)
        else:
            yield query


def _check_database_rules(filters, schema):
    """What ``Database::find`` validates again with its own limits and indexes."""
    for query in _walk(filters):
        if len(query.values) > DB_MAX_VALUES:
            message = f"Invalid query: Query on attribute has greater than {DB_MAX_VALUES} values: {query.attribute}"
            raise AppwriteError("general_query_invalid", message)
    for query in _walk(filters):
        if query.method in SEARCHES and not schema[query.attribute].fulltext:
            message = f'Searching by attribute "{query.attribute}" requires a fulltext index.'
            raise AppwriteError("general_query_invalid", message)


# --- filters as Q objects ------------------------------------------------------------------
def _lookup(field, lookup, value):
    # Stored text never holds NUL (PostgreSQL cannot; see models/text.py), and PostgreSQL
    # refuses it in a query too: a value compares as it would have been stored.
    return Q(**{f"{field}__{lookup}": without_nul(value)})


def _negate(q, field):
    """SQL ``NOT`` semantics: rows whose value is NULL match neither a filter nor its negation."""
    return ~q & _lookup(field, "isnull", False)


def _any(field, lookup, values):
    return reduce(operator.or_, (_lookup(field, lookup, value) for value in values))


def _search_q(field, term):
    exact = term.startswith('"') and term.endswith('"')
    text = " ".join(SEARCH_SPECIALS.sub(" ", term).split())
    if not text:
        return Q(pk__in=[])
    return _any(field, "icontains", [text] if exact else text.split(" "))


BUILDERS = {
    "equal": lambda f, v: _lookup(f, "in", v),
    "notEqual": lambda f, v: _negate(_lookup(f, "exact", v[0]), f),
    "lessThan": lambda f, v: _lookup(f, "lt", v[0]),
    "lessThanEqual": lambda f, v: _lookup(f, "lte", v[0]),
    "greaterThan": lambda f, v: _lookup(f, "gt", v[0]),
    "greaterThanEqual": lambda f, v: _lookup(f, "gte", v[0]),
    "between": lambda f, v: _lookup(f, "gte", v[0]) & _lookup(f, "lte", v[1]),
    "notBetween": lambda f, v: _lookup(f, "lt", v[0]) | _lookup(f, "gt", v[1]),
    "startsWith": lambda f, v: _lookup(f, "istartswith", v[0]),
    "notStartsWith": lambda f, v: _negate(_lookup(f, "istartswith", v[0]), f),
    "endsWith": lambda f, v: _lookup(f, "iendswith", v[0]),
    "notEndsWith": lambda f, v: _negate(_lookup(f, "iendswith", v[0]), f),
    "contains": lambda f, v: _any(f, "icontains", v),
    "notContains": lambda f, v: _negate(_any(f, "icontains", v), f),
    "search": lambda f, v: _search_q(f, v[0]),
    "notSearch": lambda f, v: _negate(_search_q(f, v[0]), f),
    "isNull": lambda f, v: _lookup(f, "isnull", True),
    "isNotNull": lambda f, v: _lookup(f, "isnull", False),
}


MS = timedelta(milliseconds=1)
EARLIEST, LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)


def _next_ms(moment):
    """The next millisecond slot; the last one (9999-12-31T23:59:59.999) has none after it."""
    return moment + MS if moment <= LATEST - MS else LATEST


# Appwrite keeps datetimes to the millisecond (and shows them so): compare against millisecond
# slots, so that a value read back from a response matches the row it came from.
DATETIME_BUILDERS = {
    "equal": lambda f, v: reduce(
        operator.or_, (_lookup(f, "gte", x) & _lookup(f, "lt", _next_ms(x)) for x in v)
    ),
    "notEqual": lambda f, v: _negate(_lookup(f, "gte", v[0]) & _lookup(f, "lt", _next_ms(v[0])), f),
    "lessThanEqual": lambda f, v: _lookup(f, "lt", _next_ms(v[0])),
    "greaterThan": lambda f, v: _lookup(f, "gte", _next_ms(v[0])),
    "between": lambda f, v: _lookup(f, "gte", v[0]) & _lookup(f, "lt", _next_ms(v[1])),
    "notBetween": lambda f, v: _lookup(f, "lt", v[0]) | _lookup(f, "gte", _next_ms(v[1])),
}


def _datetime_value(value):
    """In UTC, to the millisecond. A moment outside UTC's calendar (year 1 at +14:00, year 9999
    at -12:00) is its first or last instant: every engine can compare those (SQLite stores UTC
    text and failed on them)."""
    parsed = parse_query_datetime(value)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        parsed = EARLIEST if parsed.year == 1 else LATEST
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _filter_q(query, schema, queryset):
    if query.method in LOGICAL:
        combine = operator.and_ if query.method == "and" else operator.or_
        return reduce(combine, (_filter_q(value, schema, queryset) for value in query.values))
    spec = schema[query.attribute]
    if spec.array and query.method in ("contains", "notContains"):
        return _array_q(query.method, spec.field, query.values, queryset)
    if spec.type == "datetime":
        values = [_datetime_value(value) for value in query.values]
        return DATETIME_BUILDERS.get(query.method, BUILDERS[query.method])(spec.field, values)
    return BUILDERS[query.method](spec.field, query.values)


def _array_q(method, field, values, queryset):
    """Element overlap on a JSON list, evaluated in Python so it works on every backend."""
    wanted = [json.dumps(value) for value in values]
    rows = queryset.exclude(**{f"{field}__isnull": True}).values_list("pk", field)
    pks = [pk for pk, items in rows if any(json.dumps(item) in wanted for item in items or [])]
    return Q(pk__in=pks) if method == "contains" else _negate(Q(pk__in=pks), field)


def _filters_q(filters, schema, queryset):
    return reduce(operator.and_, (_filter_q(query, schema, queryset) for query in filters), Q())


# --- ordering, cursor pagination, limit and offset ------------------------------------------
def _order_specs(orders, schema):
    specs = [
        Order("", None, False)
        if query.method == "orderRandom"
        else Order(query.attribute, schema[query.attribute].field, query.method == "orderDesc")
        for query in orders
    ]
    return [*specs, Order("$sequence", "pk", False)]  # ties are always resolved by sequence


def _order_by(specs, before):
    expressions = []
    for spec in specs:
        if spec.field is None:
            expressions.append(Random())
        elif spec.desc != before:
            expressions.append(F(spec.field).desc(nulls_last=True))
        else:
            expressions.append(F(spec.field).asc(nulls_first=True))
    return expressions


def _cursor_values(queryset, pk, specs):
    row = queryset.filter(pk=pk).values(*dict.fromkeys(spec.field for spec in specs)).get()
    for spec in specs:
        if row[spec.field] is None:
            message = (
                f"The order attribute '{spec.name}' had a null value. Cursor pagination requires "
                "all documents order attribute values are non-null."
            )
            raise AppwriteError("database_query_order_null", message)
    return [row[spec.field] for spec in specs]


def _cursor_q(specs, values, before):
    """Rows strictly after the cursor in the (possibly flipped) order: a row-value comparison."""
    clauses, equal = [], Q()
    for spec, value in zip(specs, values, strict=True):
        clauses.append(equal & _lookup(spec.field, "lt" if spec.desc != before else "gt", value))
        equal &= Q(**{spec.field: value})
    return reduce(operator.or_, clauses)


def _page(filtered, queryset, plan, specs, cursor_pk):
    before = plan.cursor is not None and plan.cursor.method == "cursorBefore"
    positioned = [spec for spec in specs if spec.field is not None]
    if cursor_pk is not None and len(positioned) == len(specs):
        filtered = filtered.filter(
            _cursor_q(specs, _cursor_values(queryset, cursor_pk, specs), before)
        )
    offset = 0 if plan.offset is None else php_int_value(plan.offset)
    limit = DEFAULT_LIMIT if plan.limit is None else php_int_value(plan.limit)
    items = list(
        filtered.order_by(*_order_by(specs, before))[offset : min(offset + limit, INT64_MAX)]
    )
    return items[::-1] if before else items


# --- entry point -----------------------------------------------------------------------------
def run(
    queryset,
    raw_queries,
    schema: dict[str, Attribute],
    *,
    resource: str,
    search: str | None = None,
    search_field: str | None = "search",
    allow_select: bool = False,
    count_total: bool = True,
    param: str = "queries",
    selectable=None,
) -> tuple[list, int, list[str] | None]:
    """Validate ``raw_queries`` (the JSON strings SDKs send) and apply them to ``queryset``.

    ``schema`` maps filterable/orderable public names to :class:`Attribute`; ``selectable``
    (default: the schema's names) is what ``select`` may name besides ``$``-internals.
    Returns ``(items, total, selected)``; ``total`` counts filters plus ``search``, capped at
    5000 (0 when ``count_total`` is false); ``selected`` is None without a ``select``.
    """
    ctx = Context(schema, allow_select, selectable)
    try:
        queries = validate_all(as_list(raw_queries), ctx)
    except Invalid as exc:
        raise param_invalid(param, exc.args[0]) from None
    plan = _group(queries)
    cursor_pk = _find_cursor(queryset, plan.cursor, schema, resource)
    _check_database_rules(plan.filters, schema)
    filtered = queryset.filter(_filters_q(plan.filters, schema, queryset))
    if search and search_field:
        filtered = filtered.filter(_search_q(search_field, search))
    specs = _order_specs(plan.orders, schema)
    items = _page(filtered, queryset, plan, specs, cursor_pk)
    total = filtered[:COUNT_CAP].count() if count_total else 0
    return items, total, plan.selected
