"""The forms people write a record in: each is accepted and normalised to the one stored
shape; the published schema's every example is valid against the schema itself and
accepted by the vault, so the schema never promises a form the vault refuses; and what
is refused says what was expected."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import jsonschema_rs
import pytest

from needtoknow.categories import Rules, seed_registry
from needtoknow.categories.schema import customer_schema
from needtoknow.errors import ValidationError

REGISTRY = seed_registry()
RULES = Rules(today=date(2026, 12, 5))
SCHEMA = customer_schema(REGISTRY)


def stored(category: str, value: Any) -> Any:
    return REGISTRY[category].normalise(value, RULES).value


@pytest.mark.parametrize("category", list(REGISTRY))
def test_every_example_is_valid_by_the_schema_and_accepted_by_the_vault(category: str) -> None:
    validator = jsonschema_rs.Draft202012Validator(SCHEMA)
    examples = SCHEMA["properties"][category]["examples"]
    assert examples
    for example in examples:
        assert validator.is_valid({category: example}), (category, example)
        stored(category, example)  # raises if the vault refuses it


def test_the_schema_refuses_what_no_category_is() -> None:
    validator = jsonschema_rs.Draft202012Validator(SCHEMA)
    assert not validator.is_valid({"shoe_size": 9})
    assert not validator.is_valid({"address": 5})
    assert not validator.is_valid({})


@pytest.mark.parametrize(
    ("category", "given", "canonical"),
    [
        (
            "address",
            "Flat 4B, 17 MG Road, Pune, Maharashtra 411001",
            {
                "line1": "Flat 4B",
                "line2": "17 MG Road",
                "city": "Pune",
                "state": "Maharashtra",
                "pin": "411001",
            },
        ),
        (
            "address",
            "12 Park Street, Kolkata - 700 016",
            {"line1": "12 Park Street", "city": "Kolkata", "pin": "700016"},
        ),
        (
            "address",
            "Flat 4B, Hazratganj, Lucknow Uttar Pradesh 226001",
            {
                "line1": "Flat 4B",
                "line2": "Hazratganj",
                "city": "Lucknow",
                "state": "Uttar Pradesh",
                "pin": "226001",
            },
        ),
        ("identity_number", "pan:AFZPK7190K", [{"type": "pan", "number": "AFZPK7190K"}]),
        ("identity_number", {"type": "pan", "number": "afzpk 7190k"}, "pan:AFZPK7190K"),
        (
            "identity_number",
            ["aadhaar:2345 6789 0124", "PAN: AFZPK7190K"],
            [
                {"type": "aadhaar", "number": "234567890124"},
                {"type": "pan", "number": "AFZPK7190K"},
            ],
        ),
        ("digital_identity", "ip:2001:db8::1", [{"type": "ip", "value": "2001:db8::1"}]),
        ("email", "Asha Verma <asha.verma@Example.IN>", "asha.verma@example.in"),
        ("telephone", "098765-43210", "+91 98765 43210"),
        ("telephone", "(022) 4000 0000", "+912240000000"),
        ("telephone", "tel:+91-98765-43210", "+919876543210"),
        ("card_number", "4111-1111-1111-1111", {"number": "4111111111111111"}),
    ],
)
def test_each_form_is_stored_as_the_canonical_one(
    category: str, given: Any, canonical: Any
) -> None:
    assert stored(category, given) == stored(category, canonical)


@pytest.mark.parametrize(
    ("category", "given", "rule", "says"),
    [
        ("address", "12 MG Road", "one_line_address", "six-digit PIN"),
        ("address", "Pune 411001", "one_line_address", "a street and a city"),
        ("address", 5, "type", "line1, pin (state, line2, country optional), or a one-line"),
        ("identity_number", "AFZPK7190K", "type", '"kind:number" text (kind: aadhaar, pan'),
        ("identity_number", "ration:123", "identity_number_type", "aadhaar, pan, passport"),
        ("bank_account", "123456789012", "type", "account_number, ifsc"),
    ],
)
def test_a_refusal_names_what_was_expected(category: str, given: Any, rule: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        stored(category, given)
    assert refused.value.rule == rule and says in str(refused.value)
    assert json.dumps(given) not in str(refused.value) or len(json.dumps(given)) < 4
