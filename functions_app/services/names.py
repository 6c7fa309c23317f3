"""Display names of rows a person names (platforms, git connections): Appwrite's ``Text(128)``
rule on the trimmed value, and no NUL (PostgreSQL refuses it)."""

from ..errors import param_invalid

NAME_LENGTH = 128


def clean_name(value):
    name = (value or "").strip()
    if not 1 <= len(name) <= NAME_LENGTH or "\x00" in name:
        raise param_invalid(
            "name",
            f"Value must be a valid string and at least 1 chars and no longer than {NAME_LENGTH} chars",
        )
    return name
