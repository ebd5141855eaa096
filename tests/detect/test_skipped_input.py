"""What the scanner cannot read is never passed as clean: ``ntk scan --fail-on`` fails on
anything skipped, ``ntk redact`` reports it and writes nothing for it; text with a
byte-order mark (UTF-8, UTF-16, UTF-32) is read, not skipped; JSON too deep to redact is
one skipped file, not a crash; and a redaction never replaces its own input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

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
from tests.conftest import Ntk

SCANNER = Scanner()
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
    ntk = Ntk(tmp_path / "home")  # scan and redact need no vault
    source = tmp_path / "in"
    source.mkdir()
    for name, content in UNREADABLE:
        (source / name).write_bytes(content)
        assert skipped(source / name), name
    pq.write_table(pa.table({"ids": pa.array([[1, 2]])}), source / "nested.parquet")
    assert skipped(source / "nested.parquet")  # a column it cannot scan
    result = ntk("scan", str(source), "--fail-on", "any", "--json", expect=10)
    assert result.stdout == ""  # nothing found in what could be read
    reported = {json.loads(line)["path"] for line in result.stderr.splitlines()[:-1]}
    assert reported == {str(p) for p in source.iterdir()}
    plain = ntk("scan", str(source))  # without --fail-on: reported, exit 0, never "clean"
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
    ntk = Ntk(tmp_path / "home")
    source = tmp_path / "in"
    source.mkdir()
    for name, content in UNREADABLE:
        (source / name).write_bytes(content)
    (source / "t.log").write_text(TEXT)
    result = ntk("redact", str(source), str(tmp_path / "out"), expect=5)
    report = json.loads(result.stdout)
    assert report["written"] == [str(tmp_path / "out" / "t.log")]
    assert sorted(f["path"] for f in report["failed"]) == sorted(
        str(source / name) for name, _ in UNREADABLE
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["t.log"]


def nested(depth: int, inner: str = json.dumps(EMAIL)) -> str:
    return "[" * depth + inner + "]" * depth


def test_deeply_nested_json_is_skipped_per_file_and_the_run_goes_on(tmp_path: Path) -> None:
    ntk = Ntk(tmp_path / "home")
    source = tmp_path / "in"
    source.mkdir()
    (source / "a-deep.json").write_text(nested(100_000))  # deeper than Python parses
    (source / "b-deep.json").write_text('{"k":' * 900 + json.dumps(EMAIL) + "}" * 900)
    (source / "c-deep.jsonl").write_text(json.dumps({"email": EMAIL}) + "\n" + nested(5000))
    (source / "d-edge.json").write_text(nested(MAX_DEPTH - 1))  # deep, but within the limit
    (source / "e-ok.json").write_text(json.dumps({"email": EMAIL}))
    result = ntk("redact", str(source), str(tmp_path / "out"), expect=5)
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
    scanned = ntk("scan", str(source / "a-deep.json"), "--json", "--fail-on", "email", expect=10)
    assert [json.loads(line)["entity"] for line in scanned.stdout.splitlines()] == ["EMAIL_ADDRESS"]
    assert "Traceback" not in scanned.stderr
    ntk("scan", str(tmp_path / "out"), "--fail-on", "any")  # the redacted copies pass


def test_redact_refuses_an_output_that_is_its_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ntk = Ntk(tmp_path / "home")
    work = tmp_path / "work"
    source = work / "in"
    source.mkdir(parents=True)
    original = source / "a.log"
    original.write_text(TEXT)
    (work / "link.log").symlink_to(original)
    os.link(original, work / "hard.log")
    (work / "linked-dir").symlink_to(source)
    monkeypatch.chdir(work)  # for the relative spellings (ntk runs in this directory too)
    files = [original, Path("in/../in/a.log"), work / "link.log", work / "hard.log",
             work / "linked-dir" / "a.log"]  # fmt: skip
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
        result = ntk("redact", src, dst, expect=5)
        assert json.loads(result.stderr)["rule"] == "same_file", (src, dst)
        assert EMAIL not in result.stdout + result.stderr
    assert original.read_text() == TEXT
    assert sorted(work.rglob("*")) == before  # nothing written, not even a temporary
