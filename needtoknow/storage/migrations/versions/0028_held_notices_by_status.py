"""Held customer notices found by status and date, not by reading them all.

Every "who saw my data" read first makes due the notices whose non-disclosure order has
run out (``status = 'held' AND hold_until < today``); without an index that read every
notice ever owed, and a breach notifies every customer.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("customer_notices_held", "customer_notices", ["status", "hold_until"])


def downgrade() -> None:
    op.drop_index("customer_notices_held", table_name="customer_notices")
