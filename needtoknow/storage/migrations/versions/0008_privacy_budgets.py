"""Differential-privacy budgets and charges for aggregate reports (usage data).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_budgets",
        sa.Column("recipient", sa.String(100), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("epsilon_spent", sa.Double, nullable=False),
        sa.Column("delta_spent", sa.Double, nullable=False),
    )
    op.create_table(
        "privacy_charges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("report", sa.String(100), nullable=False),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("epsilon", sa.Double, nullable=False),
        sa.Column("delta", sa.Double, nullable=False),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ledger_index", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_charges")
    op.drop_table("privacy_budgets")
