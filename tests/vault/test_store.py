"""The sealed-record framing: round-trips any map, rejects any truncation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from needtoknow.errors import IntegrityError
from needtoknow.storage.schema import blind_indexes, customers
from needtoknow.storage.store import pack_fields, unpack_fields
from needtoknow.vault import Vault
from tests.conftest import Clock
from tests.customers import ASHA, lookup

maps = st.dictionaries(st.text(min_size=1, max_size=40), st.binary(max_size=300), max_size=20)


@given(maps)
def test_pack_then_unpack_is_identity(fields: dict[str, bytes]) -> None:
    assert unpack_fields(pack_fields(fields)) == fields


@given(maps.filter(bool), st.data())
def test_any_truncation_is_detected(fields: dict[str, bytes], data: st.DataObject) -> None:
    blob = pack_fields(fields)
    cut = data.draw(st.integers(1, len(blob) - 1)) if len(blob) > 1 else 0
    if cut == 0:
        return
    try:
        result = unpack_fields(blob[:cut])
    except IntegrityError:
        return
    # A cut that lands exactly on an entry boundary yields a strict prefix of the map.
    assert result != fields and set(result) < set(fields)


def test_garbage_is_an_integrity_error() -> None:
    with pytest.raises(IntegrityError):
        unpack_fields(b"\x00\x05ab")


def test_a_record_whose_field_is_not_ciphertext_fails_integrity() -> None:
    from needtoknow.crypto.envelope import decrypt_fields
    from needtoknow.crypto.hazmat import aead

    fields = unpack_fields(pack_fields({"name": b"x" * 40}))
    with pytest.raises(IntegrityError):
        decrypt_fields(aead.new_key(), "c1", 1, {**fields, "email": 12345})  # type: ignore[dict-item]


def test_a_correction_stores_its_time_and_digests_as_core_would(vault: Vault, clock: Clock) -> None:
    """A correction's statements run on the transaction's own cursor, not through Core:
    the time is still stored in the column's own format (retention counts from it), and
    the changed category's digests replace the old ones, the others untouched."""
    cid = vault.add(ASHA).customer_id
    clock.now += timedelta(days=3, microseconds=123)
    vault.correct(cid, {"email": "asha.new@example.in"})
    with vault.db.connect() as conn:
        stored: datetime = conn.execute(
            sa.select(customers.c.updated_at).where(customers.c.id == cid)
        ).scalar_one()
        digests: dict[str, Any] = {
            str(category): count
            for category, count in conn.execute(
                sa.select(blind_indexes.c.category, sa.func.count())
                .where(blind_indexes.c.customer_id == cid)
                .group_by(blind_indexes.c.category)
            )
        }
    assert stored.replace(tzinfo=UTC) == clock.now.astimezone(UTC)
    if vault.db.dialect.name == "sqlite":  # text compared in SQL: exactly as Core writes it
        with vault.db.connect() as conn:
            raw = conn.exec_driver_sql(
                "SELECT created_at, updated_at FROM customers WHERE id = ?", (cid,)
            ).one()
        assert len(raw[1]) == len(raw[0]) and raw[1] > raw[0] and "+" not in raw[1]
    assert digests["email"] == 1 and "telephone" in digests
    assert lookup(vault, "email", "asha.new@example.in") == [cid]
    assert lookup(vault, "email", ASHA["email"]) == []
