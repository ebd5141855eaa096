"""Backups: each copy's SHA-256 and the ledger's size and root in it (ntk backup).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backups",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialect", sa.String(20), nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("ledger_index", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("backups")
