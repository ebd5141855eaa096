"""``ntk serve`` opens the vault once before its workers start.

A careless operator serves a home with no vault, or upgrades needtoknow and serves with
``--workers 2`` before migrating: the first must be one clear error, not workers failing
in turn until someone kills the service; the second must migrate once, not in two
workers racing for SQLite's lock.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from alembic import command
from typer.testing import CliRunner

from needtoknow.cli.main import app
from needtoknow.config import Settings, init_vault
from needtoknow.storage.database import alembic_config, is_current
from tests.api.conftest import NTK, free_port, start, stop


def test_serve_without_a_vault_stops_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    result = subprocess.run(
        [NTK, "serve", "--workers", "2", "--port", str(free_port())],
        env={**os.environ, "NTK_HOME": str(home), "NTK_DATABASE_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "run 'ntk init'" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_migrates_an_older_vault_before_its_workers_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vault is at the newest revision when uvicorn is handed the app, so no worker
    has a migration left to run; then the real server starts its two workers on it."""
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home}/vault.db")
    init_vault(settings).close()
    engine = sa.create_engine(settings.database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    assert not is_current(engine)

    current_at_start: list[bool] = []
    monkeypatch.setenv("NTK_HOME", str(home))
    monkeypatch.setenv("NTK_DATABASE_URL", "")
    monkeypatch.setattr(
        uvicorn, "run", lambda *_, **__: current_at_start.append(is_current(engine))
    )
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert current_at_start == [True]

    process, url = start(home, tmp_path / "serve.log", "--workers", "2")
    try:
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        stop(process)
    engine.dispose()
    log = (tmp_path / "serve.log").read_text()
    assert "locked" not in log and "Traceback" not in log
