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
import sqlalchemy as sa
from alembic import command

from needtoknow.config import Settings, init_vault
from needtoknow.storage.database import HEAD_REVISION, alembic_config
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


def test_serve_migrates_an_older_vault_once_then_starts_its_workers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home}/vault.db")
    init_vault(settings).close()
    engine = sa.create_engine(settings.database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    process, url = start(home, tmp_path / "serve.log", "--workers", "2")
    try:
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        stop(process)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert stored.scalar_one() == HEAD_REVISION
    engine.dispose()
    log = (tmp_path / "serve.log").read_text()
    assert "locked" not in log and "Traceback" not in log
