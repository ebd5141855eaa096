"""Children: a child's record is kept only with a parent's verified consent, recorded
with how the parent was verified (DPDP Act s.9, Rules r.10).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "children",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("guardian_id", sa.String(36), nullable=True),
        sa.Column("verifier", sa.String(100), nullable=True),
        sa.Column("token_id", sa.String(200), nullable=True),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        sa.Column("contact", sa.LargeBinary, nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("verifier", "token_id", name="uq_children_token"),
    )
    op.create_index("ix_children_guardian_id", "children", ["guardian_id"])


def downgrade() -> None:
    op.drop_table("children")
