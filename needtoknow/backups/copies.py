"""Copying the database to a file and back: SQLite's online backup API, or PostgreSQL's
``pg_dump`` and ``pg_restore`` (the server's own tools, custom format).

Only the database is copied. The keys are not in it — the key file lives beside it, an
HSM elsewhere — and each is backed up on its own schedule (docs/backups.md), because a
backup that carried its keys would carry everything an erasure destroys with them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, ValidationError
from needtoknow.guards.output import replacing

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_kind(engine: sa.Engine, path: Path) -> None:
    """Refuse a file that is not a backup of this kind of database, before anything is
    touched: an SQLite file for SQLite, a ``pg_dump`` custom-format file for PostgreSQL."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise ValidationError("backup", "restore", "unreadable", exc.strerror or "") from None
    magic = SQLITE_MAGIC if engine.dialect.name == "sqlite" else PG_DUMP_MAGIC
    if not head.startswith(magic):
        kind = "an SQLite database" if magic is SQLITE_MAGIC else "a pg_dump custom-format file"
        raise ValidationError("backup", "restore", "not_a_backup", kind)


def dump(engine: sa.Engine, dest: Path) -> int:
    """Write a consistent copy of the database to ``dest`` (whole or not at all, owner
    only, synced); returns the ledger's size in the copy."""
    with replacing(dest) as partial:
        if engine.dialect.name == "sqlite":
            size = _copy_sqlite(_sqlite_path(engine), str(partial), "DELETE")
        else:
            size = _dump_postgresql(engine, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
    return size


def load(engine: sa.Engine, src: Path) -> None:
    """Replace the database's contents with the copy in ``src`` in one transaction (the
    caller has closed its own connections; other processes must be stopped)."""
    engine.dispose()
    if engine.dialect.name == "sqlite":
        _copy_sqlite(str(src), _sqlite_path(engine), "WAL")
        return
    _refuse_other_sessions(engine)
    engine.dispose()
    _run(
        engine,
        "pg_restore",
        ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"],
        ["--dbname", _libpq_url(engine)],
        [str(src)],
    )
    # --clean drops only what the dump holds: a table a later migration added would
    # stay, and stop that migration when the copy is opened. And pg_restore leaves no
    # planner statistics.
    with engine.begin() as conn:
        for schema, table in _tables(conn) - _tables_in(engine, src):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE')
        conn.exec_driver_sql("ANALYZE")


def _tables_in(engine: sa.Engine, dump: Path) -> set[tuple[str, str]]:
    """The (schema, table) pairs a pg_dump custom-format file holds, from its listing."""
    listing = _run(engine, "pg_restore", ["--list"], [str(dump)])
    return {(m[1], m[2]) for m in re.finditer(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ", listing, re.M)}


def _tables(conn: sa.Connection) -> set[tuple[str, str]]:
    rows = conn.exec_driver_sql(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    return {(row[0], row[1]) for row in rows}


def _copy_sqlite(source: str, target: str, journal_mode: str) -> int:
    """SQLite's online backup of ``source`` into ``target`` (one read transaction on the
    source: a consistent snapshot; one write transaction on the target); returns the
    ledger's size in the copy. A backup file is one self-contained file (DELETE), a
    restored database goes back to WAL."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reader,
        contextlib.closing(sqlite3.connect(target)) as writer,
    ):
        reader.backup(writer)
        writer.execute(f"PRAGMA journal_mode={journal_mode}")
        return int(writer.execute("SELECT size FROM ledger_state").fetchone()[0])


def _dump_postgresql(engine: sa.Engine, partial: Path) -> int:
    """``pg_dump`` of a snapshot this transaction exported, so the ledger's size read in
    it is exactly the size in the dump."""
    reading = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with reading as conn, conn.begin():
        snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one())
        size = int(conn.exec_driver_sql("SELECT size FROM ledger_state").scalar_one())
        _run(
            engine,
            "pg_dump",
            ["--format=custom", f"--snapshot={snapshot}", "--no-owner"],
            ["--file", str(partial), "--dbname", _libpq_url(engine)],
            [],
        )
    return size


def _refuse_other_sessions(engine: sa.Engine) -> None:
    """A restore under a running service would mix its writes with the copy's rows."""
    with engine.connect() as conn:
        others: int = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalar_one()
    if others:
        raise NeedToKnowError(
            f"{others} other session(s) are connected to the database: stop ntk serve and "
            "other clients before restoring"
        )


def _sqlite_path(engine: sa.Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise NeedToKnowError("an in-memory database has no file to back up or restore")
    return database


def _libpq_url(engine: sa.Engine) -> str:
    """The URL the server's tools take: no driver name, and no password (that goes in
    the environment, not on a command line other users can read)."""
    url = engine.url.set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _run(engine: sa.Engine, tool: str, *arguments: list[str]) -> str:
    """What ``tool`` printed, or NeedToKnowError with its last message."""
    program = shutil.which(tool)
    if program is None:
        raise NeedToKnowError(f"{tool} is not installed (Debian: postgresql-client)")
    environment = dict(os.environ)
    if engine.url.password is not None:
        environment["PGPASSWORD"] = str(engine.url.password)
    result = subprocess.run(
        [program, *(a for group in arguments for a in group)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        # The tools' messages name objects and files, never row values.
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise NeedToKnowError(f"{tool} failed ({result.returncode}): {last}")
    return result.stdout
