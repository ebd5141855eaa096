"""Alembic's head matches the SQLAlchemy schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from needtoknow.storage import connect, migrate
from needtoknow.storage.schema import metadata


def test_migrations_produce_exactly_the_declared_schema(database_url: str) -> None:
    engine = connect(database_url)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_secure_delete(tmp_path: object) -> None:
    engine = connect(f"sqlite:///{tmp_path}/v.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
