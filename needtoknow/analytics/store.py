"""Where events live: Parquet files under ``NTK_HOME/events``, read through DuckDB.

Each ingest writes one file (whole or not at all: ``detect.output.replacing``), so a
crash mid-load leaves the store as it was; DuckDB reads the directory as one table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from needtoknow.analytics.bounding import Bounded, bound
from needtoknow.analytics.events import DIMENSIONS, IngestReport, Normaliser
from needtoknow.errors import ValidationError
from needtoknow.guards.output import replacing

if TYPE_CHECKING:
    import pyarrow as pa

    from needtoknow.analytics.spec import ReportSpec
    from needtoknow.config import Settings
    from needtoknow.crypto.keys import KeyProvider
    from needtoknow.vault import Vault

# The stored columns and their SQL types. PyArrow (35 MB of memory) is imported only to
# write events: a process that runs reports reads the files through DuckDB alone.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "VARCHAR"),
    ("day", "DATE"),
    ("subject", "VARCHAR"),
    *((name, "VARCHAR") for name in DIMENSIONS),
    ("value", "BIGINT"),
    # Consent-based purposes the customer's consent to stood when the event came in
    # (a usage_data rule may require one: see analytics.reports).
    ("consented", "VARCHAR[]"),
)


def arrow_schema() -> pa.Schema:
    """:data:`COLUMNS` as a PyArrow schema (for writing Parquet)."""
    import pyarrow as pa

    types = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64()}
    types["VARCHAR[]"] = pa.list_(pa.string())
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS])


# Events per file, so also per Parquet row group (said outright when writing, and the
# benchmark's generator writes its groups this size). Small groups keep a report's
# memory flat: a group's pseudonyms (random text) still fit its dictionary page, so
# DuckDB decodes indices instead of 16-byte strings; in 1M-row groups the dictionary
# overflows and reading the subject column alone took 130 MB more (docs/benchmarks.md,
# session 21).
BATCH = 100_000


class EventStore:
    def __init__(
        self,
        directory: Path,
        keys: KeyProvider,
        memory_limit: str = "512MB",
        consented: Callable[[str], frozenset[str]] | None = None,
        minor: Callable[[str], bool] | None = None,
    ) -> None:
        """``memory_limit`` caps DuckDB while reports run (past it, DuckDB spills to
        ``directory/.spill``): reports run beside the vault, not instead of it.
        ``consented`` gives a customer's standing consents (``Consents.standing``);
        ``minor`` says whether a customer is a child (``Vault.minor``), whose events
        are never stored."""
        self.directory = directory
        self.memory_limit = memory_limit
        self._normalise = Normaliser(keys, consented=consented, minor=minor)

    @classmethod
    def of(cls, settings: Settings, vault: Vault) -> EventStore:
        """The store of a vault's home (``NTK_HOME/events``), noting each customer's
        standing consents on their events and leaving children's out."""
        return cls(
            settings.events_dir,
            vault.keys,
            settings.events_memory,
            vault.consents.standing,
            vault.minor,
        )

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
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows, schema=arrow_schema())
        self.directory.mkdir(parents=True, exist_ok=True)
        with replacing(self.directory / f"events-{uuid.uuid4().hex}.parquet") as temporary:
            pq.write_table(table, temporary, row_group_size=BATCH)

    def files(self) -> list[Path]:
        return sorted(self.directory.glob("events-*.parquet"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` against the view ``events`` (every stored event). For the report
        engine and tests: nothing here is released to anyone."""
        with self.connect() as db:
            return db.execute(sql).fetchall()

    def bound(self, spec: ReportSpec, salt: int) -> Bounded:
        """Per-partition totals of ``spec`` after contribution bounding (exact: for the
        report engine only)."""
        with self.connect() as db:
            return bound(db, spec, salt)

    def export(self, destination: Path) -> int:
        """Every stored event to one Parquet file; how many."""
        with self.connect() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM events").fetchone() or (0,)
            target = str(destination).replace("'", "''")
            db.execute(f"COPY (SELECT * FROM events) TO '{target}' (FORMAT parquet)")
        return int(count)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with the view ``events`` over every stored file."""
        db = duckdb.connect(
            config={
                "memory_limit": self.memory_limit,
                "temp_directory": str(self.directory / ".spill"),
            }
        )
        events_view(db, [str(f) for f in self.files()])
        return db


def events_view(db: duckdb.DuckDBPyConnection, files: Sequence[str]) -> None:
    """Expose stored Parquet files as the view ``events``, with every column of the
    schema (columns missing from older files read as NULL). The empty typed relation is
    SQL, not a registered Arrow table: registering one makes DuckDB import its pandas
    integration, ~0.3 s on a cold start."""
    columns = ", ".join(f"NULL::{kind} AS {name}" for name, kind in COLUMNS)
    source = f"SELECT {columns} WHERE false"
    if files:
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        source = (
            f"SELECT * FROM read_parquet([{listed}], union_by_name = true) "
            f"UNION ALL BY NAME {source}"
        )
    db.execute(f"CREATE OR REPLACE VIEW events AS {source}")
