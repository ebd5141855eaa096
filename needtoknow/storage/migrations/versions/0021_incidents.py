"""Incidents: a security incident or personal data breach, its deadlines, and the
scope of who it touched (versioned as it grows).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("summary", sa.LargeBinary, nullable=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.Column("scope_version", sa.Integer, nullable=False),
    )
    op.create_table(
        "incident_scopes",
        sa.Column("incident_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("basis", sa.Text, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "incident_customers",
        sa.Column("incident_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), primary_key=True),
        sa.Column("categories", sa.Text, nullable=False),
        sa.Column("since_version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("incident_customers")
    op.drop_table("incident_scopes")
    op.drop_table("incidents")
