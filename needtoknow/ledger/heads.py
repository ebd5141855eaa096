"""Signed tree heads: (size, root, time) signed with the ledger's Ed25519 key.

The signed bytes are RFC 6962 §3.5's ``TreeHeadSignature`` with the same layout, so an
outside verifier can rebuild them from the three numbers alone::

    0x00                      version v1
    0x01                      signature_type tree_hash
    timestamp   uint64 BE     milliseconds since the Unix epoch
    tree_size   uint64 BE
    root_hash   32 bytes      SHA-256 RFC 6962 root

(50 bytes), signed with Ed25519 (RFC 8032) instead of CT's ECDSA/RSA.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from needtoknow.errors import IntegrityError, ValidationError
from needtoknow.moments import utc_text

_TBS = struct.Struct(">BBQQ32s")


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes
    public_key: bytes

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.tree_size, self.root_hash, self.timestamp_ms)

    def check(self, public_key: bytes | None = None) -> None:
        """Raise IntegrityError unless the signature is valid (for ``public_key`` if given,
        which a verifier should take from its own records, not from the head)."""
        if len(self.root_hash) != 32 or self.tree_size < 0:
            raise IntegrityError()
        try:
            key = Ed25519PublicKey.from_public_bytes(public_key or self.public_key)
            key.verify(self.signature, self.signed_bytes())
        except (InvalidSignature, ValueError):
            raise IntegrityError() from None

    @property
    def signed_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp_ms,  # what is signed (RFC 6962): ms since the epoch
            "signed_at": utc_text(self.signed_at, "milliseconds"),
            "signature": self.signature.hex(),
            "public_key": self.public_key.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TreeHead:
        return cls(
            int(data["tree_size"]),
            bytes.fromhex(data["root_hash"]),
            int(data["timestamp"]),
            bytes.fromhex(data["signature"]),
            bytes.fromhex(data["public_key"]),
        )


def signed_bytes(tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    return _TBS.pack(0, 1, timestamp_ms, tree_size, root_hash)


def parse_heads(text: str) -> list[TreeHead]:
    """Heads a witness saved: the JSON object ``ntk ledger sth --json`` prints, or JSON
    Lines of them (``ntk ledger sth --every S --json``), or an export's last line."""
    try:
        documents = [json.loads(text)]  # one head, however it is laid out
    except ValueError:
        documents = [line for line in text.splitlines() if line.strip()]
    heads = []
    for document in documents:
        try:
            data = json.loads(document) if isinstance(document, str) else document
            heads.append(TreeHead.from_json(data.get("signed_tree_head", data)))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValidationError("witness", "tree_head", "not_a_signed_tree_head") from None
    if not heads:
        raise ValidationError("witness", "tree_head", "empty")
    return heads
