"""Shared fixtures: a fixed clock, real SQLite and (when configured) real PostgreSQL, and
one local Spark."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import hypothesis
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from needtoknow.config import Settings, init_vault
from needtoknow.vault import Vault

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
IN_CI = os.environ.get("CI") == "true"
# One switch for every test that needs a service (PostgreSQL, SoftHSM2, Java, the seed
# beside the checkout): `make test` and CI require them, so a missing one fails the run;
# `make test-quick` sets NTK_TEST_SERVICES=optional and those tests skip.
SERVICES_REQUIRED = IN_CI or os.environ.get("NTK_TEST_SERVICES", "required") != "optional"


def need_service(missing: str, how: str) -> NoReturn:
    """Stop a test whose service is missing: a failure unless services are optional."""
    if SERVICES_REQUIRED:
        pytest.fail(f"{missing}: {how} (or NTK_TEST_SERVICES=optional to skip)")
    pytest.skip(f"{missing}: {how}")


# No test asserts a time: Hypothesis's default deadline (200 ms an example) and its
# too-slow health check (data generation timed) would fail a property on a busy machine,
# so both are off for every property test.
pytest_plugins = ["tests.mail", "tests.serving"]  # smtp, sms; url (an in-process server)

hypothesis.settings.register_profile(
    "needtoknow", deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
hypothesis.settings.load_profile("needtoknow")


class Clock:
    """A clock tests move by hand; nothing sleeps."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the block, dropped afterwards: its URL."""
    admin = os.environ.get("NTK_TEST_POSTGRES_URL")
    if not admin:
        need_service("NTK_TEST_POSTGRES_URL is not set", "source scripts/test-services.sh")
    name = f"ntk_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vault.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
def vault(settings: Settings, clock: Clock) -> Iterator[Vault]:
    vault = init_vault(settings, clock=clock)
    yield vault
    vault.close()


@pytest.fixture
def sqlite_vault(tmp_path: Path, clock: Clock) -> Iterator[Vault]:
    """SQLite only: for tests that inspect the database file itself."""
    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'vault.db'}")
    vault = init_vault(settings, clock=clock)
    yield vault
    vault.close()


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


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark (2 cores) for the whole run: starting one takes seconds."""
    if shutil.which("java") is None:
        need_service("no Java runtime", "run scripts/test-services.sh")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers use this venv, not python3
    session = (
        SparkSession.builder.master("local[2]")
        .appName("needtoknow-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    yield session
    session.stop()


NTK = str(Path(sys.executable).with_name("ntk"))


class Ntk:
    """``ntk`` on its own home (SQLite), as a user would run it: in this process through
    Click's test runner (the same parsing, commands, output and exit codes, without a
    second of interpreter start-up each), or as a real subprocess with ``process=True``
    where the process itself is under test (start-up imports, signals, a TTY-less
    stdin, what reaches stdout and stderr of a real program)."""

    def __init__(self, home: Path, process: bool = False) -> None:
        self.env = {**os.environ, "NTK_HOME": str(home), "COLUMNS": "200"}
        self.env.pop("NTK_DATABASE_URL", None)
        self.process = process

    def __call__(
        self, *args: str, stdin: str | None = None, expect: int = 0
    ) -> subprocess.CompletedProcess[str]:
        result = self._run(list(args), stdin)
        assert result.returncode == expect, (result.stdout, result.stderr)
        return result

    def _run(self, args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        if self.process:
            return subprocess.run(
                [NTK, *args],
                input=stdin,
                capture_output=True,
                text=True,
                env=self.env,
                timeout=60,
            )
        from typer.testing import CliRunner

        from needtoknow.cli.main import app

        env: dict[str, str | None] = {**self.env, "NTK_DATABASE_URL": None}
        ran = CliRunner().invoke(app, args, input=stdin, env=env, catch_exceptions=False)
        return subprocess.CompletedProcess([NTK, *args], ran.exit_code, ran.stdout, ran.stderr)

    def json(self, *args: str, stdin: str | None = None) -> Any:
        """The command's ``--json`` document (the flag added when not given)."""
        flagged = args if "--json" in args else (*args, "--json")
        return json.loads(self(*flagged, stdin=stdin).stdout)


@pytest.fixture
def ntk(tmp_path: Path) -> Ntk:
    run = Ntk(tmp_path / "home")
    run("init")
    return run


@pytest.fixture
def ntk_process(tmp_path: Path) -> Ntk:
    """:func:`ntk` as a real subprocess: a few tests per command group run the program
    exactly as a user's shell does."""
    run = Ntk(tmp_path / "home", process=True)
    run("init")
    return run
