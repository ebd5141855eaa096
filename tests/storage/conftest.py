"""Fixtures for the storage tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from needtoknow.config import Settings, init_vault
from needtoknow.vault import Vault


@pytest.fixture
def sqlite_statements() -> Iterator[list[str]]:
    """The SQL of every statement run on SQLite connections opened from here on
    (parameters inlined), fast paths included."""
    statements: list[str] = []

    def trace(connection: object, _: object) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.set_trace_callback(statements.append)

    event.listen(sa.Engine, "connect", trace)
    try:
        yield statements
    finally:
        event.remove(sa.Engine, "connect", trace)


@pytest.fixture
def traced(tmp_path: Path, sqlite_statements: list[str]) -> Iterator[tuple[Vault, list[str]]]:
    """A SQLite vault, and the SQL of every statement it runs."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{tmp_path / 'v.db'}"))
    yield vault, sqlite_statements
    vault.close()
