"""Fixtures for the storage tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event


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
