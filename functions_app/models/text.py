"""Text every database engine can store. PostgreSQL refuses NUL (U+0000) in ``text`` and
``jsonb`` values (SQLite keeps it), and function output, build output and callers' headers may
hold any character: NUL is stored as U+FFFD, the character undecodable bytes become."""

NUL, REPLACEMENT = "\x00", "\ufffd"


def without_nul(value):
    """``value`` with NUL replaced, in a string or in the keys and items of JSON lists and
    objects (other values as they are)."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT) if NUL in value else value
    if isinstance(value, list | tuple):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value
