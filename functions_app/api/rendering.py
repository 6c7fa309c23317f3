"""JSON in and out the way Appwrite's SDKs expect it."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer


class AppwriteJSONRenderer(JSONRenderer):
    media_type = "application/json"
    charset = "UTF-8"


class LenientJSONParser(JSONParser):
    """Parses JSON bodies; an empty body is ``{}`` (SDKs send ``{}`` but curl may send nothing)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        return data if isinstance(data, dict) else {}
