"""Customers' rights: requests with deadlines, one-time codes, customer sessions and
nominees.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rights_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("verification", sa.String(20), nullable=False),
        sa.Column("verified_by", sa.String(200), nullable=True),
        sa.Column("verified_method", sa.String(20), nullable=True),
        sa.Column("nominee_id", sa.String(36), nullable=True),
        sa.Column("details", sa.LargeBinary, nullable=True),
        sa.Column("resolution", sa.LargeBinary, nullable=True),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False, index=True),
        sa.Column("escalated_at", _TIME, nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
    )
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("subject", sa.String(36), nullable=False, index=True),
        sa.Column("customer_id", sa.String(36), nullable=True),
        sa.Column("digest", sa.LargeBinary, nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("used_at", _TIME, nullable=True),
    )
    op.create_table(
        "customer_sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=True, index=True),
        sa.Column("address_digest", sa.LargeBinary, nullable=False, index=True),
        sa.Column("client_digest", sa.LargeBinary, nullable=False, index=True),
        sa.Column("started_at", _TIME, nullable=False, index=True),
        sa.Column("token_digest", sa.LargeBinary, nullable=True, unique=True),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("failures", sa.Integer, nullable=False),
    )
    op.create_table(
        "nominees",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False, index=True),
        sa.Column("details", sa.LargeBinary, nullable=True),
        sa.Column("nominated_at", _TIME, nullable=False),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("evidence", sa.String(20), nullable=True),
        sa.Column("evidence_note", sa.LargeBinary, nullable=True),
        sa.Column("evidence_checked_by", sa.String(200), nullable=True),
        sa.Column("evidence_at", _TIME, nullable=True),
    )


def downgrade() -> None:
    for table in ("nominees", "customer_sessions", "one_time_codes", "rights_requests"):
        op.drop_table(table)
