"""At scale: Parquet files and Spark DataFrames, scanned and redacted column by column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from needtoknow.detect import Scanner
from needtoknow.detect.files import Located, Skipped, Unreadable, redact_file, scan_file
from needtoknow.detect.redact import Redactor

ROWS = [
    {"id": 1, "name": "Asha Rao", "contact": "asha@example.in", "account": "123456789012"},
    {"id": 2, "name": "Ravi Kumar", "contact": "+91 98765 43210", "account": None},
]


def test_parquet_columns_are_scanned_and_redacted_with_the_same_schema(tmp_path: Path) -> None:
    source = tmp_path / "customers.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS), source)
    found = [x for x in scan_file(source, Scanner()) if isinstance(x, Located)]
    assert {(x.line, x.column, x.finding.entity) for x in found} == {
        (1, "name", "PERSON"),
        (2, "name", "PERSON"),
        (1, "contact", "EMAIL_ADDRESS"),
        (2, "contact", "PHONE_NUMBER"),
        (1, "account", "IN_BANK_ACCOUNT"),  # the column name is the context
    }
    target = tmp_path / "out" / "customers.parquet"
    assert redact_file(source, target, Scanner(), Redactor({"PHONE_NUMBER": "mask:2"})) == 5
    table = pq.read_table(target)
    assert table.schema == pq.read_table(source).schema
    assert table.to_pylist() == [
        {"id": 1, "name": "<NAME>", "contact": "<EMAIL>", "account": "<BANK_ACCOUNT>"},
        {"id": 2, "name": "<NAME>", "contact": "+** ***** ***10", "account": None},
    ]


def test_a_parquet_file_repeating_a_column_name_is_scanned_and_redacted(tmp_path: Path) -> None:
    """Found by tests/detect/test_fuzz.py: Parquet allows one name for two columns (here
    of different types), and picking columns by name raised KeyError out of both."""
    source = tmp_path / "twice.parquet"
    columns = [pa.array(["asha@example.in", None]), pa.array([1, 2]), pa.array(["x", "Asha Rao"])]
    pq.write_table(pa.table(columns, names=["contact", "contact", "name"]), source)
    found = [x for x in scan_file(source, Scanner()) if isinstance(x, Located)]
    assert [(x.line, x.column, x.value) for x in found] == [
        (1, "contact", "asha@example.in"),
        (2, "name", "Asha Rao"),
    ]
    target = tmp_path / "out.parquet"
    assert redact_file(source, target, Scanner(), Redactor()) == 2
    table = pq.ParquetFile(target).read()
    assert table.schema == pq.ParquetFile(source).schema_arrow
    assert [c.to_pylist() for c in table.columns] == [["<EMAIL>", None], [1, 2], ["x", "<NAME>"]]


def test_a_broken_parquet_file_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really")
    (skipped,) = list(scan_file(path, Scanner()))
    assert isinstance(skipped, Skipped) and "Parquet" in skipped.reason


def test_spark_finds_pii_in_every_string_column(spark: Any) -> None:
    from needtoknow.detect import spark as detect_spark

    frame = spark.createDataFrame(ROWS)
    found = detect_spark.scan(frame, row_column="id").collect()
    assert {(r.row, r.column, r.entity) for r in found} == {
        (1, "name", "PERSON"),
        (2, "name", "PERSON"),
        (1, "contact", "EMAIL_ADDRESS"),
        (2, "contact", "PHONE_NUMBER"),
        (1, "account", "IN_BANK_ACCOUNT"),
    }
    assert all("asha" not in str(r).lower() for r in found)  # no values in the findings
    only = detect_spark.scan(frame, columns=["contact"], entities=["EMAIL_ADDRESS"]).collect()
    assert [r.entity for r in only] == ["EMAIL_ADDRESS"]


def test_spark_redacts_in_place_keeping_the_schema(spark: Any) -> None:
    from needtoknow.detect import spark as detect_spark

    frame = spark.createDataFrame(ROWS)
    out = detect_spark.redact(frame, operators={"PHONE_NUMBER": "mask:2"})
    assert out.schema == frame.schema
    assert sorted(out.collect(), key=lambda r: r.id) == [
        frame.sparkSession.createDataFrame(
            [{"id": 1, "name": "<NAME>", "contact": "<EMAIL>", "account": "<BANK_ACCOUNT>"}],
            schema=frame.schema,
        ).collect()[0],
        frame.sparkSession.createDataFrame(
            [{"id": 2, "name": "<NAME>", "contact": "+** ***** ***10", "account": None}],
            schema=frame.schema,
        ).collect()[0],
    ]
    with pytest.raises(ValueError, match="no vault key"):
        detect_spark.redact(frame, default="hash")


def test_dictionary_strings_are_scanned_and_nested_columns_reported(tmp_path: Path) -> None:
    table = pa.table(
        {
            "email": pa.array(["alice@example.com", None]).dictionary_encode(),
            "tags": pa.array([["bob@example.in"], []]),
        }
    )
    source = tmp_path / "t.parquet"
    pq.write_table(table, source)
    items = list(scan_file(source, Scanner()))
    assert [x.finding.entity for x in items if isinstance(x, Located)] == ["EMAIL_ADDRESS"]
    assert any(isinstance(x, Skipped) and "tags" in x.reason for x in items)
    with pytest.raises(Unreadable, match="tags"):
        redact_file(source, tmp_path / "o.parquet", Scanner(), Redactor())
    assert not (tmp_path / "o.parquet").exists()
