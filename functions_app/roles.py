"""Appwrite roles: validation of ``execute`` lists and the caller's own roles.

Ports, message for message:

* ``Utopia\\Database\\Validator\\Roles`` (utopia-php/database 2.x, as locked by Appwrite 1.8.0),
  with ``Helpers\\Role::parse`` and the ``Key``/``Label`` validators it uses;
* ``User::getRoles`` plus ``shared/api.php`` (which roles a caller holds, in order);
* ``Utopia\\Database\\Validator\\Authorization::isValid`` (the ``execute`` check of
  ``POST /functions/{functionId}/executions``).

Pure Python: no Django imports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

ROLES = ("any", "guests", "users", "user", "team", "member", "label")
USER_DIMENSIONS = ("verified", "unverified")

# role -> (identifier allowed, identifier required, dimension allowed, dimension options or None)
_CONFIG = {
    "any": (False, False, False, None),
    "guests": (False, False, False, None),
    "users": (False, False, True, USER_DIMENSIONS),
    "user": (True, True, True, USER_DIMENSIONS),
    "team": (True, True, True, None),
    "member": (True, True, False, None),
    "label": (True, True, False, None),
}

KEY_MAX_LENGTH = 36  # Database::MAX_UID_DEFAULT_LENGTH
KEY_DESCRIPTION = (
    f"Parameter must contain at most {KEY_MAX_LENGTH} chars. Valid chars are a-z, A-Z, 0-9, "
    "period, hyphen, and underscore. Can't start with a special char"
)
LABEL_DESCRIPTION = (
    f"Value must be a valid string between 1 and {KEY_MAX_LENGTH} chars "
    "containing only alphanumeric chars"
)

_KEY_CHARS = re.compile(r"[A-Za-z0-9_.\-]*")
_LABEL_CHARS = re.compile(r"[A-Za-z0-9]*")


class RoleParseError(ValueError):
    """``Role::parse`` threw; ``str(error)`` is the upstream message."""


def php_empty(value: str) -> bool:
    """PHP ``empty()`` for a string: ``""`` and ``"0"`` are empty."""
    return value in ("", "0")


def is_valid_key(value: object) -> bool:
    """``Validator\\Key`` with ``allowInternal=false`` and the default max length."""
    if not isinstance(value, str) or value == "":
        return False
    if value[0] in "_.-$":
        return False
    return bool(_KEY_CHARS.fullmatch(value)) and len(value) <= KEY_MAX_LENGTH


def is_valid_label(value: object) -> bool:
    """``Validator\\Label``: a valid key made of letters and digits only."""
    return is_valid_key(value) and bool(_LABEL_CHARS.fullmatch(value))


def parse_role(role: str) -> tuple[str, str, str]:
    """``Role::parse``: ``name[:identifier][/dimension]`` -> (name, identifier, dimension).

    Faithful to the PHP, quirks included: parts after a second ``:`` are dropped.
    """
    parts = role.split(":")
    has_identifier = len(parts) > 1
    has_dimension = "/" in role
    name = parts[0]
    if not has_identifier and not has_dimension:
        return name, "", ""
    if has_identifier and not has_dimension:
        return name, parts[1], ""
    source = parts[1] if has_identifier else name
    pieces = source.split("/")
    if len(pieces) != 2:
        raise RoleParseError("Only one dimension can be provided")
    if php_empty(pieces[1]):
        raise RoleParseError("Dimension must not be empty")
    if has_identifier:
        return name, pieces[0], pieces[1]
    return pieces[0], "", pieces[1]


def _identifier_error(name: str, identifier: str, allowed: bool, required: bool) -> str | None:
    if not allowed and not php_empty(identifier):
        return f'Role "{name}" can not have an ID value.'
    if allowed and required and php_empty(identifier):
        return f'Role "{name}" must have an ID value.'
    if allowed and not php_empty(identifier):
        if name == "label" and not is_valid_label(identifier):
            return f'Role "{name}" identifier value is invalid: {LABEL_DESCRIPTION}'
        if name != "label" and not is_valid_key(identifier):
            return f'Role "{name}" identifier value is invalid: {KEY_DESCRIPTION}'
    return None


def _dimension_error(name: str, dimension: str, allowed: bool, options) -> str | None:
    if php_empty(dimension):
        return None  # no role requires a dimension
    if not allowed:
        return f'Role "{name}" can not have a dimension value.'
    if options is not None and dimension not in options:
        return f'Role "{name}" dimension value is invalid. Must be one of: {", ".join(options)}.'
    if not is_valid_key(dimension):
        return f'Role "{name}" dimension value is invalid: {KEY_DESCRIPTION}'
    return None


def _role_error(role: object) -> str | None:
    """The message for one entry, or None when it is a valid role."""
    if not isinstance(role, str):
        return "Every role must be of type string."
    if role == "*":
        return 'Wildcard role "*" has been replaced. Use "any" instead.'
    if "role:" in role:
        return 'Roles using the "role:" prefix have been removed. Use "users", "guests", or "any" instead.'
    not_allowed = f"is not allowed. Must be one of: {', '.join(ROLES)}."
    if not role.startswith(ROLES):
        return f'Role "{role}" {not_allowed}'
    try:
        name, identifier, dimension = parse_role(role)
    except RoleParseError as error:
        return str(error)
    if name not in _CONFIG:
        return f'Role "{name}" {not_allowed}'
    id_allowed, id_required, dim_allowed, options = _CONFIG[name]
    return _identifier_error(name, identifier, id_allowed, id_required) or _dimension_error(
        name, dimension, dim_allowed, options
    )


def validate_roles(values: object, max_count: int = 100) -> str | None:
    """``new Roles(max_count)``: None when valid, else the validator's description.

    A JSON object counts as a PHP array (its values are checked). ``max_count=0`` means unlimited.
    """
    if isinstance(values, dict):
        values = list(values.values())
    if not isinstance(values, list | tuple):
        return "Roles must be an array of strings."
    if max_count and len(values) > max_count:
        return f"You can only provide up to {max_count} roles."
    for role in values:
        message = _role_error(role)
        if message:
            return message
    return None


def caller_roles(
    user_id: str | None,
    team_ids_with_roles: Iterable[Sequence] = (),
    verified: bool = True,
    *,
    labels: Iterable[str] = (),
) -> list[str]:
    """The roles the Authorization validator holds for a guest or session/JWT caller, in order.

    ``any`` (always preset), then the scope role (``guests``/``users``), then ``User::getRoles``:
    ``user:<id>``, ``users`` (already present), ``user:<id>/<dim>``, ``users/<dim>``, and per
    confirmed membership ``team:<t>``, ``member:<m>``, ``team:<t>/<role>``..., then ``label:<l>``.
    Each membership is ``(team_id, roles)`` or ``(team_id, roles, membership_id)``.
    API keys and admins skip the check entirely, so they have no entry here.
    """
    if not user_id:
        return ["any", "guests"]
    dimension = "verified" if verified else "unverified"
    roles = ["any", "users", f"user:{user_id}", f"user:{user_id}/{dimension}", f"users/{dimension}"]
    for membership in team_ids_with_roles:
        team_id, team_roles = membership[0], membership[1]
        roles.append(f"team:{team_id}")
        if len(membership) > 2 and membership[2]:
            roles.append(f"member:{membership[2]}")
        roles.extend(
            f"team:{team_id}/{role}" if not php_empty(role) else f"team:{team_id}"
            for role in team_roles
        )
    roles.extend(f"label:{label}" for label in labels)
    return list(dict.fromkeys(roles))  # PHP array keys: a repeat keeps its first position


def php_json_encode(value: object) -> str:
    """PHP ``json_encode`` with default flags (compact, ``\\/`` and ``\\uXXXX`` escapes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def is_execute_allowed(roles: Iterable[str], execute: Sequence[str]) -> bool:
    held = set(roles)
    return any(permission in held for permission in execute)


def execute_denied_message(roles: Sequence[str], execute: Sequence[str]) -> str | None:
    """``Authorization::isValid(new Input('execute', execute))``: None if allowed, else its message.

    Upstream names the *last entry of execute* (the loop variable left over), not a caller role.
    """
    if not execute:
        return "No permissions provided for action 'execute'"
    if is_execute_allowed(roles, execute):
        return None
    return (
        f'Missing "execute" permission for role "{execute[-1]}". '
        f'Only "{php_json_encode(list(roles))}" scopes are allowed and '
        f'"{php_json_encode(list(execute))}" was given.'
    )
