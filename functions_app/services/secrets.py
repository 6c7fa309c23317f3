"""Secrets kept at rest encrypted (git connections' tokens, SSH keys and webhook secrets), with
a key derived from ``SECRET_KEY``.

The standard library has no block cipher, and the project takes no dependency for one, so the
construction is built from HMAC-SHA256 alone, used as a pseudo-random function:

* two keys are derived from ``SECRET_KEY``: ``HMAC(SECRET_KEY, "functions/secrets/<purpose>")``
  for encryption and for authentication;
* a random 16-byte nonce per value; the keystream is ``HMAC(kE, nonce || counter)`` for
  counters 0, 1, 2... (a PRF in counter mode: a stream cipher), XORed with the plaintext;
* the tag is ``HMAC(kA, version || nonce || context || ciphertext)`` (encrypt-then-MAC), checked
  in constant time before anything is decrypted. ``context`` binds a value to its row and field
  (``installation:<id>:token``), so a ciphertext copied to another row or field does not open.

Stored form: ``v1:`` + URL-safe base64 of ``nonce || ciphertext || tag``. A value that does not
open (tampered, another row's, or ``SECRET_KEY`` changed) raises :class:`Undecryptable`."""

import base64
import hashlib
import hmac
import os

from django.conf import settings

VERSION = b"v1"
NONCE = 16
TAG = 32
BLOCK = 32  # bytes of one HMAC-SHA256 output


class Undecryptable(Exception):
    """The value was not sealed with this ``SECRET_KEY`` for this context (or was altered)."""


def _key(purpose):
    return hmac.new(
        settings.SECRET_KEY.encode(), f"functions/secrets/{purpose}".encode(), hashlib.sha256
    ).digest()


def _keystream(key, nonce, length):
    blocks = (length + BLOCK - 1) // BLOCK
    return b"".join(
        hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        for counter in range(blocks)
    )[:length]


def _tag(nonce, context, ciphertext):
    message = VERSION + nonce + len(context).to_bytes(4, "big") + context + ciphertext
    return hmac.new(_key("authentication"), message, hashlib.sha256).digest()


def seal(plaintext, context):
    """``plaintext`` (str) encrypted for ``context`` (str); empty stays empty."""
    if not plaintext:
        return ""
    data, bound = plaintext.encode(), context.encode()
    nonce = os.urandom(NONCE)
    ciphertext = bytes(
        a ^ b for a, b in zip(data, _keystream(_key("encryption"), nonce, len(data)), strict=True)
    )
    blob = nonce + ciphertext + _tag(nonce, bound, ciphertext)
    return f"{VERSION.decode()}:" + base64.urlsafe_b64encode(blob).decode()


def open_sealed(stored, context):
    """The plaintext of a :func:`seal` result for the same ``context``; empty stays empty."""
    if not stored:
        return ""
    prefix, _, encoded = stored.partition(":")
    try:
        blob = base64.urlsafe_b64decode(encoded.encode())
    except (ValueError, UnicodeEncodeError):
        raise Undecryptable("not a sealed value") from None
    if prefix.encode() != VERSION or len(blob) < NONCE + TAG:
        raise Undecryptable("not a sealed value")
    nonce, ciphertext, tag = blob[:NONCE], blob[NONCE:-TAG], blob[-TAG:]
    if not hmac.compare_digest(tag, _tag(nonce, context.encode(), ciphertext)):
        raise Undecryptable("the value does not open with this SECRET_KEY")
    stream = _keystream(_key("encryption"), nonce, len(ciphertext))
    try:
        return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=True)).decode()
    except UnicodeDecodeError:
        raise Undecryptable("the value does not open with this SECRET_KEY") from None
