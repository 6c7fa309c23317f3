"""Function variables and the project's global variables."""

import pytest
from appwrite.enums.runtime import Runtime

from functions_app.models import Variable

from .helpers import expect_error, expect_raw_error


@pytest.fixture
def fn(functions):
    return functions.create("vars", "Vars", Runtime.PYTHON_3_11)


def test_create_defaults_to_secret(functions, fn):
    var = functions.create_variable("vars", "API_TOKEN", "s3cret")
    assert (var.key, var.value, var.secret, var.resourcetype, var.resourceid) == (
        "API_TOKEN",
        "",
        True,
        "function",
        "vars",
    )
    assert Variable.objects.get(uid=var.id).value == "s3cret"
    listed = functions.list_variables("vars")
    assert listed.total == 1 and listed.variables[0].value == ""


def test_plain_variable_crud_and_live_flag(functions, fn):
    var = functions.create_variable("vars", "MODE", "dev", secret=False)
    assert var.value == "dev" and functions.get("vars").live is False
    assert functions.get("vars").vars[0].key == "MODE"
    functions.update("vars", "Vars")  # same config: live again
    updated = functions.update_variable("vars", var.id, "MODE", value="prod")
    assert (updated.value, updated.secret) == ("prod", False)
    assert functions.get("vars").live is False
    assert functions.get_variable("vars", var.id).value == "prod"
    assert (
        functions.update_variable("vars", var.id, "MODE2").value == "prod"
    )  # value kept when omitted
    functions.delete_variable("vars", var.id)
    expect_error(lambda: functions.get_variable("vars", var.id), 404, "variable_not_found")
    assert functions.list_variables("vars").total == 0


def test_duplicate_key_and_secret_rules(functions, fn):
    secret = functions.create_variable("vars", "KEY", "a")
    plain = functions.create_variable("vars", "OTHER", "b", secret=False)
    expect_error(
        lambda: functions.create_variable("vars", "KEY", "c"), 409, "variable_already_exists"
    )
    expect_error(
        lambda: functions.update_variable("vars", plain.id, "KEY"), 409, "variable_already_exists"
    )
    expect_error(
        lambda: functions.update_variable("vars", secret.id, "KEY", secret=False),
        400,
        "variable_cannot_unset_secret",
    )
    assert functions.update_variable("vars", plain.id, "OTHER", secret=True).secret is True
    assert sorted(Variable.objects.values_list("key", "value")) == [("KEY", "a"), ("OTHER", "b")]


def test_bad_variable_input(functions, fn, raw):
    expect_error(
        lambda: functions.create_variable("vars", "K" * 256, "v"),
        400,
        "general_argument_invalid",
        "Invalid `key` param: Value must be a valid string and at least 1 chars and no longer than 255 chars",
    )
    expect_error(
        lambda: functions.create_variable("vars", "K", "v" * 8193),
        400,
        "general_argument_invalid",
        "Invalid `value` param: Value must be a valid string and no longer than 8192 chars",
    )
    expect_raw_error(
        raw.post("/functions/vars/variables", json={"key": "K"}),
        400,
        "general_argument_invalid",
        'Param "value" is not optional.',
    )
    expect_raw_error(
        raw.post("/functions/vars/variables", json={"key": "K", "value": "v", "secret": "no"}),
        400,
        "general_argument_invalid",
        "Invalid `secret` param: Value must be a valid boolean",
    )
    expect_error(lambda: functions.create_variable("missing", "K", "v"), 404, "function_not_found")
    expect_error(lambda: functions.get_variable("vars", "missing"), 404, "variable_not_found")
    assert Variable.objects.count() == 0


KEY_RULE = (
    "Invalid `key` param: Variable key must contain only a-z, A-Z, 0-9, period, hyphen and "
    "underscore and be at least 1 and no longer than 255 chars"
)


@pytest.mark.parametrize("bad_key", ["A=B", "A B", "A\n", "\tA", "ключ", "$HOME", "a/b", "K;rm"])
def test_variable_keys_that_break_an_environment_are_refused(functions, fn, raw, bad_key):
    for path in ("/functions/vars/variables", "/project/variables"):
        expect_raw_error(
            raw.post(path, json={"key": bad_key, "value": "v"}),
            400,
            "general_argument_invalid",
            KEY_RULE,
        )
    var = functions.create_variable("vars", "FINE", "v")
    expect_raw_error(
        raw.put(f"/functions/vars/variables/{var.id}", json={"key": bad_key}),
        400,
        "general_argument_invalid",
        KEY_RULE,
    )
    assert list(Variable.objects.values_list("key", flat=True)) == ["FINE"]


def test_environment_safe_keys_and_values(functions, fn, raw):
    for key in ("APPWRITE_X", "my.key", "my-key", "_under", "9lives", "K" * 255):
        assert functions.create_variable("vars", key, "v").key == key
    expect_raw_error(
        raw.post("/functions/vars/variables", json={"key": "NUL", "value": "a\x00b"}),
        400,
        "general_argument_invalid",
        "Invalid `value` param: Value must be a valid string and no longer than 8192 chars",
    )
    assert Variable.objects.count() == 6


def test_variable_of_another_function_is_not_found(functions, fn):
    functions.create("other", "Other", Runtime.PYTHON_3_11)
    var = functions.create_variable("other", "K", "v")
    expect_error(lambda: functions.get_variable("vars", var.id), 404, "variable_not_found")
    expect_error(lambda: functions.delete_variable("vars", var.id), 404, "variable_not_found")


def test_project_variables(raw, functions, fn):
    created = raw.post("/project/variables", json={"key": "GLOBAL", "value": "g", "secret": False})
    assert created.status_code == 201 and created.json()["resourceType"] == "project"
    assert functions.get("vars").live is False  # every function receives global variables
    expect_raw_error(
        raw.post("/project/variables", json={"key": "GLOBAL", "value": "x"}),
        409,
        "variable_already_exists",
    )
    var_id = created.json()["$id"]
    assert raw.get("/project/variables").json()["total"] == 1
    assert (
        raw.put(f"/project/variables/{var_id}", json={"key": "GLOBAL", "value": "h"}).json()[
            "value"
        ]
        == "h"
    )
    assert raw.delete(f"/project/variables/{var_id}").status_code == 204
    assert functions.list_variables("vars").total == 0
