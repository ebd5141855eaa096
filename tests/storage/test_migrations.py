"""Alembic's head matches the SQLAlchemy schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from needtoknow.config import Settings, init_vault
from needtoknow.errors import LedgerIndexForged
from needtoknow.ledger import log
from needtoknow.storage import connect, database, migrate
from needtoknow.storage.database import is_current
from needtoknow.storage.schema import (
    ledger_customers,
    ledger_entries,
    ledger_nodes,
    ledger_receipts,
    metadata,
)
from tests.conftest import Clock
from tests.customers import ASHA
from tests.ledgered import seal_unsigned


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


def test_0006_indexes_only_sealed_entries_and_downgrades_to_indexing_all(
    settings: Settings,
) -> None:
    """Before 0006 every append wrote its index rows; from 0006 the seal writes them. Both
    directions leave a ledger that its version's verifier accepts."""
    vault = init_vault(settings)
    customer_id = vault.add(ASHA).customer_id
    vault.ledger.sign_head()
    vault.get(customer_id, recipient="billing_team", purpose="billing")
    with vault.db.connect() as conn:
        unsealed = log.state(conn).size - 1

    def indexed() -> list[int]:
        with vault.db.connect() as conn:
            rows = conn.execute(sa.select(ledger_customers.c.idx).order_by("idx"))
            return [int(row.idx) for row in rows]

    assert unsealed not in indexed()
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    assert indexed()[-1] == unsealed
    migrate(vault.db)
    assert unsealed not in indexed()
    assert vault.ledger.verify().ok
    assert [proof.index for proof in vault.ledger.history(customer_id)][-1] == unsealed
    vault.close()


def test_the_head_revision_a_vault_is_checked_against_is_alembics() -> None:
    """``is_current`` compares with a constant rather than loading Alembic on every open;
    a new migration without updating it would make every vault migrate on each open."""
    from alembic.script import ScriptDirectory

    from needtoknow.storage.database import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_a_database_behind_the_head_is_not_current(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'v.db'}")
    assert not is_current(engine)  # no alembic_version table yet
    migrate(engine, "0011")
    assert not is_current(engine)
    migrate(engine)
    assert is_current(engine)
    engine.dispose()


def test_0024_derives_the_receipts_index_of_a_ledger_sealed_before_it(
    settings: Settings, clock: Clock
) -> None:
    """A vault sealed at 0023 has no receipts index; upgrading derives it for every
    sealed entry (frozen in the migration), and the verifier — which derives it with
    today's code — agrees row for row."""
    vault = init_vault(settings, clock=clock)
    customer_id = vault.add(ASHA).customer_id
    vault.get(customer_id, recipient="billing_team", purpose="billing")
    vault.ledger.sign_head()
    with vault.db.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(ledger_receipts)).scalar()
    assert before == 2  # the read, by actor and by recipient
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0023")
    migrate(vault.db)
    with vault.db.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(ledger_receipts)).scalar()
    assert after == 2 and vault.ledger.verify().ok
    assert set(vault.ledger.received("recipient:billing_team")) == {customer_id}
    vault.close()


def test_0030_rebuilds_the_derived_indexes_both_ways_keeping_every_row(
    settings: Settings,
) -> None:
    """0030 copies the customer and receipts indexes into their new layouts (and back):
    every row survives, and the ledger verifies under each."""
    vault = init_vault(settings)
    customer_id = vault.add(ASHA).customer_id
    vault.get(customer_id, recipient="billing_team", purpose="billing")
    vault.ledger.sign_head()

    def rows() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with vault.db.connect() as conn:
            customers = conn.execute(sa.select(ledger_customers).order_by("idx", "customer_id"))
            receipts = conn.execute(sa.select(ledger_receipts).order_by("idx", "party"))
            return [tuple(r) for r in customers], sorted(tuple(r) for r in receipts)

    before = rows()
    assert before[0] and before[1]
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0029")
    assert rows() == before
    migrate(vault.db)
    assert rows() == before
    assert vault.ledger.verify().ok
    vault.close()


def test_0031_keeps_every_entry_and_node_both_ways(settings: Settings) -> None:
    """0031 copies the entries into a rowid-keyed table and the subtree hashes into a
    WITHOUT ROWID one (and back): every row survives, the ledger verifies under each,
    and on SQLite the entry index is the rowid (no second B-tree for the key)."""
    vault = init_vault(settings)
    customer_id = vault.add(ASHA).customer_id
    for _ in range(5):
        vault.get(customer_id, recipient="billing_team", purpose="billing")
    vault.ledger.sign_head()

    def rows() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with vault.db.connect() as conn:
            entries = conn.execute(sa.select(ledger_entries).order_by("idx"))
            nodes = conn.execute(sa.select(ledger_nodes).order_by("level", "idx"))
            return [tuple(r) for r in entries], [tuple(r) for r in nodes]

    def key_btrees() -> list[str]:
        with vault.db.connect() as conn:
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
            names: list[str] = []
            for table in ("ledger_entries", "ledger_nodes"):
                names += conn.execute(sa.text(query), {"t": table}).scalars()
            return names

    before = rows()
    assert len(before[0]) >= 6 and before[1]
    sqlite = vault.db.dialect.name == "sqlite"
    assert not sqlite or key_btrees() == []
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0030")
    assert rows() == before
    assert not sqlite or len(key_btrees()) == 2
    migrate(vault.db)
    assert rows() == before
    assert vault.ledger.verify().ok
    vault.close()


def test_0031_refuses_to_copy_a_forged_entry_index(tmp_path: Path) -> None:
    """Before 0031 SQLite kept any value in the index column; a vault holding one is
    not upgraded (the copy would fail half-way) nor cut: every command says which
    entries, with the exit code of an integrity failure, and the vault is left as it
    was (still at 0030, the forged row kept for whoever looks)."""
    home = tmp_path / "home"
    vault = init_vault(Settings(home=home, database_url=f"sqlite:///{tmp_path}/v.db"))
    customer_id = vault.add(ASHA).customer_id
    vault.get(customer_id, recipient="billing_team", purpose="billing")
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0030")
        conn.execute(sa.text("UPDATE ledger_entries SET idx = 1.5 WHERE idx = 1"))
    with pytest.raises(LedgerIndexForged, match=r"index 1\.5: not integers") as refused:
        migrate(vault.db)
    assert refused.value.details() == {"indexes": ["1.5"]}
    with vault.db.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0030"
        assert conn.execute(sa.text("SELECT count(*) FROM ledger_entries WHERE idx = 1.5")).scalar()
    vault.close()
    ran = subprocess.run(
        [str(Path(sys.executable).with_name("ntk")), "ledger", "verify"],
        env={**os.environ, "NTK_HOME": str(home), "NTK_DATABASE_URL": f"sqlite:///{tmp_path}/v.db"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 8 and "index 1.5" in ran.stderr and "Traceback" not in ran.stderr


def test_0033_takes_the_signed_mark_from_the_sealed_one(settings: Settings) -> None:
    """Before 0033 every seal signed a head in its transaction, so the sealed mark was
    the newest head's size: the signed mark starts there, and the ledger verifies and
    signs on either side of the migration."""
    vault = init_vault(settings)
    customer_id = vault.add(ASHA).customer_id
    head = vault.ledger.sign_head()
    vault.get(customer_id, recipient="billing_team", purpose="billing")  # appended, unsealed
    config = database.alembic_config()
    with vault.db.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0032")
    with vault.db.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("ledger_state")}
    assert "signed" not in columns
    migrate(vault.db)
    with vault.db.connect() as conn:
        assert log.state(conn) == log.State(head.tree_size + 1, head.tree_size, head.tree_size)
    assert vault.ledger.verify().ok
    assert vault.ledger.sign_head().tree_size == head.tree_size + 1
    assert vault.ledger.verify().ok
    vault.get(customer_id, recipient="billing_team", purpose="billing")
    seal_unsigned(vault)  # sealed, not signed: the code before 0033 would refuse it
    with vault.db.begin() as conn, pytest.raises(RuntimeError, match="ntk ledger sth"):
        config.attributes["connection"] = conn
        command.downgrade(config, "0032")
    vault.close()
