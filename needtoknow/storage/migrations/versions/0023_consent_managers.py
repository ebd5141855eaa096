"""Consent managers: a consent given through one names it and its artefact; each signed
event it sends is kept by id (idempotence, replay protection).

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consents") as batch:
        batch.add_column(sa.Column("manager", sa.String(100), nullable=True))
        batch.add_column(sa.Column("artefact_id", sa.String(200), nullable=True))
    op.create_table(
        "consent_manager_events",
        sa.Column("manager", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(200), primary_key=True),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_manager_events")
    with op.batch_alter_table("consents") as batch:
        batch.drop_column("artefact_id")
        batch.drop_column("manager")
