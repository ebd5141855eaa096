"""Canonical entry bytes are exactly what docs/ledger.md specifies, whoever encodes them."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from needtoknow.ledger.entry import canonical_json, indexed
from needtoknow.storage import migrations

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
    assert indexed([(7, canonical_json(data))])[0] == [(7, c) for c in expected]


@given(st.binary(max_size=64))
def test_bytes_that_are_not_an_entry_name_nobody(data: bytes) -> None:
    """Verification reads tampered rows too: whatever the bytes, no crash."""
    customers, receipts = indexed([(7, data)])
    assert all(row[0] == 7 for row in [*customers, *receipts])


def _frozen_receipts_of() -> Callable[[bytes], list[dict[str, object]]]:
    """Migration 0024's copy of the receipts derivation, frozen when that revision was
    written: an implementation the faster one was not written from."""
    path = Path(migrations.__file__).parent / "versions/0024_receipts_incident_steps_event_order.py"
    spec = importlib.util.spec_from_file_location("frozen_0024", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._receipts_of  # type: ignore[no-any-return]


FROZEN_RECEIPTS_OF = _frozen_receipts_of()
names = st.sampled_from(["email", "name", "address", "telephone"])
texts = st.sampled_from(["service:billing", "billing_team", "", "c-1"])
moments = st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat())
# An allowed read's fields, and what a tampered or other entry may hold instead.
VALID = {
    "kind": st.sampled_from(["read", "find"]),
    "decision": st.just("allow"),
    "customer_id": texts,
    "time": moments,
    "actor": texts,
    "recipient": texts,
    "categories": st.lists(names, max_size=4),
}
ODD: dict[str, st.SearchStrategy[Any]] = {
    "kind": st.sampled_from(["write", "erase"]) | st.just([]) | st.just({}),
    "decision": st.just("deny"),
    "customer_id": st.none() | st.integers(),
    "time": st.none()
    | st.integers()
    | st.sampled_from(["2026-02-30T00:00:00Z", "not a time", "2026-11-26T05:30:00+05:30"]),
    "actor": st.none() | st.integers(),
    "recipient": st.none() | st.integers(),
    "categories": st.none() | st.text() | st.lists(names | st.integers(), max_size=4),
}


@given(st.data(), st.sets(st.sampled_from(sorted(VALID)), max_size=2))
def test_receipts_are_what_the_frozen_derivation_gives(
    draw: st.DataObject, spoiled: set[str]
) -> None:
    """Seal and verification share ``indexed``, so verification cannot catch a change
    in it: a second implementation does. Mostly allowed reads, with a field or two odd
    or missing."""
    data = {
        key: draw.draw(ODD[key] if key in spoiled else VALID[key], label=key)
        for key in VALID
        if key not in spoiled or draw.draw(st.booleans(), label=f"keep {key}")
    }
    expected = [
        (7, r["party"], r["at"], r["customer_id"], r["categories"])
        for r in FROZEN_RECEIPTS_OF(canonical_json(data))
    ]
    assert indexed([(7, canonical_json(data))])[1] == expected
