"""Unit tests of the Appwrite query language (functions_app/api/queries.py) on real rows."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from functions_app.api.queries import Attribute, run
from functions_app.errors import AppwriteError
from functions_app.models import Function, Project

SCHEMA = {
    "$id": Attribute("uid", "string"),
    "$createdAt": Attribute("created_at", "datetime"),
    "$updatedAt": Attribute("updated_at", "datetime"),
    "$sequence": Attribute("id", "integer"),
    "name": Attribute("name", "string"),
    "runtime": Attribute("runtime", "string"),
    "enabled": Attribute("enabled", "boolean"),
    "timeout": Attribute("timeout", "integer"),
    "schedule": Attribute("schedule", "string"),
    "events": Attribute("events", "string", array=True),
    "scheduleNext": Attribute("schedule_next", "datetime"),
}
BASE = datetime(2025, 1, 1, tzinfo=UTC)
PREFIX = "Invalid `queries` param: "


def q(method, attribute=None, values=None):
    data = {"method": method}
    if attribute is not None:
        data["attribute"] = attribute
    if values is not None:
        data["values"] = values
    return json.dumps(data, separators=(",", ":"))


@pytest.fixture
def functions(db):
    project = Project.objects.create(id="p1", name="P")
    rows = [
        ("alpha", "Alpha", "python-3.11", True, 10, ["users.*.create"]),
        ("beta", "Beta", "node-22", False, 20, []),
        ("gamma", "Gamma test", "python-3.12", True, 30, ["users.*.delete", "users.*.create"]),
        ("delta", "delta", "node-22", True, 20, []),
        ("epsilon", "Epsilon", "go-1.23", False, 5, []),
    ]
    for i, (uid, name, runtime, enabled, timeout, events) in enumerate(rows):
        Function.objects.create(
            project=project,
            uid=uid,
            name=name,
            runtime=runtime,
            enabled=enabled,
            timeout=timeout,
            events=events,
            created_at=BASE + timedelta(days=i),
        )
    return Function.objects.filter(project=project)


def uids(queryset, queries, **kwargs):
    items, total, _ = run(queryset, queries, SCHEMA, resource="Function", **kwargs)
    return [item.uid for item in items], total


def error(queryset, queries, **kwargs):
    with pytest.raises(AppwriteError) as info:
        run(queryset, queries, SCHEMA, resource="Function", **kwargs)
    return info.value.type, info.value.message


# --- results -------------------------------------------------------------------------------


def test_defaults(functions):
    assert uids(functions, []) == (["alpha", "beta", "gamma", "delta", "epsilon"], 5)
    assert uids(functions, None)[1] == 5


def test_equal_is_exact_and_or_of_values(functions):
    assert uids(functions, [q("equal", "name", ["Alpha", "Beta"])]) == (["alpha", "beta"], 2)
    assert uids(functions, [q("equal", "name", ["alpha"])]) == ([], 0)
    assert uids(functions, [q("equal", "enabled", [False])])[0] == ["beta", "epsilon"]
    assert uids(functions, [q("equal", "$id", ["gamma"])])[0] == ["gamma"]


def test_comparisons(functions):
    assert uids(functions, [q("notEqual", "runtime", ["node-22"])])[0] == [
        "alpha",
        "gamma",
        "epsilon",
    ]
    assert uids(functions, [q("greaterThan", "timeout", [10])])[0] == ["beta", "gamma", "delta"]
    assert uids(functions, [q("lessThanEqual", "timeout", [10])])[0] == ["alpha", "epsilon"]
    assert uids(functions, [q("between", "timeout", [10, 20])])[0] == ["alpha", "beta", "delta"]
    assert uids(functions, [q("notBetween", "timeout", [10, 20])])[0] == ["gamma", "epsilon"]
    assert uids(functions, [q("greaterThan", "$sequence", [functions[3].id])])[0] == ["epsilon"]


def test_strings(functions):
    assert uids(functions, [q("contains", "name", ["TEST", "eps"])])[0] == ["gamma", "epsilon"]
    assert uids(functions, [q("notContains", "name", ["a"])])[0] == ["epsilon"]
    assert uids(functions, [q("startsWith", "runtime", ["python"])])[0] == ["alpha", "gamma"]
    assert uids(functions, [q("notEndsWith", "runtime", ["22"])])[0] == [
        "alpha",
        "gamma",
        "epsilon",
    ]
    assert uids(functions, [q("isNull", "scheduleNext")])[1] == 5
    assert uids(functions, [q("isNotNull", "name")])[1] == 5


def test_arrays(functions):
    assert uids(functions, [q("contains", "events", ["users.*.create"])])[0] == ["alpha", "gamma"]
    assert uids(functions, [q("contains", "events", ["users.*.delete", "x"])])[0] == ["gamma"]
    assert uids(functions, [q("notContains", "events", ["users.*.create"])])[0] == [
        "beta",
        "delta",
        "epsilon",
    ]
    assert error(functions, [q("equal", "events", ["x"])])[1] == (
        PREFIX + 'Invalid query: Cannot query equal on attribute "events" because it is an array.'
    )


def test_datetimes(functions):
    created = [q("greaterThan", "$createdAt", ["2025-01-03T00:00:00.000+00:00"])]
    assert uids(functions, created)[0] == ["delta", "epsilon"]
    assert uids(functions, [q("lessThan", "$createdAt", ["2025-01-02"])])[0] == ["alpha"]
    between = [q("between", "$createdAt", ["2025-01-02T00:00:00", "2025-01-03T00:00:00+00:00"])]
    assert uids(functions, between)[0] == ["beta", "gamma"]


def test_and_or(functions):
    either = q(
        "or",
        values=[json.loads(q("equal", "name", ["Alpha"])), json.loads(q("equal", "timeout", [5]))],
    )
    assert uids(functions, [either])[0] == ["alpha", "epsilon"]
    both = q(
        "and",
        values=[json.loads(q("equal", "enabled", [True])), json.loads(q("equal", "timeout", [20]))],
    )
    assert uids(functions, [both])[0] == ["delta"]


def test_order_limit_offset(functions):
    assert uids(functions, [q("orderDesc", "timeout")])[0] == [
        "gamma",
        "beta",
        "delta",
        "alpha",
        "epsilon",
    ]
    assert uids(functions, [q("orderAsc", "runtime"), q("orderDesc", "name")])[0] == [
        "epsilon",
        "delta",
        "beta",
        "alpha",
        "gamma",
    ]
    assert uids(functions, [q("orderDesc")])[0] == ["epsilon", "delta", "gamma", "beta", "alpha"]
    assert uids(
        functions, [q("limit", values=[2]), q("offset", values=[1]), q("limit", values=[1])]
    ) == (["beta", "gamma"], 5)
    assert uids(functions, [q("limit", values=["3"])])[0] == ["alpha", "beta", "gamma"]
    assert len(uids(functions, [q("orderRandom")])[0]) == 5


def test_cursors(functions):
    order = [q("orderDesc", "timeout")]  # gamma beta delta alpha epsilon
    assert uids(functions, [*order, q("cursorAfter", values=["beta"])])[0] == [
        "delta",
        "alpha",
        "epsilon",
    ]
    assert uids(functions, [*order, q("cursorBefore", values=["alpha"]), q("limit", values=[2])])[
        0
    ] == ["beta", "delta"]
    assert uids(functions, [q("cursorAfter", values=["gamma"]), q("limit", values=[1])]) == (
        ["delta"],
        5,
    )
    assert uids(functions, [q("cursorBefore", values=["gamma"])])[0] == ["alpha", "beta"]
    assert error(functions, [q("cursorAfter", values=["nope"])]) == (
        "general_cursor_not_found",
        "Function 'nope' for the 'cursor' value not found.",
    )


def test_cursor_with_null_order_value(functions):
    queries = [q("orderAsc", "scheduleNext"), q("cursorAfter", values=["alpha"])]
    assert error(functions, queries) == (
        "database_query_order_null",
        (
            "The order attribute 'scheduleNext' had a null value. Cursor pagination requires all "
            "documents order attribute values are non-null."
        ),
    )


def test_search_param(functions):
    assert uids(functions, [], search="python")[0] == ["alpha", "gamma"]
    assert uids(functions, [], search="beta node-22") == (["beta", "delta"], 2)
    assert uids(functions, [], search='"gamma test"')[0] == ["gamma"]
    assert uids(functions, [], search="***") == ([], 0)
    assert uids(functions, [], search="python", search_field=None)[1] == 5


def test_total(functions):
    assert uids(functions, [q("limit", values=[1])], count_total=False) == (["alpha"], 0)


def test_select(functions):
    _, _, selected = run(
        functions,
        [q("select", values=["name", "$id"])],
        SCHEMA,
        resource="Function",
        allow_select=True,
    )
    assert selected == ["name", "$id"]
    assert error(functions, [q("select", values=["name"])]) == (
        "general_argument_invalid",
        PREFIX + "Invalid query method: select",
    )
    kwargs = {"allow_select": True}
    assert (
        error(functions, [q("select", values=["x"])], **kwargs)[1]
        == PREFIX + "Invalid query: Attribute not found in schema: x"
    )
    assert (
        error(functions, [q("select", values=[])], **kwargs)[1]
        == PREFIX + "Invalid query: No attributes selected"
    )
    assert (
        error(functions, [q("select", values=["a", "a"])], **kwargs)[1]
        == PREFIX + "Invalid query: Duplicate attributes selected"
    )


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("nope", "Queries must be an array"),
        (["{"], "Invalid query: Invalid query: Syntax error"),
        ([""], "Invalid query: Invalid query: Syntax error"),
        (["5"], "Invalid query: Invalid query. Must be an array, got integer"),
        (['"x"'], "Invalid query: Invalid query. Must be an array, got string"),
        (["null"], "Invalid query: Invalid query. Must be an array, got NULL"),
        (
            ['{"method":["equal"]}'],
            "Invalid query: Invalid query method. Must be a string, got array",
        ),
        (
            ['{"method":"equal","attribute":1,"values":["x"]}'],
            "Invalid query: Invalid query attribute. Must be a string, got integer",
        ),
        (
            ['{"method":"equal","attribute":"name","values":"x"}'],
            "Invalid query: Invalid query values. Must be an array, got string",
        ),
        ([q("regex", "name", ["x"])], "Invalid query: Invalid query method: regex"),
        ([q("containsAny", "name", ["x"])], "Invalid query: Invalid query method: containsAny"),
        ([q("exists", values=["name"])], "Invalid query: Invalid query method: exists"),
        (["{}"], "Invalid query: Invalid query method: "),
        ([q("equal", "nope", ["x"])], "Invalid query: Attribute not found in schema: nope"),
        (
            [q("equal", "name.first", ["x"])],
            "Invalid query: Cannot query nested attribute on: name",
        ),
        ([q("equal", "name", [])], "Invalid query: Equal queries require at least one value."),
        ([q("contains", "name")], "Invalid query: Contains queries require at least one value."),
        (
            [q("notEqual", "name", ["a", "b"])],
            "Invalid query: NotEqual queries require exactly one value.",
        ),
        (
            [q("between", "timeout", [1])],
            "Invalid query: Between queries require exactly two values.",
        ),
        (
            [q("equal", "timeout", ["5"])],
            'Invalid query: Query value is invalid for attribute "timeout"',
        ),
        (
            [q("equal", "timeout", [True])],
            'Invalid query: Query value is invalid for attribute "timeout"',
        ),
        (
            [q("equal", "enabled", [1])],
            'Invalid query: Query value is invalid for attribute "enabled"',
        ),
        ([q("equal", "name", [5])], 'Invalid query: Query value is invalid for attribute "name"'),
        (
            [q("equal", "$createdAt", ["yesterday-ish"])],
            'Invalid query: Query value is invalid for attribute "$createdAt"',
        ),
        (
            [q("contains", "timeout", [5])],
            'Invalid query: Cannot query contains on attribute "timeout" because it is not an array or string.',
        ),
        (
            [q("or", values=[json.loads(q("equal", "name", ["x"]))])],
            "Invalid query: Or queries require at least two queries",
        ),
        (
            [
                q(
                    "and",
                    values=[
                        json.loads(q("equal", "name", ["x"])),
                        json.loads(q("limit", values=[1])),
                    ],
                )
            ],
            "Invalid query: And queries can only contain filter queries",
        ),
        (
            [q("or", values=[q("equal", "name", ["x"]), q("equal", "name", ["y"])])],
            "Invalid query: Utopia\\Database\\Query::parseQuery(): Argument #1 ($query) must be of type array, string given",
        ),
        (
            [
                q(
                    "or",
                    values=[
                        json.loads(q("equal", "nope", ["x"])),
                        json.loads(q("equal", "name", ["y"])),
                    ],
                )
            ],
            "Invalid query: Attribute not found in schema: nope",
        ),
        ([q("orderAsc", "nope")], "Invalid query: Attribute not found in schema: nope"),
        (
            [q("limit", values=[0])],
            "Invalid query: Invalid limit: Value must be a valid range between 1 and 9,223,372,036,854,775,807",
        ),
        ([q("limit", values=["x"])], "Invalid query: Invalid limit: Value must be a valid number"),
        (
            [q("limit", values=[2.5])],
            "Invalid query: Invalid limit: Value must be a valid range between 1 and 9,223,372,036,854,775,807",
        ),
        ([q("limit")], "Invalid query: Invalid limit: Value must be a valid number"),
        (
            [q("offset", values=[-1])],
            "Invalid query: Invalid offset: Value must be a valid range between 0 and 9,223,372,036,854,775,807",
        ),
        ([q("offset", values=["x"])], "Invalid query: Invalid limit: Value must be a valid number"),
        (
            [q("cursorAfter", values=["bad id!"])],
            "Invalid query: Invalid cursor: UID must contain at most 36 chars. "
            "Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore",
        ),
        (
            [q("cursorAfter")],
            "Invalid query: Invalid cursor: UID must contain at most 36 chars. "
            "Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore",
        ),
        (
            [q("intersects", "name", [[1, 2]])],
            'Invalid query: Spatial query "intersects" cannot be applied on non-spatial attribute: name',
        ),
        (
            [q("limit", values=[1]), q("equal", "nope", ["x"])],
            "Invalid query: Attribute not found in schema: nope",
        ),
    ],
)
def test_param_errors(functions, queries, message):
    assert error(functions, queries) == ("general_argument_invalid", PREFIX + message)


def test_param_name(functions):
    assert error(functions, "x", param="q")[1] == "Invalid `q` param: Queries must be an array"


def test_database_errors(functions):
    assert error(functions, [q("search", "name", ["x"])]) == (
        "general_query_invalid",
        'Searching by attribute "name" requires a fulltext index.',
    )
    assert error(functions, [q("equal", "name", [str(i) for i in range(501)])]) == (
        "general_query_invalid",
        "Invalid query: Query on attribute has greater than 500 values: name",
    )
    assert error(functions, [q("equal", "name", [str(i) for i in range(5001)])])[1] == (
        PREFIX + "Invalid query: Query on attribute has greater than 5000 values: name"
    )


def test_datetimes_compare_in_milliseconds(functions):
    functions.filter(uid="alpha").update(created_at=BASE + timedelta(microseconds=500))
    shown = "2025-01-01T00:00:00.000+00:00"  # what a response shows for alpha
    assert uids(functions, [q("equal", "$createdAt", [shown])])[0] == ["alpha"]
    assert uids(functions, [q("greaterThan", "$createdAt", [shown])])[0] == [
        "beta",
        "gamma",
        "delta",
        "epsilon",
    ]
    assert uids(functions, [q("lessThanEqual", "$createdAt", [shown])])[0] == ["alpha"]
    assert uids(functions, [q("notEqual", "$createdAt", [shown])])[1] == 4


def test_cursor_with_offset(functions):
    assert uids(
        functions,
        [q("cursorAfter", values=["alpha"]), q("offset", values=[1]), q("limit", values=[2])],
    )[0] == ["gamma", "delta"]
    assert uids(
        functions,
        [q("cursorBefore", values=["epsilon"]), q("offset", values=[1]), q("limit", values=[2])],
    )[0] == ["beta", "gamma"]
