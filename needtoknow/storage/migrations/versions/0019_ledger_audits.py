"""Ledger audits: each verification run, who ran it and what it found.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_audits",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("entries", sa.BigInteger, nullable=False),
        sa.Column("witnesses", sa.Integer, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_audits")
