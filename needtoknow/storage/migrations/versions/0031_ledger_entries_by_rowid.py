"""On SQLite, each ledger entry and each subtree hash in one B-tree.

``ledger_entries.idx`` was declared BIGINT, so SQLite kept the table in a hidden rowid
B-tree with a second B-tree for the key: every append wrote both, and every read by
index searched both. Declared INTEGER it is the rowid itself (and only integers fit).
``ledger_nodes`` is keyed by (level, idx) and read by that key alone: WITHOUT ROWID
keeps it in the key's B-tree. Both tables are copied whole, in key order. PostgreSQL
keeps its tables as they are (its bigint key is one index either way).

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

from needtoknow.errors import LedgerIndexForged

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    strays = op.get_bind().execute(
        sa.text("SELECT quote(idx) FROM ledger_entries WHERE typeof(idx) != 'integer' LIMIT 10")
    )
    forged: list[str] = list(strays.scalars())
    if forged:
        raise LedgerIndexForged(forged)
    _rebuild("ledger_entries", _entry_columns(sa.Integer), with_rowid=True)
    _rebuild("ledger_nodes", _node_columns(), with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild("ledger_entries", _entry_columns(sa.BigInteger), with_rowid=True)
    _rebuild("ledger_nodes", _node_columns(), with_rowid=True)


def _entry_columns(index: type[sa.Integer]) -> list[sa.Column[object]]:
    return [
        sa.Column("idx", index, primary_key=True, autoincrement=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    ]


def _node_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    ]


def _rebuild(name: str, columns: list[sa.Column[object]], with_rowid: bool) -> None:
    """Replace table ``name`` by one of ``columns`` holding the same rows, copied in
    key order (so the new B-tree is written left to right)."""
    names = ", ".join(column.name for column in columns)
    key = ", ".join(column.name for column in columns if column.primary_key)
    op.create_table(f"{name}_new", *columns, sqlite_with_rowid=with_rowid)
    op.execute(f"INSERT INTO {name}_new ({names}) SELECT {names} FROM {name} ORDER BY {key}")
    op.drop_table(name)
    op.rename_table(f"{name}_new", name)
