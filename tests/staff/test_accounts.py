"""Staff accounts on real SQLite and PostgreSQL: a password and a TOTP code both needed,
the password kept only as an Argon2id hash and the TOTP secret only sealed, a code
accepted once, five failures lock the account, an unknown name refused like a wrong
password, every attempt in the ledger — and no secret in the database or the ledger."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from needtoknow.errors import NotFound, TooManyAttempts, ValidationError, VerificationFailed
from needtoknow.staff import StaffAccounts
from needtoknow.storage.schema import ledger_entries, staff_accounts
from needtoknow.vault import Vault
from tests.conftest import Clock

PASSWORD = "correct horse battery staple"


def code(secret: str, vault: Vault, shift: int = 0) -> str:
    """The authenticator app's code now (``shift`` steps later)."""
    totp = TOTP(base64.b32decode(secret), 6, SHA1(), 30)
    return totp.generate(int(vault.clock().timestamp()) + 30 * shift).decode()


def dump(vault: Vault) -> bytes:
    with vault.db.connect() as conn:
        rows = [*conn.execute(sa.select(staff_accounts)), *conn.execute(sa.select(ledger_entries))]
    return repr(rows).encode()


def test_a_password_and_a_fresh_code_sign_in_and_nothing_secret_is_stored(vault: Vault) -> None:
    staff = StaffAccounts(vault.scope)
    made = staff.add("dpo:priya", "officer", PASSWORD)
    assert made.totp_uri.startswith("otpauth://totp/needtoknow:dpo%3Apriya?")
    member = staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))
    assert (member.name, member.role) == ("dpo:priya", "officer")
    stored = dump(vault)
    assert b"$argon2id$" in stored
    assert PASSWORD.encode() not in stored and made.totp_secret.encode() not in stored
    raw = base64.b32decode(made.totp_secret)
    assert base64.b64encode(raw) not in stored and raw.hex().encode() not in stored


def test_a_code_works_once_and_either_wrong_half_is_the_same_refusal(
    vault: Vault, clock: Clock
) -> None:
    staff = StaffAccounts(vault.scope)
    made = staff.add("dpo:priya", "officer", PASSWORD)
    now = code(made.totp_secret, vault)
    staff.sign_in("dpo:priya", PASSWORD, now)
    for name, password, given in (
        ("dpo:priya", PASSWORD, now),  # replayed
        ("dpo:priya", "wrong password here", code(made.totp_secret, vault, 1)),
        ("dpo:nobody", PASSWORD, now),  # no such account: the same answer
    ):
        with pytest.raises(VerificationFailed) as refused:
            staff.sign_in(name, password, given)
        assert refused.value.reason == "wrong_credentials"
    clock.now += timedelta(seconds=30)
    staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))  # the next code


def test_five_failures_lock_the_account_for_a_while_and_are_ledgered(
    vault: Vault, clock: Clock
) -> None:
    staff = StaffAccounts(vault.scope)
    made = staff.add("dpo:priya", "officer", PASSWORD)
    for _ in range(4):
        with pytest.raises(VerificationFailed):
            staff.sign_in("dpo:priya", PASSWORD, "000000")
    with pytest.raises(TooManyAttempts):
        staff.sign_in("dpo:priya", PASSWORD, "000000")
    with pytest.raises(TooManyAttempts):  # even with everything right, while locked
        staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))
    clock.now += timedelta(minutes=16)
    staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))
    with vault.db.connect() as conn:
        entries = [
            bytes(row[0]) for row in conn.exec_driver_sql("SELECT entry FROM ledger_entries")
        ]
    actions = [e for e in entries if b'"kind":"staff"' in e]
    assert sum(b'"locked"' in e for e in actions) == 1
    assert sum(b'"refused"' in e for e in actions) == 4


def test_roles_names_and_passwords_are_checked_and_a_disabled_account_is_refused(
    vault: Vault,
) -> None:
    staff = StaffAccounts(vault.scope)
    with pytest.raises(ValidationError, match="did you mean officer"):
        staff.add("dpo:priya", "oficer", PASSWORD)
    with pytest.raises(ValidationError, match="weak"):
        staff.add("dpo:priya", "officer", "short")
    with pytest.raises(ValidationError, match="weak"):
        staff.add("priya", "officer", "priya-is-my-password")
    made = staff.add("dpo:priya", "officer", PASSWORD)
    with pytest.raises(ValidationError, match="taken"):
        staff.add("dpo:priya", "analyst", PASSWORD)
    assert staff.disable("dpo:priya").disabled_at is not None
    with pytest.raises(VerificationFailed) as refused:
        staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))
    assert refused.value.reason == "disabled"
    with pytest.raises(NotFound):
        staff.disable("dpo:nobody")
    assert [m.name for m in staff.listing()] == ["dpo:priya"]


def test_the_totp_secret_survives_key_rotation_and_blocks_retiring_its_old_key(
    vault: Vault,
) -> None:
    staff = StaffAccounts(vault.scope)
    made = staff.add("dpo:priya", "officer", PASSWORD)
    before = vault.keys.active_version()
    vault.rotate_keys()
    vault.retire_key(before)  # rotation rewrapped the sealed secret too
    staff.sign_in("dpo:priya", PASSWORD, code(made.totp_secret, vault))
