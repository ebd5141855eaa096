"""The hot paths' plumbing: statements compiled once, run on one DBAPI connection per thread.

Every disclosure reads one row and appends one ledger entry; SQLAlchemy's per-statement
and per-checkout machinery would cost several times that work. SQLAlchemy still writes
the SQL (for the engine's dialect and parameter style) and owns the pool the
connections come from; only execution skips the Core layers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from needtoknow.errors import NeedToKnowError
from needtoknow.storage.database import WriterBusy, writer_lock


class Prepared:
    """One statement compiled for a dialect; ``run`` binds parameters by name, each as
    Core would bind it (a datetime as SQLite's text, by its column type's processor)."""

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None
        self._process = {
            name: process
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            and not _taken_as_is(bind.type, dialect)
        }

    def _bind(self, params: Mapping[str, Any]) -> Any:
        if self._process:
            process = self._process
            params = {k: process[k](v) if k in process else v for k, v in params.items()}
        return tuple(params[name] for name in self._order) if self._order is not None else params

    def run(self, cursor: Any, params: Mapping[str, Any] | None = None) -> Any:
        cursor.execute(self.sql, self._bind(params or {}))
        return cursor

    def run_many(
        self, cursor: Any, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """``rows`` as tuples of the ``columns``' values: where the dialect binds by
        position in that order and no value needs converting (SQLite's ledger
        statements), they go to the driver as they are. A seal binds ~2 rows an entry,
        and a dict built and re-read per row was a fifth of its time."""
        if columns == self._order and not self._process:
            cursor.executemany(self.sql, rows)
            return
        cursor.executemany(
            self.sql, [self._bind(dict(zip(columns, row, strict=True))) for row in rows]
        )


def _taken_as_is(kind: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> bool:
    """Whether the driver takes a value of ``kind`` as it is, making Core's processor a
    copy per value: sqlite3 stores ``bytes`` (or any buffer) as a blob itself, where
    SQLAlchemy wraps each in ``sqlite3.Binary``. Skipping it lets a batch of ledger rows
    (every append, every seal) go to the driver without a pass over its values."""
    return dialect.name == "sqlite" and isinstance(kind, sa.LargeBinary)


_PREPARED: dict[tuple[str, str, str], Prepared] = {}


@dataclass(frozen=True)
class RawTransaction:
    """A write transaction on a thread's own DBAPI connection
    (:meth:`ThreadConnections.transaction`), for work whose every statement is Prepared:
    Core's begin, commit and connection checkout cost a correction ~0.3 ms. Functions
    that take a ``Transaction`` run the same on it as on a Core connection."""

    cursor: Any
    dialect: sa.Dialect


Transaction = sa.Connection | RawTransaction


@contextmanager
def cursor_in(conn: Transaction) -> Iterator[Any]:
    """A DBAPI cursor inside ``conn``'s transaction, for Prepared statements: they skip
    Core's per-statement work (tens of µs each under load) and commit or roll back with
    the rest of the transaction."""
    if isinstance(conn, RawTransaction):
        yield conn.cursor
        return
    cursor = conn.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def prepared(name: str, dialect: sa.Dialect, build: Callable[[], sa.ClauseElement]) -> Prepared:
    """The statement ``build`` makes, compiled once per dialect and kept under ``name``."""
    key = (name, dialect.name, dialect.paramstyle)
    if key not in _PREPARED:
        _PREPARED[key] = Prepared(build(), dialect)
    return _PREPARED[key]


class ThreadConnections:
    """One pooled DBAPI connection per thread, kept open for the hot paths.

    ``on_open`` runs once per new connection (e.g. a PRAGMA). A connection that raised
    is invalidated and replaced on next use.
    """

    def __init__(self, engine: sa.Engine, on_open: Callable[[Any], None] | None = None) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._on_open = on_open
        self._local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            # Detached: it is closed, not returned to the pool, so settings made for the
            # hot path (on_open) never reach connections that Core hands out.
            connection.detach()
            if self._on_open is not None:
                self._on_open(connection)
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _discard(self, connection: Any) -> None:
        self._local.connection = None
        with self._lock:
            if connection in self._opened:
                self._opened.remove(connection)
        connection.invalidate()

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A cursor for reads; afterwards the transaction (if the driver opened one) ends,
        so the next read sees every committed write."""
        connection = self._connection()
        try:
            cursor = connection.cursor()
            yield cursor
            cursor.close()
            # pysqlite opens no transaction for a SELECT; inside this thread's own write
            # transaction (a read a correction makes under its row lock) the read is part
            # of it, and ending it would drop the lock and everything written so far.
            if not self.sqlite and not getattr(self._local, "writing", False):
                connection.rollback()
        except Exception:
            self._discard(connection)
            raise

    @contextmanager
    def transaction(self, wait: bool = True) -> Iterator[Any]:
        """A cursor inside a write transaction that commits on success, rolls back on
        error; on SQLite, queued behind the process's other writers (WriterLock) — or,
        without ``wait``, WriterBusy at once if one holds it."""
        connection = self._connection()
        cursor = connection.cursor()
        writer = writer_lock(self.engine)
        if writer is not None:
            if wait:
                writer.acquire()
            elif not writer.try_acquire():
                cursor.close()
                raise WriterBusy()
        try:
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            self._local.writing = True
            yield cursor
            if self.sqlite:
                cursor.execute("COMMIT")
            else:
                connection.commit()
            cursor.close()
        except BaseException as exc:  # an interrupt too: never left holding the lock
            try:
                if self.sqlite:
                    cursor.execute("ROLLBACK")
                else:
                    connection.rollback()
            except Exception:
                self._discard(connection)
                raise exc from None
            # A refusal of ours (a customer not found, a value refused) leaves the
            # connection as good as before; a driver's error may not.
            if not isinstance(exc, NeedToKnowError):
                self._discard(connection)
            raise
        finally:
            self._local.writing = False
            if writer is not None:
                writer.release()

    def close(self) -> None:
        """Close every thread's connection; later use opens new ones."""
        with self._lock:
            opened, self._opened = self._opened, []
        self._local = threading.local()
        for connection in opened:
            connection.close()
