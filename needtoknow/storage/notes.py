"""The columns that hold sealed notes (crypto.envelope.seal_note): a note's data key is
wrapped by a KEK like a customer's, so key rotation rewraps it and a KEK that still wraps
one may not be retired (Vault.rewrap, Vault.retire_key)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from needtoknow.storage.schema import (
    children,
    incidents,
    nominees,
    rights_requests,
    staff_accounts,
)

NOTE_COLUMNS: tuple[tuple[sa.Table, str], ...] = (
    (rights_requests, "details"),
    (rights_requests, "resolution"),
    (nominees, "details"),
    (nominees, "evidence_note"),
    (staff_accounts, "totp_secret"),
    (incidents, "summary"),
    (children, "contact"),
)


def owner(table: sa.Table, row_id: str, column: str) -> str:
    """What a note is bound to: its table, row and column."""
    return f"{table.name}/{row_id}/{column}"


@dataclass(frozen=True)
class Note:
    table: sa.Table
    column: str
    row_id: str
    blob: bytes

    @property
    def owner(self) -> str:
        return owner(self.table, self.row_id, self.column)


def stored(conn: sa.Connection) -> Iterator[Note]:
    for table, column in NOTE_COLUMNS:
        rows = conn.execute(
            sa.select(table.c.id, table.c[column]).where(table.c[column].is_not(None))
        )
        for row in rows:
            yield Note(table, column, str(row[0]), bytes(row[1]))


def replace(conn: sa.Connection, note: Note, blob: bytes) -> None:
    """Store ``blob`` in the note's place, unless the note changed meanwhile."""
    conn.execute(
        note.table.update()
        .where(note.table.c.id == note.row_id, note.table.c[note.column] == note.blob)
        .values({note.column: blob})
    )


def clear_for(conn: sa.Connection, customer_ids: Sequence[str]) -> None:
    """Destroy every note about ``customer_ids`` (their data is being erased): by the
    customers' ids, 500 at a time, so an erasure costs its own customers' rows, not a
    read of every request ever made (tests/storage/test_query_plans.py)."""
    wanted = sorted(set(customer_ids))
    for table in {t for t, _ in NOTE_COLUMNS if "customer_id" in t.c}:
        columns = [table.c[c] for t, c in NOTE_COLUMNS if t is table]
        for start in range(0, len(wanted), 500):
            conn.execute(
                table.update()
                .where(
                    table.c.customer_id.in_(wanted[start : start + 500]),
                    sa.or_(*(c.is_not(None) for c in columns)),
                )
                .values(dict.fromkeys((c.name for c in columns), None))
            )
