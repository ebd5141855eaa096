"""Each kept verification names its own ledger entry, and where it started.

``ntk ledger verify --since-head`` and the console start from what the last verification
that held reached. That figure lived only in ``ledger_audits``, which nothing signs:
whoever could write the database could make the next run skip the past. The run's
``audit`` ledger entry says the same, and the next run checks it; a row without one
(before this revision) starts a whole verification. ``since`` (0: the whole ledger) lets
the console say when the whole ledger was last verified, not only the newest part.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_audits") as batch:
        batch.add_column(sa.Column("ledger_index", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("since", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_audits") as batch:
        batch.drop_column("since")
        batch.drop_column("ledger_index")
