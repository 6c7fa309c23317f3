"""Short-lived ``dynamic_<JWT>`` API keys minted for each execution and build.

The JWT is HS256 over ``{"projectId", "scopes", "iat", "exp"}`` signed with the instance's
secret key, the same shape Appwrite 1.8 uses, so function code can call back into our API."""

import base64
import hashlib
import hmac
import json
import time

from django.conf import settings


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(message):
    return hmac.new(settings.SECRET_KEY.encode(), message.encode(), hashlib.sha256).digest()


def encode_jwt(payload, max_age):
    now = int(time.time())
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    body = _b64(
        json.dumps(
            {**payload, "iat": now, "exp": now + int(max_age)}, separators=(",", ":")
        ).encode()
    )
    return f"{header}.{body}.{_b64(_sign(f'{header}.{body}'))}"


class InvalidToken(Exception):
    pass


class ExpiredToken(Exception):
    pass


def decode_jwt(token):
    """The payload, or ``InvalidToken`` (bad shape or signature) / ``ExpiredToken``."""
    try:
        header, body, signature = token.split(".")
        valid = hmac.compare_digest(_unb64(signature), _sign(f"{header}.{body}"))
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        raise InvalidToken() from None
    if not valid or not isinstance(payload, dict):
        raise InvalidToken()
    if int(payload.get("exp", 0)) <= time.time():
        raise ExpiredToken()
    return payload


def mint_dynamic_key(project_id, scopes, max_age, execution_id=None, chain=None):
    payload = {"projectId": project_id, "scopes": list(scopes)}
    if execution_id:
        payload["executionId"] = execution_id  # lets events caused by this run be traced to it
    if chain:
        payload["chain"] = chain  # and charged to the event budget of its originating action
    return "dynamic_" + encode_jwt(payload, max_age)


def mint_user_jwt(user_id, max_age, session_id=None):
    payload = {"userId": user_id}
    if session_id:
        payload["sessionId"] = session_id
    return encode_jwt(payload, max_age)
