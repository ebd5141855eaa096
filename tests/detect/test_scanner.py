"""The scanner: each entity found and validated (phones in E.164 for every country),
hard negatives left alone, linear work."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import luhn, verhoeff

from needtoknow.analytics import EventStore
from needtoknow.categories.identifiers import gstin_check_char
from needtoknow.config import Settings, init_vault
from needtoknow.detect import ENTITIES, Scanner
from needtoknow.detect.automaton import Automaton
from needtoknow.detect.files import Located, redact_file, scan_file
from needtoknow.detect.redact import Redactor
from needtoknow.detect.scanner import _SHAPES
from tests.conftest import Ntk

SCANNER = Scanner()


def found(text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in SCANNER.scan(text)]


AADHAAR = "2345 6789 012" + verhoeff.calc_check_digit("23456789012")
GSTIN = "27ABCPE1234F1Z" + gstin_check_char("27ABCPE1234F1Z")
RUPAY = "6521 5000 0000 000" + luhn.calc_check_digit("652150000000000")
IMEI = "49015420323751" + luhn.calc_check_digit("49015420323751")


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("write to asha.rao@example.in today", "EMAIL_ADDRESS", "asha.rao@example.in"),
        ("call +91 98765 43210 now", "PHONE_NUMBER", "+91 98765 43210"),
        ("mobile 9876543210", "PHONE_NUMBER", "9876543210"),
        ("office (022) 2345 6789", "PHONE_NUMBER", "(022) 2345 6789"),
        ("london +44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),
        ("card 4111 1111 1111 1111 expired", "CREDIT_CARD", "4111 1111 1111 1111"),
        (f"rupay {RUPAY}", "CREDIT_CARD", RUPAY),
        ("amex 3782 822463 10005", "CREDIT_CARD", "3782 822463 10005"),
        (f"aadhaar {AADHAAR}", "IN_AADHAAR", AADHAAR),
        ("PAN ABCPE1234F", "IN_PAN", "ABCPE1234F"),
        (f"GSTIN {GSTIN}", "IN_GSTIN", GSTIN),
        ("passport no J8369854", "IN_PASSPORT", "J8369854"),
        ("voter id ABC1234567", "IN_VOTER", "ABC1234567"),
        ("car MH 12 AB 1234", "IN_VEHICLE_REGISTRATION", "MH 12 AB 1234"),
        ("bike 22 BH 4543 AA", "IN_VEHICLE_REGISTRATION", "22 BH 4543 AA"),
        ("DL MH14 20110012345", "IN_DRIVING_LICENCE", "MH14 20110012345"),
        ("a/c no 123456789012", "IN_BANK_ACCOUNT", "123456789012"),
        ("IFSC SBIN0001234", "IN_IFSC", "SBIN0001234"),
        ("pay to asha@okhdfcbank", "IN_UPI_ID", "asha@okhdfcbank"),
        ("client 203.0.113.7 connected", "IP_ADDRESS", "203.0.113.7"),
        ("from 2001:db8::1 port", "IP_ADDRESS", "2001:db8::1"),
        ("hwaddr 00:1a:2b:3c:4d:5e.", "MAC_ADDRESS", "00:1a:2b:3c:4d:5e"),
        (f"IMEI {IMEI}", "IMEI", IMEI),
        ("username: asha_r", "USERNAME", "asha_r"),
        ("DOB: 12/05/1990", "DATE_OF_BIRTH", "12/05/1990"),
        ("born on 3rd March 1985", "DATE_OF_BIRTH", "3rd March 1985"),
        ("SNP rs53576 (AG)", "GENETIC_MARKER", "rs53576"),
        ("primer ACGTACGTACGTACGTACGTAAC", "DNA_SEQUENCE", "ACGTACGTACGTACGTACGTAAC"),
        ("ordered a BRCA1 panel", "GENETIC_TEST", "BRCA1"),
    ],
)
def test_each_entity_is_found_and_validated(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)
    finding = next(f for f in SCANNER.scan(text) if f.entity == entity)
    assert finding.category == ENTITIES[entity].category
    assert finding.validator and 0.5 <= finding.score <= 1.0


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("card XXXX XXXX XXXX 4242", "CREDIT_CARD", "XXXX XXXX XXXX 4242"),
        ("aadhaar XXXX XXXX 1234", "IN_AADHAAR", "XXXX XXXX 1234"),
        ("account ******7890", "IN_BANK_ACCOUNT", "******7890"),
    ],
)
def test_masked_values_are_reported_as_masked(text: str, entity: str, value: str) -> None:
    (finding,) = SCANNER.scan(text)
    assert (finding.entity, text[finding.start : finding.end], finding.masked) == (
        entity,
        value,
        True,
    )


@pytest.mark.parametrize(
    "text",
    [
        "order 123456789012 shipped",  # no bank context: an order number
        "invoice INV2024000123 paid",
        "released at 2024-01-02 10:22:38",  # a date without birth context
        "nginx version 1.2.3.4 loaded",  # an IPv4-shaped version string
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "card 4111 1111 1111 1112",  # Luhn fails
        "aadhaar 1234 5678 9012",  # first digit 1
        "PAN ABCXE1234F",  # X is no holder type
        "GSTIN 27ABCPE1234F1Z1",  # wrong check character
        "reg ZZ 12 AB 1234",  # no such state
        "timeout after 10:22:38",
        "amount 12345678.90 INR",
        "id 1234567",
    ],
)
def test_hard_negatives_are_not_reported(text: str) -> None:
    assert found(text) == []


def test_context_decides_between_readings_that_both_validate() -> None:
    number = "4111111111111111"  # Luhn and a Visa prefix, also digits an account could have
    assert found(f"card {number}") == [("CREDIT_CARD", number)]
    assert found(f"savings account {number}") == [("IN_BANK_ACCOUNT", number)]


def test_context_in_an_earlier_sentence_does_not_count() -> None:
    assert found("DOB: 12/05/1990. Ordered on 02/01/2024") == [("DATE_OF_BIRTH", "12/05/1990")]


def test_offsets_are_characters_in_non_ascii_text() -> None:
    text = "नाम आशा, ईमेल asha@example.in, फ़ोन 9876543210"
    assert found(text) == [("EMAIL_ADDRESS", "asha@example.in"), ("PHONE_NUMBER", "9876543210")]


def test_thresholds_and_entity_choice_are_configurable() -> None:
    text = "mobile 9876543210 and asha@example.in"
    assert [f.entity for f in Scanner(entities=["EMAIL_ADDRESS"]).scan(text)] == ["EMAIL_ADDRESS"]
    assert [f.entity for f in Scanner(thresholds={"PHONE_NUMBER": 1.01}).scan(text)] == [
        "EMAIL_ADDRESS"
    ]
    with pytest.raises(ValueError, match="NOT_AN_ENTITY"):
        Scanner(entities=["NOT_AN_ENTITY"])


# Inputs built to make a backtracking engine explode, or dense with candidates (one every
# few characters, where Python's work per candidate dominates): (repeated unit, tail).
ADVERSARIAL = [
    ("1", ""),
    ("1-", ""),
    ("1 ", ""),
    ("a", ""),
    ("A1", ""),
    ("X", ""),
    ("X ", ""),
    ("a@", ""),
    ("a.", "@"),
    (":", ""),
    ("1:", ""),
    ("ACGT", "x"),
    ("1.1.", ""),
    ("@a", ""),
    ("MH 12 ", ""),
    ("12 Ab Road, ", ""),
    ("+", ""),
    ("+1", ""),
    ("+1 ", ""),
    ("+1.", ""),
    ("+91 98765 43210 ", ""),
    ("4111 1111 1111 1111 ", ""),
    ("user: ", ""),
    ("Asha Rao ", ""),
    ("Ab ", ""),
    ("Dear Ab ", ""),
    ("UK 12 ", ""),  # a country named before every number: the short-number pass
    ("UK ", "12345678"),
    ("श्री क ", ""),  # Devanagari names after honorifics, and ending in जी
    ("क ", "ख जी"),
    ("UK 020 7946 0958 ", ""),  # short numbers found after every name: spans checked fast
    ("Iceland phone 410 1234 a1 ", ""),
]


@dataclass
class Work:
    """What a scan costs, counted, not timed (a busy machine changes times, not counts)."""

    read: int = 0  # bytes RE2 searched through, from each search's start to its match's end
    calls: int = 0  # Python and C function calls


def work(text: str) -> Work:
    """The work of scanning ``text`` once its caches are warm. RE2 is linear in what it
    reads, so a scan is linear unless the scanner makes it read bytes again (resuming
    inside a rejected candidate) or calls more per candidate: both are counted, through
    the interpreter's profiling hook, on the real scanner."""
    done, search = Work(), Automaton.next.__code__

    def profile(frame: FrameType, event: str, result: Any) -> None:
        if event in ("call", "c_call"):
            done.calls += 1
        elif event == "return" and frame.f_code is search:
            start, stop = frame.f_locals["pos"], frame.f_locals["stop"]
            done.read += (stop if result is None else result[2]) - start

    SCANNER.scan(text)
    sys.setprofile(profile)
    try:
        SCANNER.scan(text)
    finally:
        sys.setprofile(None)
    return done


@pytest.mark.parametrize(("unit", "tail"), ADVERSARIAL, ids=repr)
def test_the_work_of_a_scan_grows_linearly_with_adversarial_input(unit: str, tail: str) -> None:
    """Four times the input costs four times the work (quadratic growth would be sixteen;
    a little over four allows for the ends). The speed itself is benchmarks/bench_detect.py's."""
    quarter = work(unit * (4096 // len(unit)) + tail)
    whole = work(unit * (16384 // len(unit)) + tail)
    assert whole.read <= 4.1 * quarter.read
    assert whole.calls <= 4.1 * quarter.calls + 10


def test_every_shape_has_adversarial_input() -> None:
    """Each shape's leading characters appear in some adversarial string above."""
    assert len(_SHAPES) == 21


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auth failed user=alice@example.com", [("EMAIL_ADDRESS", "alice@example.com")]),
        ("Customer Asha Rao wrote", [("PERSON", "Asha Rao")]),
        ("2024 05 12 9876543210", [("PHONE_NUMBER", "9876543210")]),
        ("Qty 1 2 4111 1111 1111 1111", [("CREDIT_CARD", "4111 1111 1111 1111")]),
        ("maestro card 6759 6498 2643 8453", [("CREDIT_CARD", "6759 6498 2643 8453")]),
        ("car DL 3C AB 1234", [("IN_VEHICLE_REGISTRATION", "DL 3C AB 1234")]),
        ("LLP PAN AAAEL1234C", [("IN_PAN", "AAAEL1234C")]),
    ],
)
def test_what_a_rejected_candidate_covered_is_still_found(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(text) == expected


def test_an_address_pin_must_fit_the_state_it_names() -> None:
    good = "lives at 12, MG Road, Pune, Maharashtra 411001"
    assert found(good) == [("ADDRESS", "12, MG Road, Pune, Maharashtra 411001")]
    assert found("lives at 12, MG Road, Pune, Maharashtra 110001") == []  # 1: Delhi's zone


# -- E.164 phones: the vault's own output format, compact or spaced, every country ------

INDIA, US = "+918834165382", "+14155552671"


def example_numbers() -> Iterator[phonenumbers.PhoneNumber]:
    """phonenumbers' valid example of every number type of every region, and of every
    non-geographic entity (+800, +882…)."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None and phonenumbers.is_valid_number(number):
                yield number
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            yield number


def phones(text: str) -> list[str]:
    return [text[f.start : f.end] for f in SCANNER.scan(text) if f.entity == "PHONE_NUMBER"]


def test_every_countrys_numbers_are_found_in_e164_with_and_without_spaces() -> None:
    missed = []
    for number in example_numbers():
        for form in (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL):
            value = phonenumbers.format_number(number, form)
            for text in (value, f"({value})", f"tel:{value}", f'"{value}",', f"call {value}."):
                if phones(text) != [value]:
                    missed.append(text)
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        f"({US})",
        f"tel:{US}",
        f"<{INDIA}>",
        f"[{INDIA}]",
        f"'{US}';",
        f"phone={INDIA}&x=1",
        f"{US}/{INDIA}",
    ],
)
def test_e164_numbers_glued_to_punctuation_are_found(text: str) -> None:
    assert phones(text) == [v for v in (US, INDIA) if v in text]


@pytest.mark.parametrize(
    "text",
    [
        "growth +1.2345678901%",  # a signed decimal, not a phone
        "diff +1234 -56 lines",
        "total +12345678901234",
        "order +919999999999999 shipped",
        "card +4111111111111111",
        "sum 1+14155552671",  # arithmetic: a digit glued before the plus
    ],
)
def test_plus_signed_numbers_that_are_no_phone_are_not_reported(text: str) -> None:
    assert phones(text) == []


def test_compact_e164_phone_numbers_are_found_in_text_csv_json_and_events(tmp_path: Path) -> None:
    (tmp_path / "t.log").write_text(f"call {INDIA} or {US} (tel:{US})\n")
    with (tmp_path / "c.csv").open("w", newline="") as out:
        csv.writer(out).writerows([["id", "phone", "note"], ["1", INDIA, f"or ({US})"]])
    (tmp_path / "j.json").write_text(json.dumps({"phone": INDIA, "alt": [f"tel:{US}"]}))
    (tmp_path / "j.jsonl").write_text(json.dumps({"contact": US}) + "\n")
    expected = {"t.log": 3, "c.csv": 2, "j.json": 2, "j.jsonl": 1}
    for name, count in expected.items():
        found = [x for x in scan_file(tmp_path / name, SCANNER) if isinstance(x, Located)]
        assert [x.finding.entity for x in found] == ["PHONE_NUMBER"] * count, name
        assert {x.value for x in found} <= {INDIA, US}
        redact_file(tmp_path / name, tmp_path / "out" / name, SCANNER, Redactor())
        redacted = (tmp_path / "out" / name).read_text()
        assert INDIA not in redacted and US not in redacted and "<TELEPHONE>" in redacted
    run = Ntk(tmp_path / "home")  # scan needs no vault
    scanned = run("scan", str(tmp_path / "c.csv"), "--json", "--fail-on", "telephone", expect=10)
    assert [json.loads(line)["entity"] for line in scanned.stdout.splitlines()] == [
        "PHONE_NUMBER"
    ] * 2
    assert INDIA not in scanned.stdout + scanned.stderr

    vault = init_vault(Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/v.db"))
    events = EventStore(tmp_path / "h" / "events", vault.keys)
    day = {"day": "2026-11-02", "customer_id": "c-1"}
    report = events.ingest(
        [
            {"kind": "search", **day, "search": f"call {INDIA}"},
            {"kind": "link_click", **day, "link": f"tel:{US}", "page": f"/contact?p={US}"},
        ]
    )
    assert report.to_json()["redacted"] == {"PHONE_NUMBER": 3}
    stored = events.query("SELECT search, link, page FROM events ORDER BY kind DESC")
    assert stored == [
        ("call <TELEPHONE>", None, None),
        (None, "tel:<TELEPHONE>", "/contact?p=<TELEPHONE>"),
    ]
    vault.close()
