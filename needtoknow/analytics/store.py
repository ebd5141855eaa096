"""Where events live: Parquet files under ``NTK_HOME/events``, read through DuckDB.

Each ingest writes one file (whole or not at all: ``detect.output.replacing``), so a
crash mid-load leaves the store as it was; DuckDB reads the directory as one table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from needtoknow.analytics.events import DIMENSIONS, IngestReport, Normaliser
from needtoknow.detect.output import replacing
from needtoknow.errors import ValidationError

if TYPE_CHECKING:
    from needtoknow.vault.keys import KeyProvider

SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("day", pa.date32()),
        ("subject", pa.string()),
        *((name, pa.string()) for name in DIMENSIONS),
    ]
)
BATCH = 100_000


class EventStore:
    def __init__(self, directory: Path, keys: KeyProvider) -> None:
        self.directory = directory
        self._normalise = Normaliser(keys)

    def ingest(
        self, events: Iterable[Mapping[str, Any]], progress: Callable[[int], None] | None = None
    ) -> IngestReport:
        """Validate, pseudonymise and scrub ``events``, then store the accepted ones.
        Bad events are counted (by rule) and left out; they never stop the load."""
        report = IngestReport()
        rows: list[dict[str, Any]] = []
        for raw in events:
            try:
                rows.append(self._normalise(raw, report))
                report.accepted += 1
            except ValidationError as exc:
                report.rejected += 1
                report.reasons[exc.rule] += 1
            if progress is not None:
                progress(1)
            if len(rows) >= BATCH:
                self._write(rows)
                rows = []
        if rows:
            self._write(rows)
        return report

    def _write(self, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        self.directory.mkdir(parents=True, exist_ok=True)
        with replacing(self.directory / f"events-{uuid.uuid4().hex}.parquet") as temporary:
            pq.write_table(table, temporary)

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("events-*.parquet"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` against the view ``events`` (every stored event). For the report
        engine and tests: nothing here is released to anyone."""
        with duckdb.connect() as db:
            if self.files():
                pattern = str(self.directory / "events-*.parquet").replace("'", "''")
                db.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{pattern}')")
            else:  # an empty store still has the table's columns
                db.from_arrow(SCHEMA.empty_table()).create_view("events")
            return db.execute(sql).fetchall()
