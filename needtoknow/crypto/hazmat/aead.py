"""AES-256-GCM with an explicit nonce and associated data; failures become IntegrityError."""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from needtoknow.errors import IntegrityError

KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def new_nonce() -> bytes:
    """A random 96-bit nonce; safe below ~2^32 messages per key (NIST SP 800-38D)."""
    return os.urandom(NONCE_BYTES)


def seal(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """``nonce || ciphertext || tag``."""
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def opener(key: bytes) -> Callable[[bytes, bytes], bytes]:
    """A function ``open(sealed, associated_data)`` for many messages under one key.

    Inverse of :func:`seal`; any tampering, wrong key or wrong binding raises IntegrityError.
    """
    if len(key) != KEY_BYTES:
        raise IntegrityError()
    cipher = AESGCM(key)

    def open_one(sealed: bytes, associated_data: bytes) -> bytes:
        if not isinstance(sealed, bytes) or len(sealed) < NONCE_BYTES + 16:
            raise IntegrityError()
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated_data)
        except InvalidTag:
            raise IntegrityError() from None

    return open_one


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """Open one message; see :func:`opener`."""
    return opener(key)(sealed, associated_data)
