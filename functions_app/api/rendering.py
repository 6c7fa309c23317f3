"""JSON in and out the way Appwrite's SDKs expect it."""

import json
import re

from django.utils.datastructures import MultiValueDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer

# PHP's json_decode gives up past this depth; so do we (iteratively, never by recursion).
MAX_DEPTH = 512
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# PHP's json_last_error_msg() texts for the same failures.
DEPTH_ERROR = "Maximum stack depth exceeded"
SURROGATE_ERROR = "Single unpaired UTF-16 surrogate in unicode escape"


class AppwriteJSONRenderer(JSONRenderer):
    media_type = "application/json"
    charset = "UTF-8"


def load_json(text):
    """``json.loads`` for client input: a ``ValueError`` (never a ``RecursionError``) for
    syntax errors, nesting past ``MAX_DEPTH`` and lone surrogates (``"\\ud800"``), which no
    UTF-8 text, database or HTTP request can hold."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(DEPTH_ERROR) from None
    check_json_value(data)
    return data


def check_json_value(data):
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise ValueError(SURROGATE_ERROR)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ValueError(DEPTH_ERROR)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((key, depth))
                stack.append((item, depth + 1))


class LenientJSONParser(JSONParser):
    """Parses JSON bodies; an empty body is ``{}`` (SDKs send ``{}`` but curl may send nothing)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            data = load_json(raw)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        return data if isinstance(data, dict) else {}


class BytesKeepingMultiPartParser(MultiPartParser):
    """Multipart bodies whose text fields keep their bytes: a field that is valid UTF-8
    becomes text, any other stays ``bytes`` (Django would replace what it cannot decode).
    So a binary createExecution ``body`` reaches the function byte for byte, and a binary
    value anywhere else fails its validator instead of being silently altered. (Parsed as
    Latin-1, which maps every byte to one character and back.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = {**(parser_context or {}), "encoding": "latin-1"}
        parsed = super().parse(stream, media_type, parser_context)
        data = MultiValueDict()
        for name, values in parsed.data.lists():
            data.setlist(_recode(name, "replace"), [_recode(value) for value in values])
        for upload in parsed.files.values():
            upload.name = _recode(upload.name, "replace")
        return DataAndFiles(data, parsed.files)


def _recode(text, errors="strict"):
    """Latin-1 text back to its bytes, then UTF-8 text, or the bytes if they are not UTF-8."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # a name Django already decoded by its declared charset
        return text
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError:
        return raw
