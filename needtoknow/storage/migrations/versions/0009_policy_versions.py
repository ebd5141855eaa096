"""Policy versions: posted changes, the date each may take effect, activation history.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policies") as table:
        table.add_column(sa.Column("material", sa.Boolean, nullable=True))
        table.add_column(sa.Column("changes", sa.Text, nullable=True))
        table.add_column(sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    # The version active before this migration has been in force since it was loaded.
    op.execute(
        "UPDATE policies SET activated_at = loaded_at, effective_at = loaded_at WHERE active"
    )


def downgrade() -> None:
    with op.batch_alter_table("policies") as table:
        for name in ("retired_at", "activated_at", "effective_at", "changes", "material"):
            table.drop_column(name)
