"""Persistence: one SQLAlchemy schema for SQLite and PostgreSQL, migrated by Alembic."""

from needtoknow.storage.database import connect, migrate

__all__ = ["connect", "migrate"]
