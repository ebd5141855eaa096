"""Envelope encryption: one AES-256-GCM data key (DEK) per customer, wrapped by a KEK.

The associated data binds every ciphertext to its customer, field and DEK
version, so a ciphertext copied to another customer or field fails to decrypt
instead of decrypting to the wrong person's data. Rotating the KEK rewraps DEKs
without touching field ciphertext; erasing a customer destroys the wrapped DEK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgpack

from needtoknow.crypto.hazmat import aead
from needtoknow.crypto.keys import KeyProvider
from needtoknow.errors import IntegrityError


def dek_binding(customer_id: str, dek_version: int) -> bytes:
    return f"ntk/dek/v1|{customer_id}|{dek_version}".encode()


def field_binding(customer_id: str, category: str, dek_version: int) -> bytes:
    return f"ntk/field/v1|{customer_id}|{category}|{dek_version}".encode()


def new_dek() -> bytes:
    return aead.new_key()


def wrap_dek(
    keys: KeyProvider, dek: bytes, customer_id: str, dek_version: int
) -> tuple[int, bytes]:
    """Wrap under the provider's active KEK; returns (kek_version, wrapped)."""
    version = keys.active_version()
    return version, keys.wrap(version, dek, dek_binding(customer_id, dek_version))


def unwrap_dek(
    keys: KeyProvider, kek_version: int, wrapped: bytes, customer_id: str, dek_version: int
) -> bytes:
    return keys.unwrap(kek_version, wrapped, dek_binding(customer_id, dek_version))


def encrypt_field(
    dek: bytes, customer_id: str, category: str, dek_version: int, value: Any
) -> bytes:
    return aead.seal(
        dek,
        aead.new_nonce(),
        msgpack.packb(value),
        field_binding(customer_id, category, dek_version),
    )


def decrypt_fields(
    dek: bytes, customer_id: str, dek_version: int, sealed: Mapping[str, bytes]
) -> dict[str, Any]:
    """Decrypt each ``category: ciphertext``; any failure is an IntegrityError."""
    open_one = aead.opener(dek)
    values = {}
    for category, ciphertext in sealed.items():
        plaintext = open_one(ciphertext, field_binding(customer_id, category, dek_version))
        try:
            values[category] = msgpack.unpackb(plaintext)
        except (ValueError, TypeError, msgpack.UnpackException):
            raise IntegrityError() from None
    return values


def note_binding(owner: str) -> bytes:
    return f"ntk/note/v1|{owner}".encode()


def seal_note(keys: KeyProvider, owner: str, value: Any) -> bytes:
    """``value`` sealed apart from any customer record — what a customer wrote in a rights
    request, a nominee's contact — under a data key of its own, wrapped into the same
    blob, so clearing the column destroys it. ``owner`` (the row's id) is bound in, so a
    note copied to another row does not open."""
    dek = aead.new_key()
    version = keys.active_version()
    wrapped = keys.wrap(version, dek, note_binding(owner))
    sealed = aead.seal(dek, aead.new_nonce(), msgpack.packb(value), note_binding(owner))
    return bytes(msgpack.packb([version, wrapped, sealed]))


def note_kek_version(blob: bytes) -> int:
    return int(msgpack.unpackb(blob)[0])


def open_note(keys: KeyProvider, owner: str, blob: bytes) -> Any:
    try:
        version, wrapped, sealed = msgpack.unpackb(blob)
    except (ValueError, TypeError, msgpack.UnpackException):
        raise IntegrityError() from None
    dek = keys.unwrap(version, wrapped, note_binding(owner))
    plaintext = aead.open_sealed(dek, sealed, note_binding(owner))
    return msgpack.unpackb(plaintext)


def rewrap_note(keys: KeyProvider, owner: str, blob: bytes, active: int) -> bytes:
    """The same note with its data key wrapped under KEK version ``active``."""
    version, wrapped, sealed = msgpack.unpackb(blob)
    dek = keys.unwrap(version, wrapped, note_binding(owner))
    return bytes(msgpack.packb([active, keys.wrap(active, dek, note_binding(owner)), sealed]))
