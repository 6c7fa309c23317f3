"""Secrets kept at rest encrypted (git connections' tokens, SSH keys and webhook secrets), with
a key derived from ``SECRET_KEY``: AES-256-GCM (``cryptography``), the key derived by HKDF-SHA256
from ``SECRET_KEY``, a random 96-bit nonce per value, and the value's row and field
(``installation:<id>:token``) as associated data, so a ciphertext copied to another row or field
does not open.

Stored form: ``v2:`` + URL-safe base64 of ``nonce || ciphertext+tag``. A value that does not open
(tampered, another row's, or ``SECRET_KEY`` changed) raises :class:`Undecryptable`."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = "v2"
NONCE = 12


class Undecryptable(Exception):
    """The value was not sealed with this ``SECRET_KEY`` for this context (or was altered)."""


def _cipher():
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"functions/secrets/aes-gcm"
    ).derive(settings.SECRET_KEY.encode())
    return AESGCM(key)


def seal(plaintext, context):
    """``plaintext`` (str) encrypted for ``context`` (str); empty stays empty."""
    if not plaintext:
        return ""
    nonce = os.urandom(NONCE)
    sealed = _cipher().encrypt(nonce, plaintext.encode(), context.encode())
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_sealed(stored, context):
    """The plaintext of a :func:`seal` result for the same ``context``; empty stays empty."""
    if not stored:
        return ""
    prefix, _, encoded = stored.partition(":")
    try:
        blob = base64.urlsafe_b64decode(encoded.encode())
    except (ValueError, UnicodeEncodeError):
        raise Undecryptable("not a sealed value") from None
    if prefix != VERSION or len(blob) <= NONCE:
        raise Undecryptable("not a sealed value")
    try:
        return _cipher().decrypt(blob[:NONCE], blob[NONCE:], context.encode()).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise Undecryptable("the value does not open with this SECRET_KEY") from None
