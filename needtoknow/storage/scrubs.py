"""Scrubs of deleted bytes, and those left pending.

On SQLite an erasure deletes the wrapped key and ciphertext with ``secure_delete``, then
checkpoints and truncates the WAL (:func:`~needtoknow.storage.database.scrub_wal`) so no
copy stays in either file. A reader holding a snapshot from before the deletion blocks
that checkpoint. So each deletion records a pending scrub in its own transaction (a
crash before the checkpoint leaves it recorded too), and the first checkpoint that
completes afterwards — the deletion's own, or a retry at the next erasure, at
``open_vault`` or from :meth:`Vault.scrub_pending` — removes it. PostgreSQL has no such
scrub, so nothing is recorded there (see ``Vault.erase``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from needtoknow.storage.database import reading, scrub_wal, stored_utc
from needtoknow.storage.schema import pending_scrubs

KINDS = ("erase", "withdrawal", "retention")


@dataclass(frozen=True)
class PendingScrub:
    """A deletion whose bytes may still be in the database's files."""

    customer_id: str
    kind: str  # one of KINDS
    recorded_at: datetime


def record(conn: sa.Connection, customer_ids: Sequence[str], kind: str, now: datetime) -> None:
    """In the deleting transaction: their bytes are not scrubbed yet (SQLite only)."""
    if conn.dialect.name == "sqlite" and customer_ids:
        # A retention run records tens of thousands at once: the time is converted once
        # and the rows go to the driver as tuples (SQLAlchemy's per-row dicts cost 3x).
        stored = pending_scrubs.c.recorded_at.type.bind_processor(conn.dialect)
        moment = stored(now) if stored else now
        conn.exec_driver_sql(
            "INSERT INTO pending_scrubs (customer_id, kind, recorded_at) VALUES (?, ?, ?)",
            [(c, kind, moment) for c in customer_ids],
        )


def complete(engine: sa.Engine) -> bool:
    """Scrub the WAL; if that completed, forget the pending scrubs recorded before it
    started (their deletions were committed, so the checkpoint covered them). Returns
    whether it completed (always False off SQLite)."""
    if engine.dialect.name != "sqlite":
        return False
    with reading(engine) as conn:
        last = conn.execute(sa.select(sa.func.max(pending_scrubs.c.id))).scalar()
    if not scrub_wal(engine):
        return False
    if last is not None:
        with engine.begin() as conn:
            conn.execute(pending_scrubs.delete().where(pending_scrubs.c.id <= last))
    return True


def pending(engine: sa.Engine) -> list[PendingScrub]:
    """Deletions not yet scrubbed, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(sa.select(pending_scrubs).order_by(pending_scrubs.c.id))
        return [PendingScrub(r.customer_id, r.kind, stored_utc(r.recorded_at)) for r in rows]
