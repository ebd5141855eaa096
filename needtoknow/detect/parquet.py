"""Parquet: every string column scanned a record batch at a time, its name as context.

Findings name the row (from 1) and the column; offsets are into the cell. Redaction
writes the same schema, batch by batch, to a temporary file renamed over the target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from needtoknow.detect.redact import Redactor
from needtoknow.detect.scanner import Finding, Scanner
from needtoknow.guards.output import replacing

BATCH_ROWS = 8192


class UnreadableParquet(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _file(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableParquet(f"not a Parquet file: {exc}") from None


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _text_columns(schema: pa.Schema) -> list[str]:
    """The names of the string columns, each once (a file may repeat a name)."""
    return sorted({f.name for f in schema if _is_text(f.type)})


def _texts(batch: pa.RecordBatch) -> Iterator[tuple[int, str]]:
    """(position, name) of the batch's string columns: by position, as a name may name
    two columns (of different types, even)."""
    for index, field in enumerate(batch.schema):
        if _is_text(field.type):
            yield index, field.name


def unsupported_columns(path: Path) -> list[str]:
    """Columns that may hold text but are not scanned: nested (lists, structs, maps) and
    binary ones. A scan reports them; a redaction refuses the file."""
    return [
        f"{f.name} ({f.type})"
        for f in _file(path).schema_arrow
        if pa.types.is_nested(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]


def scan_parquet(
    path: Path, scanner: Scanner, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, str, Finding, str]]:
    """(row, column, finding, matched text) for every finding. Raises UnreadableParquet."""
    source = _file(path)
    columns = _text_columns(source.schema_arrow)
    row = 0
    try:
        for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=columns):
            for index, name in _texts(batch):
                for offset, cell in enumerate(batch.column(index).to_pylist()):
                    if cell:
                        for f in scanner.scan(cell, name):
                            yield row + offset + 1, name, f, cell[f.start : f.end]
            row += batch.num_rows
            if progress is not None:
                progress(batch.nbytes)
    except pa.ArrowException as exc:
        raise UnreadableParquet(f"cannot read: {exc}") from None


def redact_parquet(source: Path, target: Path, scanner: Scanner, redactor: Redactor) -> int:
    """Write ``source`` with its string columns redacted; how many values were taken out."""
    parquet = _file(source)
    unsupported = unsupported_columns(source)
    if unsupported:
        raise UnreadableParquet("cannot redact columns of type " + ", ".join(unsupported))
    count = 0

    def redact(cell: str | None, column: str) -> str | None:
        nonlocal count
        if not cell:
            return cell
        found = scanner.scan(cell, column)
        count += len(found)
        return redactor.redact(cell, found) if found else cell

    try:
        with (
            replacing(target) as temporary,
            pq.ParquetWriter(temporary, parquet.schema_arrow) as writer,
        ):
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
                arrays = batch.columns
                for index, name in _texts(batch):
                    arrays[index] = pa.array(
                        [redact(cell, name) for cell in batch.column(index).to_pylist()],
                        type=pa.string(),
                    ).cast(batch.schema.field(index).type)
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=batch.schema))
    except pa.ArrowException as exc:
        raise UnreadableParquet(f"cannot read: {exc}") from None
    return count
