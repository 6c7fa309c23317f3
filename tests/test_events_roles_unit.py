"""Unit tests (no database) for functions_app.roles and functions_app.events.

Expected messages are copied from upstream: utopia-php/database ``Validator/Roles.php``,
``Helpers/Role.php``, ``Validator/Key.php``, ``Validator/Label.php`` and ``Validator/Authorization.php``;
Appwrite ``src/Appwrite/Event/Validator/{Event,FunctionEvent}.php`` and ``Event::generateEvents``.
"""

import pytest

from functions_app import events, roles

KEY_MSG = (
    "Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, hyphen, "
    "and underscore. Can't start with a special char"
)
LABEL_MSG = "Value must be a valid string between 1 and 36 chars containing only alphanumeric chars"
NOT_ALLOWED = "is not allowed. Must be one of: any, guests, users, user, team, member, label."


# --- roles: validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["any"],
        ["guests", "users", "users/verified", "users/unverified"],
        ["user:abc", "user:abc/verified", "user:a.b-c_d/unverified"],
        ["team:t1", "team:t1/owner", "member:m1", "label:vip2"],
        ["user:" + "a" * 36],
        ["any:"],  # an empty identifier is not an identifier (PHP empty())
    ],
)
def test_valid_roles(value):
    assert roles.validate_roles(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("any", "Roles must be an array of strings."),
        (None, "Roles must be an array of strings."),
        (["any", 1], "Every role must be of type string."),
        (["*"], 'Wildcard role "*" has been replaced. Use "any" instead.'),
        (
            ["role:member"],
            'Roles using the "role:" prefix have been removed. Use "users", "guests", or "any" instead.',
        ),
        (["foo"], f'Role "foo" {NOT_ALLOWED}'),
        (["Any"], f'Role "Any" {NOT_ALLOWED}'),
        (["usersx"], f'Role "usersx" {NOT_ALLOWED}'),
        (["anyone:x"], f'Role "anyone" {NOT_ALLOWED}'),
        (["any:x"], 'Role "any" can not have an ID value.'),
        (["guests:x"], 'Role "guests" can not have an ID value.'),
        (["users:x"], 'Role "users" can not have an ID value.'),
        (["user"], 'Role "user" must have an ID value.'),
        (["user:"], 'Role "user" must have an ID value.'),
        (["team"], 'Role "team" must have an ID value.'),
        (["member"], 'Role "member" must have an ID value.'),
        (["label"], 'Role "label" must have an ID value.'),
        (["user:_abc"], f'Role "user" identifier value is invalid: {KEY_MSG}'),
        (["team:-abc"], f'Role "team" identifier value is invalid: {KEY_MSG}'),
        (["member:.abc"], f'Role "member" identifier value is invalid: {KEY_MSG}'),
        (["user:a b"], f'Role "user" identifier value is invalid: {KEY_MSG}'),
        (["user:" + "a" * 37], f'Role "user" identifier value is invalid: {KEY_MSG}'),
        (["label:a-b"], f'Role "label" identifier value is invalid: {LABEL_MSG}'),
        (["label:" + "a" * 37], f'Role "label" identifier value is invalid: {LABEL_MSG}'),
        (["any/verified"], 'Role "any" can not have a dimension value.'),
        (["member:m1/x"], 'Role "member" can not have a dimension value.'),
        (["label:vip/x"], 'Role "label" can not have a dimension value.'),
        (
            ["users/admin"],
            'Role "users" dimension value is invalid. Must be one of: verified, unverified.',
        ),
        (
            ["user:abc/admin"],
            'Role "user" dimension value is invalid. Must be one of: verified, unverified.',
        ),
        (["team:t1/_owner"], f'Role "team" dimension value is invalid: {KEY_MSG}'),
        (["users/"], "Dimension must not be empty"),
        (["team:t1/"], "Dimension must not be empty"),
        (["team:t1/a/b"], "Only one dimension can be provided"),
        (["users/a/b"], "Only one dimension can be provided"),
    ],
)
def test_invalid_roles(value, message):
    assert roles.validate_roles(value) == message


def test_role_count_limit():
    assert roles.validate_roles(["any"] * 100) is None
    assert roles.validate_roles(["any"] * 101) == "You can only provide up to 100 roles."
    assert roles.validate_roles(["any"] * 3, max_count=2) == "You can only provide up to 2 roles."


def test_first_invalid_role_wins():
    assert roles.validate_roles(["any", "foo", "*"]) == f'Role "foo" {NOT_ALLOWED}'


# --- roles: caller roles and the execute check ---------------------------------------------------


def test_guest_roles():
    assert roles.caller_roles(None, []) == ["any", "guests"]


def test_user_roles_in_appwrite_order():
    assert roles.caller_roles("u1", [("t1", ["owner", "dev"]), ("t2", [])]) == [
        "any",
        "users",
        "user:u1",
        "user:u1/verified",
        "users/verified",
        "team:t1",
        "team:t1/owner",
        "team:t1/dev",
        "team:t2",
    ]


def test_unverified_user_with_membership_and_label():
    got = roles.caller_roles("u1", [("t1", ["owner"], "m1")], verified=False, labels=["vip"])
    assert got == [
        "any",
        "users",
        "user:u1",
        "user:u1/unverified",
        "users/unverified",
        "team:t1",
        "member:m1",
        "team:t1/owner",
        "label:vip",
    ]


def test_execute_allowed():
    assert roles.execute_denied_message(["any", "guests"], ["any"]) is None
    assert roles.execute_denied_message(roles.caller_roles("u1", []), ["user:u1"]) is None


def test_execute_empty():
    assert (
        roles.execute_denied_message(["any", "guests"], [])
        == "No permissions provided for action 'execute'"
    )


def test_execute_denied_for_guest():
    assert roles.execute_denied_message(["any", "guests"], ["users"]) == (
        'Missing "execute" permission for role "users". Only "["any","guests"]" scopes are allowed '
        'and "["users"]" was given.'
    )


def test_execute_denied_names_last_execute_entry_and_escapes_slashes():
    caller = roles.caller_roles("u1", [])
    assert roles.execute_denied_message(caller, ["team:t9", "users/unverified"]) == (
        'Missing "execute" permission for role "users/unverified". Only '
        '"["any","users","user:u1","user:u1\\/verified","users\\/verified"]" scopes are allowed '
        'and "["team:t9","users\\/unverified"]" was given.'
    )


# --- events: validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "users.*",
        "users.*.create",
        "users.u1.update.email",
        "users.*.sessions",
        "users.*.sessions.*.create",
        "users.*.targets.*.update",
        "databases.*.collections.*.documents.*.create",
        "databases.*.tables.*.rows.*.delete",
        "databases.*.tables.*.columns.*",
        "buckets.*.files.*.update",
        "teams.*.memberships.*.update.status",
        "teams.*.update.prefs",
        "sites.*.deployments.*.create",
        "messages.*.create",
        "topics.*.subscribers.*.delete",
        "providers.*.update",
        "rules.*.delete",
        "functions.*",
        "functions.*.executions.*.create",
        "functions.f1.deployments.*.update",
    ],
)
def test_valid_events(value):
    assert events.validate_function_event(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "users",
        "",
        "unknown.*",
        "users.",
        "users.*.explode",
        "users.*.create.email",
        "users.*.update.colour",
        "users.*.sessions.*.update",
        "users.*.sessions..create",
        "functions.*.executions.*.start",
        "databases.*.tables.*.rows.*.create.x",
        "a.b.c.d.e.f.g.h",
        42,
    ],
)
def test_invalid_events(value):
    assert events.validate_function_event(value) == "Event is not valid."


def test_function_events_refused_when_flag_off():
    message = "Triggering a function on a function event is not allowed."
    assert events.validate_function_event("functions.*", allow_functions=False) == message
    assert events.validate_function_event("functions.x.y", allow_functions=False) == message
    assert events.validate_function_event("users.*", allow_functions=False) is None
    assert events.validate_function_event("users", allow_functions=False) == "Event is not valid."


# --- events: expansion and matching --------------------------------------------------------------


def test_generate_execution_create():
    got = events.generate_events(
        "functions.[functionId].executions.[executionId].create",
        {"functionId": "F", "executionId": "E"},
    )
    assert got == [
        "functions.F.executions.E.create",
        "functions.*.executions.*.create",
        "functions.F.executions.*.create",
        "functions.*.executions.E.create",
        "functions.F.executions.E",
        "functions.*.executions.*",
        "functions.F.executions.*",
        "functions.*.executions.E",
        "functions.F",
        "functions.*",
    ]


def test_generate_user_create():
    got = events.generate_events("users.[userId].create", {"userId": "U"})
    assert got == ["users.U.create", "users.*.create", "users.U", "users.*"]


def test_generate_attribute_event_keeps_upstream_order():
    got = events.generate_events("users.[userId].update.email", {"userId": "U"})
    assert got == [
        "users.U.update",
        "users.*.update",
        "users.U.update.email",
        "users.*.update.email",
        "users.U",
        "users.*",
    ]


def test_generate_three_levels():
    got = events.generate_events(
        "databases.[databaseId].tables.[tableId].rows.[rowId].create",
        {"databaseId": "D", "tableId": "T", "rowId": "R"},
    )
    assert got[0] == "databases.D.tables.T.rows.R.create"
    assert "databases.*.tables.T.rows.*.create" in got
    assert got[-2:] == ["databases.D", "databases.*"]
    assert len(got) == len(set(got)) == 22


def test_generate_missing_param():
    with pytest.raises(ValueError, match=r"^\[executionId\] is missing from the params\.$"):
        events.generate_events(
            "functions.[functionId].executions.[executionId].create", {"functionId": "F"}
        )


def test_generated_events_are_valid_subscriptions():
    generated = events.generate_events(
        "functions.[functionId].deployments.[deploymentId].update",
        {"functionId": "F", "deploymentId": "D"},
    )
    assert all(events.validate_function_event(event) is None for event in generated)


def test_matches():
    fired = events.generate_events(
        "functions.[functionId].executions.[executionId].create",
        {"functionId": "F", "executionId": "E"},
    )
    assert events.matches(["functions.*.executions.*.create"], fired)
    assert events.matches(["users.*", "functions.F"], fired)
    assert not events.matches(["functions.*.executions.*.update"], fired)
    assert not events.matches(["functions.*.*"], fired)  # no glob: plain string equality
    assert not events.matches([], fired)
