"""Scan and redact files: text and logs, CSV/TSV, JSON and JSON Lines, gzip of any,
Parquet (:mod:`needtoknow.detect.parquet`) and images (faces and OCR'd text:
:mod:`needtoknow.detect.images`).

Files are read a line at a time, so memory stays flat on multi-gigabyte logs; offsets
are characters into the decoded file. Text is UTF-8, or UTF-16 or UTF-32 when the file
starts with that encoding's byte-order mark (Windows tools write UTF-16 with one); a
redaction is written back in the input's encoding. What cannot be read as text — binary
data, invalid UTF-8, a line longer than ``MAX_LINE`` bytes, JSON nested deeper than
``MAX_DEPTH``, a file that cannot be opened — is reported as :class:`Skipped` and never
stops the run. Redaction writes to a temporary
file beside the output and renames it into place only when the whole input was
redacted: an input that turns out unreadable halfway leaves no half-redacted output.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeAlias

from needtoknow.detect import images, parquet, regions
from needtoknow.detect.jsonpaths import Paths
from needtoknow.detect.redact import Redactor
from needtoknow.detect.scanner import Finding, Scanner
from needtoknow.guards.output import replacing

MAX_LINE = 8 << 20  # bytes: longer lines are skipped (and fail a redaction)
BLOCK = 1 << 20  # characters of plain text scanned in one call
csv.field_size_limit(MAX_LINE)  # the module's default, 128 KiB a cell, would raise first
# JSON nested deeper is not redacted: Python's parser and our walk of the value recurse,
# and a thousand levels would exhaust the interpreter's stack.
MAX_DEPTH = 200
_MAX_PATHED = 64 << 20  # a JSON file's findings are named by key path up to this size
_SNIFF = 8192
# Byte-order mark → the encoding it announces; longest first: UTF-32-LE's mark begins
# with UTF-16-LE's. No mark: UTF-8.
_ENCODINGS = {
    codecs.BOM_UTF32_LE: "utf-32-le",
    codecs.BOM_UTF32_BE: "utf-32-be",
    codecs.BOM_UTF8: "utf-8",
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
}


@dataclass(frozen=True)
class Located:
    """A finding in a file: offsets into the decoded file, the line it is on (from 1)."""

    path: str
    line: int
    finding: Finding
    value: str  # the matched text: shown only when asked (ntk scan --show-values)
    box: images.Box | None = None  # in an image: where
    column: str | None = None  # a CSV or Parquet column (in Parquet ``line`` is the row)
    key_path: str | None = None  # in JSON: the string's path, e.g. $.customer.email


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


_Binary: TypeAlias = "io.BufferedReader[Any] | gzip.GzipFile"


def _open_binary(path: Path) -> _Binary:
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(path, "rb")
    return io.BufferedReader(path.open("rb", buffering=0), 1 << 16)  # peek: all of _SNIFF


@contextmanager
def _opened(path: Path) -> Iterator[tuple[bytes, str, _Binary]]:
    """The file's byte-order mark (b"" for none), the encoding it announces, and the
    rest of the file as UTF-8 bytes. Raises Unreadable if it cannot be opened."""
    try:
        stream = _open_binary(path)
    except OSError as exc:
        raise Unreadable(f"cannot open: {exc.strerror or exc}") from None
    with stream:
        try:
            head = stream.peek(4)[:4]  # peek, not seek: the file may be a pipe
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise Unreadable(f"cannot read: {exc}") from None
        bom = next((bom for bom in _ENCODINGS if head.startswith(bom)), b"")
        stream.read(len(bom))
        encoding = _ENCODINGS.get(bom, "utf-8")
        if encoding == "utf-8":
            yield bom, encoding, stream
        else:
            yield bom, encoding, io.BufferedReader(_AsUtf8(stream, encoding))


class _AsUtf8(io.RawIOBase):
    """A UTF-16 or UTF-32 stream read as UTF-8 bytes, so that every encoding goes through
    one line reader. What comes before an invalid sequence is read first; reading on
    raises the UnicodeDecodeError, so the lines before it are still scanned."""

    def __init__(self, source: _Binary, encoding: str) -> None:
        super().__init__()
        self._source = source
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)()
        self._pending = b""
        self._invalid: UnicodeDecodeError | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._invalid is not None:
                raise self._invalid
            chunk = self._source.read(1 << 16)
            try:
                text = self._decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                self._invalid = exc
                text = exc.object[: exc.start].decode(self._encoding)
            self._pending = text.encode("utf-8")
            if not chunk:
                break
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


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
    """The file's lines, decoded (its byte-order mark taken off), each with its line
    ending; an UnscannedLine in place of each line too long or not UTF-8. Raises
    Unreadable for what is not text at all, and where UTF-16 or UTF-32 turns invalid."""
    with _opened(path) as (_, encoding, text):
        yield from _lines_of(text, encoding, progress)


def _lines_of(
    text: _Binary, encoding: str, progress: Callable[[int], None] | None, sniff: bool = True
) -> Iterator[str | UnscannedLine]:
    """:func:`lines` of an opened file (its head looked at for binary data if ``sniff``)."""
    number = 0
    try:
        if sniff and b"\x00" in text.peek(_SNIFF)[:_SNIFF]:
            raise Unreadable("binary data (NUL bytes)")
        while raw := text.readline(MAX_LINE + 1):
            number += 1
            if progress is not None:
                progress(len(raw))
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                characters = _read_past(text, raw, progress)
                yield UnscannedLine(number, characters, f"line longer than {MAX_LINE} bytes")
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = f"invalid UTF-8 at byte {exc.start} of the line"
                yield UnscannedLine(number, len(raw.decode("utf-8", "replace")), reason)
    except UnicodeDecodeError:
        reason = f"invalid {encoding.upper()}: lines from {number + 1} on not scanned"
        raise Unreadable(reason, number + 1) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise Unreadable(f"cannot read: {exc}", number or None) from None


def _read_past(stream: _Binary, start: bytes, progress: Callable[[int], None] | None) -> int:
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
        source = lines(path, progress)
        scanned = _scan_blocks(source, scanner) if how == "text" else None
        for item in scanned or _scan_lines(source, scanner, how):
            if isinstance(item, UnscannedLine):
                yield Skipped(str(path), item.reason, item.number)
            else:
                number, finding, value, where = item
                if how in ("json", "jsonl"):
                    yield Located(str(path), number, finding, value, key_path=where)
                else:
                    yield Located(str(path), number, finding, value, column=where)
    except Unreadable as exc:
        yield Skipped(str(path), exc.reason, exc.line)
    except csv.Error as exc:
        yield Skipped(str(path), f"not CSV: {exc}")


def splittable(path: Path) -> bool:
    """Whether the file is plain UTF-8 text read from disk as it is (no gzip, no
    byte-order mark): its lines can be scanned in parts by different processes."""
    if kind(path) != "text" or path.suffix.lower() == ".gz":
        return False
    with path.open("rb") as head:
        start = head.read(4)
    return not any(start.startswith(bom) for bom in _ENCODINGS)


@contextmanager
def _part(path: Path, start: int, end: int) -> Iterator[Iterator[str | UnscannedLine]]:
    """The lines of a :func:`splittable` file from byte ``start`` (where a line starts)
    to ``end``, read as :func:`lines` reads them (the head sniffed for binary data only
    in the file's first part)."""
    with path.open("rb", buffering=0) as raw:
        raw.seek(start)
        part = io.BufferedReader(_Window(raw, end - start), 1 << 20)
        yield _lines_of(part, "utf-8", None, sniff=start == 0)


def measure_part(path: Path, start: int, end: int) -> tuple[int, int]:
    """How many lines and characters a part holds, as :func:`scan_file` counts them:
    where the next part's numbering starts."""
    lines = characters = 0
    with _part(path, start, end) as source:
        try:
            for line in source:
                lines += 1
                characters += len(line) if isinstance(line, str) else line.characters
        except Unreadable:
            pass  # the part that meets the error reports it; none after it is reported
    return lines, characters


def scan_part(
    path: Path, start: int, end: int, scanner: Scanner, first_line: int, offset: int
) -> tuple[list[Located | Skipped], bool]:
    """:func:`scan_file` of a part (see :func:`_part`) whose first line is number
    ``first_line``, ``offset`` characters into the file; and whether it was read to its
    end (if not, the file's later parts must not be reported: :func:`scan_file` would
    have stopped)."""
    found: list[Located | Skipped] = []
    with _part(path, start, end) as source:
        try:
            for item in _scan_blocks(source, scanner, first_line, offset):
                if isinstance(item, UnscannedLine):
                    found.append(Skipped(str(path), item.reason, item.number))
                else:
                    number, finding, value, _ = item
                    found.append(Located(str(path), number, finding, value))
        except Unreadable as exc:
            line = exc.line and exc.line + first_line - 1
            found.append(Skipped(str(path), exc.reason, line))
            return found, False
    return found, True


class _Window(io.RawIOBase):
    """The next ``size`` bytes of a file, then its end."""

    def __init__(self, raw: IO[bytes], size: int) -> None:
        super().__init__()
        self._raw, self._left = raw, size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), self._left)
        if size <= 0:
            return 0
        read = self._raw.readinto(memoryview(buffer)[:size])  # type: ignore[attr-defined]
        self._left -= read or 0
        return read or 0


def scan_text(text: str, scanner: Scanner, how: str = "text") -> list[Finding]:
    """:func:`scan_file` for text in hand: ``how`` is a :func:`kind` (``csv``, ``tsv``…)."""
    found = _scan_lines(text.splitlines(keepends=True), scanner, how)
    return [item[1] for item in found if not isinstance(item, UnscannedLine)]


def _scan_lines(
    source: Iterable[str | UnscannedLine], scanner: Scanner, how: str
) -> Iterator[tuple[int, Finding, str, str | None] | UnscannedLine]:
    """(line number, finding with offsets into the whole text, matched text, where it
    is: the CSV column, or the JSON key path) per finding; over-long lines passed
    through, counted in the offsets. A JSON file's findings come at its end, once the
    whole document can be walked for their paths."""
    delimiter = "\t" if how == "tsv" else ","
    header: list[str] | None = None
    offset = 0
    document: list[str] | None = [] if how == "json" else None
    held: list[tuple[int, Finding, str, str | None]] = []
    for number, line in enumerate(source, start=1):
        if isinstance(line, UnscannedLine):
            yield line
            offset += line.characters
            document = None  # not the whole text: no paths
            continue
        names = header
        if how in ("csv", "tsv") and header is None:
            # The header row is read as redaction reads it: each cell with no column name.
            header, names = next(csv.reader([line], delimiter=delimiter), []), []
        found: list[tuple[Finding, str | None]]
        if how == "jsonl" and "country" in line.lower():
            found = [(f, None) for f in scanner.scan(line, _object_country(line))]
        else:
            found = list(_scan_line(scanner, line, names, delimiter))
        if how == "jsonl" and found:
            on_line = Paths(line, _plain(scanner), MAX_DEPTH)
            found = [(f, on_line.at(f.start)) for f, _ in found]
        for f, where in found:
            item = (number, f.moved(offset), line[f.start : f.end], where)
            if how == "json":
                held.append(item)
            else:
                yield item
        if document is not None:
            document.append(line)
            if offset > _MAX_PATHED:
                document = None
        offset += len(line)
    whole = Paths("".join(document), _plain(scanner), MAX_DEPTH) if document and held else None
    for number, f, text, _ in held:
        yield number, f, text, whole.at(f.start) if whole else None


def _scan_blocks(
    source: Iterable[str | UnscannedLine], scanner: Scanner, number: int = 1, offset: int = 0
) -> Iterator[tuple[int, Finding, str, None] | UnscannedLine]:
    """:func:`_scan_lines` of plain text, its lines scanned ``BLOCK`` characters at a time:
    the same findings (no match crosses a line break), a fraction of the cost per line
    when lines are short, as in logs. The first line is ``number``, ``offset``
    characters into the file."""
    block: list[str] = []
    size = 0

    def scanned() -> Iterator[tuple[int, Finding, str, None]]:
        text = "".join(block)
        line, at = number, 0
        for f in scanner.scan(text, by_line=True):
            line += text.count("\n", at, f.start)
            at = f.start
            yield line, f.moved(offset), text[f.start : f.end], None

    try:
        for item in source:
            if isinstance(item, UnscannedLine):
                yield from scanned()
                yield UnscannedLine(number + len(block), item.characters, item.reason)
                number, offset = number + len(block) + 1, offset + size + item.characters
                block, size = [], 0
                continue
            block.append(item)
            size += len(item)
            if size >= BLOCK:
                yield from scanned()
                number, offset = number + len(block), offset + size
                block, size = [], 0
    except Unreadable:
        yield from scanned()  # what was read before the error is reported
        raise
    yield from scanned()


def _plain(scanner: Scanner) -> Callable[[str], bool]:
    """Whether a JSON key may be printed in a path: the scanner finds nothing in it."""
    return lambda key: not scanner.scan(key)


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
) -> Iterator[tuple[Finding, str | None]]:
    """A line's findings, each with its CSV column's name; cell by cell under that name
    where the line is a plain delimited row (no quoting), so offsets stay exact. A quoted
    row is scanned whole, each finding named by the cell its start falls in."""
    if header is None:
        yield from ((f, None) for f in scanner.scan(line))
        return
    if '"' in line:
        starts = _cell_starts(line, delimiter)
        for f in scanner.scan(line):
            index = max(i for i, start in enumerate(starts) if start <= f.start)
            yield f, header[index] if index < len(header) else None
        return
    start = 0
    cells = line.rstrip("\r\n").split(delimiter)
    country = row_country(header, cells)
    for index, cell in enumerate(cells):
        column = header[index] if index < len(header) else ""
        for f in scanner.scan(cell, country + column if column else column):
            yield f.moved(start), column or None
        start += len(cell) + 1


def _object_country(line: str) -> str:
    """The country a JSON Lines object's ``country`` key names (read before the line, as
    the redaction reads it before each of the object's values), or nothing."""
    try:
        value = json.loads(line)
    except ValueError:
        return ""
    return row_country(list(value), list(value.values())).strip() if isinstance(value, dict) else ""


def row_country(header: list[str], cells: list[Any]) -> str:
    """The words a CSV row (or a JSON object: its keys and values) puts before each
    cell's column name: the country its ``country`` column names, if it has one
    ("united kingdom phone: 020 7946 0958" is read with that country's numbering plan),
    else nothing."""
    for name, cell in zip(header, cells, strict=False):
        country = regions.country_of(name, cell) if isinstance(cell, str) else None
        if country is not None:
            return country + " "
    return ""


def _cell_starts(line: str, delimiter: str) -> list[int]:
    """Where each cell of a (quoted) delimited line starts: delimiters outside quotes."""
    starts, quoted = [0], False
    for position, character in enumerate(line):
        if character == '"':
            quoted = not quoted
        elif character == delimiter and not quoted:
            starts.append(position + 1)
    return starts


def _scannable(source: Iterable[str | UnscannedLine]) -> Iterator[str]:
    """Lines for redaction: a line too long to scan cannot be passed on unredacted."""
    for line in source:
        if isinstance(line, UnscannedLine):
            raise Unreadable(line.reason, line.number)
        yield line


# -- redaction ---------------------------------------------------------------------------


def redaction_pairs(source: Path, target: Path) -> list[tuple[Path, Path]]:
    """(input, output) of each file a redaction of ``source`` into ``target`` writes:
    ``source`` itself, or each file under the directory ``source`` at the same place
    under ``target``. Raises ValueError, before anything is written, where an output
    would replace an input: the same path however spelled, a symbolic or hard link to
    it, or an output directory that is the input directory or inside it."""
    if source.is_dir():
        if target.resolve().is_relative_to(source.resolve()):
            raise ValueError(f"the output directory {target} is inside the input {source}")
        pairs = [(p, target / p.relative_to(source)) for p in files_under([source])]
    else:
        pairs = [(source, target)]
    for src, dst in pairs:
        _refuse_same_file(src, dst)
    return pairs


def _refuse_same_file(source: Path, target: Path) -> None:
    if target.exists() and source.exists() and os.path.samefile(source, target):
        raise ValueError(f"the output {target} is the input {source}: it would be replaced")


def redact_file(
    source: Path,
    target: Path,
    scanner: Scanner,
    redactor: Redactor,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``source`` redacted to ``target`` in the same format; the number of values
    taken out. Raises Unreadable (and writes nothing) when ``source`` cannot be read,
    ValueError when ``target`` is ``source`` (:func:`redaction_pairs`)."""
    _refuse_same_file(source, target)
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
            _opened(source) as (bom, encoding, text),
            replacing(target) as temporary,
            _text_out(temporary, target.suffix.lower() == ".gz", bom) as out,
        ):
            source_lines = _scannable(_lines_of(text, encoding, progress))
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


@contextmanager
def _text_out(path: Path, compress: bool, bom: bytes) -> Iterator[IO[str]]:
    """Text out in the encoding the input's byte-order mark announced, the mark first."""
    with (
        gzip.open(path, "wb") if compress else path.open("wb") as binary,
        io.TextIOWrapper(binary, encoding=_ENCODINGS.get(bom, "utf-8"), newline="") as out,
    ):
        out.write("\ufeff" if bom else "")  # U+FEFF encodes as the mark of each encoding
        yield out


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
            country = row_country(list(value), list(value.values()))
            out = {self(k): self.tree(v, country + k if k else k) for k, v in value.items()}
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
        country = row_country(header, row)
        cells = zip(row, names, strict=False)
        writer.writerow([redact(cell, country + name if name else name) for cell, name in cells])
    return redact.count


def _redact_json_lines(
    source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor
) -> int:
    redact = _Counter(scanner, redactor)
    for number, line in enumerate(source, start=1):
        if not line.strip():
            out.write(line)
            continue
        out.write(json.dumps(redact.tree(_parsed(line, number)), ensure_ascii=False) + "\n")
    return redact.count


def _redact_json(source: Iterable[str], out: IO[str], scanner: Scanner, redactor: Redactor) -> int:
    redact = _Counter(scanner, redactor)
    json.dump(redact.tree(_parsed("".join(source))), out, ensure_ascii=False, indent=2)
    out.write("\n")
    return redact.count


def _parsed(text: str, line: int | None = None) -> Any:
    """The JSON value of ``text``; Unreadable if it is not JSON or is nested deeper than
    MAX_DEPTH (measured without recursion, so redacting and writing it cannot overflow)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise Unreadable(f"JSON nested deeper than {MAX_DEPTH} levels", line) from None
    except ValueError:
        raise Unreadable("not JSON", line) from None
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH + 1):
        level = [
            child
            for node in level
            if isinstance(node, list | dict)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return value
    raise Unreadable(f"JSON nested deeper than {MAX_DEPTH} levels", line)
