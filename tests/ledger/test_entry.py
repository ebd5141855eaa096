"""Canonical entry bytes are exactly what docs/ledger.md specifies, whoever encodes them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from needtoknow.ledger.entry import canonical_json, customers_of

# What entries hold: strings (any code point but lone surrogates), integers, booleans,
# null, lists and string-keyed objects. Never floats (docs/ledger.md).
text = st.text(st.characters(exclude_categories=["Cs"]))
scalars = st.none() | st.booleans() | st.integers() | text
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(text, values, max_size=8))
def test_canonical_bytes_match_the_documented_json_dumps(data: dict[str, Any]) -> None:
    documented = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(data) == documented.encode()


@given(st.sets(text, max_size=3), st.none() | text)
def test_customers_are_found_in_canonical_bytes(many: set[str], one: str | None) -> None:
    data: dict[str, Any] = {"kind": "read", "customer_ids": sorted(many)} if many else {}
    if one is not None:
        data["customer_id"] = one
    expected = sorted(many | ({one} if one is not None else set()))
    assert customers_of(canonical_json(data)) == expected


@given(st.binary(max_size=64))
def test_bytes_that_are_not_an_entry_name_nobody(data: bytes) -> None:
    """Verification reads tampered rows too: whatever the bytes, no crash."""
    assert isinstance(customers_of(data), list)
