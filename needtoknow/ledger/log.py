"""The ledger's storage: append in the caller's transaction, read, and store subtree hashes.

Appending takes the next index from ``ledger_state``'s single row inside the caller's
transaction, so indexes are gapless and the entry commits (or rolls back) together with
the operation it records. Interior node hashes are not written on the hot path: ``seal``
stores the hashes of newly completed subtrees when a tree head is made, which is what
keeps proofs O(log n) reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from needtoknow.ledger import merkle
from needtoknow.ledger.entry import Entry
from needtoknow.storage.fastpath import Prepared
from needtoknow.storage.schema import ledger_entries, ledger_nodes, ledger_state


class Statements:
    """The append's two statements, compiled once per dialect (see storage.fastpath)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.next_index = Prepared(
            ledger_state.update()
            .where(ledger_state.c.id == 1)
            .values(size=ledger_state.c.size + 1)
            .returning(ledger_state.c.size),
            dialect,
            literal_binds=True,
        )
        self.insert = Prepared(
            ledger_entries.insert().values(
                idx=sa.bindparam("idx"),
                entry=sa.bindparam("entry"),
                leaf_hash=sa.bindparam("leaf_hash"),
                kind=sa.bindparam("kind"),
                customer_id=sa.bindparam("customer_id"),
            ),
            dialect,
        )


_STATEMENTS: dict[str, Statements] = {}


def statements(dialect: sa.Dialect) -> Statements:
    key = f"{dialect.name}/{dialect.paramstyle}"
    if key not in _STATEMENTS:
        _STATEMENTS[key] = Statements(dialect)
    return _STATEMENTS[key]


def append_with(cursor: Any, sql: Statements, entry: Entry) -> int:
    """Append on a DBAPI cursor inside the caller's transaction; returns the index."""
    index = int(sql.next_index.run(cursor).fetchone()[0]) - 1
    data = entry.canonical()
    sql.insert.run(
        cursor,
        {
            "idx": index,
            "entry": data,
            "leaf_hash": merkle.leaf_hash(data),
            "kind": entry.kind,
            "customer_id": entry.customer_id,
        },
    )
    return index


def append(conn: sa.Connection, entry: Entry) -> int:
    """Add ``entry`` in the caller's transaction; returns its index."""
    return append_with(conn.connection.cursor(), statements(conn.dialect), entry)


@dataclass(frozen=True)
class State:
    size: int
    sealed: int


def state(conn: sa.Connection) -> State:
    row = conn.execute(sa.select(ledger_state.c.size, ledger_state.c.sealed)).one()
    return State(int(row.size), int(row.sealed))


def entries(
    conn: sa.Connection, start: int = 0, stop: int | None = None, batch: int = 5000
) -> Iterator[tuple[int, bytes, bytes]]:
    """(index, canonical entry, stored leaf hash) in index order, streamed in batches."""
    after = start - 1
    while True:
        query = (
            sa.select(ledger_entries.c.idx, ledger_entries.c.entry, ledger_entries.c.leaf_hash)
            .where(ledger_entries.c.idx > after)
            .order_by(ledger_entries.c.idx)
            .limit(batch)
        )
        if stop is not None:
            query = query.where(ledger_entries.c.idx < stop)
        rows = conn.execute(query).all()
        for row in rows:
            yield int(row.idx), _blob(row.entry), _blob(row.leaf_hash)
        if len(rows) < batch:
            return
        after = int(rows[-1].idx)


def customer_indexes(conn: sa.Connection, customer_id: str) -> list[int]:
    rows = conn.execute(
        sa.select(ledger_entries.c.idx)
        .where(ledger_entries.c.customer_id == customer_id)
        .order_by(ledger_entries.c.idx)
    )
    return [int(row.idx) for row in rows]


def entry_at(conn: sa.Connection, index: int) -> bytes:
    return bytes(
        conn.execute(
            sa.select(ledger_entries.c.entry).where(ledger_entries.c.idx == index)
        ).scalar_one()
    )


class StoredTree:
    """A :class:`~needtoknow.ledger.merkle.HashReader` over stored leaf and node hashes."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def complete(self, level: int, index: int) -> bytes:
        if level == 0:
            query = sa.select(ledger_entries.c.leaf_hash).where(ledger_entries.c.idx == index)
        else:
            query = sa.select(ledger_nodes.c.hash).where(
                ledger_nodes.c.level == level, ledger_nodes.c.idx == index
            )
        value = self._conn.execute(query).scalar_one_or_none()
        if value is None:
            raise LookupError(f"no stored hash at level {level}, index {index}")
        return bytes(value)


def seal(conn: sa.Connection) -> int:
    """Store the hashes of every subtree completed since the last seal; returns the size.

    Level by level, each new complete node is the hash of two stored children, read in
    one range query per level. Runs in the caller's transaction, under the state row lock.
    """
    current = conn.execute(
        sa.select(ledger_state.c.size, ledger_state.c.sealed).with_for_update()
    ).one()
    size, sealed = int(current.size), int(current.sealed)
    if size == sealed:
        return size
    level = 1
    while (size >> level) > (sealed >> level):
        first, last = sealed >> level, size >> level  # new nodes: [first, last)
        children = _level(conn, level - 1, 2 * first, 2 * last)
        conn.execute(
            ledger_nodes.insert(),
            [
                {
                    "level": level,
                    "idx": i,
                    "hash": merkle.node_hash(children[2 * i], children[2 * i + 1]),
                }
                for i in range(first, last)
            ],
        )
        level += 1
    conn.execute(ledger_state.update().where(ledger_state.c.id == 1).values(sealed=size))
    return size


def _level(conn: sa.Connection, level: int, start: int, stop: int) -> dict[int, bytes]:
    if level == 0:
        table, index, value = ledger_entries, ledger_entries.c.idx, ledger_entries.c.leaf_hash
        query = sa.select(index, value).where(index >= start, index < stop)
    else:
        table, index, value = ledger_nodes, ledger_nodes.c.idx, ledger_nodes.c.hash
        query = sa.select(index, value).where(table.c.level == level, index >= start, index < stop)
    return {int(row[0]): bytes(row[1]) for row in conn.execute(query)}


def _blob(value: object) -> bytes:
    """Stored bytes as bytes, whatever a direct edit turned them into (text, NULL): the
    verifier must report a tampered row, not crash on it."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return b""
