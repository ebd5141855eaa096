"""Agreement registry: agreements, customer assignments, registry version.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("purposes", sa.Text, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("starts", sa.Date, nullable=False),
        sa.Column("expires", sa.Date, nullable=False),
        sa.Column("customer_scoped", sa.Boolean, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_agreements_recipient", "agreements", ["recipient"])
    op.create_table(
        "agreement_customers",
        sa.Column(
            "agreement_id",
            sa.String(100),
            sa.ForeignKey("agreements.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("customer_id", sa.String(36), primary_key=True),
    )
    op.create_index("ix_agreement_customers_customer_id", "agreement_customers", ["customer_id"])
    state = op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("registry_state")
    op.drop_table("agreement_customers")
    op.drop_table("agreements")
