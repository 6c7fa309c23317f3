"""The Open Runtimes v5 ``context`` given to ``main(context)``: ``req``, ``res``, ``log`` and
``error``, plus the per-request logger and the capture of native ``print`` output."""

import contextlib
import contextvars
import io
import json
import os
import re
import sys
import threading
import time

LOG_LIMIT = 8000
TRUNCATED = "... Log truncated due to size limit (8000 characters)"
NATIVE_NOTICE = "Native logs detected. Use context.log() or context.error() for better experience."
LOG_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def generate_id(padding=7):
    """A PHP ``uniqid``-like id: seconds and microseconds in hex, then random hex."""
    now = time.time()
    seconds = int(now)
    micros = int((now - seconds) * 1_000_000)
    return f"{seconds:08x}{micros:05x}{os.urandom(4).hex()[:padding]}"


def format_message(message):
    if isinstance(message, (list, dict, tuple)):
        try:
            return json.dumps(message, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            return str(message)
    return str(message)


def format_messages(messages):
    text = " ".join(format_message(message) for message in messages)
    if len(text) > LOG_LIMIT:
        text = text[:LOG_LIMIT] + TRUNCATED
    return text


class Logger:
    """Writes ``<id>_logs.log`` and ``<id>_errors.log`` in the logs directory. The files are
    opened on first write, so a request that logs nothing leaves no files behind."""

    TYPE_LOG = "log"
    TYPE_ERROR = "error"

    def __init__(self, status, log_id, directory="/mnt/logs", development=False):
        self.enabled = (status or "enabled") == "enabled"
        self.id = ""
        self.includes_native_info = False
        self.directory = directory
        self._streams = {}
        self._lock = threading.Lock()
        if self.enabled:
            if log_id and LOG_ID_PATTERN.fullmatch(log_id):
                self.id = log_id
            else:
                self.id = "dev" if development else generate_id()

    def write(self, messages, xtype=TYPE_LOG, is_native=False):
        if not self.enabled:
            return
        if is_native and not self.includes_native_info:
            self.includes_native_info = True
            self.write([NATIVE_NOTICE])
        text = format_messages(messages)
        with contextlib.suppress(Exception):  # a failed log write must never fail the execution
            self._stream(xtype).write(text)

    def _stream(self, xtype):
        kind = "errors" if xtype == Logger.TYPE_ERROR else "logs"
        stream = self._streams.get(kind)
        if stream is None:
            with self._lock:
                stream = self._streams.get(kind)
                if stream is None:
                    path = os.path.join(self.directory, f"{self.id}_{kind}.log")
                    stream = open(path, "a", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
                    self._streams[kind] = stream
        return stream

    def end(self):
        if not self.enabled:
            return
        self.enabled = False
        with self._lock:
            for stream in self._streams.values():
                with contextlib.suppress(OSError):
                    stream.close()


# Native output capture. sys.stdout and sys.stderr are replaced once, at start-up, by proxies
# that write into the buffer of the request running in the current context (asyncio task or
# worker thread), so concurrent requests never see each other's output.
_capture = contextvars.ContextVar("opr_native_capture", default=None)


class NativeStream:
    def __init__(self, real):
        self._real = real

    def _target(self):
        buffer = _capture.get()
        return self._real if buffer is None else buffer

    def write(self, text):
        return self._target().write(text)

    def writelines(self, lines):
        return self._target().writelines(lines)

    def flush(self):
        target = self._target()
        if target is not None:
            target.flush()

    def __getattr__(self, name):
        return getattr(self._target(), name)


def install_native_capture():
    sys.stdout = NativeStream(sys.__stdout__)
    sys.stderr = NativeStream(sys.__stderr__)


def start_capture():
    """Route native output of the current context into a new buffer; returns the buffer."""
    buffer = io.StringIO()
    _capture.set(buffer)
    return buffer


def stop_capture(buffer, logger):
    _capture.set(None)
    text = buffer.getvalue()
    if text:
        logger.write([text], Logger.TYPE_LOG, True)


class Request:
    def __init__(self):
        self.body_binary = b""
        self.headers = {}
        self.method = ""
        self.url = ""
        self.path = "/"
        self.port = 80
        self.query = {}
        self.query_string = ""
        self.scheme = "http"
        self.host = ""

    @property
    def body_text(self):
        return self.body_binary.decode("utf-8")

    @property
    def body_raw(self):
        return self.body_text

    @property
    def body_json(self):
        return json.loads(self.body_text)

    @property
    def body(self):
        content_type = self.headers.get("content-type", "text/plain").lower()
        if content_type.startswith("application/json"):
            return self.body_json if len(self.body_binary) > 0 else {}
        return self.body_text


def _status(status_code, statusCode):  # noqa: N803 - the v5 API spells it statusCode
    return statusCode if status_code is None else status_code


class Response:
    """Each method returns ``{"body", "statusCode", "headers"}``. Parameters follow v5
    (``statusCode``, ``headers``); ``status_code=`` is accepted as well."""

    def binary(self, bytes, statusCode=200, headers=None, status_code=None):  # noqa: N803
        return {
            "body": bytes,
            "statusCode": _status(status_code, statusCode),
            "headers": {} if headers is None else headers,
        }

    def text(self, body, statusCode=200, headers=None, status_code=None):  # noqa: N803
        return self.binary(body.encode("utf-8"), _status(status_code, statusCode), headers)

    def send(self, body, statusCode=200, headers=None, status_code=None):  # noqa: N803
        return self.binary(body, _status(status_code, statusCode), headers)

    def json(self, obj, statusCode=200, headers=None, status_code=None):  # noqa: N803
        headers = {} if headers is None else headers
        headers["content-type"] = "application/json"
        return self.text(
            json.dumps(obj, separators=(",", ":")), _status(status_code, statusCode), headers
        )

    def empty(self):
        return self.text("", 204, {})

    def redirect(self, url, statusCode=301, headers=None, status_code=None):  # noqa: N803
        headers = {} if headers is None else headers
        headers["location"] = url
        return self.text("", _status(status_code, statusCode), headers)


class Context:
    def __init__(self, logger):
        self.req = Request()
        self.res = Response()
        self.logger = logger
        self.logs = []
        self.errors = []

    def log(self, *messages):
        self.logger.write(messages, Logger.TYPE_LOG)
        self.logger.write(["\n"], Logger.TYPE_LOG)

    def error(self, *messages):
        self.logger.write(messages, Logger.TYPE_ERROR)
        self.logger.write(["\n"], Logger.TYPE_ERROR)
