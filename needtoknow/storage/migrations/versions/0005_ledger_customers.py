"""Ledger: a customer → entries index covering customer_id and customer_ids.

Replaces the entries' copied `kind` and `customer_id` columns, which verification could
not vouch for.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    index = op.create_table(
        "ledger_customers",
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    op.create_index("ix_ledger_customers_idx", "ledger_customers", ["idx"])
    entries = sa.table("ledger_entries", sa.column("idx"), sa.column("entry"))
    rows = []
    for row in op.get_bind().execute(sa.select(entries.c.idx, entries.c.entry)):
        idx, entry = row[0], json.loads(bytes(row[1]))
        customers = {entry["customer_id"]} if "customer_id" in entry else set()
        customers.update(entry.get("customer_ids", []))
        rows += [{"customer_id": c, "idx": idx} for c in sorted(customers)]
    if rows:
        op.bulk_insert(index, rows)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_index("ix_ledger_entries_customer_id")
        batch.drop_column("customer_id")
        batch.drop_column("kind")


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("customer_id", sa.String(36), nullable=True))
        batch.create_index("ix_ledger_entries_customer_id", ["customer_id"])
    op.drop_table("ledger_customers")
