"""The scanner at scale: find and redact PII in a Spark DataFrame's string columns.

Both run as ``mapInPandas`` (Arrow batches to each executor's Python worker), one
:class:`~needtoknow.detect.Scanner` per worker process, each cell scanned with its
column name as context — the same findings ``ntk scan`` makes on a CSV of the same
data. Redaction here offers the operators that need no key (``mask``, ``label``,
``drop``): the vault's key never leaves the vault for an executor.

Needs ``pip install needtoknow[spark]`` and a Java runtime.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from needtoknow.guards.extras import require

require("spark")

# ruff: noqa: E402 - imported after the check of their extra
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from needtoknow.detect.redact import Redactor
from needtoknow.detect.scanner import Scanner

FINDINGS = StructType(
    [
        StructField("row", LongType()),
        StructField("column", StringType()),
        StructField("start", IntegerType()),
        StructField("end", IntegerType()),
        StructField("entity", StringType()),
        StructField("category", StringType()),
        StructField("score", DoubleType()),
        StructField("masked", BooleanType()),
    ]
)
KEYLESS = ("mask", "label", "drop")


@cache
def _scanner(entities: tuple[str, ...] | None) -> Scanner:
    return Scanner(entities=entities)


def _text_columns(frame: DataFrame, columns: Iterable[str] | None) -> list[str]:
    strings = [f.name for f in frame.schema.fields if isinstance(f.dataType, StringType)]
    if columns is None:
        return strings
    wanted = list(columns)
    unknown = set(wanted) - set(strings)
    if unknown:
        raise ValueError(f"not string columns: {', '.join(sorted(unknown))}")
    return wanted


def scan(
    frame: DataFrame,
    columns: Iterable[str] | None = None,
    entities: Iterable[str] | None = None,
    row_column: str | None = None,
) -> DataFrame:
    """One row per finding: ``row`` is ``row_column``'s value (a long id) when given,
    else the row's position within its partition's batch; never the matched text."""
    names = _text_columns(frame, columns)
    wanted = tuple(sorted(entities)) if entities is not None else None
    Scanner(entities=wanted)  # fail here, not on an executor, for an unknown entity

    def findings(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scanner = _scanner(wanted)
        for batch in batches:
            rows: list[dict[str, Any]] = []
            ids = batch[row_column] if row_column else pd.Series(range(len(batch)))
            for name in names:
                for row_id, cell in zip(ids, batch[name], strict=True):
                    if isinstance(cell, str) and cell:
                        rows.extend(
                            {"row": int(row_id), "column": name, **f.to_json()}
                            for f in scanner.scan(cell, name)
                        )
            yield pd.DataFrame(rows, columns=FINDINGS.fieldNames())

    return frame.mapInPandas(findings, FINDINGS)


def redact(
    frame: DataFrame,
    columns: Iterable[str] | None = None,
    operators: Mapping[str, str] | None = None,
    default: str = "label",
) -> DataFrame:
    """The same rows and schema with PII in ``columns`` (default: every string column)
    replaced per entity (``operators``; ``default`` for the rest)."""
    names = _text_columns(frame, columns)
    specs = dict(operators or {})
    for spec in [*specs.values(), default]:
        if spec.partition(":")[0] not in KEYLESS:
            raise ValueError(f"on Spark only {', '.join(KEYLESS)} (no vault key), not {spec!r}")
    Redactor(specs, default)  # validate on the driver

    def redacted(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        scanner, redactor = _scanner(None), Redactor(specs, default)

        def one(cell: Any, name: str) -> Any:
            if not isinstance(cell, str) or not cell:
                return cell
            found = scanner.scan(cell, name)
            return redactor.redact(cell, found) if found else cell

        for batch in batches:
            for name in names:
                # object dtype: pandas 3's Arrow-backed strings trip Spark's serialiser
                values = [one(cell, name) for cell in batch[name]]
                batch[name] = pd.Series(values, index=batch.index, dtype=object)
            yield batch

    return frame.mapInPandas(redacted, frame.schema)
