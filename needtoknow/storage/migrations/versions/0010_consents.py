"""Consents per customer and purpose, with the notice version shown and their withdrawal.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(100), nullable=False),
        sa.Column("notice_version", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_channel", sa.String(50), nullable=True),
    )
    op.create_index("consents_open", "consents", ["customer_id", "purpose", "withdrawn_at"])


def downgrade() -> None:
    op.drop_index("consents_open", "consents")
    op.drop_table("consents")
