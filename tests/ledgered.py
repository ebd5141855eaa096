"""The ledger's entries as a test reads them: straight from storage, in order."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault


def entries(vault: Vault) -> list[dict[str, Any]]:
    with vault.db.connect() as conn:
        rows = conn.execute(sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx))
        return [json.loads(bytes(row.entry)) for row in rows]


def last_entry(vault: Vault) -> dict[str, Any]:
    """The newest entry."""
    with vault.db.connect() as conn:
        row: bytes = conn.execute(
            sa.select(ledger_entries.c.entry).order_by(ledger_entries.c.idx.desc()).limit(1)
        ).scalar_one()
    entry: dict[str, Any] = json.loads(bytes(row))
    return entry
