"""Fixtures for the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from needtoknow.config import Settings, init_vault
from needtoknow.vault import Vault


@pytest.fixture
def traced(tmp_path: Path, sqlite_statements: list[str]) -> Iterator[tuple[Vault, list[str]]]:
    """A SQLite vault, and the SQL of every statement it runs."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{tmp_path / 'v.db'}"))
    yield vault, sqlite_statements
    vault.close()
