"""Each category's validator: accepts the real forms, rejects with field+rule, never echoes."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pytest
from stdnum import luhn

from needtoknow.categories import Rules, seed_registry
from needtoknow.errors import ValidationError

REGISTRY = seed_registry()
RULES = Rules(today=date(2026, 11, 26))
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _card(prefix: str) -> str:
    body = prefix.ljust(15, "0")
    return body + luhn.calc_check_digit(body)


def normal(category: str, value: Any, rules: Rules = RULES) -> Any:
    return REGISTRY[category].normalise(value, rules).value


def rejects(category: str, value: Any, rule: str, rules: Rules = RULES) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        REGISTRY[category].normalise(value, rules)
    assert caught.value.rule == rule
    assert caught.value.category == category
    for part in _strings(value):
        if len(part) >= 4:
            assert part not in str(caught.value), "error message echoes the value"
    return caught.value


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k != "type" for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_the_registry_holds_exactly_the_seed_categories() -> None:
    assert set(REGISTRY) == {
        "name",
        "date_of_birth",
        "birthplace",
        "genetic_information",
        "address",
        "telephone",
        "email",
        "bank_account",
        "card_number",
        "identity_number",
        "vehicle_registration",
        "driving_licence",
        "photograph",
        "digital_identity",
    }


def test_dates() -> None:
    assert normal("date_of_birth", "1990-02-28") == "1990-02-28"
    rejects("date_of_birth", "28/02/1990", "iso_format")
    rejects("date_of_birth", "1990-02-30", "calendar_date")
    rejects("date_of_birth", "2026-11-27", "future_date")


def test_telephones_become_e164_with_india_as_default_region() -> None:
    assert normal("telephone", "098765 43210") == "+919876543210"
    assert normal("telephone", "+44 20 7946 0958") == "+442079460958"
    rejects("telephone", "12345", "invalid_number")
    rejects("telephone", "call me", "unparseable")


def test_birthplaces_are_city_level() -> None:
    assert normal("birthplace", "Pune, Maharashtra") == {"city": "Pune", "state": "Maharashtra"}
    assert normal("birthplace", {"city": "London", "country": "UK"}) == {
        "city": "London",
        "country": "UK",
    }
    rejects("birthplace", "Ward 4, Sassoon Hospital, Pune, Maharashtra", "place_format")


def test_emails() -> None:
    assert normal("email", "Asha.Canary@Example.IN") == "Asha.Canary@example.in"
    rejects("email", "asha.canary@@example.in", "rfc5322_syntax")


def test_addresses_check_pin_and_state() -> None:
    address = {"line1": "1 MG Road", "city": "Bengaluru", "state": "Karnataka", "pin": "560 001"}
    assert normal("address", address)["pin"] == "560001"
    rejects("address", {**address, "pin": "056001"}, "pin_format")
    error = rejects("address", {**address, "pin": "110001"}, "pin_state_mismatch")
    assert error.field == "address.pin"
    rejects("address", {"line1": "1 MG Road", "city": "Bengaluru"}, "missing_keys")


def test_bank_accounts_and_ifsc() -> None:
    assert normal("bank_account", {"account_number": "1234 5678 9012", "ifsc": "sbin0001234"}) == {
        "account_number": "123456789012",
        "ifsc": "SBIN0001234",
    }
    rejects("bank_account", {"account_number": "12345", "ifsc": "SBIN0001234"}, "account_format")
    rejects("bank_account", {"account_number": "123456789", "ifsc": "SBIN1001234"}, "ifsc_format")


@pytest.mark.parametrize(
    ("number", "network"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("36227206271667", "diners"),
        (_card("652150"), "rupay"),
        (_card("6080010"), "rupay"),
        (_card("508500"), "rupay"),
        (_card("6500"), "discover"),
    ],
)
def test_cards_keep_last4_network_and_token_only(number: str, network: str) -> None:
    result = REGISTRY["card_number"].normalise({"number": number, "token": "gw_1"}, RULES)
    assert result.value == {"last4": number[-4:], "network": network, "token": "gw_1"}
    assert result.notices and number not in result.notices[0]


def test_full_card_numbers_need_the_policy_switch() -> None:
    rules = Rules(today=RULES.today, store_full_card_numbers=True)
    assert normal("card_number", "4111 1111 1111 1111", rules)["number"] == "4111111111111111"
    rejects("card_number", "4111 1111 1111 1112", "luhn")
    rejects("card_number", _card("9111"), "unknown_network")


def test_identity_numbers() -> None:
    assert normal("identity_number", {"type": "aadhaar", "number": "2345-6789-0124"}) == [
        {"type": "aadhaar", "number": "234567890124"}
    ]
    rejects("identity_number", {"type": "aadhaar", "number": "2345 6789 0125"}, "verhoeff")
    rejects("identity_number", {"type": "aadhaar", "number": "1345 6789 0124"}, "aadhaar_format")
    assert (
        normal("identity_number", {"type": "pan", "number": "abcpe1234f"})[0]["number"]
        == "ABCPE1234F"
    )
    rejects("identity_number", {"type": "pan", "number": "ABCXE1234F"}, "pan_holder_type")
    assert normal("identity_number", {"type": "gstin", "number": "27AAPFU0939F1ZV"})
    rejects(
        "identity_number", {"type": "gstin", "number": "27AAPFU0939F1ZW"}, "gstin_check_character"
    )
    assert normal("identity_number", {"type": "passport", "number": "J8369854"})
    rejects("identity_number", {"type": "passport", "number": "Q8369854"}, "passport_format")
    assert normal("identity_number", {"type": "voter_id", "number": "ABC1234567"})
    error = rejects(
        "identity_number",
        [{"type": "pan", "number": "ABCPE1234F"}, {"type": "ssn", "number": "078-05-1120"}],
        "identity_number_type",
    )
    assert error.field == "identity_number[1].type"


def test_vehicle_registrations() -> None:
    assert normal("vehicle_registration", "mh 12 ab 1234") == "MH12AB1234"
    assert normal("vehicle_registration", "22 BH 1234 AA") == "22BH1234AA"
    rejects("vehicle_registration", "XX 12 AB 1234", "state_code")
    rejects("vehicle_registration", "MH-12-AB", "registration_format")


def test_driving_licences() -> None:
    assert normal("driving_licence", "MH14 20110062821") == "MH1420110062821"
    rejects("driving_licence", "MH14 20310062821", "future_year")
    rejects("driving_licence", "ZZ14 20110062821", "state_code")


def test_photographs_are_sniffed_not_trusted() -> None:
    value = normal("photograph", PNG)
    assert value["content_type"] == "image/png"
    rejects("photograph", b"%PDF-1.7 not an image", "content_type")
    rejects("photograph", "\x80abc", "base64")  # beyond ASCII: base64 raises ValueError
    rejects("photograph", PNG, "size", Rules(today=RULES.today, max_photo_bytes=10))
    rejects("photograph", "not base64!", "base64")


def test_digital_identities() -> None:
    assert normal("digital_identity", [{"type": "ip", "value": "2001:db8::0001"}]) == [
        {"type": "ip", "value": "2001:db8::1"}
    ]
    rejects("digital_identity", {"type": "ip", "value": "300.1.1.1"}, "ip_address")
    rejects("digital_identity", {"type": "username", "value": "has space"}, "username_format")


ADDRESS = {"line1": "17 Canary Lane", "city": "Pune", "pin": "411001"}


@pytest.mark.parametrize(
    ("category", "value", "field", "rule"),
    [
        (
            "identity_number",
            [{"type": 5, "number": "ABCPE1234F"}],
            "identity_number[0].type",
            "type",
        ),
        (
            "identity_number",
            {"type": ["pan"], "number": "ABCPE1234F"},
            "identity_number[0].type",
            "type",
        ),
        (
            "identity_number",
            {"type": {"pan": 1}, "number": "ABCPE1234F"},
            "identity_number[0].type",
            "type",
        ),
        ("identity_number", {"type": "pan", "number": 10**30}, "identity_number[0].number", "type"),
        (
            "digital_identity",
            {"type": None, "value": "198.51.100.23"},
            "digital_identity[0].type",
            "type",
        ),
        (
            "digital_identity",
            {"type": True, "value": "198.51.100.23"},
            "digital_identity[0].type",
            "type",
        ),
        ("digital_identity", [["ip", "198.51.100.23"]], "digital_identity[0]", "type"),
        ("address", {**ADDRESS, "line2": False}, "address.line2", "type"),
        ("address", {**ADDRESS, "line2": 0}, "address.line2", "type"),
        ("address", {**ADDRESS, "state": []}, "address.state", "type"),
        ("address", {**ADDRESS, "pin": 411001}, "address.pin", "type"),
        ("address", [ADDRESS], "address", "type"),
        ("birthplace", {"city": "Pune", "state": {}}, "birthplace.state", "type"),
        ("birthplace", {"city": "Pune", "country": 91}, "birthplace.country", "type"),
        ("card_number", {"number": "4111111111111111", "token": 0}, "card_number.token", "type"),
        ("card_number", 4111111111111111, "card_number.number", "type"),
        (
            "bank_account",
            {"account_number": 12345678901, "ifsc": "HDFC0001234"},
            "bank_account.account_number",
            "type",
        ),
        ("name", True, "name", "type"),
        ("name", None, "name", "type"),
        ("name", ["Asha"], "name", "type"),
        ("name", 10**400, "name", "type"),
        ("name", "Asha\ud800", "name", "unicode"),
        ("email", {"email": "asha@example.in"}, "email", "type"),
        ("date_of_birth", 19870412, "date_of_birth", "type"),
        ("photograph", 10**400, "photograph", "type"),
        ("photograph", {"content_base64": False}, "photograph", "type"),
    ],
)
def test_wrong_json_types_are_refused_naming_the_field(
    category: str, value: Any, field: str, rule: str
) -> None:
    """Issue 15: a non-string identity type gave HTTP 500 (a list: TypeError), and
    falsy non-strings in optional keys were dropped unseen; every validator refuses a
    wrong JSON type with the field it sat in."""
    refused = rejects(category, value, rule)
    assert refused.field == field


def test_validators_fuzzing_findings_are_validation_errors() -> None:
    """Issue 15 (fuzzing) found these escaping as a 500: a lone surrogate (which JSON's
    "\\ud800" parses to) reached encryption; a list as an entry's type was hashed."""
    rejects("name", "Asha\ud800", "unicode")
    rejects("address", {"line1": "17 Lane\udfff", "city": "Pune", "pin": "411001"}, "unicode")
    rejects("digital_identity", [{"type": [], "value": "ashacanary"}], "type")
    rejects("identity_number", {"type": {"a": 1}, "number": "ABCPE1234F"}, "type")
