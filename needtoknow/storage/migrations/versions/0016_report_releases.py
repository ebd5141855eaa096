"""Released reports kept whole, so one can be shown again without spending ε again.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_releases",
        sa.Column("ledger_index", sa.BigInteger, primary_key=True),
        sa.Column("recipient", sa.String(100), nullable=False, index=True),
        sa.Column("report", sa.String(100), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_releases")
