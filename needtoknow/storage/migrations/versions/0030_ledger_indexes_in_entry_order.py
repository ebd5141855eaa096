"""The ledger's derived indexes laid out for verification, which reads every row.

Full verification compares both indexes with the entries a window of entry indexes at
a time. The receipts rows lived in (party, at) order and were reached from their index
by entry one lookup at a time, and the customer rows sat in a rowid table behind two
B-trees: at 1.1 M entries those reads were a third of verification's 10 s. Now:

- receipts are kept by (idx, party), so a window is one range; an incident scope reads
  a party's time window through ``ledger_receipts_by_party`` (party, at) and looks up
  its rows (docs/scale.md measures both);
- on SQLite the customer index is WITHOUT ROWID: a customer's history is one range of
  its key, and ``ledger_customers_by_entry`` holds both columns for verification.

Both tables are copied whole, in key order.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild(
        "ledger_customers",
        _customer_columns(),
        with_rowid=False,
        indexes={"ledger_customers_by_entry": ["idx"]},
    )
    _rebuild(
        "ledger_receipts",
        [
            sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("party", sa.String(300), primary_key=True),
            sa.Column("at", sa.BigInteger, nullable=False),
            sa.Column("customer_id", sa.String(200), nullable=False),
            sa.Column("categories", sa.Text, nullable=False),
        ],
        with_rowid=False,
        indexes={"ledger_receipts_by_party": ["party", "at"]},
    )


def downgrade() -> None:
    _rebuild(
        "ledger_customers",
        _customer_columns(),
        with_rowid=True,
        indexes={"ix_ledger_customers_idx": ["idx"]},
    )
    _rebuild(
        "ledger_receipts",
        [
            sa.Column("party", sa.String(300), primary_key=True),
            sa.Column("at", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("customer_id", sa.String(200), nullable=False),
            sa.Column("categories", sa.Text, nullable=False),
        ],
        with_rowid=False,
        indexes={"ix_ledger_receipts_idx": ["idx"]},
    )


def _customer_columns() -> list[sa.Column[object]]:
    """The customer index's columns, the same either way (only the layout changes)."""
    return [
        sa.Column("customer_id", sa.String(200), primary_key=True),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    ]


def _rebuild(
    name: str, columns: list[sa.Column[object]], with_rowid: bool, indexes: dict[str, list[str]]
) -> None:
    """Replace table ``name`` by one of ``columns`` holding the same rows, copied in
    the new key's order (so its B-tree is written left to right), with ``indexes``."""
    names = [column.name for column in columns]
    key = [column.name for column in columns if column.primary_key]
    op.create_table(f"{name}_new", *columns, sqlite_with_rowid=with_rowid)
    listed = ", ".join(names)
    op.execute(
        f"INSERT INTO {name}_new ({listed}) SELECT {listed} FROM {name} ORDER BY {', '.join(key)}"
    )
    op.drop_table(name)
    op.rename_table(f"{name}_new", name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {name} RENAME CONSTRAINT {name}_new_pkey TO {name}_pkey")
    for index, indexed in indexes.items():
        op.create_index(index, name, indexed)
