"""A JSON API with routing on method and path. Items live in the warm runtime's memory."""

import os
import re
import uuid
from datetime import UTC, datetime

ITEMS = {}
ITEM_PATH = re.compile(r"/items/([A-Za-z0-9-]{1,64})")


def error(context, status, message, headers=None):
    return context.res.json({"error": message}, status, headers or {})


def read_name(context):
    """The ``name`` of a JSON body, or None when the body is not ``{"name": "<text>"}``."""
    try:
        body = context.req.body_json
    except ValueError:
        return None
    name = body.get("name") if isinstance(body, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def list_items(context):
    items = sorted(ITEMS.values(), key=lambda item: item["createdAt"])
    return context.res.json({"total": len(items), "items": items})


def create_item(context):
    name = read_name(context)
    if name is None:
        return error(context, 400, 'Send a JSON body {"name": "..."}.')
    if len(ITEMS) >= int(os.environ.get("MAX_ITEMS") or 100):
        return error(context, 409, "The store is full.")
    item = {
        "id": uuid.uuid4().hex[:12],
        "name": name,
        "createdAt": datetime.now(UTC).isoformat(),
    }
    ITEMS[item["id"]] = item
    context.log(f"created item {item['id']}")
    return context.res.json(item, 201)


def get_item(context, item_id):
    item = ITEMS.get(item_id)
    return context.res.json(item) if item else error(context, 404, "Item not found.")


def update_item(context, item_id):
    if item_id not in ITEMS:
        return error(context, 404, "Item not found.")
    name = read_name(context)
    if name is None:
        return error(context, 400, 'Send a JSON body {"name": "..."}.')
    ITEMS[item_id]["name"] = name
    return context.res.json(ITEMS[item_id])


def delete_item(context, item_id):
    if ITEMS.pop(item_id, None) is None:
        return error(context, 404, "Item not found.")
    return context.res.empty()


ROUTES = {
    "/": {"GET": lambda context: context.res.json({"routes": ["/items", "/items/{id}"]})},
    "/items": {"GET": list_items, "POST": create_item},
    "/items/{id}": {"GET": get_item, "PATCH": update_item, "DELETE": delete_item},
}


def main(context):
    path = context.req.path.rstrip("/") or "/"
    match = ITEM_PATH.fullmatch(path)
    route, args = ("/items/{id}", [match.group(1)]) if match else (path, [])
    handlers = ROUTES.get(route)
    if handlers is None:
        return error(context, 404, f"No route for {path}.")
    handler = handlers.get(context.req.method)
    if handler is None:
        allowed = ", ".join(handlers)
        return error(context, 405, f"{context.req.method} is not allowed here.", {"allow": allowed})
    return handler(context, *args)
