"""Plain text and logs are scanned a block of lines at a time (``files._scan_blocks``):
what that finds must be exactly what scanning each line alone finds — offsets, line
numbers, scores, skipped lines — whatever the block size; and ``ntk scan --json``'s
fast lines must be byte for byte what ``json.dumps`` writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from needtoknow.detect import Scanner, files
from needtoknow.detect.corpus import Values, documents
from needtoknow.detect.files import Located, Skipped, scan_file
from needtoknow.detect.jsonlines import JsonLines, finding_json
from needtoknow.detect.scanner import Finding

SCANNER = Scanner()


def mixed_text() -> bytes:
    """The in-repo corpus's text documents, log lines, Hindi, CRLF endings, an address
    across two lines, a line that is not UTF-8 and a last line without its newline."""
    parts = [d.text for d in documents(400, seed=21) if d.format == "text"]
    v = Values(random.Random(3))
    for _ in range(300):
        parts.append(
            f'{v.ipv4()} - - [26/Nov/2026:{v.clock()} +0530] "GET /?q={v.digits(4)} HTTP/1.1"'
            f" 200 {v.r.randint(200, 90000)}"
        )
        parts.append(f"Nov 26 {v.clock()} mx1 postfix: to=<{v.email()}>, status=sent\r")
    parts += [
        "ग्राहक आशा राव, फ़ोन +91 98765 43210, पता 12 MG Road, Pune 411001",
        "Ship to 12 MG Road\nBengaluru 560001 please",  # no address across the break
        "My UK number is 020 7946 0958; Tonga 20-123 is my number too",
    ]
    text = "\n".join(parts).encode()
    return text + b"\nbad \xff\xfe line 9876543210\nlast line +91 98765 43210"


def line_by_line(data: bytes) -> list[tuple[object, ...]]:
    """What scanning each line alone reports, as ``scan_file`` numbers it."""
    found: list[tuple[object, ...]] = []
    offset = 0
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            found.append(("skipped", number))
            offset += len(raw.decode("utf-8", "replace"))
            continue
        for f in SCANNER.scan(line):
            found.append((number, f.moved(offset), line[f.start : f.end]))
        offset += len(line)
    return found


def scanned(path: Path) -> list[tuple[object, ...]]:
    return [
        ("skipped", item.line)
        if isinstance(item, Skipped)
        else (item.line, item.finding, item.value)
        for item in scan_file(path, SCANNER)
    ]


@pytest.mark.parametrize("block", [64, 4096, files.BLOCK])
def test_blocks_find_what_each_line_alone_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    data = mixed_text()
    assert b"\r" not in data.replace(b"\r\n", b"")  # split as readline splits: at \n only
    path = tmp_path / "mixed.log"
    path.write_bytes(data)
    monkeypatch.setattr(files, "BLOCK", block)
    expected = line_by_line(data)
    assert len(expected) > 1000 and ("skipped", data.count(b"\n")) in expected
    assert scanned(path) == expected


def test_a_match_never_crosses_a_line_break_when_read_by_line() -> None:
    text = "Ship to 12 MG Road\nBengaluru 560001 please"
    whole = [text[f.start : f.end] for f in SCANNER.scan(text)]
    assert whole == ["12 MG Road\nBengaluru 560001"]  # text in hand: one address, two lines
    lines = [text[f.start : f.end] for f in SCANNER.scan(text, by_line=True)]
    assert lines == ["12 MG Road"]  # a file's lines: the street on its own line only


def test_json_lines_are_what_json_dumps_writes() -> None:
    finding = Finding(3, 17, "IP_ADDRESS", "digital_identity", 0.95, "ipaddress")
    masked = Finding(0, 9, "CREDIT_CARD", "card_number", 0.6000000000000001, "masked", True)
    cases = [
        Located("logs/access.log", 7, finding, "203.0.113.9"),
        Located('odd "name"\\ñ.log', 1, masked, "XXXX 1234"),
        Located("data.csv", 2, finding, "203.0.113.9", column="client ip"),
        Located("data.json", 1, finding, "203.0.113.9", key_path="$.client"),
    ]
    for show_values in (False, True):
        lines = JsonLines(show_values)
        for located in cases * 2:  # the second time from its cache
            expected = json.dumps(finding_json(located, show_values), ensure_ascii=False)
            assert lines.line(located) == expected
            assert json.loads(lines.line(located)) == finding_json(located, show_values)


def test_an_abbreviation_on_the_line_before_is_not_read(tmp_path: Path) -> None:
    """Second review: the words before a number were read back past the line break
    ("today\\nAcct." made "today\\nAcct" one word): blocks and lines differed."""
    path = tmp_path / "a.log"
    path.write_bytes(b"Paid the fee today\nAcct. 123456789012\n")
    assert scanned(path) == line_by_line(path.read_bytes())
    found = [i.finding.entity for i in scan_file(path, SCANNER) if isinstance(i, Located)]
    assert found == ["IN_BANK_ACCOUNT"]


def test_an_empty_column_name_is_written_as_json_dumps_writes_it() -> None:
    finding = Finding(3, 17, "PHONE_NUMBER", "telephone", 0.7, "phonenumbers")
    located = Located("a.csv", 2, finding, "9876543210", column="")
    expected = json.dumps(finding_json(located, False), ensure_ascii=False)
    assert JsonLines(False).line(located) == expected and '"column": ""' in expected
