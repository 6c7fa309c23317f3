"""Appwrite events: the events tree, subscription validation, expansion and matching.

Ports of Appwrite 1.8:

* ``app/config/events.php`` (the tree; ``$description`` texts are left out, only keys matter);
* ``Appwrite\\Event\\Validator\\Event`` and ``FunctionEvent`` (messages included);
* ``Appwrite\\Event\\Event::parseEventPattern`` and ``::generateEvents``;
* the Functions worker's match: ``array_intersect($events, $function['events'])``.

PHP quirks are kept on purpose (string truthiness of ``"0"``, ``str_replace`` with arrays,
keys such as ``$model`` counting as tree keys) so that results are identical upstream.
Pure Python: no Django imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

EVENT_INVALID = "Event is not valid."
FUNCTION_EVENT_NOT_ALLOWED = "Triggering a function on a function event is not allowed."


def _action(*attributes: str) -> dict:
    node: dict = {"$description": ""}
    node.update({attribute: {"$description": ""} for attribute in attributes})
    return node


def _actions(*names: str) -> dict:
    return {name: _action() for name in names}


def _resource(model: str, children: dict) -> dict:
    return {"$model": model, "$resource": True, "$description": "", **children}


_CUD = ("create", "delete", "update")

EVENTS: dict[str, dict] = {
    "users": _resource(
        "user",
        {
            "sessions": _resource("session", _actions("create", "delete")),
            "recovery": _resource("token", _actions("create", "update")),
            "verification": _resource("token", _actions("create", "update")),
            "targets": _resource("target", _actions("create", "update", "delete")),
            "tokens": _resource("token", _actions("create")),
            "create": _action(),
            "delete": _action(),
            "update": _action("email", "name", "password", "status", "prefs"),
        },
    ),
    "databases": _resource(
        "database",
        {
            "tables": _resource(
                "table",
                {
                    "rows": _resource("row", _actions(*_CUD)),
                    "indexes": _resource("index", _actions("create", "delete")),
                    "columns": _resource("column", _actions("create", "delete")),
                    **_actions(*_CUD),
                },
            ),
            "collections": _resource(
                "collection",
                {
                    "documents": _resource("document", _actions(*_CUD)),
                    "indexes": _resource("index", _actions("create", "delete")),
                    "attributes": _resource("attribute", _actions("create", "delete")),
                    **_actions(*_CUD),
                },
            ),
            **_actions(*_CUD),
        },
    ),
    "buckets": _resource(
        "bucket",
        {
            "files": _resource("file", _actions(*_CUD)),
            **_actions(*_CUD),
        },
    ),
    "teams": _resource(
        "team",
        {
            "memberships": _resource(
                "membership",
                {
                    "create": _action(),
                    "delete": _action(),
                    "update": _action("status"),
                },
            ),
            "create": _action(),
            "delete": _action(),
            "update": _action("prefs"),
        },
    ),
    "sites": _resource(
        "site",
        {
            "deployments": _resource("deployment", _actions(*_CUD)),
            **_actions(*_CUD),
        },
    ),
    "functions": _resource(
        "function",
        {
            "deployments": _resource("deployment", _actions(*_CUD)),
            "executions": _resource("execution", _actions(*_CUD)),
            **_actions(*_CUD),
        },
    ),
    "messages": _resource("message", _actions("create", "update")),
    "topics": _resource(
        "topic",
        {
            **_actions("create", "update", "delete"),
            "subscribers": _resource("subscriber", _actions("create", "delete")),
        },
    ),
    "providers": _resource("provider", _actions("create", "update", "delete")),
    "rules": _resource("proxyRule", _actions(*_CUD)),
}


def php_truthy(value: object) -> bool:
    """PHP truthiness of a pattern part: ``False``, ``""`` and ``"0"`` are false."""
    return value not in (False, None, "", "0")


def _child(node: object, key: object) -> object:
    return node.get(key) if isinstance(node, dict) and isinstance(key, str) else None


def _is_resource(node: object) -> bool:
    return bool(_child(node, "$resource"))


def _has_key(node: object, key: object) -> bool:
    """``array_key_exists``; a non-array node is invalid (a TypeError upstream)."""
    return isinstance(node, dict) and key in node


def _validator_sections(parts: list[str]) -> dict:
    """The section split of ``Validator\\Event::isValid`` (driven by ``$resource`` in the tree)."""
    count = len(parts)
    root = EVENTS.get(parts[0])
    has_sub = count > 3 and _is_resource(root) and _is_resource(_child(root, parts[2]))
    has_sub_sub = count > 5 and has_sub and _is_resource(_child(_child(root, parts[2]), parts[4]))
    attribute = False
    if has_sub and not has_sub_sub and count == 6:
        attribute = parts[5]
    if not has_sub and count == 4:
        attribute = parts[3]
    if not has_sub and count > 2:
        action = parts[2]
    elif has_sub_sub:
        action = parts[6] if count > 6 else False
    elif has_sub and count > 4:
        action = parts[4]
    else:
        action = False
    return {
        "sub_type": parts[2] if has_sub else False,
        "sub_resource": parts[3] if has_sub else False,
        "action": action,
        "attribute": attribute,
    }


def is_valid_event(value: object) -> bool:
    """``Appwrite\\Event\\Validator\\Event::isValid``."""
    if not isinstance(value, str):
        return False
    parts = value.split(".")
    if len(parts) < 2 or len(parts) > 7:
        return False
    type_, resource = parts[0], parts[1]
    if not php_truthy(type_) or not php_truthy(resource) or type_ not in EVENTS:
        return False
    s = _validator_sections(parts)
    scope = EVENTS[type_][s["sub_type"]] if php_truthy(s["sub_type"]) else EVENTS[type_]
    if php_truthy(s["action"]) and not _has_key(scope, s["action"]):
        return False
    if php_truthy(s["sub_type"]) and not php_truthy(s["sub_resource"]):
        return False
    if php_truthy(s["attribute"]):
        return _has_key(_child(scope, s["action"]), s["attribute"])
    return True


def validate_function_event(value: object, allow_functions: bool = True) -> str | None:
    """``FunctionEvent``: None when valid, else the validator's description.

    Upstream always refuses ``functions.*`` subscriptions; this product allows them by default
    (a loop guard lives elsewhere). Pass ``allow_functions=False`` for the upstream behaviour.
    """
    if not isinstance(value, str):
        return EVENT_INVALID
    if not allow_functions and value.startswith("functions."):
        return FUNCTION_EVENT_NOT_ALLOWED
    return None if is_valid_event(value) else EVENT_INVALID


def parse_event_pattern(pattern: str) -> dict:
    """``Event::parseEventPattern``: sub-resources are the parts that start with ``[``."""
    parts = pattern.split(".")
    count = len(parts)
    has_sub = count > 3 and parts[3].startswith("[")
    has_sub_sub = count > 5 and parts[5].startswith("[") and has_sub
    attribute = False
    if has_sub_sub and count == 8:
        attribute = parts[7]
    if has_sub and not has_sub_sub and count == 6:
        attribute = parts[5]
    if not has_sub and count == 4:
        attribute = parts[3]
    if not has_sub and count > 2:
        action = parts[2]
    elif has_sub_sub:
        action = parts[6] if count > 6 else False
    elif has_sub and count > 4:
        action = parts[4]
    else:
        action = False
    return {
        "type": parts[0],
        "resource": parts[1] if count > 1 else False,
        "subType": parts[2] if has_sub else False,
        "subResource": parts[3] if has_sub else False,
        "subSubType": parts[4] if has_sub_sub else False,
        "subSubResource": parts[5] if has_sub_sub else False,
        "action": action,
        "attribute": attribute,
    }


def php_str_replace(search: list[str], replace: list[str] | str, subject: str) -> str:
    """PHP ``str_replace`` with an array of needles: applied one after the other."""
    for index, needle in enumerate(search):
        if needle == "":
            continue
        if isinstance(replace, str):
            subject = subject.replace(needle, replace)
        else:
            subject = subject.replace(needle, replace[index] if index < len(replace) else "")
    return subject


def _implode(*parts: object) -> str:
    return ".".join(part if isinstance(part, str) else "" for part in parts)


def _base_patterns(p: dict) -> list[str]:
    """The placeholder patterns, most specific first (``array_unique`` keeps first positions)."""
    t, r, a, attr = p["type"], p["resource"], p["action"], p["attribute"]
    sub = (p["subType"], p["subResource"])
    sub_sub = (p["subSubType"], p["subSubResource"])
    patterns: list[str] = []
    if php_truthy(a):
        if php_truthy(sub_sub[1]):
            if php_truthy(attr):
                patterns.append(_implode(t, r, *sub, *sub_sub, a, attr))
            patterns += [_implode(t, r, *sub, *sub_sub, a), _implode(t, r, *sub, *sub_sub)]
        elif php_truthy(sub[1]):
            if php_truthy(attr):
                patterns.append(_implode(t, r, *sub, a, attr))
            patterns += [_implode(t, r, *sub, a), _implode(t, r, *sub)]
        else:
            patterns.append(_implode(t, r, a))
        if php_truthy(attr):
            patterns.append(_implode(t, r, a, attr))
    if php_truthy(sub_sub[1]):
        patterns.append(_implode(t, r, *sub, *sub_sub))
    if php_truthy(sub[1]):
        patterns.append(_implode(t, r, *sub))
    patterns.append(_implode(t, r))
    return list(dict.fromkeys(patterns))


def _star(key: str, text: str) -> str:
    return php_str_replace([key], "*", text)


def _variants(pattern: str, keys: list[str], values: list[str], deep: bool) -> list[str]:
    """Concrete, all-``*`` and partly-``*`` versions of one pattern, in upstream order."""
    events = [php_str_replace(keys, values, pattern), php_str_replace(keys, "*", pattern)]
    starred: list[str] = []
    for key in keys:
        for current in keys:
            if not deep:
                if current != key:
                    starred.append(_star(current, pattern))
                continue
            for sub_current in keys:
                if sub_current in (current, key):
                    continue
                starred.append(_star(sub_current, pattern))
                starred.append(_star(current, _star(sub_current, pattern)))
                starred.append(_star(current, pattern))
    return events + [php_str_replace(keys, values, text) for text in starred]


def generate_events(pattern: str, params: Mapping[str, object]) -> list[str]:
    """``Event::generateEvents``: every event string an occurrence of ``pattern`` fires as.

    The first item is the concrete event (sent as ``x-appwrite-event``). Raises ``ValueError``
    with the upstream message when a placeholder has no param.
    """
    keys = list(params)
    values = [str(value) for value in params.values()]
    parsed = parse_event_pattern(pattern)
    for name in ("resource", "subResource", "subSubResource"):
        part = parsed[name]
        if php_truthy(part) and part.strip("\\[]") not in keys:
            raise ValueError(f"{part} is missing from the params.")
    deep = php_truthy(parsed["subSubResource"])
    events: list[str] = []
    for base in _base_patterns(parsed):
        events += _variants(base, keys, values, deep)
    events = [event.replace("[", "").replace("]", "") for event in events]
    return list(dict.fromkeys(events))


def matches(subscriptions: Iterable[str], events: Iterable[str]) -> bool:
    """True when any subscription equals one of the generated events (plain string equality)."""
    fired = set(events)
    return any(subscription in fired for subscription in subscriptions)
