"""Open a database by URL and bring its schema to the current Alembic revision."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError, Unavailable
from needtoknow.guards.extras import require
from needtoknow.storage.turns import Turns

if TYPE_CHECKING:
    from alembic.config import Config

BUSY_TIMEOUT_MS = 5000  # how long SQLite's own busy handler retries a locked database


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling starts no transaction before a SELECT, so a
    # read-modify-write would not be isolated. Let SQLAlchemy issue BEGIN itself
    # (SQLAlchemy's documented recipe); the Reader's bare SELECTs stay autocommit.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL for concurrent readers; FULL sync so a committed write survives a crash;
    # secure_delete so erased ciphertext and wrapped keys are zeroed, not left in free pages.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def connect(url: str) -> sa.Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``)."""
    if url.startswith("postgresql"):
        require("postgresql")
    try:
        # hide_parameters: a failed statement's message would otherwise carry its bound
        # values (ciphertext, digests, or a value being looked up) into logs.
        engine = sa.create_engine(url, future=True, hide_parameters=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise NeedToKnowError(f"cannot use database URL scheme: {exc.__class__.__name__}") from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if (
            database
            and database != ":memory:"
            and os.path.isdir(os.path.dirname(os.path.abspath(database)))
            and not os.path.exists(database)
        ):
            # Created owner-only before SQLite makes it (its -wal and -shm files copy the
            # database file's mode): sealed records and blind indexes are nobody else's.
            os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        _WRITERS[engine] = WriterLock(database if database not in (None, "", ":memory:") else None)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _begin_immediate)
        # Released when the connection goes back to the pool: after its COMMIT or
        # ROLLBACK has run (the "commit" event fires before it does).
        sa.event.listen(engine.pool, "checkin", _end_write)
    return engine


class WriterLock:
    """One writer at a time on an SQLite file, queued outside SQLite.

    SQLite lets one connection write at a time and makes the others retry in its busy
    handler, which *sleeps* (1, 2, 5, 10 … 100 ms) between tries: under a web server's
    thread pool, one slow commit turns into a second-long tail for everyone queued
    behind it. Writers wait here instead and wake the moment the writer commits:
    threads of one process in turn, first come first served (:class:`Turns`), processes
    (``ntk serve --workers``) on an ``flock`` of ``<database>.writer`` next to the
    file, which the kernel releases if its holder dies.
    """

    TIMEOUT = 30.0  # a writer stuck this long is a bug (e.g. nested write transactions)

    def __init__(self, database: str | None) -> None:
        self._turns = Turns()
        self._owner: int | None = None
        self._path = None if database is None else f"{database}.writer"
        self._file: IO[bytes] | None = None  # opened at the first write: the directory
        # may not exist before then

    def acquire(self) -> None:
        self._check_nesting()
        if not self._turns.acquire(timeout=self.TIMEOUT):
            raise Unavailable("the database stayed locked by another writer")
        self._lock_file(fcntl.LOCK_EX)

    def try_acquire(self) -> bool:
        """The lock if no writer of this process or another holds it; False at once
        otherwise (an event loop must not wait for a writer: it serves everyone)."""
        self._check_nesting()
        if not self._turns.try_acquire():
            return False
        try:
            self._lock_file(fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # _lock_file gave the turn back
        return True

    def busy(self) -> bool:
        """Whether a writer, here or in another process, holds the lock now: a hint for
        an event loop choosing between writing itself and handing the work to a thread
        (the lock may be taken the moment after)."""
        if not self.try_acquire():
            return True
        self.release()
        return False

    def _check_nesting(self) -> None:
        if self._owner == threading.get_ident():
            # A write transaction opened inside another on the same thread would wait
            # for itself: a bug, reported at once rather than after the timeout.
            raise RuntimeError("nested write transactions on one thread")

    def _lock_file(self, how: int) -> None:
        """With this process's turn held: the lock across processes, or give it back."""
        self._owner = threading.get_ident()
        try:
            if self._path is not None:
                if self._file is None:
                    self._file = open(self._path, "a+b")  # noqa: SIM115 - kept open
                fcntl.flock(self._file, how)
        except BaseException:
            self._owner = None
            self._turns.release()
            raise

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._owner = None
        self._turns.release()

    def __del__(self) -> None:
        if self._file is not None:
            self._file.close()


# Per engine; an engine's lock (and its open lock file) goes when the engine does.
_WRITERS: weakref.WeakKeyDictionary[sa.Engine, WriterLock] = weakref.WeakKeyDictionary()


class WriterBusy(Exception):
    """Another writer holds the database (raised only when asked not to wait)."""


def writer_lock(engine: sa.Engine) -> WriterLock | None:
    """The process's writer lock for an SQLite engine (None for other databases)."""
    return _WRITERS.get(engine)


def writer_busy(engine: sa.Engine) -> bool:
    """Whether another writer holds the SQLite database now (never, for a server's)."""
    writer = _WRITERS.get(engine)
    return writer is not None and writer.busy()


# The advisory lock's key on PostgreSQL: any constant, the same in every process.
_KEY_CHANGE = 0x6E746B6B  # "ntkk"


@contextmanager
def key_change(engine: sa.Engine) -> Iterator[None]:
    """One change to the vault's keys at a time, across every process and host that
    shares the database: two operators rotating at once would otherwise each make a
    key of the same generation (an HSM's labels are not unique), and heads signed by the
    one not kept would not verify. On SQLite, an ``flock`` of ``<database>.keys`` next
    to the file; on PostgreSQL, a session advisory lock on a connection of its own. The
    change's own reads and writes go on other connections meanwhile."""
    if engine.dialect.name == "postgresql":
        # Autocommit: no transaction left open (and idle) for as long as a rewrap runs.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _KEY_CHANGE})
            try:
                yield
            finally:
                try:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _KEY_CHANGE})
                except Exception:
                    conn.invalidate()  # closing the session is what releases its lock
                    raise
        return
    database = engine.url.database
    if database in (None, "", ":memory:"):
        yield
        return
    with open(f"{database}.keys", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _begin_immediate(connection: sa.Connection) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write, so
    two read-modify-write transactions serialise instead of losing an update. Work that
    only reads (see :func:`reading`) takes a plain snapshot and blocks no writer."""
    if connection.get_execution_options().get("ntk_read_only"):
        connection.exec_driver_sql("BEGIN")
        return
    lock = _WRITERS[connection.engine]
    lock.acquire()
    connection.info["ntk_writer"] = lock
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _end_write(_dbapi_connection: Any, record: Any) -> None:
    lock = record.info.pop("ntk_writer", None)
    if lock is not None:
        lock.release()


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for work that only reads (verification, exports, listings): one
    snapshot for the whole transaction, as SQLite's is, so a long read never mixes
    states (a verification never sees half a seal); on SQLite it takes no write lock,
    so long reads never stall writers."""
    connection = engine.connect().execution_options(ntk_read_only=True)
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    return connection


# Waits between checkpoint attempts (seconds): a reader holding a snapshot from before
# the deletion usually finishes within milliseconds; past about a second it is a long
# export or a stuck connection, and the scrub is left pending rather than the erasure
# stalled.
SCRUB_BACKOFF = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)


def scrub_wal(engine: sa.Engine) -> bool:
    """Checkpoint and truncate SQLite's WAL, so bytes just deleted from the database
    (``secure_delete`` zeroes them in the main file when the checkpoint copies the
    pages there) leave no copy in the log. True once a checkpoint completed: every
    frame copied back and the log truncated (SQLite's ``busy`` 0, ``log`` equal to
    ``checkpointed``). A reader holding a snapshot older than the deletion blocks
    that; the checkpoint is retried with backoff (:data:`SCRUB_BACKOFF`) and False
    returned if it never completed — the deleted bytes may then still be in both
    files. Other databases have no such scrub: always False (see ``Vault.erase``)."""
    if engine.dialect.name != "sqlite":
        return False
    connection = engine.raw_connection()  # outside any transaction, as checkpoints must be
    try:
        cursor = connection.cursor()
        # The retries below wait, not SQLite's busy handler (5 s per attempt otherwise).
        cursor.execute("PRAGMA busy_timeout=0")
        try:
            for pause in SCRUB_BACKOFF:
                time.sleep(pause)
                try:
                    busy, log, checkpointed = cursor.execute(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    ).fetchone()
                except sqlite3.OperationalError:  # another process's checkpoint or writer
                    continue
                if busy == 0 and log == checkpointed:
                    return True
            return False
        finally:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        connection.close()


# The newest migration. Opening a vault compares the stored revision with this instead of
# loading Alembic and its scripts (a tenth of a second on every command);
# tests/storage/test_migrations.py keeps it equal to Alembic's own head.
HEAD_REVISION = "0033"


def is_current(engine: sa.Engine) -> bool:
    """True when the database is at the newest migration (cheap: one SELECT)."""
    with reading(engine) as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return False
        stored = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        return [row[0] for row in stored] == [HEAD_REVISION]


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``; idempotent."""
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "needtoknow.storage:migrations")
    return config


def stored_utc(moment: datetime) -> datetime:
    """A time read back from a ``DateTime(timezone=True)`` column, as an aware UTC time:
    PostgreSQL returns it aware, SQLite naive — which is why every time is written in UTC."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
