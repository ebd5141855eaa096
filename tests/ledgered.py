"""The ledger's entries as a test reads them: straight from storage, in order."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from needtoknow.ledger import log
from needtoknow.ledger.heads import TreeHead
from needtoknow.storage.database import reading
from needtoknow.storage.schema import ledger_entries
from needtoknow.vault import Vault
from tests.customers import ASHA


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


def reads_after_a_head(vault: Vault, reads: int) -> tuple[str, TreeHead]:
    """A customer read ``reads`` times after a head was signed: (their id, that head)."""
    customer_id = vault.add(ASHA).customer_id
    head = vault.ledger.sign_head()
    for _ in range(reads):
        vault.get(customer_id, recipient="billing_team", purpose="billing")
    return customer_id, head


def seal_unsigned(vault: Vault, most: int = log.SEAL_BATCH) -> log.State:
    """One seal batch and no head: what a signing cut off between its batches leaves."""
    with reading(vault.db) as conn:
        sealing = log.derive(conn, most)
    with vault.db.begin() as conn:
        done = log.apply(conn, sealing)
    assert done is not None
    return done
