"""``ntk scan --workers N``: several processes, the findings of one — the same lines,
offsets, order, skips and JSON — for large text files cut into parts and for files of
every other kind, whole."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

from needtoknow.detect import Scanner
from needtoknow.detect.files import Located, Skipped, files_under, scan_file
from needtoknow.detect.jsonlines import JsonLines
from needtoknow.detect.parallel import scan_in_parallel
from tests.detect.test_blocks import mixed_text

NTK = str(Path(sys.executable).with_name("ntk"))
SCANNER = Scanner()


def inputs(root: Path) -> list[Path]:
    """A text file larger than several parts (a line not UTF-8 in the middle), a binary
    file as large, a CSV, a gzipped log and a JSON file."""
    text = mixed_text()
    (root / "big.log").write_bytes(text + b"\n" + text)
    (root / "binary.log").write_bytes(b"\x00\x01" + text)
    (root / "customers.csv").write_text("name,phone\nAsha Rao,+91 98765 43210\n")
    (root / "old.log.gz").write_bytes(gzip.compress(text[:5000]))
    (root / "event.json").write_text('{"client": "203.0.113.9", "to": "asha@example.in"}')
    return list(files_under([root]))


def test_parts_and_whole_files_give_one_process_findings(tmp_path: Path) -> None:
    paths = inputs(tmp_path)
    expected = [item for path in paths for item in scan_file(path, SCANNER)]
    assert sum(isinstance(i, Located) for i in expected) > 1000
    assert any(isinstance(i, Skipped) and "binary" in i.reason for i in expected)
    batches = list(scan_in_parallel(paths, 2, keep=True, part=4096))
    assert len(batches) > 20  # the big file in many parts
    located = [item for batch in batches for item in batch.located]
    assert located == [i for i in expected if isinstance(i, Located)]
    skipped = [item for batch in batches for item in batch.skipped]
    assert skipped == [i for i in expected if isinstance(i, Skipped)]
    lines = JsonLines(False)
    assert "".join(b.json_lines for b in batches) == "".join(lines.line(i) + "\n" for i in located)


def test_the_command_prints_what_one_process_prints(tmp_path: Path) -> None:
    inputs(tmp_path)
    one = subprocess.run([NTK, "scan", str(tmp_path), "--json"], capture_output=True, text=True)
    two = subprocess.run(
        [NTK, "scan", str(tmp_path), "--json", "--workers", "2"], capture_output=True, text=True
    )
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and one.stdout.count("\n") > 1000
    assert two.stderr == one.stderr  # the skipped binary file, reported the same way
    refused = subprocess.run(
        [NTK, "scan", str(tmp_path), "--workers", "0"], capture_output=True, text=True
    )
    assert refused.returncode == 2 and "greater than or equal to 1" in refused.stderr


def test_a_missing_file_and_binary_data_past_the_first_read_as_one_process(tmp_path: Path) -> None:
    """Second review: --workers crashed on a file that is not there, and sniffed more of
    a file's head for NUL bytes than one process did."""
    nul = tmp_path / "nul.log"
    nul.write_bytes(b"x" * 5000 + b"\x00" + mixed_text())
    paths = [tmp_path / "missing.log", nul]
    expected = [item for path in paths for item in scan_file(path, SCANNER)]
    batches = list(scan_in_parallel(paths, 2, keep=True, part=5400))
    assert [i for b in batches for i in b.skipped] == [
        i for i in expected if isinstance(i, Skipped)
    ]
    assert [i for b in batches for i in b.located] == [
        i for i in expected if isinstance(i, Located)
    ]
