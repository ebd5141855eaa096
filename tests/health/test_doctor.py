"""`ntk doctor`: each check fails on the setup it is about, and says what to do."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from needtoknow.config import Settings, open_vault
from needtoknow.guards.network import is_loopback
from needtoknow.health import diagnose
from needtoknow.storage.schema import ledger_heads, ledger_state
from needtoknow.vault import Vault
from tests.conftest import Ntk
from tests.customers import ASHA
from tests.ledgered import reads_after_a_head, seal_unsigned


def statuses(settings: Settings) -> dict[str, str]:
    return {c.name: c.status for c in diagnose(settings)}


def test_a_fresh_vault_is_healthy_once_its_ledger_is_signed(
    vault: Vault, settings: Settings
) -> None:
    vault.ledger.sign_head()
    if settings.database_url.startswith("sqlite"):
        assert statuses(settings)["mode:vault.db"] == "ok"
    assert {s for s in statuses(settings).values()} == {"ok"}


def test_files_others_can_read_fail_and_are_named(vault: Vault, settings: Settings) -> None:
    os.chmod(settings.key_file, 0o644)
    checks = {c.name: c for c in diagnose(settings)}
    assert checks["mode:keys.json"].status == "fail"
    assert checks["mode:keys.json"].fix == f"chmod 600 {settings.key_file}"
    assert checks["open"].status == "fail"  # the vault itself refuses such a key file


def test_an_unsigned_tail_warns_and_deleted_heads_fail(vault: Vault, settings: Settings) -> None:
    vault.ledger.sign_head()
    vault.add(ASHA)
    assert statuses(settings)["ledger_heads"] == "warn"
    vault.ledger.sign_head()
    with vault.db.begin() as conn:
        conn.execute(ledger_heads.delete())
    assert statuses(settings)["ledger_heads"] == "fail"


def test_a_seal_cut_off_between_batches_warns_and_a_lowered_sealed_mark_fails(
    vault: Vault, settings: Settings
) -> None:
    """Review of session 24: entries sealed past the newest head are what a seal under
    way or cut off leaves (a warning: the next head covers them); a sealed mark below
    it hides entries from the customer index (a failure)."""
    _, head = reads_after_a_head(vault, 4)
    seal_unsigned(vault, 3)
    checks = {c.name: c for c in diagnose(settings)}
    assert checks["ledger_heads"].status == "warn"
    assert (
        "4 entries past the newest signed head (3 of them sealed" in checks["ledger_heads"].detail
    )
    with vault.db.begin() as conn:
        conn.execute(ledger_state.update().values(sealed=head.tree_size - 1))
    assert statuses(settings)["ledger_heads"] == "fail"


def test_a_signing_key_inside_the_kek_file_fails_until_opened(
    vault: Vault, settings: Settings
) -> None:
    keys = json.loads(settings.key_file.read_text())
    signing = settings.key_file.with_name("ledger-signing.json")
    private = json.loads(signing.read_text())["active"]
    settings.key_file.write_text(json.dumps({**keys, "ledger_signing": private}))
    os.chmod(settings.key_file, 0o600)
    signing.unlink()
    checks = {c.name: c for c in diagnose(settings)}
    # diagnose opens the vault, which moves the key out before the check runs
    assert checks["signing_key"].status == "ok"
    assert "ledger_signing" not in json.loads(settings.key_file.read_text())


def test_a_remote_database_without_tls_fails(vault: Vault, settings: Settings) -> None:
    from needtoknow.health.checks import _database_transport

    remote = Settings(settings.home, "postgresql+psycopg://u@db.example:5432/ntk")
    assert [c.status for c in _database_transport(remote, vault)] == ["fail"]
    secure = Settings(settings.home, "postgresql+psycopg://u@db.example/ntk?sslmode=verify-full")
    assert [c.status for c in _database_transport(secure, vault)] == ["ok"]
    local = Settings(settings.home, "postgresql+psycopg://u@127.0.0.1:5432/ntk")
    assert [c.status for c in _database_transport(local, vault)] == ["ok"]


def test_plain_smtp_beyond_loopback_fails(vault: Vault, settings: Settings) -> None:
    from needtoknow.health.checks import _smtp_transport

    plain = dataclasses.replace(settings, smtp_host="mail.example", smtp_tls="plain")
    assert [c.status for c in _smtp_transport(plain, vault)] == ["fail"]
    tls = dataclasses.replace(settings, smtp_host="mail.example", smtp_tls="starttls")
    assert [c.status for c in _smtp_transport(tls, vault)] == ["ok"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("db.example", False),
    ],
)
def test_loopback_means_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_clock_behind_the_ledger_fails(settings: Settings, vault: Vault) -> None:
    from datetime import timedelta

    vault.ledger.sign_head()
    behind = open_vault(settings, clock=lambda: vault.clock() - timedelta(minutes=5))
    try:
        from needtoknow.health.checks import _clock

        assert [c.status for c in _clock(settings, behind)] == ["fail"]
    finally:
        behind.close()


def test_ntk_doctor_prints_json_and_exits_13_on_a_failure(ntk: Ntk, tmp_path: Path) -> None:
    ntk("ledger", "sth")
    healthy = ntk.json("doctor", "--json")
    assert healthy["ok"] is True
    os.chmod(tmp_path / "home" / "vault.db", 0o644)
    failed = ntk("doctor", expect=13)
    assert "chmod 600" in failed.stdout


def test_sqlite_files_are_created_owner_only(settings: Settings, vault: Vault) -> None:
    url = sa.engine.make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    assert url.database is not None
    assert oct(os.stat(url.database).st_mode & 0o777) == oct(0o600)


def test_a_vault_whose_active_policy_predates_a_check_still_opens_and_doctor_fails(
    vault: Vault, settings: Settings
) -> None:
    """Second review: the demo policy stored before usage rules had to require consent
    failed the new check on open, so every command of an upgraded vault exited 6."""
    from needtoknow.errors import PolicyError
    from needtoknow.policy import load_policy_text, load_stored_policy
    from needtoknow.storage.schema import policies

    old = vault.policy.source.replace("    requires_consent: advertising  #", "    #")
    with pytest.raises(PolicyError):
        load_policy_text(old)
    version = load_stored_policy(old, "old")[0].version
    with vault.db.begin() as conn:
        conn.execute(
            policies.update().where(policies.c.active.is_(True)).values(source=old, version=version)
        )
    reopened = open_vault(settings)
    try:
        assert reopened.policy.version == version
    finally:
        reopened.close()
    check = next(c for c in diagnose(settings) if c.name == "policy")
    assert check.status == "fail" and "requires_consent" in check.detail
