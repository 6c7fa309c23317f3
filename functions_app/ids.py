"""Appwrite-style identifiers and timestamps."""

import re
import secrets
import time

# Always used with ``fullmatch``: ``$`` would also accept a trailing newline.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,35}")


def unique_id():
    """20 lowercase hex chars: PHP ``uniqid()`` (13) followed by 7 random hex chars."""
    now = time.time()
    seconds = int(now)
    micros = int((now - seconds) * 1_000_000)
    return f"{seconds:08x}{micros:05x}{secrets.token_hex(4)[:7]}"


def is_valid_id(value):
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def format_datetime(value):
    """``2025-09-01T10:00:00.000+00:00``, or "" when unset."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"
