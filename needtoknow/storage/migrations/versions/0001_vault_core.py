"""Vault core: customers (wrapped key + sealed fields), blind indexes, policies.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("dek_version", sa.Integer, nullable=False),
        sa.Column("kek_version", sa.Integer, nullable=True),
        sa.Column("wrapped_dek", sa.LargeBinary, nullable=True),
        sa.Column("sealed_fields", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_customers_kek_version", "customers", ["kek_version"])
    op.create_table(
        "blind_indexes",
        sa.Column("category", sa.String(64), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_blind_indexes_customer_id", "blind_indexes", ["customer_id"])
    op.create_table(
        "policies",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policies")
    op.drop_table("blind_indexes")
    op.drop_table("customers")
