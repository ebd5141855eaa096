"""Open a database by URL and bring its schema to the current Alembic revision."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from needtoknow.errors import NeedToKnowError


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL for concurrent readers; FULL sync so a committed write survives a crash;
    # secure_delete so erased ciphertext and wrapped keys are zeroed, not left in free pages.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def connect(url: str) -> sa.Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``)."""
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise NeedToKnowError(f"cannot use database URL scheme: {exc.__class__.__name__}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def migrate(engine: sa.Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``; idempotent."""
    config = Config()
    config.set_main_option("script_location", "needtoknow.storage:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
