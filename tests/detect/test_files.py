"""Files: scanned as streams, bad input skipped and never passed as clean, text with a
byte-order mark read, redaction format-preserving and atomic (deep JSON one skipped file,
an output that is its input refused); and the ``ntk scan`` / ``ntk redact`` / ``ntk eval``
commands as a user runs them."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from needtoknow.config import Settings, init_vault
from needtoknow.detect import Scanner
from needtoknow.detect.files import (
    MAX_DEPTH,
    MAX_LINE,
    Located,
    Skipped,
    Unreadable,
    redact_file,
    redaction_pairs,
    scan_file,
)
from needtoknow.detect.redact import Redactor
from needtoknow.errors import IntegrityError
from tests.conftest import Ntk

NTK = str(Path(sys.executable).with_name("ntk"))
SCANNER = Scanner()
TICKET = "Hi, mail asha.rao@example.in or call +91 98765 43210.\nPAN ABCPE1234F\n"


def scan(path: Path) -> list[Located | Skipped]:
    return list(scan_file(path, SCANNER))


def test_offsets_are_characters_into_the_decoded_file(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    text = "नमस्ते\n" + TICKET
    path.write_text(text, encoding="utf-8")
    found = [x for x in scan(path) if isinstance(x, Located)]
    assert [(x.finding.entity, x.line) for x in found] == [
        ("EMAIL_ADDRESS", 2),
        ("PHONE_NUMBER", 2),
        ("IN_PAN", 3),
    ]
    for x in found:
        assert text[x.finding.start : x.finding.end] == x.value


def test_gzip_is_read_through(tmp_path: Path) -> None:
    path = tmp_path / "t.log.gz"
    path.write_bytes(gzip.compress(TICKET.encode()))
    assert [x.finding.entity for x in scan(path) if isinstance(x, Located)] == [
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "IN_PAN",
    ]


def test_csv_cells_are_read_under_their_column_names(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("name,account_number\nAsha,123456789012\n")
    found = [x for x in scan(path) if isinstance(x, Located)]
    assert [(x.finding.entity, x.value) for x in found] == [
        ("PERSON", "Asha"),  # under "name"
        ("IN_BANK_ACCOUNT", "123456789012"),  # under "account_number"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x7fELF\x00\x00\x01binary", "binary data"),
        (b"fine line\nbad \xff\xfe bytes\n", "invalid UTF-8"),
        (b"\x1f\x8b not really gzip", "cannot read"),
    ],
)
def test_bad_input_is_reported_and_skipped(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / ("x.gz" if content.startswith(b"\x1f\x8b") else "x.txt")
    path.write_bytes(content)
    (skipped,) = [x for x in scan(path) if isinstance(x, Skipped)]
    assert reason in skipped.reason


def test_an_unopenable_file_is_reported(tmp_path: Path) -> None:
    (skipped,) = scan(tmp_path / "missing.log")
    assert isinstance(skipped, Skipped) and "cannot open" in skipped.reason


def test_an_enormous_line_is_skipped_and_offsets_after_it_stay_right(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    text = "é" * (MAX_LINE // 2 + 10) + "\n" + TICKET
    path.write_text(text, encoding="utf-8")
    items = scan(path)
    assert isinstance(items[0], Skipped) and items[0].line == 1
    email = next(x for x in items if isinstance(x, Located))
    assert text[email.finding.start : email.finding.end] == "asha.rao@example.in"
    with pytest.raises(Unreadable, match="longer than"):
        redact_file(path, tmp_path / "out.log", SCANNER, Redactor())
    assert list(tmp_path.glob("*out.log*")) == []  # nothing half-written


def test_redaction_keeps_text_csv_and_json_lines_formats(tmp_path: Path) -> None:
    (tmp_path / "t.log").write_text(TICKET)
    (tmp_path / "e.csv").write_text('name,email,note\nAsha,asha@example.in,"call 9876543210, ok"\n')
    (tmp_path / "e.jsonl").write_text(json.dumps({"email": "ravi@example.in", "n": 3}) + "\n")
    redactor = Redactor({"PHONE_NUMBER": "mask:2"})
    for name in ("t.log", "e.csv", "e.jsonl"):
        redact_file(tmp_path / name, tmp_path / "out" / name, SCANNER, redactor)
    assert (tmp_path / "out" / "t.log").read_text() == (
        "Hi, mail <EMAIL> or call +** ***** ***10.\nPAN <IDENTITY_NUMBER>\n"
    )
    rows = list(csv.reader((tmp_path / "out" / "e.csv").open()))
    assert rows == [["name", "email", "note"], ["<NAME>", "<EMAIL>", "call ********10, ok"]]
    assert json.loads((tmp_path / "out" / "e.jsonl").read_text()) == {"email": "<EMAIL>", "n": 3}


def test_a_failed_redaction_leaves_no_output(tmp_path: Path) -> None:
    source = tmp_path / "t.log"
    source.write_bytes(b"asha@example.in\n" * 1000 + b"\xff\n")
    with pytest.raises(Unreadable):
        redact_file(source, tmp_path / "out.log", SCANNER, Redactor())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.log"]


def test_hash_is_stable_and_encrypt_reverses_with_the_vault_key(tmp_path: Path) -> None:
    vault = init_vault(Settings(home=tmp_path / "a", database_url=f"sqlite:///{tmp_path}/a.db"))
    other = init_vault(Settings(home=tmp_path / "b", database_url=f"sqlite:///{tmp_path}/b.db"))
    text = "mail asha@example.in, card 4111 1111 1111 1111"
    found = SCANNER.scan(text)
    hashing = Redactor(default="hash", keys=vault.keys)
    assert hashing.redact(text, found) == hashing.redact(text, found)
    assert hashing.redact(text, found) != Redactor(default="hash", keys=other.keys).redact(
        text, found
    )
    assert "asha" not in hashing.redact(text, found)
    encrypting = Redactor(default="encrypt", keys=vault.keys)
    sealed = encrypting.redact(text, found)
    assert "asha" not in sealed and "4111" not in sealed
    assert sealed != encrypting.redact(text, found)  # a fresh salt each time
    assert encrypting.reveal(sealed) == text
    with pytest.raises(IntegrityError):
        Redactor(default="encrypt", keys=other.keys).reveal(sealed)
    vault.close()
    other.close()


def test_operators_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        Redactor(default="shred")
    with pytest.raises(ValueError, match="needs the vault's keys"):
        Redactor(default="hash")
    with pytest.raises(ValueError, match="unknown entity"):
        Redactor({"NOPE": "label"})
    text = "card 4111 1111 1111 1111"
    assert Redactor(default="drop").redact(text, SCANNER.scan(text)) == "card "


def ntk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NTK, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_ntk_scan_writes_json_lines_without_values_and_fails_on_request(tmp_path: Path) -> None:
    (tmp_path / "t.log").write_text(TICKET)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    result = ntk("scan", str(tmp_path), "--json", "--fail-on", "identity_number")
    assert result.returncode == 10, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["entity"] for line in lines] == ["EMAIL_ADDRESS", "PHONE_NUMBER", "IN_PAN"]
    assert set(lines[0]) >= {"path", "start", "end", "entity", "category", "score", "masked"}
    assert "asha" not in result.stdout and "98765" not in result.stdout
    assert "binary data" in result.stderr
    assert ntk("scan", str(tmp_path / "t.log"), "--json", "--fail-on", "genetic").returncode == 0
    # blob.bin was skipped: what was not read cannot pass
    assert ntk("scan", str(tmp_path), "--json", "--fail-on", "genetic").returncode == 10
    shown = ntk("scan", str(tmp_path / "t.log"), "--json", "--show-values")
    assert "asha.rao@example.in" in shown.stdout


def test_ntk_scan_writes_sarif(tmp_path: Path) -> None:
    (tmp_path / "t.log").write_text(TICKET)
    report = tmp_path / "report.sarif"
    assert ntk("scan", str(tmp_path / "t.log"), "--sarif", str(report)).returncode == 0
    sarif = json.loads(report.read_text())
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["EMAIL_ADDRESS", "PHONE_NUMBER", "IN_PAN"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert TICKET[region["charOffset"] : region["charOffset"] + region["charLength"]] == (
        "asha.rao@example.in"
    )
    assert "asha" not in report.read_text()


def test_ntk_redact_copies_a_directory_and_reports_what_it_could_not(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "t.log").write_text(TICKET)
    (source / "bad.txt").write_bytes(b"\xff\xfe\n")
    result = ntk(
        "redact", str(source), str(tmp_path / "out"), "--operator", "IN_PAN=mask:2", "--json"
    )
    assert result.returncode == 5, result.stderr
    report = json.loads(result.stdout)
    assert report["values_redacted"] == 3
    assert [f["path"] for f in report["failed"]] == [str(source / "bad.txt")]
    assert (tmp_path / "out" / "t.log").read_text().endswith("PAN ********4F\n")
    assert not (tmp_path / "out" / "bad.txt").exists()


def test_ntk_eval_prints_scores_per_entity_and_category() -> None:
    result = ntk("eval", "--documents", "300", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["overall"]["f1"] > 0.97
    assert {row["name"] for row in report["categories"]} >= {"email", "identity_number"}


def test_the_vault_operator_stores_values_and_resolves_them_by_policy(tmp_path: Path) -> None:
    vault = init_vault(Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/v.db"))
    text = "Ravi Kumar wrote from ravi@example.in, account 123456789012"
    redactor = Redactor(default="vault", vault=vault)
    redacted = redactor.redact(text, SCANNER.scan(text))
    assert "ravi@example.in" not in redacted and "Ravi Kumar" not in redacted
    assert "<BANK_ACCOUNT>" in redacted  # the vault cannot hold an account without its IFSC
    assert redacted.count("<VAULT:") == 2
    billing = redactor.resolve(redacted, "billing_team", "billing")
    assert "ravi@example.in" in billing
    advertiser = redactor.resolve(redacted, "ad_network", "advertising")
    assert "ravi@example.in" not in advertiser and advertiser.count("<VAULT:") == 2
    history = [p.to_json()["entry"] for p in vault.ledger.history(_reference(redacted))]
    assert {e["kind"] for e in history} >= {"write", "read"}
    vault.close()


def _reference(text: str) -> str:
    start = text.index("<VAULT:") + len("<VAULT:")
    return text[start : start + 36]


def test_ntk_redact_into_the_vault_and_ntk_resolve(tmp_path: Path) -> None:
    env = {"NTK_HOME": str(tmp_path / "home"), "NTK_DATABASE_URL": ""}
    assert ntk("init", env=env).returncode == 0
    (tmp_path / "t.log").write_text(TICKET)
    result = ntk(
        "redact",
        str(tmp_path / "t.log"),
        str(tmp_path / "r.log"),
        "--operator",
        "EMAIL_ADDRESS=vault",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    redacted = (tmp_path / "r.log").read_text()
    assert "asha.rao" not in redacted and "<VAULT:" in redacted
    back = ntk(
        "resolve",
        str(tmp_path / "r.log"),
        "--recipient",
        "billing_team",
        "--purpose",
        "billing",
        env=env,
    )
    assert back.returncode == 0, back.stderr
    assert "asha.rao@example.in" in back.stdout


def test_headers_json_keys_and_numbers_are_redacted_too(tmp_path: Path) -> None:
    (tmp_path / "headless.csv").write_text("alice@example.com,9876543210\nbob@example.in,x\n")
    redact_file(tmp_path / "headless.csv", tmp_path / "o.csv", SCANNER, Redactor())
    assert "alice" not in (tmp_path / "o.csv").read_text()
    row = {"alice@example.com": {"phone": 9876543210, "n": 3}}
    (tmp_path / "k.jsonl").write_text(json.dumps(row) + "\n")
    assert redact_file(tmp_path / "k.jsonl", tmp_path / "o.jsonl", SCANNER, Redactor()) == 2
    assert json.loads((tmp_path / "o.jsonl").read_text()) == {
        "<EMAIL>": {"phone": "<TELEPHONE>", "n": 3}
    }


def test_an_invalid_line_is_skipped_and_the_rest_still_scanned(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    path.write_bytes(b"caf\xe9 latin-1 line\n" + TICKET.encode())
    items = scan(path)
    assert isinstance(items[0], Skipped) and items[0].line == 1
    assert [x.finding.entity for x in items if isinstance(x, Located)] == [
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "IN_PAN",
    ]


def test_mask_never_keeps_most_of_a_short_value() -> None:
    text = "born in Pune, username: bob"
    assert Redactor(default="mask:4").redact(text, SCANNER.scan(text)) == (
        "born in ***e, username: **b"  # a third at most: one character of three
    )


def test_a_forged_vault_reference_does_not_resolve(tmp_path: Path) -> None:
    vault = init_vault(Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/v.db"))
    customer = vault.add({"email": "victim@example.in"}).customer_id
    forged = f"<VAULT:{customer}:email:0123456789abcdef>"
    redactor = Redactor(default="vault", vault=vault)
    assert redactor.resolve(forged, "billing_team", "billing") == forged
    vault.close()


def test_hash_joins_what_people_write_differently(tmp_path: Path) -> None:
    vault = init_vault(Settings(home=tmp_path / "h", database_url=f"sqlite:///{tmp_path}/v.db"))
    hashing = Redactor(default="hash", keys=vault.keys)
    tokens = set()
    for text in ("call +91 98765 43210", "call 09876543210", "call 98765-43210"):
        tokens.add(hashing.redact(text, SCANNER.scan(text)))
    assert len(tokens) == 1
    assert tokens != {"call <TELEPHONE>"}  # a keyed token, not a bare label
    vault.close()


# -- nothing unread passes: skipped input, byte-order marks, deep JSON, same file -------

EMAIL = "asha.rao@example.in"
TEXT = f"mail {EMAIL}\nno PII on this line\n"


def located(path: Path) -> list[Located]:
    return [x for x in scan_file(path, SCANNER) if isinstance(x, Located)]


def skipped(path: Path) -> list[Skipped]:
    return [x for x in scan_file(path, SCANNER) if isinstance(x, Skipped)]


# Inputs the scanner cannot read whole, each with no PII in what it can read: a pass
# would be a lie. (name, content)
UNREADABLE: list[tuple[str, bytes]] = [
    ("invalid-utf8.log", b"fine line\nbad \xff\xfe bytes\n"),
    ("nul.log", b"header\x00\x01 binary\n"),
    ("utf16-without-bom.txt", "no mark, so NUL bytes\n".encode("utf-16-le")),
    ("invalid-utf16.txt", "fine line\n".encode("utf-16") + b"\x00\xd8A\x00\n\x00"),
    ("not-gzip.log.gz", b"\x1f\x8b not really gzip"),
    ("long-line.log", b"x" * (MAX_LINE + 1) + b"\nshort\n"),
]


def test_fail_on_fails_the_scan_when_lines_or_files_were_skipped(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home", process=True)  # scan and redact need no vault
    source = tmp_path / "in"
    source.mkdir()
    for name, content in UNREADABLE:
        (source / name).write_bytes(content)
        assert skipped(source / name), name
    pq.write_table(pa.table({"ids": pa.array([[1, 2]])}), source / "nested.parquet")
    assert skipped(source / "nested.parquet")  # a column it cannot scan
    result = run("scan", str(source), "--fail-on", "any", "--json", expect=10)
    assert result.stdout == ""  # nothing found in what could be read
    reported = {json.loads(line)["path"] for line in result.stderr.splitlines()}
    assert reported == {str(p) for p in source.iterdir()}
    plain = run("scan", str(source))  # without --fail-on: reported, exit 0, never "clean"
    assert "no PII found" not in plain.stdout and "7 skipped" in plain.stdout


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_text_with_a_byte_order_mark_is_decoded_scanned_and_redacted_in_its_encoding(
    tmp_path: Path, encoding: str
) -> None:
    bom = {"utf-16-be": b"\xfe\xff"}.get(encoding, b"")  # the others write their own
    for name, content in (("t.log", TEXT), ("c.csv", f"name,email\nx,{EMAIL}\n")):
        path = tmp_path / name
        path.write_bytes(bom + content.encode(encoding))
        (found,) = located(path)
        assert found.finding.entity == "EMAIL_ADDRESS" and found.value == EMAIL
        assert content[found.finding.start : found.finding.end] == EMAIL  # mark not counted
        assert skipped(path) == []
        redact_file(path, tmp_path / "out" / name, SCANNER, Redactor())
        out = (tmp_path / "out" / name).read_bytes()
        assert out.startswith(bom or content.encode(encoding)[:2])
        assert out[len(bom) :].decode(encoding) == content.replace(EMAIL, "<EMAIL>")


def test_invalid_utf16_is_skipped_from_the_invalid_line_on(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(TEXT.encode("utf-16") + b"\x00\xd8" + f"\n{EMAIL}\n".encode("utf-16-le"))
    items = list(scan_file(path, SCANNER))
    assert [type(x) for x in items] == [Located, Skipped]
    assert items[1].line == 3 and "invalid UTF-16-LE" in items[1].reason  # type: ignore[union-attr]
    with pytest.raises(Unreadable):
        redact_file(path, tmp_path / "out.txt", SCANNER, Redactor())
    assert not (tmp_path / "out.txt").exists()


def test_redact_never_reports_a_file_with_skipped_lines_as_clean(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home")  # scan and redact need no vault
    source = tmp_path / "in"
    source.mkdir()
    for name, content in UNREADABLE:
        (source / name).write_bytes(content)
    (source / "t.log").write_text(TEXT)
    result = run("redact", str(source), str(tmp_path / "out"), "--json", expect=5)
    report = json.loads(result.stdout)
    assert report["written"] == [str(tmp_path / "out" / "t.log")]
    assert sorted(f["path"] for f in report["failed"]) == sorted(
        str(source / name) for name, _ in UNREADABLE
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t.log"]


def nested(depth: int, inner: str = json.dumps(EMAIL)) -> str:
    return "[" * depth + inner + "]" * depth


def test_deeply_nested_json_is_skipped_per_file_and_the_run_goes_on(tmp_path: Path) -> None:
    run = Ntk(tmp_path / "home")  # scan and redact need no vault
    source = tmp_path / "in"
    source.mkdir()
    (source / "a-deep.json").write_text(nested(100_000))  # deeper than Python parses
    (source / "b-deep.json").write_text('{"k":' * 900 + json.dumps(EMAIL) + "}" * 900)
    (source / "c-deep.jsonl").write_text(json.dumps({"email": EMAIL}) + "\n" + nested(5000))
    (source / "d-edge.json").write_text(nested(MAX_DEPTH - 1))  # deep, but within the limit
    (source / "e-ok.json").write_text(json.dumps({"email": EMAIL}))
    result = run("redact", str(source), str(tmp_path / "out"), "--json", expect=5)
    assert "Traceback" not in result.stderr and EMAIL not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [(f["path"], f["reason"], f["line"]) for f in report["failed"]] == [
        (str(source / "a-deep.json"), f"JSON nested deeper than {MAX_DEPTH} levels", None),
        (str(source / "b-deep.json"), f"JSON nested deeper than {MAX_DEPTH} levels", None),
        (str(source / "c-deep.jsonl"), f"JSON nested deeper than {MAX_DEPTH} levels", 2),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d-edge.json", "e-ok.json"]
    assert json.loads((tmp_path / "out" / "d-edge.json").read_text()) == json.loads(
        nested(MAX_DEPTH - 1, '"<EMAIL>"')
    )
    # The scan reads JSON as text: nested any depth, it is read whole and its PII found.
    scanned = run("scan", str(source / "a-deep.json"), "--json", "--fail-on", "email", expect=10)
    assert [json.loads(line)["entity"] for line in scanned.stdout.splitlines()] == ["EMAIL_ADDRESS"]
    assert "Traceback" not in scanned.stderr
    run("scan", str(tmp_path / "out"), "--fail-on", "any")  # the redacted copies pass


def test_redact_refuses_an_output_that_is_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = Ntk(tmp_path / "home")  # scan and redact need no vault
    work = tmp_path / "work"
    source = work / "in"
    source.mkdir(parents=True)
    original = source / "a.log"
    original.write_text(TEXT)
    (work / "link.log").symlink_to(original)
    os.link(original, work / "hard.log")
    (work / "linked-dir").symlink_to(source)
    monkeypatch.chdir(work)  # for the relative spellings (ntk runs in this directory too)
    files = [
        original,
        Path("in/../in/a.log"),
        work / "link.log",
        work / "hard.log",
        work / "linked-dir" / "a.log",
    ]
    directories = [source, source / "out", Path("./in/sub/../out"), work / "linked-dir" / "x"]
    before = sorted(work.rglob("*"))
    for target in files:
        with pytest.raises(ValueError, match="is the input"):
            redaction_pairs(original, target)
        with pytest.raises(ValueError, match="is the input"):
            redact_file(original, target, SCANNER, Redactor())
    for target in directories:
        with pytest.raises(ValueError, match="is inside the input"):
            redaction_pairs(Path("in"), target)
    for src, dst in [("in/a.log", "./in/a.log"), ("in/a.log", "hard.log"), ("in", "in/out")]:
        result = run("redact", src, dst, "--json", expect=5)
        assert json.loads(result.stderr)["rule"] == "same_file", (src, dst)
        assert EMAIL not in result.stdout + result.stderr
    assert original.read_text() == TEXT
    assert sorted(work.rglob("*")) == before  # nothing written, not even a temporary


def test_csv_findings_name_their_column_quoted_or_not(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        f'id,Contact e-mail,notes\n1,{EMAIL},none\n2,"Rao, Asha",see {EMAIL}\n',
        "utf-8",
    )
    found = [x for x in scan_file(path, SCANNER) if isinstance(x, Located)]
    emails = [(x.line, x.column) for x in found if x.finding.entity == "EMAIL_ADDRESS"]
    assert emails == [(2, "Contact e-mail"), (3, "notes")]
    run = Ntk(tmp_path / "home")
    lines = [json.loads(line) for line in run("scan", str(path), "--json").stdout.splitlines()]
    assert {(f["line"], f.get("column")) for f in lines if f["entity"] == "EMAIL_ADDRESS"} == {
        (2, "Contact e-mail"),
        (3, "notes"),
    }


def test_json_findings_name_their_key_path(tmp_path: Path) -> None:
    record = {"customer": {"contacts": [{"kind": "work", "email": EMAIL}]}, "odd key": EMAIL}
    (tmp_path / "one.json").write_text(json.dumps(record, indent=2), "utf-8")
    (tmp_path / "many.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    (tmp_path / "broken.jsonl").write_text('{"email": "' + EMAIL + '", \n')
    (tmp_path / "keyed.json").write_text(json.dumps({EMAIL: {"note": "x"}, "a": EMAIL}))
    paths = {
        name: [
            (x.line, x.key_path)
            for x in scan_file(tmp_path / name, SCANNER)
            if isinstance(x, Located) and x.finding.entity == "EMAIL_ADDRESS"
        ]
        for name in ("one.json", "many.jsonl", "broken.jsonl", "keyed.json")
    }
    assert [p for _, p in paths["keyed.json"]] == ["$ (a key)", "$.a"]  # the key: not shown
    assert [p for _, p in paths["one.json"]] == ["$.customer.contacts[0].email", "$.*"]
    assert paths["many.jsonl"] == [
        (1, "$.customer.contacts[0].email"),
        (1, "$.*"),  # a key that is not a plain identifier is not printed
        (2, "$.customer.contacts[0].email"),
        (2, "$.*"),
    ]
    assert paths["broken.jsonl"] == [(1, None)]  # not JSON: found, with no path
    run = Ntk(tmp_path / "home")
    lines = run("scan", str(tmp_path / "one.json"), "--json").stdout.splitlines()
    assert json.loads(lines[0])["key_path"] == "$.customer.contacts[0].email"
