"""Short-lived tokens: ``dynamic_<JWT>`` API keys minted for each execution and build, and
user JWTs given to function code for the user who called it.

Both are HS256 JWTs signed with the instance's secret key, in Appwrite 1.8's shape, so function
code can call back into our API. A ``kind`` claim (``dynamic``, ``user``, or ``egress`` for the
egress proxy's per-container credential) tells them apart, so none can stand in for another; dynamic keys name the function they were minted for
(``functionInternalId``, its row's primary key) and user JWTs the project they are good for."""

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


HEADER = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())


def encode_jwt(payload, max_age):
    now = int(time.time())
    header = HEADER
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


DYNAMIC = "dynamic"
USER = "user"
EGRESS = "egress"


def decode_jwt(token, kind):
    """The payload of a token of this ``kind``, or ``InvalidToken`` (bad shape or signature,
    another kind) / ``ExpiredToken``."""
    try:
        header, body, signature = token.split(".")
        valid = hmac.compare_digest(_unb64(signature), _sign(f"{header}.{body}"))
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        raise InvalidToken() from None
    if not valid or not isinstance(payload, dict) or payload.get("kind") != kind:
        raise InvalidToken()
    if int(payload.get("exp", 0)) <= time.time():
        raise ExpiredToken()
    return payload


def mint_dynamic_key(project_id, function_pk, scopes, max_age, execution_id=None, chain=None):
    """A key for the code of one function: refused once that function row is gone."""
    payload = {
        "kind": DYNAMIC,
        "projectId": project_id,
        "functionInternalId": function_pk,
        "scopes": list(scopes),
    }
    if execution_id:
        payload["executionId"] = execution_id  # lets events caused by this run be traced to it
    if chain:
        payload["chain"] = chain  # and charged to the event budget of its originating action
    return "dynamic_" + encode_jwt(payload, max_age)


def mint_user_jwt(user_id, project_id, max_age, session_id=None):
    """A JWT that acts as this user, with the ``users`` role, in this project only."""
    payload = {"kind": USER, "userId": user_id, "projectId": project_id}
    if session_id:
        payload["sessionId"] = session_id
    return encode_jwt(payload, max_age)


def mint_egress_token(use, deployment, container, max_age):
    """The egress proxy's credential for one container (an execution or a build container)."""
    return mint_egress_token_for(
        use, deployment.project_id, deployment.function.uid, deployment.uid, container, max_age
    )


def mint_egress_token_for(use, project_id, function_id, deployment_id, container, max_age):
    """The same for a container that serves no deployment yet (a git repository check)."""
    payload = {
        "kind": EGRESS,
        "use": use,
        "projectId": project_id,
        "functionId": function_id,
        "deploymentId": deployment_id,
        "container": container,
    }
    return encode_jwt(payload, max_age)
