"""gunicorn settings used by bin/run: the API socket must be connectable by the unprivileged
user of execution containers, and the requests gunicorn itself refuses (request line or
headers past its limits, malformed HTTP) are answered with Appwrite's error JSON, not
gunicorn's HTML page."""

import json
import os

from django.conf import settings
from gunicorn import util

from functions_app.errors import AppwriteError

# The longest request line gunicorn allows (its default is 4094): long list queries fit.
limit_request_line = 8190


def when_ready(server):
    for listener in server.LISTENERS:
        address = listener.cfg_addr
        if isinstance(address, str) and os.path.exists(address):
            os.chmod(address, 0o666)


def write_appwrite_error(sock, status_int, reason, mesg):
    """Replaces ``gunicorn.util.write_error``. A request gunicorn refuses is the client's
    fault: 400 general_argument_invalid (Swoole, Appwrite's server, answers those with 400
    too); gunicorn's own 500 stays a server error."""
    if status_int >= 500 and status_int != 501:
        error = AppwriteError("general_server_error")
    else:
        detail = f"{reason}: {mesg}" if mesg else reason
        error = AppwriteError("general_argument_invalid", f"Invalid HTTP request. {detail}"[:512])
    document = error.as_dict(settings.APPWRITE_VERSION)
    body = json.dumps(document).encode()
    head = (
        f"HTTP/1.1 {document['code']} {'Bad Request' if document['code'] == 400 else 'Server Error'}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json; charset=UTF-8\r\n"
        "Cache-Control: no-cache, no-store, must-revalidate\r\n"
        "Expires: 0\r\n"
        "Pragma: no-cache\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode() + body)


util.write_error = write_appwrite_error
