"""Ledger: the customer index covers sealed entries only (it is built when a head is made).

Index rows of entries appended since the last seal were written by earlier versions on
every append; they are dropped here and rebuilt by the next seal, as verification expects.

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = sa.table("ledger_state", sa.column("sealed"))
    index = sa.table("ledger_customers", sa.column("idx"))
    op.execute(index.delete().where(index.c.idx >= sa.select(state.c.sealed).scalar_subquery()))


def downgrade() -> None:
    """Earlier versions expect every entry indexed: add the unsealed entries' rows."""
    bind = op.get_bind()
    sealed = bind.execute(sa.text("SELECT sealed FROM ledger_state")).scalar() or 0
    entries = sa.table("ledger_entries", sa.column("idx"), sa.column("entry"))
    index = sa.table("ledger_customers", sa.column("customer_id"), sa.column("idx"))
    rows = []
    for row in bind.execute(
        sa.select(entries.c.idx, entries.c.entry).where(entries.c.idx >= sealed)
    ):
        entry = json.loads(bytes(row.entry))
        customers = {entry["customer_id"]} if "customer_id" in entry else set()
        customers.update(entry.get("customer_ids", []))
        rows += [{"customer_id": c, "idx": row.idx} for c in sorted(customers)]
    if rows:
        op.bulk_insert(index, rows)
