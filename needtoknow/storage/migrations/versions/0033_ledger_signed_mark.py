"""The signed mark (``ledger_state.signed``): the newest head's size, kept apart from
the sealed mark so that a long backlog is sealed in many short transactions under one
head instead of a head per transaction.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ledger_state",
        sa.Column("signed", sa.BigInteger, nullable=False, server_default="0"),
    )
    # Until now every seal signed a head in its transaction: the sealed mark was the
    # newest head's size (or, in a tampered ledger, what verification already flags).
    op.execute("UPDATE ledger_state SET signed = sealed")


def downgrade() -> None:
    # Before 0033 the sealed mark had to be the newest head's size: a seal cut off
    # between batches must be signed first, or the older code refuses the ledger.
    marks = op.get_bind().execute(sa.text("SELECT sealed, signed FROM ledger_state")).one()
    if marks.sealed > marks.signed:
        raise RuntimeError(
            f"{marks.sealed - marks.signed} ledger entries are sealed but unsigned: "
            "run 'ntk ledger sth' before downgrading below 0033"
        )
    if marks.sealed < marks.signed:
        raise RuntimeError(
            f"the ledger's sealed mark ({marks.sealed}) is below its signed mark "
            f"({marks.signed}): tampering; run 'ntk ledger verify --witness'"
        )
    with op.batch_alter_table("ledger_state") as batch:
        batch.drop_column("signed")
