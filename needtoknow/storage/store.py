"""SQL for customer records: ciphertext in, ciphertext out. No keys, no plaintext.

A customer is one row: the wrapped DEK and a *sealed record*, the framed map
category → AES-GCM ciphertext (each field sealed on its own, bound to customer,
field and DEK version). One row means a read is one primary-key lookup, a write
is atomic by construction, and erasure clears a single row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgpack
import sqlalchemy as sa

from needtoknow.errors import IntegrityError, NotFound
from needtoknow.storage.database import stored_utc
from needtoknow.storage.fastpath import (
    Prepared,
    ThreadConnections,
    Transaction,
    cursor_in,
    prepared,
)
from needtoknow.storage.groupread import GroupRead
from needtoknow.storage.schema import blind_indexes, children, customers, external_ids


def pack_fields(sealed: Mapping[str, bytes]) -> bytes:
    """Frame ``{category: ciphertext}`` as a MessagePack map."""
    return bytes(msgpack.packb(dict(sealed)))


def unpack_fields(blob: bytes) -> dict[str, bytes]:
    """Inverse of :func:`pack_fields`; a malformed frame is an integrity failure."""
    try:
        fields = msgpack.unpackb(blob)
    except (ValueError, TypeError, msgpack.UnpackException):
        raise IntegrityError() from None
    if not isinstance(fields, dict):
        raise IntegrityError()
    return fields  # each value is checked when (and only if) it is decrypted


@dataclass(frozen=True, slots=True)
class Held:
    """A category kept past its purposes under holds: readable only ``readable_for``,
    until the last of them ends."""

    readable_for: tuple[str, ...]
    under: tuple[str, ...]  # the holds' names (statutory) or ids (placed by hand)
    until: str  # ISO date


def pack_held(held: Mapping[str, Held]) -> bytes | None:
    if not held:
        return None
    return bytes(
        msgpack.packb({c: [list(h.readable_for), list(h.under), h.until] for c, h in held.items()})
    )


def unpack_held(blob: bytes | None) -> dict[str, Held]:
    if blob is None:
        return {}
    try:
        raw = msgpack.unpackb(bytes(blob))
        return {c: Held(tuple(f), tuple(u), str(until)) for c, (f, u, until) in raw.items()}
    except (ValueError, TypeError, AttributeError, msgpack.UnpackException):
        raise IntegrityError() from None


@dataclass(frozen=True, slots=True)
class KeyRow:
    customer_id: str
    dek_version: int
    kek_version: int
    wrapped_dek: bytes


def insert(
    conn: sa.Connection,
    key: KeyRow,
    sealed: Mapping[str, bytes],
    index: Mapping[str, Iterable[bytes]],
    now: datetime,
) -> None:
    conn.execute(
        customers.insert().values(
            id=key.customer_id,
            dek_version=key.dek_version,
            kek_version=key.kek_version,
            wrapped_dek=key.wrapped_dek,
            sealed_fields=pack_fields(sealed),
            created_at=now.astimezone(UTC),
            updated_at=now.astimezone(UTC),
        )
    )
    _insert_digests(conn, key.customer_id, index)


def insert_many(
    conn: sa.Connection,
    rows: Sequence[tuple[KeyRow, Mapping[str, bytes], Mapping[str, Iterable[bytes]]]],
    now: datetime,
) -> None:
    """:func:`insert` for a batch: one statement for the customers, one for the digests."""
    if not rows:
        return
    moment = now.astimezone(UTC)
    conn.execute(
        customers.insert(),
        [
            {
                "id": key.customer_id,
                "dek_version": key.dek_version,
                "kek_version": key.kek_version,
                "wrapped_dek": key.wrapped_dek,
                "sealed_fields": pack_fields(sealed),
                "created_at": moment,
                "updated_at": moment,
            }
            for key, sealed, _ in rows
        ],
    )
    digests = [
        {"customer_id": key.customer_id, "category": category, "digest": digest}
        for key, _, index in rows
        for category, found in index.items()
        for digest in set(found)
    ]
    if digests:
        conn.execute(blind_indexes.insert(), digests)


def known_external(conn: sa.Connection, digests: Sequence[bytes]) -> dict[bytes, str]:
    """Which of ``digests`` (MACs of source-system ids) an import recorded, → customer."""
    if not digests:
        return {}
    rows = conn.execute(
        sa.select(external_ids.c.digest, external_ids.c.customer_id).where(
            among(conn, external_ids.c.digest, digests, sa.LargeBinary())
        )
    )
    return {bytes(row.digest): str(row.customer_id) for row in rows}


def record_external(conn: sa.Connection, pairs: Mapping[bytes, str], now: datetime) -> None:
    if pairs:
        conn.execute(
            external_ids.insert(),
            [{"digest": d, "customer_id": c, "created_at": now} for d, c in pairs.items()],
        )


def _insert_digests(
    conn: Transaction, customer_id: str, index: Mapping[str, Iterable[bytes]]
) -> None:
    rows = [
        (customer_id, category, digest)
        for category, digests in index.items()
        for digest in set(digests)
    ]
    if rows:
        with cursor_in(conn) as cursor:
            _statement("insert_digests", conn, _INSERT_DIGESTS).run_many(
                cursor, ("customer_id", "category", "digest"), rows
            )


@dataclass(frozen=True, slots=True)
class Record:
    """A live customer's row: its key, sealed fields and held categories."""

    key: KeyRow
    fields: dict[str, bytes]
    held: dict[str, Held]


# What a read of many finds of each customer: the record, or why it cannot be read.
Fetched = Record | IntegrityError


def _live(where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """A customer's key and sealed record, where ``where`` and not erased."""
    return sa.select(
        customers.c.id,
        customers.c.dek_version,
        customers.c.kek_version,
        customers.c.wrapped_dek,
        customers.c.sealed_fields,
        customers.c.held,
    ).where(where, customers.c.wrapped_dek.is_not(None))


def _record(row: Sequence[Any]) -> Record:
    """The row as a Record; a row no write of ours makes (a version that is no number, a
    live row without its sealed record) is an integrity failure."""
    customer_id, dek_version, kek_version, wrapped, sealed, held = row
    try:
        key = KeyRow(customer_id, int(dek_version), int(kek_version), bytes(wrapped))
        sealed = bytes(sealed)
    except (TypeError, ValueError):
        raise IntegrityError() from None
    return Record(key, unpack_fields(sealed), unpack_held(held))


def _fetched(row: Sequence[Any]) -> Fetched:
    try:
        return _record(row)
    except IntegrityError as exc:
        return exc


# A correction runs these on every write: as Prepared statements on the transaction's
# own cursor (storage.fastpath), not through Core, which cost ~0.3 ms a correction more.
_LOCKED_RECORD = _live(customers.c.id == sa.bindparam("customer_id")).with_for_update()
_REPLACE_FIELDS = (
    customers.update()
    .where(customers.c.id == sa.bindparam("customer_id"))
    .values(sealed_fields=sa.bindparam("sealed"), updated_at=sa.bindparam("now"))
)
_DROP_DIGESTS = blind_indexes.delete().where(
    blind_indexes.c.customer_id == sa.bindparam("customer_id"),
    blind_indexes.c.category == sa.bindparam("category"),
)
_INSERT_DIGESTS = blind_indexes.insert().values(
    customer_id=sa.bindparam("customer_id"),
    category=sa.bindparam("category"),
    digest=sa.bindparam("digest"),
)


def _statement(name: str, conn: Transaction, statement: sa.ClauseElement) -> Prepared:
    return prepared(f"store.{name}", conn.dialect, lambda: statement)


def locked_record(conn: Transaction, customer_id: str) -> Record | None:
    """A live customer's row, locked for update where the database can."""
    with cursor_in(conn) as cursor:
        found = _statement("locked_record", conn, _LOCKED_RECORD).run(
            cursor, {"customer_id": customer_id}
        )
        row = found.fetchone()
    if row is None:
        return None
    return _record(row)


def rekey(
    conn: sa.Connection,
    key: KeyRow,
    fields: Mapping[str, bytes],
    held: Mapping[str, Held],
    gone: Iterable[str],
) -> None:
    """Store a customer's record sealed again under a new data key, without the ``gone``
    categories (their digests go too): see needtoknow.records.shred. Not a write of the
    customer's data, so ``updated_at`` (from which retention counts) stays."""
    conn.execute(
        customers.update()
        .where(customers.c.id == key.customer_id)
        .values(
            dek_version=key.dek_version,
            kek_version=key.kek_version,
            wrapped_dek=key.wrapped_dek,
            sealed_fields=pack_fields(fields),
            held=pack_held(held),
        )
    )
    conn.execute(
        blind_indexes.delete().where(
            blind_indexes.c.customer_id == key.customer_id,
            blind_indexes.c.category.in_(list(gone)),
        )
    )


def set_held(conn: sa.Connection, customer_id: str, held: Mapping[str, Held]) -> None:
    conn.execute(
        customers.update().where(customers.c.id == customer_id).values(held=pack_held(held))
    )


def replace_fields(
    conn: Transaction,
    customer_id: str,
    fields: Mapping[str, bytes],
    changed: Iterable[str],
    index: Mapping[str, Iterable[bytes]],
    now: datetime,
) -> None:
    """Store the whole sealed record and refresh the digests of the ``changed`` categories."""
    sealed = pack_fields(fields)
    with cursor_in(conn) as cursor:
        _statement("replace_fields", conn, _REPLACE_FIELDS).run(
            cursor, {"customer_id": customer_id, "sealed": sealed, "now": now.astimezone(UTC)}
        )
        _statement("drop_digests", conn, _DROP_DIGESTS).run_many(
            cursor, ("customer_id", "category"), [(customer_id, c) for c in changed]
        )
    _insert_digests(conn, customer_id, index)


class Reader:
    """The read fast path: precompiled primary-key SELECTs (see storage.fastpath); on an
    event loop, the reads of one turn in one statement (storage.groupread)."""

    def __init__(self, connections: ThreadConnections) -> None:
        self._dialect = connections.engine.dialect
        self._select = Prepared(_live(customers.c.id == sa.bindparam("customer_id")), self._dialect)
        self._among: dict[int, Prepared] = {}
        self._connections = connections
        self._turns = GroupRead(self.fetch_many)

    def fetch(self, customer_id: str) -> Record | None:
        """The customer's live record; IntegrityError for a malformed one."""
        with self._connections.snapshot() as cursor:
            row = self._select.run(cursor, {"customer_id": customer_id}).fetchone()
        return None if row is None else _record(row)

    async def fetch_async(self, customer_id: str) -> Fetched | None:
        """:func:`fetch_many` of one customer for a coroutine on a local database: one
        statement fetches what every request of the loop's turn asked for."""
        return await self._turns.get(customer_id)

    def fetch_many(self, customer_ids: Sequence[str]) -> dict[str, Fetched]:
        """The live records among ``customer_ids`` by id (unknown or erased ones absent),
        in statements of up to :data:`AMONG` ids. A malformed record is its
        IntegrityError, not raised: it spoils no other customer's read."""
        rows = []
        with self._connections.snapshot() as cursor:
            for start in range(0, len(customer_ids), AMONG):
                chunk = list(customer_ids[start : start + AMONG])
                # Sizes rounded up to a power of two (the last id repeated), so a handful
                # of statements serve every batch.
                size = 1 << (len(chunk) - 1).bit_length()
                chunk += chunk[-1:] * (size - len(chunk))
                statement = self._statement_among(size)
                params = {f"id{i}": customer_id for i, customer_id in enumerate(chunk)}
                rows += statement.run(cursor, params).fetchall()
        return {row[0]: _fetched(row) for row in rows}

    def _statement_among(self, size: int) -> Prepared:
        if size not in self._among:
            wanted: list[sa.BindParameter[str]] = [sa.bindparam(f"id{i}") for i in range(size)]
            self._among[size] = Prepared(_live(customers.c.id.in_(wanted)), self._dialect)
        return self._among[size]


AMONG = 128  # ids a statement of fetch_many asks for


def find(conn: sa.Connection, category: str, digest: bytes) -> list[str]:
    rows = conn.execute(
        sa.select(blind_indexes.c.customer_id).where(
            blind_indexes.c.category == category, blind_indexes.c.digest == digest
        )
    )
    return sorted(row.customer_id for row in rows)


def erase(conn: sa.Connection, customer_id: str, now: datetime) -> bool:
    """Crypto-shred: drop the wrapped DEK, ciphertext and digests; keep a tombstone."""
    return erase_many(conn, [customer_id], now) == 1


def erase_many(conn: sa.Connection, customer_ids: list[str], now: datetime) -> int:
    """:func:`erase` for several customers in two statements; returns how many were live."""
    if not customer_ids:
        return 0
    result = conn.execute(
        customers.update()
        .where(among(conn, customers.c.id, customer_ids), customers.c.wrapped_dek.is_not(None))
        .values(
            wrapped_dek=None,
            kek_version=None,
            sealed_fields=None,
            held=None,
            erased_at=now.astimezone(UTC),
            updated_at=now.astimezone(UTC),
        )
    )
    conn.execute(
        blind_indexes.delete().where(among(conn, blind_indexes.c.customer_id, customer_ids))
    )
    conn.execute(children.delete().where(among(conn, children.c.id, customer_ids)))
    return int(result.rowcount)


def among(conn: sa.Connection, column: Any, ids: Sequence[Any], kind: Any = None) -> Any:
    """``column IN ids`` for thousands of ids: on PostgreSQL one array parameter
    (``= ANY``), bound in one piece; elsewhere an IN list (SQLite takes 32,766 values).
    ``kind``: the ids' SQL type (default text)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY  # loaded with the dialect anyway

        element = kind if kind is not None else sa.String()
        return column == sa.any_(sa.bindparam(None, list(ids), type_=ARRAY(element)))
    return column.in_(ids)


def stale_keys(conn: sa.Connection, active_kek: int, after_id: str, limit: int) -> list[KeyRow]:
    """Up to ``limit`` live keys not wrapped by ``active_kek``, in id order after ``after_id``."""
    rows = conn.execute(
        sa.select(*_KEY)
        .where(
            customers.c.wrapped_dek.is_not(None),
            customers.c.kek_version != active_kek,
            customers.c.id > after_id,
        )
        .order_by(customers.c.id)
        .limit(limit)
    )
    return [_key_row(r) for r in rows]


_KEY = (customers.c.id, customers.c.dek_version, customers.c.kek_version, customers.c.wrapped_dek)


def _key_row(row: Any) -> KeyRow:
    return KeyRow(row.id, row.dek_version, row.kek_version, bytes(row.wrapped_dek))


def rewrap(conn: sa.Connection, old: Iterable[KeyRow], new: Iterable[KeyRow]) -> int:
    """Replace wrapped keys, each only if it is still live and still the one that was read
    (an erasure or another rotation in between wins); returns how many were replaced."""
    statement = (
        customers.update()
        .where(
            customers.c.id == sa.bindparam("cid"),
            customers.c.kek_version == sa.bindparam("old_kv"),
            customers.c.wrapped_dek.is_not(None),
        )
        .values(kek_version=sa.bindparam("kv"), wrapped_dek=sa.bindparam("wd"))
    )
    replaced = 0
    for before, after in zip(old, new, strict=True):
        replaced += conn.execute(
            statement,
            {
                "cid": after.customer_id,
                "old_kv": before.kek_version,
                "kv": after.kek_version,
                "wd": after.wrapped_dek,
            },
        ).rowcount
    return replaced


def count_wrapped_with(conn: sa.Connection, kek_version: int) -> int:
    count = conn.execute(
        sa.select(sa.func.count())
        .select_from(customers)
        .where(customers.c.kek_version == kek_version)
    ).scalar_one()
    return int(count)


def keys_per_kek(conn: sa.Connection, each: int) -> dict[int, list[KeyRow]]:
    """Up to ``each`` live keys (the lowest ids') wrapped by each KEK version the records
    use: what a restore tries the key provider on before it trusts it with the rest."""
    ranked = (
        sa.select(
            *_KEY,
            sa.func.row_number()
            .over(partition_by=customers.c.kek_version, order_by=customers.c.id)
            .label("rank"),
        )
        .where(customers.c.wrapped_dek.is_not(None), customers.c.kek_version.is_not(None))
        .subquery()
    )
    found: dict[int, list[KeyRow]] = {}
    for row in conn.execute(sa.select(ranked).where(ranked.c.rank <= each)):
        found.setdefault(row.kek_version, []).append(_key_row(row))
    return found


def sealed_under(conn: sa.Connection, kek_versions: Sequence[int]) -> list[str]:
    """The live customers whose keys ``kek_versions`` wrap, in id order: one scan, where
    paging by id would re-read what is left under those versions for every page."""
    rows = conn.execute(
        sa.select(customers.c.id)
        .where(customers.c.wrapped_dek.is_not(None), customers.c.kek_version.in_(kek_versions))
        .order_by(customers.c.id)
    )
    return list(rows.scalars())


def categories_of(conn: sa.Connection, customer_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The categories each live record of ``customer_ids`` holds (none if it is malformed)."""
    rows = conn.execute(
        sa.select(customers.c.id, customers.c.sealed_fields).where(
            among(conn, customers.c.id, customer_ids), customers.c.wrapped_dek.is_not(None)
        )
    )
    return {row.id: _categories(row.sealed_fields) for row in rows}


def _categories(sealed: bytes | None) -> tuple[str, ...]:
    try:
        return tuple(sorted(unpack_fields(bytes(sealed or b""))))
    except IntegrityError:
        return ()


def live_ids(conn: sa.Connection, limit: int) -> list[str]:
    rows = conn.execute(
        sa.select(customers.c.id)
        .where(customers.c.wrapped_dek.is_not(None))
        .order_by(customers.c.created_at, customers.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]


def require_live(conn: sa.Connection, customer_id: str) -> None:
    """Raise NotFound unless ``customer_id`` is a live customer (known, not erased)."""
    if not live_among(conn, [customer_id]):
        raise NotFound(f"no customer {customer_id!r}")


def live_among(conn: sa.Connection, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are live customers (not unknown, not erased)."""
    rows = conn.execute(
        sa.select(customers.c.id).where(
            customers.c.id.in_(list(ids)), customers.c.wrapped_dek.is_not(None)
        )
    )
    return {row.id for row in rows}


def live_categories(conn: sa.Connection) -> Iterator[tuple[str, frozenset[str]]]:
    """Each live customer's id and the categories it holds, read from the sealed record's
    frame without decrypting anything."""
    rows = conn.execute(
        sa.select(customers.c.id, customers.c.sealed_fields).where(
            customers.c.wrapped_dek.is_not(None)
        )
    )
    for row in rows:
        yield row.id, frozenset(unpack_fields(bytes(row.sealed_fields)))


def lifetimes(conn: sa.Connection, ids: Iterable[str]) -> dict[str, tuple[datetime, datetime]]:
    """(created_at, updated_at) of the live customers among ``ids``."""
    rows = conn.execute(
        sa.select(customers.c.id, customers.c.created_at, customers.c.updated_at).where(
            customers.c.id.in_(list(ids)), customers.c.wrapped_dek.is_not(None)
        )
    )
    return {row.id: (stored_utc(row.created_at), stored_utc(row.updated_at)) for row in rows}
