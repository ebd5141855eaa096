"""Recognizers users define (``Scanner(recognizers=…)``, ``ntk scan --recognizers``):
their own entities by RE2 pattern or deny-list, with context and check digits; text to
ignore; Presidio's ad-hoc recognizer JSON read as it is; bad files refused by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from needtoknow.detect import Scanner
from needtoknow.detect.recognizers import load, parse
from needtoknow.errors import ValidationError

NTK = str(Path(sys.executable).with_name("ntk"))

MINE = """
recognizers:
  - name: employee ids
    entity: EMPLOYEE_ID
    category: identity_number
    patterns:
      - regex: '\\bEMP-\\d{6}\\b'
        score: 0.45
    context: [employee, staff]
  - name: loyalty cards
    entity: LOYALTY_CARD
    category: card_number
    validator: luhn
    patterns:
      - regex: '\\bLC\\d{11}\\b'
        score: 0.8
  - name: project codenames
    entity: CODENAME
    category: name
    deny_list: [Project Titan, Nightingale]
  - name: ticket numbers
    ignore: true
    patterns:
      - regex: '\\b(?i:request id|ticket) \\d{4}-\\d{4}-\\d{4}\\b'
"""
AADHAAR = "2345 6789 0124"  # Verhoeff-valid


def found(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in scanner.scan(text)]


@pytest.fixture
def mine(tmp_path: Path) -> Path:
    path = tmp_path / "recognizers.yaml"
    path.write_text(MINE)
    return path


def test_a_users_entities_are_found_scored_and_checked(mine: Path) -> None:
    scanner = Scanner(recognizers=load(mine))
    # a pattern's own score (0.45) is under the threshold: its context words lift it
    assert found(scanner, "badge EMP-123456 seen") == []
    assert found(scanner, "staff EMP-123456 joined") == [("EMPLOYEE_ID", "EMP-123456")]
    assert [f.category for f in scanner.scan("employee EMP-123456")] == ["identity_number"]
    assert found(scanner, "card LC79927398713 used") == [("LOYALTY_CARD", "LC79927398713")]
    assert found(scanner, "card LC79927398714 used") == []  # fails Luhn
    # a deny-list: whole words, any case unless case_sensitive
    assert found(scanner, "nightingale ships; PROJECT TITAN slips") == [
        ("CODENAME", "nightingale"),
        ("CODENAME", "PROJECT TITAN"),
    ]
    assert found(scanner, "Nightingales sing") == []
    # theirs and ours together; entities and thresholds know theirs
    assert found(scanner, f"staff EMP-123456, Aadhaar {AADHAAR}") == [
        ("EMPLOYEE_ID", "EMP-123456"),
        ("IN_AADHAAR", AADHAAR),
    ]
    only = Scanner(recognizers=load(mine), entities=["EMPLOYEE_ID"])
    assert found(only, f"staff EMP-123456, Aadhaar {AADHAAR}") == [("EMPLOYEE_ID", "EMP-123456")]
    strict = Scanner(recognizers=load(mine), thresholds={"EMPLOYEE_ID": 1.01})
    assert found(strict, "staff EMP-123456") == []
    with pytest.raises(ValueError, match="EMPLOYEE_ID"):
        Scanner(entities=["EMPLOYEE_ID"])  # without the recognizers, unknown


def test_what_an_ignore_recognizer_matches_is_read_past(mine: Path) -> None:
    text = f"request id 7391-0284-6515 closed; Aadhaar {AADHAAR}"
    assert found(Scanner(recognizers=load(mine)), text) == [("IN_AADHAAR", AADHAAR)]
    # (without it, a reference number is no Aadhaar either: "request" is a reference word)
    assert found(Scanner(), "ticket 7391-0284-6515") == []


def test_presidios_ad_hoc_recognizers_are_read_as_they_are() -> None:
    body = {
        "text": "ignored",
        "language": "en",
        "ad_hoc_recognizers": [
            {
                "name": "Zip code Recognizer",
                "supported_language": "en",
                "patterns": [
                    {"name": "zip code", "regex": "(\\b\\d{5}(?:\\-\\d{4})?\\b)", "score": 0.6}
                ],
                "context": ["zip", "code"],
                "supported_entity": "ZIP",
                "category": "address",  # the one field Presidio has no word for
            },
            {
                "name": "Mr. Recognizer",
                "supported_language": "en",
                "deny_list": ["Mr", "Mr.", "Mister"],
                "supported_entity": "MR_TITLE",
                "category": "name",
            },
        ],
    }
    for data in (body, body["ad_hoc_recognizers"]):
        scanner = Scanner(recognizers=parse(data))
        assert found(scanner, "Mister X, zip 94103-1234") == [
            ("MR_TITLE", "Mister"),
            ("ZIP", "94103-1234"),
        ]


@pytest.mark.parametrize(
    ("data", "where", "says"),
    [
        (  # Python's re, not RE2: refused by name, with the reason
            {"recognizers": [{"name": "x", "entity": "X_ID", "category": "email",
                              "patterns": [{"regex": "(?<!\\d)\\d{6}"}]}]},
            "recognizers.0.patterns.0.regex",
            "lookaround",
        ),
        (
            {"recognizers": [{"name": "x", "entity": "X_ID", "patterns": [{"regex": "a"}]}]},
            "recognizers.0",
            "identity_number",  # the categories it may be are named
        ),
        (
            {"recognizers": [{"name": "x", "entity": "X_ID", "category": "name",
                              "patterns": [{"regex": "a*"}]}]},
            "recognizers.0.patterns.0.regex",
            "empty",
        ),
        (
            {"recognizers": [{"name": "x", "ignore": True, "entity": "X_ID",
                              "patterns": [{"regex": "a"}]}]},
            "recognizers.0",
            "not both",
        ),
        (
            {"recognizers": [{"name": "x", "entity": "X_ID", "category": "name",
                              "validator": "crc32", "patterns": [{"regex": "a"}]}]},
            "recognizers.0.validator",
            "luhn",
        ),
        (
            [{"name": "Zip", "supported_entity": "ZIP", "patterns": [{"regex": "\\d{5}"}]}],
            "ad_hoc_recognizers.0",
            "category",
        ),
    ],
)  # fmt: skip
def test_bad_recognizers_are_refused_by_where_and_why(data: object, where: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse(data)
    assert refused.value.field == where and says in str(refused.value)


def test_a_pattern_that_backtracks_in_pythons_re_is_linear_here() -> None:
    scanner = Scanner(
        recognizers=parse(
            {"recognizers": [{"name": "evil", "entity": "EVIL", "category": "name",
                              "patterns": [{"regex": "(a+)+b"}]}]}
        )
    )  # fmt: skip
    assert scanner.scan("a" * 200_000 + "!") == []  # re would take longer than the universe


def test_the_commands_take_a_recognizer_file(mine: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.log"
    text.write_text(f"staff EMP-123456 joined\nrequest id 7391-0284-6515\nAadhaar {AADHAAR}\n" * 3)
    args = [NTK, "scan", str(text), "--json", "--recognizers", str(mine)]
    one = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    entities = [json.loads(line)["entity"] for line in one.splitlines()]
    assert entities == ["EMPLOYEE_ID", "IN_AADHAAR"] * 3
    two = subprocess.run([*args, "--workers", "2"], capture_output=True, text=True, check=True)
    assert two.stdout == one
    out = tmp_path / "out.log"
    subprocess.run(
        [NTK, "redact", str(text), str(out), "--recognizers", str(mine),
         "--operator", "EMPLOYEE_ID=mask:2"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.read_text().startswith("staff ***-****56 joined\nrequest id 7391-0284-6515\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("recognizers: [{name: x, entity: X_ID, patterns: [{regex: a}]}]")
    args = [NTK, "scan", str(text), "--json", "--recognizers", str(bad)]
    refused = subprocess.run(args, capture_output=True, text=True)
    assert refused.returncode != 0 and "recognizers.0" in refused.stdout + refused.stderr


def test_the_documentation_shows_the_schema_and_examples_that_load() -> None:
    import re

    import yaml

    from needtoknow.detect.recognizers import schema

    doc = (Path(__file__).parents[2] / "docs" / "recognizers.md").read_text("utf-8")
    blocks = re.findall(r"```(yaml|json)\n(.*?)```", doc, re.S)
    *examples, (_, shown) = blocks
    assert shown.strip() == schema()
    assert len(examples) == 2
    for _, example in examples:
        assert parse(yaml.safe_load(example))


def one(recognizer: dict[str, object]) -> Scanner:
    return Scanner(recognizers=parse({"recognizers": [recognizer]}))


@pytest.mark.parametrize(
    ("regex", "says"),
    [
        ("EMP-(?P<user_value>\\d{6})", "named groups"),  # would take over ours
        ("^\\d{10}$", "no anchors"),  # a line's start in one reading, a block's in another
        ("\\bE?\\d*", "empty"),  # matches nothing at a word's start: the scan would stall
    ],
)
def test_patterns_that_would_break_the_scan_are_refused(regex: str, says: str) -> None:
    """Second review: each of these made the scan report wrong offsets, name the wrong
    shape, or loop for ever."""
    with pytest.raises(ValidationError, match=says):
        one({"name": "x", "entity": "X_ID", "category": "name", "patterns": [{"regex": regex}]})


def test_a_users_match_that_is_not_reported_hides_none_of_ours() -> None:
    """Second review: a weak pattern (Presidio's style, score 0.05) or one whose check
    digit fails used to swallow the card, phone or Aadhaar it matched."""
    weak = one({"name": "weak", "entity": "ACCOUNT_NO", "category": "bank_account",
                "patterns": [{"regex": "\\b[0-9]{8,17}\\b", "score": 0.05}]})  # fmt: skip
    assert found(weak, "card 4111111111111111") == [("CREDIT_CARD", "4111111111111111")]
    assert found(weak, "mobile 9876543210") == [("PHONE_NUMBER", "9876543210")]
    fours = {"regex": "\\b\\d{4} \\d{4} \\d{4}\\b"}
    checked = one({"name": "c", "entity": "C_ID", "category": "identity_number",
                   "validator": "luhn", "patterns": [fours]})  # fmt: skip
    assert found(checked, f"Aadhaar {AADHAAR}") == [("IN_AADHAAR", AADHAAR)]
    # a user's shape is named only where it matches in its context, not on the bare match
    glued = one({"name": "g", "entity": "G_ID", "category": "name",
                 "patterns": [{"regex": "\\bXX\\d{4}"}]})  # fmt: skip
    assert found(glued, "abXX1234 and XX5678") == [("G_ID", "XX5678")]


def test_deny_lists_of_other_scripts_and_of_any_size() -> None:
    scanner = one({"name": "vip", "entity": "VIP", "category": "name",
                   "deny_list": ["Zoë", "आशा राव", "José"]})  # fmt: skip
    assert found(scanner, "Zoë and आशा राव met José.") == [
        ("VIP", "Zoë"),
        ("VIP", "आशा राव"),
        ("VIP", "José"),
    ]
    names = [f"Name{n:05d} Surname{n:05d}" for n in range(50_000)]
    from needtoknow.detect.automaton import TooLarge

    with pytest.raises(TooLarge):  # refused by name (the CLI: --recognizers), never a crash
        one({"name": "vip", "entity": "VIP", "category": "name", "deny_list": names})


def test_presidios_flags_and_defaults_are_kept() -> None:
    """Presidio compiles its patterns ignoring case, and scores a deny-list 1.0."""
    scanner = Scanner(
        recognizers=parse(
            [
                {"name": "e", "supported_entity": "EMP", "category": "identity_number",
                 "version": "0.0.1", "patterns": [{"regex": "\\bemp\\d{5}\\b", "score": 0.7}]},
                {"name": "t", "supported_entity": "TITLE", "category": "name", "deny_list": ["Mr"]},
            ]
        )
    )  # fmt: skip
    assert found(scanner, "EMP12345 and Mr X") == [("EMP", "EMP12345"), ("TITLE", "Mr")]
    assert [f.score for f in scanner.scan("Mr X")] == [1.0]


def test_a_users_pattern_reads_a_files_lines_as_it_reads_each_line(tmp_path: Path) -> None:
    """Second review: by-line scanning rewrote a user's \\s and \\D."""
    patterns = [{"regex": "EMP[\\s-]\\d{5}"}, {"regex": "\\d{3}\\D\\d{4}"}]
    scanner = one({"name": "e", "entity": "EMP", "category": "identity_number",
                   "patterns": patterns})  # fmt: skip
    text = "EMP 12345\nEMP-54321\n123\n4567\n"
    alone = [f for line in text.splitlines(keepends=True) for f in scanner.scan(line)]
    assert (
        [(f.entity, f.end - f.start) for f in scanner.scan(text, by_line=True)]
        == [(f.entity, f.end - f.start) for f in alone]
        == [("EMP", 9), ("EMP", 9)]
    )
