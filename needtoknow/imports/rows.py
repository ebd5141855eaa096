"""Rows of a file a customer import reads, streamed: JSON Lines (an object a line) or
CSV (a header naming each column's category). A row that cannot be read is a
:class:`Problem` in the stream, not the end of it; a header that names no category is
refused before anything is read, with the valid names and the nearest match."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from needtoknow.errors import ValidationError
from needtoknow.guards.jsontext import parse_json
from needtoknow.guards.names import unknown

FORMATS = ("jsonl", "csv")


@dataclass(frozen=True)
class Row:
    number: int  # the line (JSON Lines) or the data row after the header (CSV), from 1
    record: dict[str, Any]
    key: str | None  # the source system's id of the row (--key)


@dataclass(frozen=True)
class Problem:
    number: int
    field: str
    rule: str


def read_rows(
    stream: TextIO,
    fmt: str,
    categories: Iterable[str],
    key: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Iterator[Row | Problem]:
    """The rows of ``stream``; ``key`` names the column (or JSON property) holding the
    source system's id; ``columns`` renames columns to categories (``{"Mobile":
    "telephone"}``)."""
    if fmt not in FORMATS:
        raise ValidationError("format", "import", "one_of", ", ".join(FORMATS))
    # and the evidence of consent in writing a sensitive category needs (vault.declarations)
    known = set(categories) | {"written_consent"}
    renames = dict(columns or {})
    for column, category in renames.items():
        if category not in known:
            raise ValidationError(
                f"map.{column}", "import", "unknown_category", _valid(category, known)
            )
    if fmt == "csv":
        return _csv(stream, known, key, renames)
    return _jsonl(stream, known, key, renames)


def _valid(name: str, known: set[str]) -> str:
    return unknown("category", name, known)


def _jsonl(
    stream: TextIO, known: set[str], key: str | None, renames: dict[str, str]
) -> Iterator[Row | Problem]:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            value = parse_json(line.encode("utf-8"), f"line {number}")
        except ValidationError as exc:
            yield Problem(number, "record", exc.rule)
            continue
        if not isinstance(value, dict):
            yield Problem(number, "record", "not_an_object")
            continue
        source = value.pop(key, None) if key else None
        record = {renames.get(str(n), str(n)): given for n, given in value.items()}
        yield Row(number, record, None if source in (None, "") else str(source))


def _csv(
    stream: TextIO, known: set[str], key: str | None, renames: dict[str, str]
) -> Iterator[Row | Problem]:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        return
    names = [renames.get(column.strip(), column.strip()) for column in header]
    if key is not None and key not in names:
        raise ValidationError("key", "import", "unknown_column", "columns: " + ", ".join(header))
    for name in names:
        if name != key and name not in known:
            raise ValidationError(name, "import", "unknown_category", _valid(name, known))
    for number, cells in enumerate(reader, 1):
        if len(cells) != len(names):
            yield Problem(number, "row", "column_count")
            continue
        given = dict(zip(names, cells, strict=True))
        source = given.pop(key, "") if key else ""
        record = {name: value for name, value in given.items() if value.strip()}
        yield Row(number, record, source.strip() or None)
