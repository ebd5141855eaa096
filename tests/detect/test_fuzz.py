"""Property-based fuzzing of everything the scanner reads: text, CSV, JSON and JSON Lines,
Parquet, and raw bytes in any encoding, through the library and the ``ntk`` commands.

What must hold whatever the input: no exception escapes but the documented ones (a scan
reports Skipped, a redaction raises Unreadable and writes nothing); no reason or message
echoes a value; findings are in order, apart, and at the offsets they claim; and what the
redaction of a file reads as PII is gone from its output (in text files, that is what a
scan of the file reports; in CSV and JSON, what their documented reading finds).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn, verhoeff

from needtoknow.detect import Scanner
from needtoknow.detect.files import (
    Located,
    Skipped,
    Unreadable,
    redact_file,
    row_country,
    scan_file,
    scan_text,
)
from needtoknow.detect.redact import Redactor
from tests.conftest import Ntk

SCANNER = Scanner()
REDACTORS = [Redactor(), Redactor(default="mask"), Redactor(default="drop")]
FUZZ = settings(max_examples=60)  # no deadline: tests/conftest.py

# -- what documents are made of ----------------------------------------------------------

_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


def _phone(region: str, spaced: bool) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    number = number or phonenumbers.example_number(region)
    assert number is not None
    form = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(number, form.INTERNATIONAL if spaced else form.E164)


emails = st.builds(
    "{}.{}@{}".format,
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8),
    st.sampled_from(["example.in", "mail.example.com", "x.co"]),
)
indian_mobiles = st.tuples(st.sampled_from("6789"), _digits(9)).map("".join)
phones = st.one_of(
    st.builds(_phone, st.sampled_from(_REGIONS), st.booleans()),
    indian_mobiles.map("+91".__add__),
    indian_mobiles,
)
cards = st.builds(
    lambda body: body + luhn.calc_check_digit(body), _digits(15).map(lambda d: "4" + d[1:])
)
aadhaars = st.builds(
    lambda d: (
        "aadhaar " + " ".join((d + verhoeff.calc_check_digit(d))[i : i + 4] for i in (0, 4, 8))
    ),
    st.sampled_from("23456789").flatmap(lambda a: _digits(10).map(a.__add__)),
)
pans = st.from_regex(r"[A-Z]{3}P[A-Z][0-9]{4}[A-Z]", fullmatch=True)
ips = st.ip_addresses(v=4).map(str)
names = st.sampled_from(["Asha Rao", "Ravi Kumar", "Dear Priya", "Mr Arjun Mehta"])
pii = st.one_of(emails, phones, cards, aadhaars, pans, ips, names)
# Words that give a value context, and characters that make parsers and shapes work.
words = st.sampled_from(
    ["phone", "card", "account", "a/c no", "tel:", "email", "DOB", "name", "passport", "user="]
)
filler = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list(" \t\n,;:\"'()[]{}<>+-./\\@#*x0123456789")),
    ),
    max_size=40,
)
fragments = st.lists(st.one_of(pii, words, filler), max_size=8).map(" ".join)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        fragments,
        pii,
        cards.map(int),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(words, fragments), inner, max_size=4),
        ),
        max_leaves=16,
    )


# -- the properties ----------------------------------------------------------------------


def checked_scan(path: Path, decoded: str | None) -> set[str]:
    """The values scan_file finds, after checking what it yields: only Located and
    Skipped, in order and apart within a line, at the offsets they claim (``decoded``: the
    file's text, where offsets are into it), and no reason naming a found value."""
    items = list(scan_file(path, SCANNER))
    assert all(isinstance(x, Located | Skipped) for x in items)
    found = [x for x in items if isinstance(x, Located)]
    for x in found:
        assert x.value and x.finding.start < x.finding.end
        if decoded is not None:
            assert decoded[x.finding.start : x.finding.end] == x.value
    ends = [(x.line, x.finding.start, x.finding.end) for x in found if x.column is None]
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(ends) if a[0] == b[0])
    values = {x.value for x in found}
    assert not any(named(s.reason, values) for s in items if isinstance(s, Skipped))
    return values


def named(message: str, values: set[str]) -> set[str]:
    """The values (longer than three characters: shorter ones occur by chance) that
    ``message`` repeats."""
    return {v for v in values if len(v) > 3 and v in message}


def ours_taken_out(output: str, columns: list[str]) -> str:
    """The output without the words it is made of — entity and category names, the CSV
    columns it names findings by: a found value "phone" (a user name) is in
    "telephone" and in "column": "phone" without being echoed."""
    from needtoknow.detect.entities import ENTITIES

    ours = {*ENTITIES, *(e.category for e in ENTITIES.values()), *(f'"{c}"' for c in columns)}
    for word in sorted(ours, key=len)[::-1]:
        output = output.replace(word, " ")
    return output


def values_in(text: str, context: str = "") -> set[str]:
    return {text[f.start : f.end] for f in SCANNER.scan(text, context)}


def redaction_reading(how: str, content: str) -> set[str]:
    """What a redaction of a delimited or JSON file reads as PII, as documented: each CSV
    cell under its column name, after its row's country if a column names one (the header
    row's cells under none), every JSON string — after its object's country likewise —
    keys too — under its key, numbers as text. (A scan reads these files as lines of text,
    where a neighbouring cell or value can be context too: it may find more.)"""
    if how in ("csv", "tsv"):
        rows = list(csv.reader(io.StringIO(content), delimiter="," if how == "csv" else "\t"))
        header = rows[0] if rows else []
        found = set().union(*(values_in(cell) for cell in header))
        for row in rows[1:]:
            names = header + [""] * len(row)
            country = row_country(header, row)  # a row's country comes before each column
            found |= set().union(
                *(values_in(c, country + n if n else n) for c, n in zip(row, names, strict=False))
            )
        return found
    if how == "json":
        values = [json.loads(content)]
    else:
        values = [json.loads(line) for line in content.split("\n") if line.strip()]
    return set().union(*(_json_reading(v, "") for v in values))


def _json_reading(value: Any, context: str) -> set[str]:
    if isinstance(value, str):
        return values_in(value, context)
    if isinstance(value, list):
        return set().union(*(_json_reading(v, context) for v in value))
    if isinstance(value, dict):
        keys = set().union(*(values_in(k) for k in value))
        country = row_country(list(value), list(value.values()))  # a "country" key's
        return keys.union(*(_json_reading(v, country + k if k else k) for k, v in value.items()))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return values_in(str(value), context)
    return set()


def checked_redaction(
    path: Path,
    taken_out: set[str],
    text_of: Callable[[Path], str],
    redactor: Redactor,
    found: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Redact ``path``: either it works and none of ``taken_out`` (that the input holds
    only once, so it is the one read) is left in the output, or it raises Unreadable,
    names none of them nor of what the scan ``found``, and leaves nothing behind."""
    target = path.parent / "out" / path.name
    try:
        redact_file(path, target, SCANNER, redactor)
    except Unreadable as exc:
        assert not named(exc.reason, taken_out | found)
        assert not target.parent.exists() or list(target.parent.iterdir()) == []
        return
    source, output = text_of(path), text_of(target)
    assert {v for v in taken_out if source.count(v) == 1 and v in output} == set()


def _plain(path: Path) -> str:
    """A text file's text: gunzipped, decoded as its byte-order mark says (else UTF-8)."""
    data = path.read_bytes()
    data = gzip.decompress(data) if path.suffix == ".gz" else data
    marks = [
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ]
    encoding = next((e for bom, e in marks if data.startswith(bom)), "utf-8")
    return data.decode(encoding, "replace")


def _cells(path: Path) -> str:
    table = pq.ParquetFile(path).read()  # (read_table refuses a column name used twice)
    return "\n".join(str(v) for column in table.columns for v in column.to_pylist())


@contextmanager
def workdir() -> Iterator[Path]:
    """A fresh directory per example (pytest's tmp_path is one per test, not example)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return out.getvalue()


@FUZZ
@given(
    text=st.one_of(fragments, st.text(st.characters(exclude_categories=()))),  # surrogates too
    context=st.one_of(st.just(""), words, fragments),
    how=st.sampled_from(["text", "csv", "tsv", "json", "jsonl"]),
)
def test_any_text_scans_without_error_and_its_redaction_holds_no_finding(
    text: str, context: str, how: str
) -> None:
    found = SCANNER.scan(text, context)
    assert all(0 <= f.start < f.end <= len(text) for f in found)
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))
    values = {text[f.start : f.end] for f in found}
    for redactor in REDACTORS:
        redacted = redactor.redact(text, found)
        assert {v for v in values if text.count(v) == 1 and v in redacted} == set()
    in_hand = scan_text(text, SCANNER, how)  # as scan_file reads a file of that kind
    assert all(0 <= f.start < f.end <= len(text) for f in in_hand)


@FUZZ
@given(
    header=st.lists(st.one_of(words, fragments), min_size=1, max_size=4),
    rows=st.lists(st.lists(st.one_of(fragments, pii), max_size=5), max_size=5),
    delimiter=st.sampled_from([",", "\t"]),
    redactor=st.sampled_from(REDACTORS),
)
def test_csv_and_tsv_files(
    header: list[str], rows: list[list[str]], delimiter: str, redactor: Redactor
) -> None:
    with workdir() as root:
        path = root / ("f.csv" if delimiter == "," else "f.tsv")
        content = _write_csv(path, header, rows, delimiter)
        found = checked_scan(path, content)
        try:
            reading = redaction_reading(path.suffix[1:], content)
        except csv.Error:  # a bare carriage return (the writer quotes only "\n"): refused
            with pytest.raises(Unreadable):
                redact_file(path, root / "out" / path.name, SCANNER, redactor)
            return
        checked_redaction(path, reading, _plain, redactor, found)


@FUZZ
@given(
    values=st.lists(json_values(), min_size=1, max_size=4),
    lines=st.booleans(),
    redactor=st.sampled_from(REDACTORS),
)
def test_json_and_json_lines_files(values: list[Any], lines: bool, redactor: Redactor) -> None:
    with workdir() as root:
        path = root / ("f.jsonl" if lines else "f.json")
        if lines:
            content = "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values)
        else:
            content = json.dumps(values, ensure_ascii=False, indent=1)
        path.write_text(content, encoding="utf-8")
        found = checked_scan(path, content)
        reading = redaction_reading(path.suffix[1:], content)
        checked_redaction(path, reading, _plain, redactor, found)


@FUZZ
@given(
    columns=st.dictionaries(
        st.one_of(words, st.text(max_size=8)),
        st.lists(st.one_of(st.none(), fragments, pii), min_size=3, max_size=3),
        min_size=1,
        max_size=3,
    ),
    redactor=st.sampled_from(REDACTORS),
)
def test_small_parquet_files(columns: dict[str, list[str | None]], redactor: Redactor) -> None:
    with workdir() as root:
        path = root / "f.parquet"
        table = pa.table({name: pa.array(cells, pa.string()) for name, cells in columns.items()})
        pq.write_table(table.append_column("n", pa.array([1, 2, 3])), path)
        items = [x for x in scan_file(path, SCANNER) if isinstance(x, Located)]
        for x in items:
            assert x.column in columns and 1 <= x.line <= 3
            cell = columns[x.column][x.line - 1]
            assert cell is not None and cell[x.finding.start : x.finding.end] == x.value
        checked_redaction(path, checked_scan(path, None), _cells, redactor)


@FUZZ
@given(
    body=st.one_of(st.binary(max_size=200), fragments.map(str.encode)),
    # With a byte-order mark (utf-8-sig, utf-16, utf-32 write one) or without; latin-1
    # and a bare utf-16-le are not read: skipped, never raised.
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "utf-16-le", "latin-1"]),
    suffix=st.sampled_from([".txt", ".log", ".csv", ".tsv", ".json", ".jsonl"]),
    compressed=st.booleans(),
)
def test_any_bytes_in_any_encoding_are_scanned_or_skipped_never_raised(
    body: bytes, encoding: str, suffix: str, compressed: bool
) -> None:
    """Raw bytes, or text re-encoded (with or without a byte-order mark, or in an
    encoding the scanner does not read), in any format, gzipped or not."""
    try:
        text: str | None = body.decode("utf-8")
        data = body.decode("utf-8").encode(encoding)
    except (UnicodeDecodeError, UnicodeEncodeError):
        text, data = None, body
    with workdir() as root:
        path = root / ("f" + suffix + (".gz" if compressed else ""))
        path.write_bytes(gzip.compress(data) if compressed else data)
        found = checked_scan(path, None)
        taken_out = found
        if suffix not in (".txt", ".log"):
            try:
                taken_out = redaction_reading(suffix[1:], text or "")
            except (ValueError, csv.Error):
                taken_out = set()  # not CSV or JSON: the redaction refuses it
        checked_redaction(path, taken_out, _plain, Redactor(), found)


@settings(max_examples=3)  # each example runs ntk twice
@given(
    texts=st.lists(fragments, min_size=1, max_size=3),
    values=st.lists(json_values(), min_size=1, max_size=3),
    rows=st.lists(st.lists(st.one_of(fragments, pii), min_size=2, max_size=2), max_size=4),
    junk=st.binary(max_size=64),
)
def test_ntk_scan_and_redact_of_generated_files_echo_no_value_and_match_the_library(
    texts: list[str], values: list[Any], rows: list[list[str]], junk: bytes
) -> None:
    with workdir() as root:
        source = root / "in"
        source.mkdir()
        (source / "t.log").write_text("\n".join(texts), encoding="utf-8")
        (source / "u.txt").write_bytes("\n".join(texts).encode("utf-16"))
        (source / "j.jsonl").write_text(
            "".join(json.dumps(v, ensure_ascii=False) + "\n" for v in values), encoding="utf-8"
        )
        _write_csv(source / "c.csv", ["name", "phone"], rows, ",")
        (source / "junk.bin").write_bytes(junk)
        files = sorted(source.iterdir())
        found = [x for p in files for x in scan_file(p, SCANNER) if isinstance(x, Located)]
        secrets = set().union(*(checked_scan(p, None) for p in files))
        failed = set()
        for path in files:
            try:
                redact_file(path, root / "library" / path.name, SCANNER, Redactor())
            except Unreadable:
                failed.add(str(path))

        ntk = Ntk(root / "home")  # scan and redact need no vault
        scanned = ntk("scan", str(source), "--json")
        assert len(scanned.stdout.splitlines()) == len(found)
        redacted = ntk(
            "redact", str(source), str(root / "out"), "--json", expect=5 if failed else 0
        )
        assert {f["path"] for f in json.loads(redacted.stdout)["failed"]} == failed
        for path in files:
            if str(path) not in failed:
                assert (root / "out" / path.name).read_bytes() == (
                    root / "library" / path.name
                ).read_bytes()
        for result in (scanned, redacted):
            assert "Traceback" not in result.stderr
            output = ours_taken_out(result.stdout + result.stderr, ["name", "phone"])
            assert named(output, secrets) == set()


def test_a_csv_header_cell_is_read_as_redaction_reads_it_not_as_its_own_context() -> None:
    """Found by the CSV fuzzing: the scan gave each header cell itself as its column
    name, so "of" in "Ash Aa of" made "Ash Aa" a name the redaction (rightly) did not
    take out. Now both read header cells with no column name."""
    with workdir() as root:
        path = root / "h.csv"
        content = _write_csv(path, ["Ash Aa of", "customer Ravi Kumar"], [["1", "2"]], ",")
        assert checked_scan(path, content) == {"Ravi Kumar"}
        checked_redaction(path, redaction_reading("csv", content), _plain, Redactor())
        assert (root / "out" / "h.csv").read_text() == "Ash Aa of,customer <NAME>\n1,2\n"
