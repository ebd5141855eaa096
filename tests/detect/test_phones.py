"""Phone numbers in E.164 — the vault's own output format — compact or spaced, for every
country ``phonenumbers`` knows, glued to punctuation, and in every input the scanner reads."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from needtoknow.analytics import EventStore
from needtoknow.detect import Scanner
from needtoknow.detect.files import Located, redact_file, scan_file
from needtoknow.detect.redact import Redactor
from needtoknow.home import Settings, init_vault
from tests.conftest import Ntk

SCANNER = Scanner()
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


def test_compact_e164_phone_numbers_are_found_in_text_csv_json_and_events(
    tmp_path: Path, ntk: Ntk
) -> None:
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
    scanned = ntk("scan", str(tmp_path / "c.csv"), "--json", "--fail-on", "telephone", expect=10)
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
