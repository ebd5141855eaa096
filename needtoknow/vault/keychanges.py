"""Changing a vault's keys: KEK rotation and retirement, rewrapping data keys, the
ledger's signing key. Each change is ledgered before the key provider acts (a crash
leaves a "begin" without a "done", never a change without an entry), and all of them
run under one lock shared across processes (:func:`~needtoknow.storage.database.key_change`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.crypto import envelope
from needtoknow.errors import KeyProviderError, ValidationError
from needtoknow.ledger.heads import TreeHead
from needtoknow.storage import notes, store
from needtoknow.storage.database import key_change, reading

if TYPE_CHECKING:
    from needtoknow.vault.vault import Vault


@dataclass(frozen=True)
class RotationResult:
    kek_version: int
    rewrapped: int


def rotate_keys(
    vault: Vault, batch: int = 500, progress: Callable[[int], None] | None = None
) -> RotationResult:
    """Make a new KEK version and rewrap every live DEK under it; data is not re-encrypted.

    Each batch commits on its own: after a crash, run it again and it finishes the job.
    """
    # The intent is ledgered before the key provider changes anything, so a crash
    # midway leaves a "begin" without a "done" rather than a change with no entry.
    with key_change(vault.db):
        before = vault.keys.active_version()
        vault.ledger.record(
            vault.entry("key_rotation", detail={"phase": "begin", "from_kek_version": before})
        )
        version = vault.keys.rotate()
        result = RotationResult(version, rewrap(vault, batch, progress))
        detail = {"phase": "done", "kek_version": version, "rewrapped": result.rewrapped}
        vault.ledger.record(vault.entry("key_rotation", detail=detail))
    return result


def rewrap(vault: Vault, batch: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Rewrap every DEK not under the active KEK; returns how many were rewrapped.
    ``progress`` is called with each batch's count."""
    active, after, done = vault.keys.active_version(), "", 0
    while True:
        with vault.db.begin() as conn:
            rows = store.stale_keys(conn, active, after, batch)
            if not rows:
                return done + _rewrap_notes(vault, conn, active)
            done += store.rewrap(conn, rows, [_rewrapped(vault, row, active) for row in rows])
        after = rows[-1].customer_id
        if progress is not None:
            progress(len(rows))


def _rewrap_notes(vault: Vault, conn: sa.Connection, active: int) -> int:
    """Rewrap the sealed notes (rights requests, nominees) not under KEK ``active``."""
    stale = [n for n in notes.stored(conn) if envelope.note_kek_version(n.blob) != active]
    for note in stale:
        notes.replace(conn, note, envelope.rewrap_note(vault.keys, note.owner, note.blob, active))
    return len(stale)


def _rewrapped(vault: Vault, row: store.KeyRow, active: int) -> store.KeyRow:
    dek = envelope.unwrap_dek(
        vault.keys, row.kek_version, row.wrapped_dek, row.customer_id, row.dek_version
    )
    binding = envelope.dek_binding(row.customer_id, row.dek_version)
    return store.KeyRow(
        row.customer_id, row.dek_version, active, vault.keys.wrap(active, dek, binding)
    )


def inventory(vault: Vault) -> dict[str, Any]:
    """The KEK versions — the active one marked — with how many data keys (customers'
    and sealed notes') each wraps, and the ledger's signing keys, oldest first."""
    active = vault.keys.active_version()
    with reading(vault.db) as conn:
        note_versions = Counter(envelope.note_kek_version(n.blob) for n in notes.stored(conn))
        keks = [
            {
                "version": version,
                "active": version == active,
                "customer_keys": store.count_wrapped_with(conn, version),
                "notes": note_versions.get(version, 0),
            }
            for version in vault.keys.versions()
        ]
    return {
        "provider": vault.keys.name,
        "keks": keks,
        "signing_keys": [key.hex() for key in vault.keys.signing_keys()],
    }


def rotate_signing_key(vault: Vault) -> TreeHead:
    """Make a new ledger signing key active; returns the first head it signs.

    The old key signs a last head over everything first, so no entry is left that
    only the new key covers without the old one having seen what came before; both
    public keys are named in the ledger (begin and done entries), the done entry
    carries the old key's endorsement of the new one (so a witness that knows only
    the old key can follow: :func:`needtoknow.ledger.audit.verify_export`; the key
    provider keeps it until the entry is recorded: ``Ledger.ledger_endorsement``), and
    heads signed by the old key stay verifiable.
    """
    with key_change(vault.db):
        vault.ledger.ledger_endorsement(vault.actor, vault.request_id)  # one cut short?
        old = vault.ledger.sign_head().public_key
        vault.ledger.record(
            vault.entry(
                "key_rotation",
                detail={"phase": "begin", "key": "ledger_signing", "public_key": old.hex()},
            )
        )
        vault.keys.rotate_signing()
        vault.ledger.ledger_endorsement(vault.actor, vault.request_id)
        return vault.ledger.sign_head()


def retire_key(vault: Vault, version: int) -> None:
    """Destroy an old KEK version once no live DEK depends on it. Everything that can
    refuse is checked before the "begin" entry, so a refusal ledgers nothing; all of
    it under the lock of key changes, so no rotation runs between check and act."""
    with key_change(vault.db):
        _retire_key(vault, version)


def _retire_key(vault: Vault, version: int) -> None:
    existing = vault.keys.versions()
    if version not in existing:
        raise ValidationError(
            "version",
            "kek",
            "unknown_version",
            "existing versions: " + ", ".join(map(str, existing)),
        )
    if version == vault.keys.active_version():
        raise KeyProviderError(f"KEK version {version} is active; run 'ntk keys rotate' first")
    with reading(vault.db) as conn:
        remaining = store.count_wrapped_with(conn, version)
        remaining += sum(envelope.note_kek_version(n.blob) == version for n in notes.stored(conn))
    if remaining:
        raise KeyProviderError(
            f"KEK version {version} still wraps {remaining} keys; run 'ntk keys rotate' first"
        )
    vault.ledger.record(
        vault.entry("key_retirement", detail={"phase": "begin", "kek_version": version})
    )
    vault.keys.retire(version)
    vault.ledger.record(
        vault.entry("key_retirement", detail={"phase": "done", "kek_version": version})
    )
