"""Transforms cut each category down to what a rule allows, and never leak more."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needtoknow.categories import seed_registry
from needtoknow.policy.transforms import apply

REGISTRY = seed_registry()


def cut(transform: str, category: str, value: Any) -> Any:
    return apply(transform, value, REGISTRY[category], lambda data: f"tok_{len(data)}")


def test_masked_name_is_initials_only() -> None:
    assert cut("masked", "name", "Asha Canarywala") == "A. C."


def test_masked_email_keeps_the_first_letter_and_the_domain() -> None:
    assert cut("masked", "email", "asha.canary@example.in") == "a***@example.in"


def test_masked_card_shows_network_and_last4_only() -> None:
    card = {"last4": "1111", "network": "visa", "token": "gw_tok_asha"}
    assert cut("masked", "card_number", card) == {
        "number": "**** **** **** 1111",
        "network": "visa",
    }


def test_masked_address_keeps_city_state_and_hides_the_rest() -> None:
    address = {
        "line1": "17 Canary Lane",
        "city": "Pune",
        "state": "Maharashtra",
        "pin": "411001",
        "country": "IN",
    }
    masked = cut("masked", "address", address)
    assert masked["city"] == "Pune" and masked["state"] == "Maharashtra"
    assert "Canary" not in masked["line1"] and masked["pin"] == "******"


def test_last4_per_category() -> None:
    assert cut("last4", "telephone", "+919876543210") == "3210"
    assert cut("last4", "bank_account", {"account_number": "123456789012", "ifsc": "X"}) == "9012"
    assert cut("last4", "identity_number", [{"type": "pan", "number": "ABCPE1234F"}]) == [
        {"type": "pan", "last4": "234F"}
    ]


def test_year_and_city_only() -> None:
    assert cut("year_only", "date_of_birth", "1987-04-12") == "1987"
    assert cut("city_only", "birthplace", {"city": "Pune", "state": "Maharashtra"}) == "Pune"
    assert cut("city_only", "address", {"line1": "x", "city": "Pune", "pin": "411001"}) == "Pune"


def test_unknown_transform_is_a_bug_not_a_disclosure() -> None:
    with pytest.raises(AssertionError):
        cut("everything", "name", "Asha")


@given(st.text(alphabet="abcdefghij0123456789 -", min_size=7, max_size=40))
def test_masked_text_reveals_at_most_four_characters(text: str) -> None:
    masked = cut("masked", "vehicle_registration", text)
    assert len(masked) == len(text)
    shown = [c for c, m in zip(text, masked, strict=True) if c.isalnum() and c == m]
    assert len(shown) <= 4
