"""Scan and redact files: text and logs, CSV/TSV, JSON and JSON Lines, gzip of any,
Parquet (:mod:`needtoknow.detect.parquet`) and images (faces and OCR'd text:
:mod:`needtoknow.detect.images`).

Files are read a line at a time, so memory stays flat on multi-gigabyte logs; offsets
are characters into the decoded file. What cannot be read as UTF-8 text — binary data,
invalid UTF-8, a line longer than ``MAX_LINE`` bytes, a file that cannot be opened — is
reported as :class:`Skipped` and never stops the run. Redaction writes to a temporary
file beside the output and renames it into place only when the whole input was
redacted: an input that turns out unreadable halfway leaves no half-redacted output.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from needtoknow.detect import images, parquet
from needtoknow.detect.output import replacing
from needtoknow.detect.redact import Redactor
from needtoknow.detect.scanner import Finding, Scanner

MAX_LINE = 8 << 20  # bytes: longer lines are skipped (and fail a redaction)
csv.field_size_limit(MAX_LINE)  # the module's default, 128 KiB a cell, would raise first
_SNIFF = 8192


@dataclass(frozen=True)
class Located:
    """A finding in a file: offsets into the decoded file, the line it is on (from 1)."""

    path: str
    line: int
    finding: Finding
    value: str  # the matched text: shown only when asked (ntk scan --show-values)
    box: images.Box | None = None  # in an image: where
    column: str | None = None  # in Parquet: the column (``line`` is then the row)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    line: int | None = None


class Unreadable(Exception):
    """The file (or a line of it) cannot be read as UTF-8 text; ``reason`` says why."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def files_under(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named and those under the directories named, each directory sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def kind(path: Path) -> str:
    """How a file is read: by its suffix, under any ``.gz``."""
    if path.suffix.lower() in images.SUFFIXES:
        return "image"
    if path.suffix.lower() == ".parquet":
        return "parquet"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    return {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "jsonl"}.get(
        suffix, "jsonl" if suffix == ".ndjson" else "text"
    )


def _open_binary(path: Path) -> io.BufferedIOBase:
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(path, "rb")
    return path.open("rb")


@dataclass(frozen=True)
class UnscannedLine:
    """A line read past without being scanned — longer than MAX_LINE bytes, or not
    UTF-8 — counted in the offsets of what follows (as decoded with replacements)."""

    number: int
    characters: int
    reason: str


def lines(
    path: Path, progress: Callable[[int], None] | None = None
) -> Iterator[str | UnscannedLine]:
    """The file's lines, decoded, each with its line ending; an UnscannedLine in place of
    each line too long or not UTF-8. Raises Unreadable for what is not text at all."""
    try:
        stream = _open_binary(path)
    except OSError as exc:
        raise Unreadable(f"cannot open: {exc.strerror or exc}") from None
    with stream:
        number = 0
        try:
            if b"\x00" in stream.peek(_SNIFF)[:_SNIFF]:  # type: ignore[attr-defined,unused-ignore]
                raise Unreadable("binary data (NUL bytes)")
            while raw := stream.readline(MAX_LINE + 1):
                number += 1
                if progress is not None:
                    progress(len(raw))
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    characters = _read_past(stream, raw, progress)
                    yield UnscannedLine(number, characters, f"line longer than {MAX_LINE} bytes")
                    continue
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    reason = f"invalid UTF-8 at byte {exc.start} of the line"
                    yield UnscannedLine(number, len(raw.decode("utf-8", "replace")), reason)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise Unreadable(f"cannot read: {exc}", number or None) from None


def _read_past(
    stream: io.BufferedIOBase, start: bytes, progress: Callable[[int], None] | None
) -> int:
    """Read to the end of an over-long line; how many characters it had."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    characters = len(decoder.decode(start))
    while chunk := stream.readline(MAX_LINE):
        if progress is not None:
            progress(len(chunk))
        characters += len(decoder.decode(chunk))
        if chunk.endswith(b"\n"):
            break
    return characters + len(decoder.decode(b"", final=True))


def scan_file(
    path: Path, scanner: Scanner, progress: Callable[[int], None] | None = None
) -> Iterator[Located | Skipped]:
    """Every finding in one file; a Skipped for each line too long to scan, and one if
    the file could not be read to the end. In CSV and TSV each cell is scanned with its
    column's name as context ("account_number" makes a digit run an account)."""
    how = kind(path)
    if how == "image":
        yield from _scan_image(path, scanner, progress)
        return
    if how == "parquet":
        try:
            for row, column, finding, value in parquet.scan_parquet(path, scanner, progress):
                yield Located(str(path), row, finding, value, column=column)
            unsupported = parquet.unsupported_columns(path)
            if unsupported:
                yield Skipped(str(path), "columns not scanned: " + ", ".join(unsupported))
        except parquet.UnreadableParquet as exc:
            yield Skipped(str(path), exc.reason)
        return
    try:
        for item in _scan_lines(lines(path, progress), scanner, how):
            if isinstance(item, UnscannedLine):
                yield Skipped(str(path), item.reason, item.number)
            else:
                number, finding, value = item
                yield Located(str(path), number, finding, value)
    except Unreadable as exc:
        yield Skipped(str(path), exc.reason, exc.line)
    except csv.Error as exc:
        yield Skipped(str(path), f"not CSV: {exc}")


def scan_text(text: str, scanner: Scanner, how: str = "text") -> list[Finding]:
    """:func:`scan_file` for text in hand: ``how`` is a :func:`kind` (``csv``, ``tsv``…)."""
    found = _scan_lines(text.splitlines(keepends=True), scanner, how)
    return [item[1] for item in found if not isinstance(item, UnscannedLine)]


def _scan_lines(
    source: Iterable[str | UnscannedLine], scanner: Scanner, how: str
) -> Iterator[tuple[int, Finding, str] | UnscannedLine]:
    """(line number, finding with offsets into the whole text, matched text) per finding;
    over-long lines passed through, counted in the offsets."""
    delimiter = "\t" if how == "tsv" else ","
    header: list[str] | None = None
    offset = 0
    for number, line in enumerate(source, start=1):
        if isinstance(line, UnscannedLine):
            yield line
            offset += line.characters
            continue
        if how in ("csv", "tsv") and header is None:
            header = next(csv.reader([line], delimiter=delimiter), [])
        for f in _scan_line(scanner, line, header, delimiter):
            yield (
                number,
                f.moved(offset),
                line[f.start : f.end],
            )
        offset += len(line)


def _scan_image(
    path: Path, scanner: Scanner, progress: Callable[[int], None] | None
) -> Iterator[Located | Skipped]:
    """An image's findings: ``line`` is the OCR line (0 for a face), offsets are into
    that line's OCR text, and ``box`` says where in the image."""
    try:
        found = images.scan_image(path, scanner)
    except images.UnreadableImage as exc:
        yield Skipped(str(path), exc.reason)
        return
    finally:
        if progress is not None:
            progress(path.stat().st_size if path.exists() else 0)
    for item in found:
        f = item.finding
        yield Located(str(path), item.line, f, item.text[f.start : f.end], item.box)


def _scan_line(
    scanner: Scanner, line: str, header: list[str] | None, delimiter: str
) -> Iterator[Finding]:
    """A line's findings; cell by cell under its column name where the line is a plain
    delimited row (no quoting), so offsets stay exact."""
    if header is None or '"' in line:
        yield from scanner.scan(line)
        return
    start = 0
    for index, cell in enumerate(line.rstrip("\r\n").split(delimiter)):
        column = header[index] if index < len(header) else ""
        for f in scanner.scan(cell, column):
            yield f.moved(start)
        start += len(cell) + 1


def _scannable(source: Iterable[str | UnscannedLine]) -> Iterator[str]:
    """Lines for redaction: a line too long to scan cannot be passed on unredacted."""
    for line in source:
        if isinstance(line, UnscannedLine):
            raise Unreadable(line.reason, line.number)
        yield line


# -- redaction ---------------------------------------------------------------------------


def redact_file(
    source: Path,
    target: Path,
    scanner: Scanner,
    redactor: Redactor,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``source`` redacted to ``target`` in the same format; the number of values
    taken out. Raises Unreadable (and writes nothing) when ``source`` cannot be read."""
    how = kind(source)
    if how == "image":
        try:
            return images.redact_image(source, target, scanner)
        except images.UnreadableImage as exc:
            raise Unreadable(exc.reason) from None
    if how == "parquet":
        try:
            return parquet.redact_parquet(source, target, scanner, redactor)
        except parquet.UnreadableParquet as exc:
            raise Unreadable(exc.reason) from None
    try:
        with (
            replacing(target) as temporary,
            _open_text_out(temporary, target.suffix.lower() == ".gz") as out,
        ):
            source_lines = _scannable(lines(source, progress))
            if how in ("csv", "tsv"):
                count = _redact_delimited(source_lines, out, scanner, redactor, how)
            elif how == "jsonl":
                count = _redact_json_lines(source_lines, out, scanner, redactor)
            elif how == "json":
                count = _redact_json(source_lines, out, scanner, redactor)
            else:
                count = _redact_text(source_lines, out, scanner, redactor)
    except (csv.Error, UnicodeError, OSError) as exc:
        raise Unreadable(f"cannot redact: {exc}") from None
    return count


def _open_text_out(path: Path, compress: bool) -> IO[str]:
    if compress:
        return io.TextIOWrapper(gzip.open(path, "wb"), encoding="utf-8", newline="")
    return path.open("w", encoding="utf-8", newline="")


def _redact_text(source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor) -> int:
    count = 0
    for line in source:
        found = scanner.scan(line)
        count += len(found)
        out.write(redactor.redact(line, found) if found else line)
    return count


class _Counter:
    """Redacts strings with a context word, counting what it takes out."""

    def __init__(self, scanner: Scanner, redactor: Redactor) -> None:
        self.scanner, self.redactor, self.count = scanner, redactor, 0

    def __call__(self, value: str, context: str = "") -> str:
        found = self.scanner.scan(value, context)
        self.count += len(found)
        return self.redactor.redact(value, found) if found else value

    def tree(self, value: Any, context: str = "") -> Any:
        """Every string in a JSON value — keys too — each key the context of its value;
        a number holding PII (a phone or card written as a number) becomes a string."""
        if isinstance(value, str):
            return self(value, context)
        if isinstance(value, list):
            return [self.tree(item, context) for item in value]
        if isinstance(value, dict):
            out = {self(k): self.tree(v, k) for k, v in value.items()}
            if len(out) != len(value):
                raise Unreadable("redacting its keys would merge two of them (use hash)")
            return out
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            redacted = self(text, context)
            return value if redacted == text else redacted
        return value


def _redact_delimited(
    source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor, how: str
) -> int:
    """CSV stays CSV with the same columns: each cell redacted, its header as context."""
    delimiter = "\t" if how == "tsv" else ","
    reader = csv.reader(source, delimiter=delimiter)
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    redact = _Counter(scanner, redactor)
    header = next(reader, None)
    if header is None:
        return 0
    writer.writerow([redact(cell) for cell in header])  # a header row may be data too
    for row in reader:
        names = header + [""] * max(0, len(row) - len(header))
        writer.writerow([redact(cell, name) for cell, name in zip(row, names, strict=False)])
    return redact.count


def _redact_json_lines(
    source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor
) -> int:
    redact = _Counter(scanner, redactor)
    for number, line in enumerate(source, start=1):
        if not line.strip():
            out.write(line)
            continue
        try:
            value = json.loads(line)
        except ValueError:
            raise Unreadable("not JSON", number) from None
        out.write(json.dumps(redact.tree(value), ensure_ascii=False) + "\n")
    return redact.count


def _redact_json(source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor) -> int:
    redact = _Counter(scanner, redactor)
    try:
        value = json.loads("".join(source))
    except ValueError:
        raise Unreadable("not JSON") from None
    json.dump(redact.tree(value), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return redact.count
