"""SQL for customer records: ciphertext in, ciphertext out. No keys, no plaintext."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from needtoknow.storage.schema import blind_indexes, customer_fields, customers


@dataclass(frozen=True, slots=True)
class KeyRow:
    customer_id: str
    dek_version: int
    kek_version: int
    wrapped_dek: bytes


def insert(conn: sa.Connection, key: KeyRow, now: datetime) -> None:
    conn.execute(
        customers.insert().values(
            id=key.customer_id,
            dek_version=key.dek_version,
            kek_version=key.kek_version,
            wrapped_dek=key.wrapped_dek,
            created_at=now,
            updated_at=now,
        )
    )


def write_fields(
    conn: sa.Connection,
    customer_id: str,
    sealed: Mapping[str, bytes],
    index: Mapping[str, Iterable[bytes]],
    now: datetime,
) -> None:
    """Replace the given categories' ciphertext and blind-index digests."""
    if not sealed:
        return
    names = list(sealed)
    conn.execute(
        customer_fields.delete().where(
            customer_fields.c.customer_id == customer_id, customer_fields.c.category.in_(names)
        )
    )
    conn.execute(
        blind_indexes.delete().where(
            blind_indexes.c.customer_id == customer_id, blind_indexes.c.category.in_(names)
        )
    )
    conn.execute(
        customer_fields.insert(),
        [{"customer_id": customer_id, "category": c, "ciphertext": s} for c, s in sealed.items()],
    )
    digests = [
        {"customer_id": customer_id, "category": c, "digest": d}
        for c, ds in index.items()
        for d in set(ds)
    ]
    if digests:
        conn.execute(blind_indexes.insert(), digests)
    conn.execute(customers.update().where(customers.c.id == customer_id).values(updated_at=now))


_FETCH = (
    sa.select(
        customers.c.dek_version,
        customers.c.kek_version,
        customers.c.wrapped_dek,
        customer_fields.c.category,
        customer_fields.c.ciphertext,
    )
    .select_from(
        customers.outerjoin(
            customer_fields,
            sa.and_(
                customer_fields.c.customer_id == customers.c.id,
                customer_fields.c.category.in_(sa.bindparam("categories", expanding=True)),
            ),
        )
    )
    .where(customers.c.id == sa.bindparam("customer_id"), customers.c.wrapped_dek.is_not(None))
)


def fetch(
    conn: sa.Connection, customer_id: str, categories: Iterable[str]
) -> tuple[KeyRow, dict[str, bytes]] | None:
    """The live customer's wrapped key and the ciphertext of ``categories`` it has."""
    rows = conn.execute(_FETCH, {"customer_id": customer_id, "categories": list(categories)}).all()
    if not rows:
        return None
    first = rows[0]
    key = KeyRow(customer_id, first.dek_version, first.kek_version, first.wrapped_dek)
    return key, {row.category: row.ciphertext for row in rows if row.category is not None}


def key_row(conn: sa.Connection, customer_id: str) -> KeyRow | None:
    row = conn.execute(
        sa.select(customers).where(
            customers.c.id == customer_id, customers.c.wrapped_dek.is_not(None)
        )
    ).first()
    if row is None:
        return None
    return KeyRow(row.id, row.dek_version, row.kek_version, row.wrapped_dek)


def find(conn: sa.Connection, category: str, digest: bytes) -> list[str]:
    rows = conn.execute(
        sa.select(blind_indexes.c.customer_id).where(
            blind_indexes.c.category == category, blind_indexes.c.digest == digest
        )
    )
    return sorted(row.customer_id for row in rows)


def erase(conn: sa.Connection, customer_id: str, now: datetime) -> bool:
    """Crypto-shred: drop the wrapped DEK, ciphertext and digests; keep a tombstone."""
    result = conn.execute(
        customers.update()
        .where(customers.c.id == customer_id, customers.c.wrapped_dek.is_not(None))
        .values(wrapped_dek=None, kek_version=None, erased_at=now, updated_at=now)
    )
    conn.execute(customer_fields.delete().where(customer_fields.c.customer_id == customer_id))
    conn.execute(blind_indexes.delete().where(blind_indexes.c.customer_id == customer_id))
    return result.rowcount == 1


def stale_keys(conn: sa.Connection, active_kek: int, after_id: str, limit: int) -> list[KeyRow]:
    """Up to ``limit`` live keys not wrapped by ``active_kek``, in id order after ``after_id``."""
    rows = conn.execute(
        sa.select(
            customers.c.id,
            customers.c.dek_version,
            customers.c.kek_version,
            customers.c.wrapped_dek,
        )
        .where(
            customers.c.wrapped_dek.is_not(None),
            customers.c.kek_version != active_kek,
            customers.c.id > after_id,
        )
        .order_by(customers.c.id)
        .limit(limit)
    )
    return [KeyRow(r.id, r.dek_version, r.kek_version, r.wrapped_dek) for r in rows]


def rewrap(conn: sa.Connection, rows: Iterable[KeyRow]) -> None:
    conn.execute(
        customers.update()
        .where(customers.c.id == sa.bindparam("cid"))
        .values(kek_version=sa.bindparam("kv"), wrapped_dek=sa.bindparam("wd")),
        [{"cid": r.customer_id, "kv": r.kek_version, "wd": r.wrapped_dek} for r in rows],
    )


def count_wrapped_with(conn: sa.Connection, kek_version: int) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(customers)
        .where(customers.c.kek_version == kek_version)
    ).scalar_one()


def live_ids(conn: sa.Connection, limit: int) -> list[str]:
    rows = conn.execute(
        sa.select(customers.c.id)
        .where(customers.c.wrapped_dek.is_not(None))
        .order_by(customers.c.created_at, customers.c.id)
        .limit(limit)
    )
    return [row.id for row in rows]
