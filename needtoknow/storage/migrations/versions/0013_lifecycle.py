"""The data lifecycle: account closure and services, held categories, legal holds and
erasure instructions to recipients.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(32), nullable=True))
        batch.add_column(sa.Column("services", sa.Text, nullable=True))
        batch.add_column(sa.Column("held", sa.LargeBinary, nullable=True))
    op.create_index("customers_closed_at", "customers", ["closed_at"])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False, index=True),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("basis", sa.String(200), nullable=False),
        sa.Column("readable_for", sa.Text, nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(200), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "erasure_instructions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False, index=True),
        sa.Column("recipient", sa.String(100), nullable=False, index=True),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("erasure_instructions")
    op.drop_table("legal_holds")
    op.drop_index("customers_closed_at", "customers")
    with op.batch_alter_table("customers") as batch:
        for column in ("held", "services", "closed_reason", "closed_at"):
            batch.drop_column(column)
