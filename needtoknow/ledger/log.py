"""The ledger's storage: append in the caller's transaction, read, and store subtree hashes.

Appending takes the next index from ``ledger_state``'s single row inside the caller's
transaction, so indexes are gapless and the entry commits (or rolls back) together with
the operation it records. An append writes only that row and the entry, both at the end
of their B-trees. What is derived from the entries is written later, when a tree head
is made (``derive`` from a snapshot, then ``apply`` under the write lock): the hashes of
newly completed subtrees (which keep proofs O(log n) reads), and the customer and
receipts indexes of the new entries (whose rows, keyed by customer or party, would
otherwise land on a random page per read).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from needtoknow.ledger import merkle
from needtoknow.ledger.entry import RECEIPT_COLUMNS, CustomerRow, Entry, ReceiptRow, indexed
from needtoknow.storage.fastpath import Prepared, Transaction, cursor_in
from needtoknow.storage.schema import (
    ledger_customers,
    ledger_entries,
    ledger_nodes,
    ledger_receipts,
    ledger_state,
)


class Statements:
    """The append's two statements, compiled once per dialect (see storage.fastpath)."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.reserve = Prepared(  # take n indexes: the row lock makes them gapless
            ledger_state.update()
            .where(ledger_state.c.id == sa.bindparam("state_id"))
            .values(size=ledger_state.c.size + sa.bindparam("n", type_=sa.BigInteger))
            .returning(ledger_state.c.size),
            dialect,
        )
        self.insert = Prepared(
            ledger_entries.insert().values(
                idx=sa.bindparam("idx"),
                entry=sa.bindparam("entry"),
                leaf_hash=sa.bindparam("leaf_hash"),
            ),
            dialect,
        )
        self.add_node = Prepared(
            ledger_nodes.insert().values(
                level=sa.bindparam("level"), idx=sa.bindparam("idx"), hash=sa.bindparam("hash")
            ),
            dialect,
        )
        self.nodes_between = Prepared(
            sa.select(ledger_nodes.c.idx, ledger_nodes.c.hash).where(
                ledger_nodes.c.level == sa.bindparam("level"),
                ledger_nodes.c.idx >= sa.bindparam("lo"),
                ledger_nodes.c.idx < sa.bindparam("hi"),
            ),
            dialect,
        )
        self.leaves_between = Prepared(
            sa.select(ledger_entries.c.idx, ledger_entries.c.leaf_hash).where(
                ledger_entries.c.idx >= sa.bindparam("lo"),
                ledger_entries.c.idx < sa.bindparam("hi"),
            ),
            dialect,
        )
        self.index = Prepared(
            ledger_customers.insert().values(
                customer_id=sa.bindparam("customer_id"), idx=sa.bindparam("idx")
            ),
            dialect,
        )
        self.receipt = Prepared(
            ledger_receipts.insert().values(
                party=sa.bindparam("party"),
                at=sa.bindparam("at"),
                idx=sa.bindparam("idx"),
                customer_id=sa.bindparam("customer_id"),
                categories=sa.bindparam("categories"),
            ),
            dialect,
        )
        self.receipt_window = Prepared(
            sa.select(
                ledger_receipts.c.idx,
                ledger_receipts.c.party,
                ledger_receipts.c.at,
                ledger_receipts.c.customer_id,
                ledger_receipts.c.categories,
            )
            .where(
                ledger_receipts.c.idx >= sa.bindparam("lo"),
                ledger_receipts.c.idx < sa.bindparam("hi"),
            )
            .order_by(ledger_receipts.c.idx),  # the rest is sorted by the checker
            dialect,
        )
        self.leaf = Prepared(
            sa.select(ledger_entries.c.leaf_hash).where(ledger_entries.c.idx == sa.bindparam("i")),
            dialect,
        )
        self.node = Prepared(
            sa.select(ledger_nodes.c.hash).where(
                ledger_nodes.c.level == sa.bindparam("level"),
                ledger_nodes.c.idx == sa.bindparam("i"),
            ),
            dialect,
        )
        self.level = Prepared(
            sa.select(ledger_nodes.c.hash)
            .where(ledger_nodes.c.level == sa.bindparam("level"))
            .order_by(ledger_nodes.c.idx),
            dialect,
        )
        self.index_window = Prepared(
            sa.select(ledger_customers.c.idx, ledger_customers.c.customer_id)
            .where(
                ledger_customers.c.idx >= sa.bindparam("lo"),
                ledger_customers.c.idx < sa.bindparam("hi"),
            )
            .order_by(ledger_customers.c.idx),
            dialect,
        )
        self.index_outside, self.receipt_outside = (
            Prepared(
                # Two ranges of the index (SQLite orders text and blobs after every
                # number, so the upper one reaches them too): no walk of the table.
                sa.select(table.c.idx).where(
                    sa.or_(table.c.idx < sa.bindparam("lo"), table.c.idx >= sa.bindparam("hi"))
                ),
                dialect,
            )
            for table in (ledger_customers, ledger_receipts)
        )
        self.window = Prepared(
            sa.select(ledger_entries.c.idx, ledger_entries.c.entry, ledger_entries.c.leaf_hash)
            .where(
                ledger_entries.c.idx >= sa.bindparam("lo"),
                ledger_entries.c.idx < sa.bindparam("hi"),
            )
            .order_by(ledger_entries.c.idx),
            dialect,
        )


_STATEMENTS: dict[str, Statements] = {}


def statements(dialect: sa.Dialect) -> Statements:
    key = f"{dialect.name}/{dialect.paramstyle}"
    if key not in _STATEMENTS:
        _STATEMENTS[key] = Statements(dialect)
    return _STATEMENTS[key]


def append_with(cursor: Any, sql: Statements, entries: Sequence[bytes]) -> list[int]:
    """Append canonical ``entries`` on a DBAPI cursor inside the caller's transaction, in
    order; returns their indexes. One statement reserves the indexes, one inserts them."""
    if not entries:
        return []
    end = int(sql.reserve.run(cursor, {"n": len(entries), "state_id": 1}).fetchone()[0])
    first = end - len(entries)
    sql.insert.run_many(
        cursor,
        ("idx", "entry", "leaf_hash"),
        [(first + offset, data, merkle.leaf_hash(data)) for offset, data in enumerate(entries)],
    )
    return list(range(first, end))


def append(conn: Transaction, entries: Sequence[Entry]) -> list[int]:
    """Add ``entries`` in the caller's transaction; returns their indexes."""
    return append_canonical(conn, [e.canonical() for e in entries])


def append_canonical(conn: Transaction, entries: Sequence[bytes]) -> list[int]:
    """Add entries already in canonical form (a restore carrying a ledger's tail over,
    byte for byte) in the caller's transaction; returns their indexes."""
    with cursor_in(conn) as cursor:
        return append_with(cursor, statements(conn.dialect), entries)


@dataclass(frozen=True)
class State:
    size: int  # entries appended
    sealed: int  # entries indexed and hashed into the stored nodes
    signed: int  # the newest head's size (≤ sealed): moved in the transaction that signs it


def state(conn: sa.Connection, lock: bool = False) -> State:
    """The ledger's size and marks; ``lock`` holds the row until the transaction ends
    (what sealing and signing decide on must not move under them)."""
    query = sa.select(ledger_state.c.size, ledger_state.c.sealed, ledger_state.c.signed)
    row = conn.execute(query.with_for_update() if lock else query).one()
    return State(int(row.size), int(row.sealed), int(row.signed))


def mark_signed(conn: sa.Connection, size: int) -> None:
    """Record that the newest head covers ``size`` entries, in that head's transaction."""
    conn.execute(ledger_state.update().where(ledger_state.c.id == 1).values(signed=size))


WINDOW = 20_000
BIGINT_MAX = 2**63 - 1  # the index columns' range: a forged row may sit anywhere in it


Row = tuple[int, bytes, bytes]  # (index, canonical entry, stored leaf hash)


def entries(conn: sa.Connection, start: int = 0, stop: int | None = None) -> Iterator[Row]:
    """The entries of :func:`windows`, one at a time."""
    for rows in windows(conn, start, stop):
        yield from rows


def windows(
    conn: sa.Connection, start: int = 0, stop: int | None = None, window: int = WINDOW
) -> Iterator[list[Row]]:
    """The entries in index order, a window of indexes at a time so memory stays bounded
    on any driver. Rows past ``stop`` are not read; rows outside any window show up as
    gaps to the caller. With no ``stop``, up to the last stored index, but an empty
    window is the last one yielded: past a gap of a whole window, a row forged far
    beyond the end would otherwise cost a query per window up to it."""
    sql = statements(conn.dialect)
    until = stop
    if until is None:
        idx = ledger_entries.c.idx
        last = conn.execute(sa.select(sa.func.max(idx)).where(idx <= BIGINT_MAX)).scalar()
        until = -1 if last is None else int(last) + 1
    cursor = conn.connection.cursor()
    for lo in range(start, until, window):
        rows = sql.window.run(cursor, {"lo": lo, "hi": min(lo + window, until)}).fetchall()
        yield [
            row
            if type(row[1]) is bytes and type(row[2]) is bytes
            else (row[0], _blob(row[1]), _blob(row[2]))
            for row in rows
        ]
        if not rows and stop is None:
            break
    cursor.close()


def customer_indexes(conn: sa.Connection, customer_id: str) -> list[int]:
    """Every sealed entry about one customer: as subject (customer_id) or among
    customer_ids. Entries appended since the last seal are not indexed yet."""
    rows = conn.execute(
        sa.select(ledger_customers.c.idx)
        .where(ledger_customers.c.customer_id == customer_id)
        .order_by(ledger_customers.c.idx)
    )
    return [int(row.idx) for row in rows]


def indexed_customers(conn: sa.Connection, start: int, stop: int) -> list[CustomerRow]:
    """The customer index rows of entries [start, stop)."""
    return _window(conn, statements(conn.dialect).index_window, start, stop)


def customers_outside(conn: sa.Connection, end: int) -> list[Any]:
    """Customer index rows naming no entry in [0, end): below 0, past the end, or an
    index SQLite keeps as text or a blob (sorted after every number, so past the end
    too). A fraction inside the range is in a window's rows, and differs there."""
    return _window(conn, statements(conn.dialect).index_outside, 0, end)


def receipts_outside(conn: sa.Connection, end: int) -> list[Any]:
    """:func:`customers_outside` for the receipts index."""
    return _window(conn, statements(conn.dialect).receipt_outside, 0, end)


def indexed_receipts(conn: sa.Connection, start: int, stop: int) -> list[ReceiptRow]:
    """The receipts index rows of entries [start, stop)."""
    return _window(conn, statements(conn.dialect).receipt_window, start, stop)


def _window(conn: sa.Connection, statement: Prepared, start: int, stop: int) -> list[Any]:
    cursor = conn.connection.cursor()
    rows = statement.run(cursor, {"lo": start, "hi": stop}).fetchall()
    cursor.close()
    return list(rows)


def received(
    conn: sa.Connection, party: str, since: int | None, until: int | None
) -> Iterator[tuple[str, str]]:
    """(customer id, comma-joined categories) for every sealed receipt of ``party`` in
    [since, until) (microseconds since the epoch), each distinct pair once: one range
    of the index, grouped in the database."""
    table = ledger_receipts
    query = sa.select(table.c.customer_id, table.c.categories).where(table.c.party == party)
    if since is not None:
        query = query.where(table.c.at >= since)
    if until is not None:
        query = query.where(table.c.at < until)
    for row in conn.execute(query.group_by(table.c.customer_id, table.c.categories)):
        yield row[0], row[1]


def stored_level(conn: sa.Connection, level: int) -> list[bytes]:
    """Every stored node hash of one level, in index order (for verification)."""
    cursor = conn.connection.cursor()
    rows = statements(conn.dialect).level.run(cursor, {"level": level}).fetchall()
    cursor.close()
    return [bytes(row[0]) for row in rows]


def stored_nodes(conn: sa.Connection, level: int, start: int) -> dict[int, bytes]:
    """The stored node hashes of one level from index ``start`` on (index → hash)."""
    rows = conn.execute(
        sa.select(ledger_nodes.c.idx, ledger_nodes.c.hash).where(
            ledger_nodes.c.level == level, ledger_nodes.c.idx >= start
        )
    )
    return {int(row.idx): bytes(row.hash) for row in rows}


def entry_at(conn: sa.Connection, index: int) -> bytes:
    return bytes(
        conn.execute(
            sa.select(ledger_entries.c.entry).where(ledger_entries.c.idx == index)
        ).scalar_one()
    )


class StoredTree:
    """A :class:`~needtoknow.ledger.merkle.HashReader` over stored leaf and node hashes."""

    def __init__(self, conn: sa.Connection) -> None:
        self._cursor = conn.connection.cursor()
        self._sql = statements(conn.dialect)

    def complete(self, level: int, index: int) -> bytes:
        if level == 0:
            row = self._sql.leaf.run(self._cursor, {"i": index}).fetchone()
        else:
            row = self._sql.node.run(self._cursor, {"level": level, "i": index}).fetchone()
        if row is None:
            raise LookupError(f"no stored hash at level {level}, index {index}")
        return bytes(row[0])


# Entries sealed per transaction: ~16 µs an entry here, of which the write lock is held
# for the inserts and the commit, ~5.5 ms a batch (the reading, parsing and hashing,
# ~2.4 ms, are done from a snapshot first); more at a million customers, whose index
# rows land on random pages (docs/scale.md). A server's reads wait behind each batch.
SEAL_BATCH = 500


@dataclass(frozen=True)
class Sealing:
    """What sealing entries [start, stop) adds to the stored tree and indexes: derived
    from a snapshot (:func:`derive`), written under the write lock (:func:`apply`), so
    that the lock is held for the inserts alone, not for reading, parsing and hashing."""

    start: int
    stop: int
    customers: list[CustomerRow]
    receipts: list[ReceiptRow]
    nodes: list[tuple[int, int, bytes]]  # (level, idx, hash)


def derive(conn: sa.Connection, most: int = SEAL_BATCH) -> Sealing:
    """The sealing of up to ``most`` entries past the sealed mark, as ``conn`` sees the
    ledger. Level by level, each new complete node is the hash of two children: stored
    ones, read in one range query per level, or ones this sealing made a level below."""
    current = state(conn)
    sealed, size = current.sealed, max(current.sealed, min(current.size, current.sealed + most))
    customers: list[CustomerRow] = []
    receipts: list[ReceiptRow] = []
    for rows in windows(conn, sealed, size):
        found = indexed([(index, data) for index, data, _ in rows])
        customers += found[0]
        receipts += found[1]
    nodes: list[tuple[int, int, bytes]] = []
    sql = statements(conn.dialect)
    cursor = conn.connection.cursor()
    made: dict[int, bytes] = {}  # the level below's new nodes
    level = 1
    while (size >> level) > (sealed >> level):
        first, last = sealed >> level, size >> level  # new nodes: [first, last)
        children = _level(cursor, sql, level - 1, 2 * first, 2 * last) | made
        made = {
            i: merkle.node_hash(children[2 * i], children[2 * i + 1]) for i in range(first, last)
        }
        nodes += [(level, i, digest) for i, digest in made.items()]
        level += 1
    cursor.close()
    return Sealing(sealed, size, customers, receipts, nodes)


def apply(conn: sa.Connection, sealing: Sealing) -> State | None:
    """Write ``sealing`` in the caller's transaction, under the state row lock, and
    move the sealed mark; None, writing nothing, if the mark moved since it was derived
    (another signer sealed meanwhile: derive again)."""
    current = state(conn, lock=True)
    if current.sealed != sealing.start:
        return None
    if sealing.stop == sealing.start:  # nothing to seal (or a size below the mark)
        return current
    if current.size < sealing.stop:
        return None
    sql = statements(conn.dialect)
    cursor = conn.connection.cursor()
    if sealing.customers:
        sql.index.run_many(cursor, ("customer_id", "idx"), [(c, i) for i, c in sealing.customers])
    if sealing.receipts:
        sql.receipt.run_many(cursor, RECEIPT_COLUMNS, sealing.receipts)
    if sealing.nodes:
        sql.add_node.run_many(cursor, ("level", "idx", "hash"), sealing.nodes)
    cursor.close()
    conn.execute(ledger_state.update().where(ledger_state.c.id == 1).values(sealed=sealing.stop))
    return State(current.size, sealing.stop, current.signed)


def _level(cursor: Any, sql: Statements, level: int, start: int, stop: int) -> dict[int, bytes]:
    """The stored hashes of ``level`` (0: the leaves) with indexes in [start, stop)."""
    if level == 0:
        rows = sql.leaves_between.run(cursor, {"lo": start, "hi": stop})
    else:
        rows = sql.nodes_between.run(cursor, {"level": level, "lo": start, "hi": stop})
    return {int(row[0]): bytes(row[1]) for row in rows.fetchall()}


def _blob(value: object) -> bytes:
    """Stored bytes as bytes, whatever a direct edit turned them into (text, NULL): the
    verifier must report a tampered row, not crash on it."""
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return b""
