"""Blind indexes found by customer and category, not by category alone.

A correction deletes the changed categories' digests with ``customer_id = ? AND category
IN (...)``. With an index on ``customer_id`` alone, SQLite's planner (no statistics)
took the primary key's leading ``category`` instead and walked every customer's digests
of that category: a correction cost grew with the vault (6 a second at 1 M customers,
docs/scale.md). An index on both columns binds both.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("blind_indexes_customer", "blind_indexes", ["customer_id", "category"])
    op.drop_index("ix_blind_indexes_customer_id", table_name="blind_indexes")


def downgrade() -> None:
    op.create_index("ix_blind_indexes_customer_id", "blind_indexes", ["customer_id"])
    op.drop_index("blind_indexes_customer", table_name="blind_indexes")
