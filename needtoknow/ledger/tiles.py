"""The ledger as static files a witness can follow without talking to the vault: C2SP
``tlog-tiles`` (the tree as tiles of 256 hashes), with a ``tlog-checkpoint`` signed as a
C2SP ``signed-note`` by the ledger's Ed25519 key — the formats Go's checksum database
and Sigstore's Tessera serve, so any static web host can publish them and standard tools
(``golang.org/x/mod/sumdb/tlog`` and ``note``) verify inclusion and consistency.

Hash tiles and the checkpoint are public by design: a leaf hash is SHA-256 of an entry
whose random customer id cannot be guessed. Entry bundles (``--entries``) hold the
entries themselves — customer ids, recipients, purposes — and are written owner-only,
for an auditor, never for a public host.

Layout under the directory (c2sp.org/tlog-tiles):

- ``checkpoint``: ``<origin>\\n<size>\\n<base64 root>\\n``, a blank line, then
  ``— <origin> <base64(key id ‖ Ed25519 signature)>``;
- ``tile/<L>/<N>[.p/<W>]``: at level 0 the leaf hashes, at level L the hashes of full
  tiles of level L-1 (the stored node at height 8·L); ``<N>`` in 3-digit groups, all but
  the last prefixed ``x``; ``.p/<W>`` for the rightmost partial tiles;
- ``tile/entries/<N>[.p/<W>]``: big-endian uint16-length-prefixed entries.

Full tiles never change, so a later run writes only those that are new, the partial
ones of its size, and the checkpoint last (a reader never sees a checkpoint whose tiles
are not there yet).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError
from needtoknow.guards.output import replacing
from needtoknow.ledger import log
from needtoknow.ledger.audit import counted
from needtoknow.ledger.heads import TreeHead

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes in a full tile
ED25519 = b"\x01"  # the signed-note signature type
PUBLIC = 0o644  # hash tiles and the checkpoint: for any web server to serve
LARGEST_ENTRY = 0xFFFF  # an entry bundle's uint16 length prefix


@dataclass(frozen=True)
class Published:
    directory: str
    origin: str
    tree_size: int
    root_hash: bytes
    tiles_written: int
    bundles_written: int
    verifier_key: str  # the checkpoint's key as Go's note.NewVerifier reads it

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "tiles_written": self.tiles_written,
            "bundles_written": self.bundles_written,
            "verifier_key": self.verifier_key,
        }


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``: index 1234067 is ``x001/x234/067``."""
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    path = "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])
    return f"tile/{level}/{path}" + ("" if width == WIDTH else f".p/{width}")


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (c2sp.org/signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """``<name>+<key id hex>+<base64(0x01 ‖ public key)>``: what a note verifier takes."""
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def checkpoint(
    origin: str, head: TreeHead, sign: Callable[[bytes], tuple[bytes, bytes]]
) -> tuple[str, bytes]:
    """The head as a signed checkpoint, and the public key that signed it (``sign``
    returns the signature and the key)."""
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise NeedToKnowError("a checkpoint's origin has no spaces or '+' (say example.com/log)")
    text = f"{origin}\n{head.tree_size}\n{base64.b64encode(head.root_hash).decode()}\n"
    signature, public = sign(text.encode())
    line = base64.b64encode(key_id(origin, public) + signature).decode()
    return f"{text}\n\u2014 {origin} {line}\n", public


def write(
    conn: sa.Connection,
    directory: Path,
    head: TreeHead,
    note: str,
    entries: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Write the tiles (and entry bundles) of ``head``'s tree, then ``note`` as the
    checkpoint; returns (tiles, bundles) written. ``head`` must be sealed: its nodes are
    stored."""
    size, tiles, bundles = head.tree_size, 0, 0
    start = _first_missing(directory, 0, size) * WIDTH
    if entries:
        start = min(start, _first_missing(directory, "entries", size) * WIDTH)
    leaves: list[bytes] = []
    bundle: list[bytes] = []
    rows = counted(log.entries(conn, start, size), progress)
    for index, data, leaf in rows:
        leaves.append(leaf)
        if entries:
            if len(data) > LARGEST_ENTRY:
                raise NeedToKnowError(f"entry {index} is too long for an entry bundle")
            bundle.append(struct.pack(">H", len(data)) + data)
        if len(leaves) == WIDTH or index == size - 1:
            tile = index // WIDTH
            tiles += _put(directory / tile_path(0, tile, len(leaves)), b"".join(leaves), PUBLIC)
            if entries:
                path = directory / tile_path("entries", tile, len(bundle))
                bundles += _put(path, b"".join(bundle), 0o600)
            leaves, bundle = [], []
    level = 1
    while size >> (HEIGHT * level):
        tiles += _write_level(conn, directory, level, size)
        level += 1
    _put(directory / "checkpoint", note.encode(), PUBLIC, replace=True)
    return tiles, bundles


def _write_level(conn: sa.Connection, directory: Path, level: int, size: int) -> int:
    """Level ``level``'s tiles: the stored nodes at height 8·level (each the root of a
    full tile below), from the first full tile not yet written."""
    count = size >> (HEIGHT * level)
    first = _first_missing(directory, level, size)
    hashes = log.stored_nodes(conn, HEIGHT * level, first * WIDTH)
    written = 0
    for tile in range(first, -(-count // WIDTH)):
        lo, hi = tile * WIDTH, min(tile * WIDTH + WIDTH, count)
        try:
            data = b"".join(hashes[i] for i in range(lo, hi))
        except KeyError:
            raise NeedToKnowError("the ledger's stored nodes are incomplete") from None
        written += _put(directory / tile_path(level, tile, hi - lo), data, PUBLIC)
    return written


def _first_missing(directory: Path, level: int | str, size: int) -> int:
    """The first full tile of a level not written yet (full tiles never change)."""
    full = size >> (HEIGHT * (level if isinstance(level, int) else 0) + HEIGHT)
    return next((n for n in range(full) if not (directory / tile_path(level, n)).exists()), full)


def _put(path: Path, data: bytes, mode: int, replace: bool = False) -> int:
    """Write ``path`` whole (a temporary file renamed into place); returns 1 when
    written. A tile already there is left as it is: the tree only grows, so the tile of
    a level, index and width never changes (only the checkpoint is replaced)."""
    if path.exists() and not replace:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:
        partial.write_bytes(data)
        partial.chmod(mode)
    return 1
