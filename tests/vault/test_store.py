"""The sealed-record framing: round-trips any map, rejects any truncation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needtoknow.errors import IntegrityError
from needtoknow.storage.store import pack_fields, unpack_fields

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
