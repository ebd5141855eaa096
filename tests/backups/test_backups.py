"""Backups and restores on real SQLite and PostgreSQL: what was erased stays erased, the
ledger after the backup is carried over byte for byte (witnesses see no fork), and the
keys are never in the copy."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from needtoknow.backups import back_up, backups, restore
from needtoknow.config import Settings, open_vault
from needtoknow.crypto.keys import LocalKeyFile
from needtoknow.errors import (
    IntegrityError,
    NeedToKnowError,
    NotFound,
    PolicyDenied,
    ValidationError,
)
from needtoknow.health import diagnose
from needtoknow.rights.requests import RightsRequests
from needtoknow.storage.schema import customers, rights_requests
from needtoknow.vault import Vault
from tests.conftest import Clock, postgres_database
from tests.customers import ASHA
from tests.ledgered import entries

MARKETING: dict[str, Any] = {"recipient": "marketing_team", "purpose": "marketing_contact"}
BILLING: dict[str, Any] = {"recipient": "billing_team", "purpose": "billing"}
BOB = {**ASHA, "name": "Bob Backupwala", "email": "bob.backup@example.in"}


@pytest.fixture
def reopen(settings: Settings, clock: Clock) -> Iterator[Any]:
    """Open the vault again after a restore (and close what was opened)."""
    opened: list[Vault] = []

    def again(other: Settings | None = None) -> Vault:
        opened.append(open_vault(other or settings, clock=clock))
        return opened[-1]

    yield again
    for vault in opened:
        vault.close()


@pytest.fixture
def empty_database(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Another database of the same kind, empty: the machine a lost vault comes back on."""
    if settings.database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    with postgres_database() as url:
        yield url


def test_erasures_and_withdrawals_after_the_backup_are_carried_out_again(
    vault: Vault, settings: Settings, tmp_path: Path, reopen: Any
) -> None:
    asha = vault.add(ASHA).customer_id
    bob = vault.add(BOB).customer_id
    vault.consents.grant(bob, "marketing_contact", "web", "signup form #77")
    taken = back_up(vault, tmp_path / "vault.backup")
    assert taken.tree_size == len(entries(vault)) - 1  # all but its own entry
    vault.erase(asha)
    vault.consents.withdraw(bob, "marketing_contact", "email")
    vault.get(bob, **BILLING)
    before = vault.ledger.sign_head()
    vault.close()

    restored = restore(settings, tmp_path / "vault.backup")

    assert restored.ledger_after_backup == "carried"
    assert restored.carried == before.tree_size - taken.tree_size
    assert (restored.erasures, restored.withdrawals, restored.unopenable) == (1, 1, 0)
    back = reopen()
    with pytest.raises(NotFound):
        back.get(asha, **BILLING)
    with pytest.raises(PolicyDenied, match="or withdrew"):
        back.get(bob, **MARKETING)
    assert back.get(bob, **BILLING).values["name"] == "Bob Backupwala"
    # The log is the one the witness saw, extended: no fork, every head verifies.
    report = back.ledger.verify(witnesses=[before])
    assert report.ok, report.to_json()
    restoring = entries(back)[before.tree_size]  # the first entry after the carried ones
    assert restoring["kind"] == "restore" and restoring["detail"] == restored.to_json()
    assert not settings.restore_pending.exists()


def test_a_customer_erased_before_the_backup_is_not_in_it(
    vault: Vault, settings: Settings, tmp_path: Path, reopen: Any
) -> None:
    asha = vault.add(ASHA).customer_id
    vault.erase(asha)
    back_up(vault, tmp_path / "vault.backup")
    vault.close()
    restored = restore(settings, tmp_path / "vault.backup")
    assert (restored.carried, restored.erasures) == (1, 0)  # the backup's own entry
    with pytest.raises(NotFound):
        reopen().get(asha, **BILLING)


def test_without_the_ledger_after_it_a_retired_key_keeps_the_erasure(
    vault: Vault, settings: Settings, tmp_path: Path, empty_database: str, reopen: Any
) -> None:
    asha = vault.add(ASHA).customer_id
    RightsRequests(vault).open(asha, "grievance", "Calls at night")  # a sealed note
    vault.keys.rotate()  # a rotation whose rewrap had not reached Asha when the backup ran
    bob = vault.add(BOB).customer_id
    back_up(vault, tmp_path / "vault.backup")
    vault.erase(asha)
    vault.rotate_keys()
    vault.retire_key(1)
    vault.close()
    # The database is lost; the keys (kept apart) and the backup are not.
    elsewhere = Settings(home=settings.home, database_url=empty_database)

    restored = restore(elsewhere, tmp_path / "vault.backup")

    assert restored.ledger_after_backup == "unavailable" and restored.carried == 0
    assert restored.unopenable == 1
    back = reopen(elsewhere)
    # Whom no key can read, no lookup finds: the record's blind indexes went with it.
    assert back.find("email", ASHA["email"], **BILLING) == []
    with pytest.raises(NotFound) as refused:
        back.get(asha, **BILLING)
    assert "Canarywala" not in str(refused.value)
    assert back.get(bob, **BILLING).values["name"] == "Bob Backupwala"
    assert back.find("email", BOB["email"], **BILLING) == [bob]
    erased = [e for e in entries(back) if e["kind"] == "erase"]
    assert [(e["customer_id"], e["detail"]["cause"]) for e in erased] == [(asha, "restore")]
    assert set(erased[0]["categories"]) == set(ASHA) - {"written_consent"}
    assert [e["kind"] for e in entries(back)].count("restore") == 1
    assert back.ledger.verify().ok
    with back.db.connect() as conn:  # what she wrote in her request went with her data
        notes = conn.execute(sa.select(rights_requests.c.details)).scalars().all()
    assert notes == [None]


def test_a_carried_erasure_that_kept_held_categories_of_a_record_no_key_opens_erases_it(
    vault: Vault, settings: Settings, tmp_path: Path, reopen: Any
) -> None:
    """Doing a held erasure again means opening the record to keep the held categories;
    sealed under a retired KEK it cannot be opened, so it goes whole, not the restore."""
    asha = vault.add(ASHA).customer_id
    vault.holds.place(asha, ["email"], "Court order", date(2099, 1, 1))
    back_up(vault, tmp_path / "vault.backup")
    vault.erase(asha)
    vault.rotate_keys()
    vault.retire_key(1)
    vault.close()

    restored = restore(settings, tmp_path / "vault.backup")

    assert (restored.ledger_after_backup, restored.unopenable) == ("carried", 1)
    back = reopen()
    assert back.find("email", ASHA["email"], **BILLING) == []
    with pytest.raises(NotFound):
        back.get(asha, **BILLING)


def test_a_restore_with_keys_that_cannot_open_the_copy_stops_before_erasing_anything(
    vault: Vault, settings: Settings, tmp_path: Path, empty_database: str, reopen: Any
) -> None:
    """A careless operator's restore with the wrong key file: an older copy of this one
    (it never held the version the copy's keys are wrapped by), another vault's with the
    same version numbers, and another vault's rotated and retired past every version the
    copy uses (each of those would look retired: every customer would be erased)."""
    older = settings.key_file.read_bytes()
    vault.rotate_keys()
    asha = vault.add(ASHA).customer_id
    back_up(vault, tmp_path / "vault.backup")
    vault.close()
    current = settings.key_file.read_bytes()
    elsewhere = Settings(home=settings.home, database_url=empty_database)
    same_versions = LocalKeyFile.create(tmp_path / "a" / "keys.json")
    same_versions.rotate()  # versions 1 and 2, other keys
    past_them = LocalKeyFile.create(tmp_path / "b" / "keys.json")
    for _ in range(2):
        past_them.rotate()
    for version in (1, 2):
        past_them.retire(version)  # only version 3 left

    for wrong, why in (
        (older, "KEK version 2, never held here"),
        (same_versions.path.read_bytes(), "another vault's keys"),
        (past_them.path.read_bytes(), "another vault's keys"),
    ):
        settings.key_file.write_bytes(wrong)
        with pytest.raises(NeedToKnowError, match=f"{why}.*nothing was erased"):
            restore(elsewhere, tmp_path / "vault.backup")
        with pytest.raises(NeedToKnowError, match="restore is unfinished"):
            open_vault(elsewhere)  # nothing serves the loaded copy meanwhile

    settings.key_file.write_bytes(current)
    restored = restore(elsewhere, tmp_path / "vault.backup")
    assert restored.unopenable == 0
    back = reopen(elsewhere)
    assert back.get(asha, **BILLING).values["name"] == ASHA["name"]
    assert not [e for e in entries(back) if e["kind"] == "erase"]


def test_a_copy_without_a_key_check_erases_only_once_a_key_in_it_opens(
    sqlite_vault: Vault, tmp_path: Path
) -> None:
    """A copy from before key checks: when every key in it is under a version the
    provider lacks, nothing shows the provider is its vault's, and the restore stops;
    when a key of another version opens, the provider is trusted and the rest erased."""
    vault = sqlite_vault
    asha = vault.add(ASHA).customer_id
    vault.keys.rotate()  # Bob's key under version 2, Asha's left under 1
    bob = vault.add(BOB).customer_id
    back_up(vault, tmp_path / "both.backup")
    vault.rotate_keys()
    vault.retire_key(1)
    vault.close()
    shutil.copy(tmp_path / "both.backup", tmp_path / "asha.backup")
    for name, gone in (("both", ()), ("asha", (bob,))):
        with contextlib.closing(sqlite3.connect(tmp_path / f"{name}.backup")) as copy, copy:
            copy.execute("DELETE FROM key_checks")
            copy.executemany("DELETE FROM customers WHERE id = ?", [(g,) for g in gone])

    lost = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'one.db'}")
    with pytest.raises(NeedToKnowError, match=r"predates key checks.*nothing was erased"):
        restore(lost, tmp_path / "asha.backup")
    lost.restore_pending.unlink()  # that copy given up for the other

    with contextlib.closing(sqlite3.connect(tmp_path / "both.backup")) as copy:
        (wrapped,) = copy.execute("SELECT wrapped_dek FROM customers WHERE id = ?", (asha,))
    lost = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'two.db'}")
    restored = restore(lost, tmp_path / "both.backup")
    assert restored.unopenable == 1
    files = [tmp_path / "two.db", tmp_path / "two.db-wal"]
    assert not any(wrapped[0] in f.read_bytes() for f in files if f.exists())  # scrubbed
    with contextlib.closing(open_vault(lost)) as back:
        assert back.find("email", ASHA["email"], **BILLING) == []
        assert back.get(bob, **BILLING).values["name"] == "Bob Backupwala"
        assert [e["customer_id"] for e in entries(back) if e["kind"] == "erase"] == [asha]


def test_a_copy_without_a_key_check_and_another_vaults_keys_is_refused(
    sqlite_vault: Vault, tmp_path: Path
) -> None:
    """No key check to compare: Asha's version 1 looks retired to another vault's key
    file (it retired its own 1), and its version 2 opens none of Bob's keys."""
    vault = sqlite_vault
    vault.add(ASHA)
    vault.keys.rotate()
    vault.add(BOB)
    back_up(vault, tmp_path / "vault.backup")
    vault.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "vault.backup")) as copy, copy:
        copy.execute("DELETE FROM key_checks")
    other = LocalKeyFile.create(tmp_path / "other" / "keys.json")
    other.rotate()
    other.retire(1)
    (tmp_path / "home" / "keys.json").write_bytes(other.path.read_bytes())
    lost = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(NeedToKnowError, match="none of its keys wrapped by KEK version 2"):
        restore(lost, tmp_path / "vault.backup")


def test_one_damaged_key_does_not_stop_a_restore(
    vault: Vault, settings: Settings, tmp_path: Path, reopen: Any
) -> None:
    """The restore tries several keys of each version: one damaged key is that record's
    problem (its reads fail as tampered), not a wrong key file."""
    first, *_ = ids = sorted(
        vault.add({**ASHA, "email": f"a{i}@example.in"}).customer_id for i in range(3)
    )
    with vault.db.begin() as conn:
        conn.execute(
            customers.update().where(customers.c.id == first).values(wrapped_dek=b"\0" * 60)
        )
    back_up(vault, tmp_path / "vault.backup")
    vault.close()
    assert restore(settings, tmp_path / "vault.backup").unopenable == 0
    back = reopen()
    with pytest.raises(IntegrityError):
        back.get(first, **BILLING)
    assert back.get(ids[1], **BILLING).values["name"] == ASHA["name"]


def test_a_restore_leaves_no_table_the_copy_lacks(
    vault: Vault, settings: Settings, tmp_path: Path, reopen: Any
) -> None:
    """A table the database gained after the backup (a later migration's) is dropped: it
    would stop that migration when the copy is opened (pg_restore --clean drops only
    what the dump holds), and with the restore's keys refused the restore would be stuck."""
    back_up(vault, tmp_path / "vault.backup")
    with vault.db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE later_feature (x integer)")
    vault.close()
    restore(settings, tmp_path / "vault.backup")
    back = reopen()
    assert "later_feature" not in sa.inspect(back.db).get_table_names()
    assert "key_checks" in sa.inspect(back.db).get_table_names()


def test_the_backup_holds_neither_the_keys_nor_plaintext(
    sqlite_vault: Vault, tmp_path: Path
) -> None:
    sqlite_vault.add(ASHA)
    path = tmp_path / "vault.backup"
    back_up(sqlite_vault, path)
    data = path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = json.loads((tmp_path / "home" / "keys.json").read_text())
    secrets = [v for v in json.dumps(keys).split('"') if len(v) >= 40]
    assert secrets  # the key file's base64 keys
    for secret in secrets:
        assert secret.encode() not in data and base64.b64decode(secret) not in data
    for canary in ("Canarywala", "asha.canary", "98765 43210", "4111"):
        assert canary.encode() not in data


def test_what_a_backup_or_restore_refuses(vault: Vault, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "vault.backup"
    back_up(vault, path)
    with pytest.raises(ValidationError, match="exists"):
        back_up(vault, path)  # never over another backup
    stranger = tmp_path / "not-a-backup"
    stranger.write_bytes(b"hello")
    with pytest.raises(ValidationError, match="not_a_backup"):
        restore(settings, stranger)
    other = tmp_path / "other.backup"
    other.write_bytes(path.read_bytes()[:-1] + b"\x01")  # the right kind, never recorded
    vault.close()
    with pytest.raises(ValidationError, match="unknown"):
        restore(settings, other)
    assert not settings.restore_pending.exists()


def test_a_restore_cut_short_is_finished_by_running_it_again(
    vault: Vault,
    settings: Settings,
    tmp_path: Path,
    reopen: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asha = vault.add(ASHA).customer_id
    back_up(vault, tmp_path / "vault.backup")
    vault.erase(asha)
    vault.close()

    def killed(*_: Any) -> None:
        raise KeyboardInterrupt  # the process dies after the copy is loaded

    with monkeypatch.context() as patch:
        patch.setattr(backups, "_carry_over", killed)
        with pytest.raises(KeyboardInterrupt):
            restore(settings, tmp_path / "vault.backup")
    assert settings.restore_pending.exists()
    doctor = {c.name: c for c in diagnose(settings)}
    assert doctor["restore"].status == "fail" and "ntk restore" in doctor["restore"].fix
    with pytest.raises(NeedToKnowError, match="restore is unfinished"):
        open_vault(settings)  # the backup's copy, its later erasures not carried out yet
    stranger = tmp_path / "other.backup"
    stranger.write_bytes((tmp_path / "vault.backup").read_bytes())
    with stranger.open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(NeedToKnowError, match="unfinished"):
        restore(settings, stranger)

    restored = restore(settings, tmp_path / "vault.backup")

    assert restored.erasures == 1
    assert {c.name: c for c in diagnose(settings)}["restore"].status == "ok"
    with pytest.raises(NotFound):
        reopen().get(asha, **BILLING)


@pytest.mark.postgresql
def test_a_restore_refuses_while_others_are_connected(
    postgres_url: str, tmp_path: Path, clock: Clock
) -> None:
    from needtoknow.config import init_vault

    settings = Settings(home=tmp_path / "home", database_url=postgres_url)
    vault = init_vault(settings, clock=clock)
    back_up(vault, tmp_path / "vault.backup")
    try:  # the vault stays open: a running service
        vault.add(ASHA)
        with pytest.raises(NeedToKnowError, match="other session"):
            restore(settings, tmp_path / "vault.backup")
    finally:
        vault.close()
