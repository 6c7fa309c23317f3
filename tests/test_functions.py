"""/v1/functions through the official SDK (every reply is validated by its pydantic models)."""

import re

import pytest
from appwrite.enums.runtime import Runtime
from appwrite.id import ID
from appwrite.query import Query

from functions_app.models import Function

from .helpers import expect_error, expect_raw_error

PY = Runtime.PYTHON_3_11
NODE = Runtime.NODE_18_0


def test_create_returns_the_full_model_with_defaults(functions):
    fn = functions.create("hello", "Hello", PY)
    assert fn.id == "hello" and fn.name == "Hello" and fn.runtime == "python-3.11"
    assert (fn.enabled, fn.live, fn.logging, fn.timeout) == (True, True, True, 15)
    assert (fn.execute, fn.events, fn.scopes, fn.vars) == ([], [], [], [])
    assert (fn.schedule, fn.entrypoint, fn.commands, fn.version) == ("", "", "", "v5")
    assert fn.specification == "s-1vcpu-512mb"
    assert fn.deploymentid == fn.latestdeploymentid == fn.latestdeploymentstatus == ""
    assert fn.deploymentcreatedat == ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", fn.createdat)


def test_create_with_every_field(functions):
    fn = functions.create(
        ID.unique(),
        "Full",
        NODE,
        execute=["any", "user:abc"],
        events=["users.*.create"],
        schedule="*/5 * * * *",
        timeout=120,
        enabled=False,
        logging=False,
        entrypoint="src/main.js",
        commands="npm install",
        scopes=["users.read"],
        specification="s-0.5vcpu-512mb",
    )
    assert re.fullmatch(r"[0-9a-f]{20}", fn.id)
    assert fn.execute == ["any", "user:abc"] and fn.events == ["users.*.create"]
    assert (fn.schedule, fn.timeout, fn.enabled, fn.logging) == ("*/5 * * * *", 120, False, False)
    assert (fn.entrypoint, fn.commands, fn.scopes) == ("src/main.js", "npm install", ["users.read"])
    assert functions.get(fn.id).specification == "s-0.5vcpu-512mb"


def test_duplicate_id_conflicts_and_changes_nothing(functions):
    functions.create("dup", "First", PY)
    expect_error(lambda: functions.create("dup", "Second", NODE), 409, "function_already_exists")
    assert functions.get("dup").name == "First"


BAD_CREATE = [
    (
        {"function_id": "_bad"},
        "Invalid `functionId` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
    ),
    ({"function_id": "x" * 37}, None),
    (
        {"name": "n" * 129},
        "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
    ),
    ({"name": ""}, None),
    (
        {"schedule": "not a cron"},
        "Invalid `schedule` param: String must be a valid cron expression",
    ),
    ({"schedule": "* * * *"}, None),
    ({"timeout": 0}, "Invalid `timeout` param: Value must be a valid range between 1 and 900"),
    ({"timeout": 901}, None),
    ({"specification": "s-64vcpu"}, None),
    ({"execute": [f"user:u{i}" for i in range(101)]}, None),
    ({"events": ["users.*.create"] * 101}, None),
    ({"events": ["nonsense.event"]}, None),
    ({"scopes": ["not.a.scope"]}, None),
]


@pytest.mark.parametrize(("override", "message"), BAD_CREATE)
def test_bad_create_input_is_rejected_exactly(functions, override, message):
    args = {"function_id": "ok", "name": "Name", "runtime": PY} | override
    expect_error(lambda: functions.create(**args), 400, "general_argument_invalid", message)
    assert Function.objects.count() == 0


def test_specification_error_lists_the_enabled_slugs(functions):
    error = expect_error(
        lambda: functions.create("s", "S", PY, specification="s-8vcpu-8gb"),
        400,
        "general_argument_invalid",
    )
    assert error.message.startswith(
        "Invalid `specification` param: Specification must be one of: s-0.5vcpu-512mb, s-1vcpu-512mb"
    )


def test_wrong_types_are_rejected(raw):
    cases = [
        (
            {"timeout": "soon"},
            "Invalid `timeout` param: Value must be a valid range between 1 and 900",
        ),
        ({"enabled": "yes"}, "Invalid `enabled` param: Value must be a valid boolean"),
        ({"logging": 1}, "Invalid `logging` param: Value must be a valid boolean"),
        (
            {"name": 42},
            "Invalid `name` param: Value must be a valid string and at least 1 chars and no longer than 128 chars",
        ),
        ({"execute": "any"}, None),
        ({"events": {"a": 1}}, None),
    ]
    for override, message in cases:
        body = {"functionId": "typed", "name": "Typed", "runtime": "python-3.11"} | override
        expect_raw_error(
            raw.post("/functions", json=body), 400, "general_argument_invalid", message
        )
    assert Function.objects.count() == 0


UID_RULE = "UID must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, and underscore. Can't start with a leading underscore"


def test_ids_with_a_trailing_newline_are_invalid(functions, raw):
    expect_raw_error(
        raw.post("/functions", json={"functionId": "fn\n", "name": "F", "runtime": "python-3.11"}),
        400,
        "general_argument_invalid",
        "Invalid `functionId` param: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
    )
    functions.create("fn", "F", PY)
    for path, param in [
        ("/functions/fn%0A", "functionId"),
        ("/functions/fn/executions/ex%0A", "executionId"),
        ("/functions/fn/deployments/dep%0A", "deploymentId"),
        ("/functions/fn/variables/var%0A", "variableId"),
        ("/project/variables/var%0A", "variableId"),
    ]:
        expect_raw_error(
            raw.get(path), 400, "general_argument_invalid", f"Invalid `{param}` param: {UID_RULE}"
        )
    for path in ("/functions/fn/deployment", "/functions/fn/deployments/duplicate"):
        expect_raw_error(
            raw.request(
                "PATCH" if path.endswith("deployment") else "POST",
                path,
                json={"deploymentId": "dep\n"},
            ),
            400,
            "general_argument_invalid",
            f"Invalid `deploymentId` param: {UID_RULE}",
        )
    assert list(Function.objects.values_list("uid", flat=True)) == ["fn"]


def test_missing_required_params(raw):
    expect_raw_error(
        raw.post("/functions", json={"name": "x", "runtime": "python-3.11"}),
        400,
        "general_argument_invalid",
        'Param "functionId" is not optional.',
    )
    expect_raw_error(
        raw.post("/functions", json={"functionId": "x", "runtime": "python-3.11"}),
        400,
        "general_argument_invalid",
        'Param "name" is not optional.',
    )
    expect_raw_error(
        raw.post("/functions", json={"functionId": "x", "name": "x"}),
        400,
        "general_argument_invalid",
        'Param "runtime" is not optional.',
    )


def test_unknown_and_unsupported_runtimes(raw):
    body = {"functionId": "rt", "name": "Runtime"}
    error = expect_raw_error(
        raw.post("/functions", json=body | {"runtime": "cobol-1"}), 400, "general_argument_invalid"
    )
    assert error["message"].startswith(
        "Invalid `runtime` param: Value must be one of (node-14.5, node-16.0, node-18.0,"
    )
    expect_raw_error(
        raw.post("/functions", json=body | {"runtime": "php-8.0"}),
        404,
        "function_runtime_unsupported",
        'Runtime "php-8.0" is not supported',
    )
    assert Function.objects.count() == 0


def test_vcs_rules(functions):
    expect_error(
        lambda: functions.create("v", "V", PY, installation_id="nope"),
        404,
        "installation_not_found",
    )
    expect_error(
        lambda: functions.create("v", "V", PY, provider_repository_id="repo"),
        400,
        "general_argument_invalid",
        'When connecting to VCS (Version Control System), you need to provide "installationId" and "providerBranch".',
    )


def test_get_and_not_found(functions):
    functions.create("getme", "Get me", PY)
    assert functions.get("getme").name == "Get me"
    expect_error(
        lambda: functions.get("missing"),
        404,
        "function_not_found",
        "Function with the requested ID could not be found.",
    )
    expect_error(lambda: functions.get("_bad"), 400, "general_argument_invalid")


def test_put_replaces_and_resets_omitted_fields(functions):
    functions.create(
        "upd",
        "Before",
        PY,
        execute=["any"],
        timeout=60,
        schedule="0 * * * *",
        entrypoint="main.py",
        commands="pip install x",
        scopes=["users.read"],
        logging=False,
    )
    fn = functions.update("upd", "Before")
    assert (fn.execute, fn.timeout, fn.schedule, fn.scopes, fn.logging) == ([], 15, "", [], True)
    assert fn.runtime == "python-3.11" and fn.entrypoint == "main.py"  # kept when left out
    assert fn.commands == "" and fn.live is False  # commands changed -> not live


def test_live_flips_with_configuration(functions):
    functions.create("live", "Live", PY, entrypoint="main.py")
    assert functions.update("live", "Renamed", entrypoint="main.py").live is False
    assert functions.update("live", "Renamed", entrypoint="main.py", timeout=30).live is True
    assert functions.update("live", "Renamed", runtime=NODE).live is False


def test_bad_update_changes_nothing(functions):
    functions.create("keep", "Keep", PY, timeout=42)
    expect_error(lambda: functions.update("keep", "K" * 200), 400, "general_argument_invalid")
    expect_error(
        lambda: functions.update("keep", "Keep", schedule="61 * * * *"),
        400,
        "general_argument_invalid",
    )
    expect_error(lambda: functions.update("nope", "Keep"), 404, "function_not_found")
    assert functions.get("keep").timeout == 42


def test_delete_removes_everything_under_it(functions, project):
    functions.create("gone", "Gone", PY)
    functions.create_variable("gone", "A", "1")
    functions.delete("gone")
    expect_error(lambda: functions.get("gone"), 404, "function_not_found")
    assert project.variables.count() == 0
    expect_error(lambda: functions.delete("gone"), 404, "function_not_found")


def test_list_queries_search_and_total(functions):
    for i, runtime in enumerate([PY, NODE, PY, NODE, PY]):
        functions.create(f"fn{i}", f"Function {i}", runtime, timeout=10 + i, enabled=i % 2 == 0)
    listed = functions.list()
    assert listed.total == 5 and [f.id for f in listed.functions] == [
        "fn0",
        "fn1",
        "fn2",
        "fn3",
        "fn4",
    ]
    node = functions.list([Query.equal("runtime", "node-18.0")])
    assert node.total == 2 and {f.id for f in node.functions} == {"fn1", "fn3"}
    page = functions.list([Query.limit(2), Query.offset(1), Query.order_desc("timeout")])
    assert page.total == 5 and [f.id for f in page.functions] == ["fn3", "fn2"]
    after = functions.list([Query.cursor_after("fn1"), Query.limit(2)])
    assert [f.id for f in after.functions] == ["fn2", "fn3"]
    enabled = functions.list([Query.equal("enabled", True), Query.greater_than("timeout", 10)])
    assert [f.id for f in enabled.functions] == ["fn2", "fn4"]
    assert functions.list(search="fn3").total == 1
    assert functions.list(total=False).total == 0


def test_a_long_valid_schedule_is_kept(functions):
    every = ",".join(str(minute) for minute in range(60))
    schedule = f"{every} {','.join(str(h) for h in range(24))} {','.join(str(d) for d in range(1, 32))} * *"
    assert len(schedule) > 256
    fn = functions.create("long", "Long", PY, schedule=schedule)
    assert fn.schedule == functions.get("long").schedule == schedule


def test_query_values_with_nul_match_what_was_stored(functions):
    """No stored text holds NUL (PostgreSQL cannot compare one): a value with NUL compares
    as it would have been stored, and matches no name the API accepted."""
    functions.create("fn", "Fn", PY)
    assert functions.list([Query.equal("name", "Fn\x00")]).total == 0
    assert functions.list([Query.starts_with("name", "F\x00")]).total == 0
    assert functions.list([Query.contains("name", ["\x00"])]).total == 0
    assert functions.list([Query.not_equal("name", "Fn\x00")]).total == 1
    assert functions.list([Query.equal("$id", "fn\x00")]).total == 0


def test_datetimes_at_the_ends_of_the_calendar(functions):
    """The last millisecond has no next one, and year 1 at +14:00 is before UTC's calendar: no
    500 on either engine (SQLite failed on the second, both on the first)."""
    functions.create("fn", "Fn", PY)
    last, first = "9999-12-31T23:59:59.999+00:00", "0001-01-01T00:00:00.000+14:00"
    assert functions.list([Query.greater_than("$createdAt", last)]).total == 0
    assert functions.list([Query.less_than_equal("$createdAt", last)]).total == 1
    assert functions.list([Query.equal("$createdAt", last)]).total == 0
    assert functions.list([Query.less_than("$createdAt", first)]).total == 0
    assert functions.list([Query.greater_than("$createdAt", first)]).total == 1
    late = "9999-12-31T23:00:00.000-12:00"  # after UTC's calendar
    assert functions.list([Query.between("$createdAt", first, late)]).total == 1


def test_bad_queries(functions):
    functions.create("q", "Q", PY)
    expect_error(lambda: functions.list(["not json"]), 400, "general_argument_invalid")
    expect_error(
        lambda: functions.list([Query.equal("secret", "x")]),
        400,
        "general_argument_invalid",
        "Invalid `queries` param: Invalid query: Attribute not found in schema: secret",
    )
    expect_error(
        lambda: functions.list([Query.equal("timeout", "ten")]), 400, "general_argument_invalid"
    )
    expect_error(
        lambda: functions.list([Query.cursor_after("nothere")]), 400, "general_cursor_not_found"
    )
    expect_error(lambda: functions.list(search=""), 400, "general_argument_invalid")


def test_another_project_cannot_touch_our_functions(functions, outsider_functions):
    functions.create("mine", "Mine", PY)
    expect_error(lambda: outsider_functions.get("mine"), 404, "function_not_found")
    expect_error(lambda: outsider_functions.update("mine", "Stolen"), 404, "function_not_found")
    expect_error(lambda: outsider_functions.delete("mine"), 404, "function_not_found")
    expect_error(
        lambda: outsider_functions.create_variable("mine", "K", "v"), 404, "function_not_found"
    )
    assert outsider_functions.list().total == 0
    assert functions.get("mine").name == "Mine"
    outsider_functions.create("mine", "Theirs", PY)  # same ID, other project: allowed
    assert functions.get("mine").name == "Mine"


def test_creation_abuse_limit(functions, settings):
    settings.FUNCTIONS_CREATION_ABUSE_LIMIT = 2
    functions.create("one", "One", PY)
    functions.create("two", "Two", PY)
    expect_error(lambda: functions.create("three", "Three", PY), 429, "general_rate_limit_exceeded")
    assert Function.objects.count() == 2
