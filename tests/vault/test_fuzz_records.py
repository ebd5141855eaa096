"""Property-based fuzzing (issue 15) of what callers send as a customer: any JSON value
for any category, deep nesting, huge strings and odd Unicode are refused only with a
ValidationError that names the field, never echoes the value, and stores nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needtoknow.categories import Rules, seed_registry
from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import parse_json
from needtoknow.storage.schema import customers, ledger_entries
from needtoknow.vault import Vault

REGISTRY = seed_registry()
RULES = Rules(today=date(2026, 11, 26))
FUZZ = settings(max_examples=80, deadline=None)
# Words a message may use (key names, identity kinds, hints): a value that is part of
# one is no echo.
VOCABULARY = (
    " line1 line2 city pin state country number type value token ifsc account_number"
    " content_base64 aadhaar pan passport voter_id gstin ip username device_id expected a"
    " string object one of missing_keys"
    # NotCollected's own words (a generated "coll" is in "--collection", not echoed)
    " not collected: no purpose of policy nextraone needs (see ntk policy explain"
    " --collection) collects only with the customer's consent to which does not stand"
)

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None), max_size=20),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u200b", "pan", "ip", "IN", "411001"]),
    st.integers(min_value=1, max_value=4).map(lambda n: "x" * 10**n * 5),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.binary(max_size=64),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                texts,
                st.sampled_from(
                    [
                        "type",
                        "number",
                        "value",
                        "line1",
                        "city",
                        "pin",
                        "state",
                        "country",
                        "line2",
                        "token",
                        "ifsc",
                        "account_number",
                        "content_base64",
                    ]
                ),
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


def deep(levels: int) -> Any:
    value: Any = "Canarywala"
    for level in range(levels):
        value = [value] if level % 2 else {"type": value}
    return value


def strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_refused_cleanly(error: ValidationError, category: str, value: Any) -> None:
    assert error.field.startswith(category) or error.field == "record", error.field
    message = str(error)
    for text in strings_in(value):
        if len(text) >= 4 and text not in category + VOCABULARY:
            assert text not in message.split(": ", 1)[-1], "the message echoes a value"


@FUZZ
@given(
    category=st.sampled_from(sorted(REGISTRY)),
    value=st.one_of(json_values, st.builds(deep, st.integers(0, 200))),
)
def test_every_validator_refuses_any_json_value_only_with_a_validation_error(
    category: str, value: Any
) -> None:
    try:
        normal = REGISTRY[category].normalise(value, RULES)
    except ValidationError as refused:
        assert refused.category == category
        assert_refused_cleanly(refused, category, value)
        return
    json.dumps(normal.value).encode("utf-8")  # what is accepted can be stored


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=200),
        json_values.map(
            lambda v: json.dumps(v, default=bytes.hex).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_the_customer_json_parser_refuses_only_with_a_validation_error(data: bytes) -> None:
    try:
        parse_json(data)
    except ValidationError as refused:
        assert refused.rule in {"utf8", "json_syntax", "duplicate_key", "depth"}


def stored(vault: Vault) -> tuple[int, int]:
    with vault.db.connect() as conn:
        count = sa.select(sa.func.count())
        return (
            int(conn.execute(count.select_from(customers)).scalar_one()),
            int(conn.execute(count.select_from(ledger_entries)).scalar_one()),
        )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    record=st.dictionaries(st.sampled_from(sorted(REGISTRY)), json_values, min_size=1, max_size=3)
)
def test_a_refused_record_stores_and_ledgers_nothing(
    sqlite_vault: Vault, record: dict[str, Any]
) -> None:
    before = stored(sqlite_vault)
    try:
        sqlite_vault.add(record)
    except ValidationError as refused:
        assert stored(sqlite_vault) == before
        name = refused.field.split(".")[0].split("[")[0]
        assert_refused_cleanly(refused, name, record.get(name, record))
