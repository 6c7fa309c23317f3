"""Accept a webhook only when it is signed with WEBHOOK_SECRET (HMAC-SHA256 of the raw body)."""

import hashlib
import hmac
import json
import os


def signature_ok(secret, body, header_value):
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = header_value.strip().removeprefix("sha256=").lower()
    return hmac.compare_digest(expected, given)


def handle(context, event, payload):
    """Your handling of an accepted event goes here."""
    context.log(f"accepted {event or 'an event'} ({len(json.dumps(payload))} bytes of JSON)")


def main(context):
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        context.error("WEBHOOK_SECRET is not set: every request is refused.")
        return context.res.json({"ok": False, "error": "The receiver has no secret."}, 500)
    if context.req.method != "POST":
        return context.res.json({"ok": False, "error": "Send a POST."}, 405, {"allow": "POST"})

    header = (os.environ.get("SIGNATURE_HEADER") or "x-hub-signature-256").lower()
    signature = context.req.headers.get(header, "")
    if not signature or not signature_ok(secret, context.req.body_binary, signature):
        context.error("refused a request with a missing or wrong signature")
        return context.res.json({"ok": False, "error": "Invalid signature."}, 401)

    try:
        payload = json.loads(context.req.body_binary or b"null")
    except ValueError:
        payload = context.req.body_text
    event = context.req.headers.get("x-github-event") or context.req.headers.get("x-event", "")
    handle(context, event, payload)
    return context.res.json({"ok": True, "event": event})
